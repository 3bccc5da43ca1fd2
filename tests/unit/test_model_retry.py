"""Transient model failures are retried with backoff; permanent ones fail the message at once.

Without Celery: what counts as transient, the backoff, the decision, and the Processor
handing a message back (``pending``, the attempt counted) instead of failing it. The Celery
side (the task retried after the backoff) is in tests/integration/test_celery.py.
"""

from __future__ import annotations

import random

import httpx
import openai
import pytest

from tests.unit.test_lease_fencing import RAN, NoteModel, calls_of, message_row, stored_message
from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.models import ModelSpecError
from toolwire.models.base import Completion, Constraint, Message, ModelError, ToolSpec
from toolwire.models.base import Settings as ModelSettings
from toolwire.models.process import describe_exit
from toolwire.retrieval import ToolIndex
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Processor
from toolwire.store.db import Database
from toolwire.tools import Registry
from toolwire.worker.retry import ModelRetries, backoff, transient


def caused_by(error: ModelError, cause: BaseException) -> ModelError:
    error.__cause__ = cause
    return error


REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")

TRANSIENT = {
    "local process crashed": ModelError("local", describe_exit(-11)),
    "local process killed": ModelError("local", describe_exit(-9)),
    "local process gone": ModelError("local", describe_exit(None)),
    "local process timed out": ModelError("local", "the model did not answer within 60 s"),
    "deadline of any model": ModelError("openai", "the model did not answer within 2 s"),
    "rate limited": ModelError("openai", "gpt: HTTP 429: slow down", status=429),
    "server error": ModelError("anthropic", "claude: HTTP 500: oops", status=500),
    "overloaded": ModelError("anthropic", "claude: HTTP 529: overloaded", status=529),
    "unavailable": ModelError("gemini", "gemini: HTTP 503: UNAVAILABLE", status=503),
    "request timeout": ModelError("openai", "gpt: HTTP 408: timeout", status=408),
    "connection refused": caused_by(ModelError("openai", "gpt: APIConnectionError: down"),
                                    openai.APIConnectionError(request=REQUEST)),
    "sdk timeout": caused_by(ModelError("openai", "gpt: APITimeoutError: late"),
                             openai.APITimeoutError(request=REQUEST)),
    "transport error": caused_by(ModelError("gemini", "gemini: ConnectError: refused"),
                                 httpx.ConnectError("refused")),
    "socket error": caused_by(ModelError("gemini", "gemini: OSError: reset"),
                              ConnectionResetError("reset")),
}

PERMANENT = {
    "bad request": ModelError("openai", "gpt: HTTP 400: bad request", status=400),
    "bad key": ModelError("openai", "gpt: HTTP 401: invalid key", status=401),
    "unknown model": ModelError("openai", "nope: HTTP 404: no such model", status=404),
    "no key": ModelError("openai", "no API key: set OPENAI_API_KEY"),
    "no grammar": ModelError("openai", "JsonSchemaConstraint needs a grammar-capable model"),
    "cannot load": ModelError("local", "cannot load the model: no weights here"),
    "exited loading": ModelError("local", "the model process exited while loading: "
                                          + describe_exit(1)),
    "garbage": caused_by(ModelError("openai", "gpt: APIResponseValidationError: not json"),
                         ValueError("Expecting value")),
    "unknown provider": ModelSpecError("unknown model provider 'nope' in 'nope:x'"),
    "a bug": KeyError("choices"),
    "not json": ValueError("Expecting value: line 1 column 1"),
}


@pytest.mark.parametrize("name", TRANSIENT)
def test_transient_model_errors(name: str) -> None:
    assert transient(TRANSIENT[name]) is True


@pytest.mark.parametrize("name", PERMANENT)
def test_permanent_model_errors(name: str) -> None:
    assert transient(PERMANENT[name]) is False


def test_a_backend_may_say_itself() -> None:
    said = ModelError("openai", "gpt: HTTP 503: down for good", status=503)
    said.transient = False  # type: ignore[attr-defined]
    assert transient(said) is False


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap() -> None:
    rand = random.Random(7).random
    for retry in range(1, 12):
        delay = backoff(retry, base=1.0, cap=30.0, rand=rand)
        full = min(30.0, 2.0 ** (retry - 1))
        assert full / 2 <= delay <= full
    assert backoff(1, rand=lambda: 0.0) < backoff(1, rand=lambda: 0.999)  # jittered
    assert backoff(3, base=1.0, cap=30.0, rand=lambda: 1.0) == 4.0


def test_the_decision_is_bounded_by_the_setting() -> None:
    policy = ModelRetries(retries=2)
    down = TRANSIENT["connection refused"]
    assert [policy.later(down, attempts) for attempts in (1, 2, 3, 4)] == [
        True, True, False, False]
    assert policy.later(PERMANENT["bad request"], 1) is False
    assert ModelRetries(retries=0).later(down, 1) is False


def test_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().model_retries == 2
    monkeypatch.setenv("TOOLWIRE_MODEL_RETRIES", "1")
    assert Settings().model_retries == 1
    monkeypatch.setenv("TOOLWIRE_MODEL_RETRIES", "-1")
    with pytest.raises(ValueError):
        Settings()


# -- the processor hands a message back ---------------------------------------------------------
class FlakyNotes(NoteModel):
    """``NoteModel`` whose answers (after the tool ran) fail with ``failures`` first."""

    def __init__(self, *failures: Exception) -> None:
        super().__init__()
        self.gate.set()
        self.failures = list(failures)

    async def complete(
        self, messages: list[Message], *, tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None, settings: ModelSettings | None = None,
    ) -> Completion:
        if not tools and self.failures:
            self.requests += 1
            raise self.failures.pop(0)
        return await super().complete(messages, tools=tools, constraint=constraint,
                                      settings=settings)


def retrying(database: Database, model: NoteModel, retries: int = 2) -> Processor:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    from tests.unit.test_lease_fencing import take_note

    registry.register(take_note)
    settings = Settings(model="scripted")
    return Processor(database=database, metrics=Metrics(), lease_seconds=30,
                     engines=Engines(settings=settings,
                                     engine=Engine(registry, model=model, settings=settings)),
                     retry_later=ModelRetries(retries=retries).later)


async def test_a_transient_failure_hands_the_message_back_and_no_tool_runs_twice(
    database: Database,
) -> None:
    RAN.clear()
    processor = retrying(database, FlakyNotes(TRANSIENT["server error"]))
    message = stored_message(database, "please note once")
    first = await processor.process_message(message.id)
    assert first is not None and first.retry_later and not first.lease_lost
    row = message_row(database, message.id)
    assert (row.status, row.attempts, row.lease_owner, row.error) == ("pending", 1, None, None)
    assert RAN == ["once"]

    second = await processor.process_message(message.id)
    assert second is not None and second.message.status == "done" and not second.retry_later
    assert RAN == ["once"]  # answered from the journal the second time
    [call] = calls_of(database, second.reply.id)
    assert (call.status, call.result) == ("ok", "noted once")
    assert message_row(database, second.reply.id).content


async def test_a_permanent_failure_fails_the_message_at_once(database: Database) -> None:
    processor = retrying(database, FlakyNotes(PERMANENT["bad request"]))
    message = stored_message(database, "please note never")
    outcome = await processor.process_message(message.id)
    assert outcome is not None and not outcome.retry_later
    row = message_row(database, message.id)
    assert row.status == "failed" and row.error is not None and "HTTP 400" in row.error


async def test_retries_run_out_then_the_message_fails_with_the_reason(database: Database) -> None:
    down = [ModelError("local", describe_exit(-11)) for _ in range(5)]
    processor = retrying(database, FlakyNotes(*down), retries=1)
    message = stored_message(database, "please note down")
    outcomes = [await processor.process_message(message.id) for _ in range(3)]
    assert [o is not None and o.retry_later for o in outcomes[:2]] == [True, False]
    assert outcomes[2] is None  # nothing left to claim
    row = message_row(database, message.id)
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.error == "ModelError: local: model process crashed (SIGSEGV)"


async def test_without_a_policy_a_transient_failure_fails_as_before(database: Database) -> None:
    model = FlakyNotes(TRANSIENT["rate limited"])
    processor = retrying(database, model)
    processor.retry_later = None
    message = stored_message(database, "please note now")
    outcome = await processor.process_message(message.id)
    assert outcome is not None and not outcome.retry_later
    assert message_row(database, message.id).status == "failed"

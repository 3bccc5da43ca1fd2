"""History cut to the model's context window: the token estimate, the budget, and a long
interaction run through the API on a scripted model that refuses a prompt over its window."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.unit.test_api import settings_for, start
from toolwire.api.app import create_app
from toolwire.engine import Engine
from toolwire.messages import Completion, Message
from toolwire.models.base import DEFAULT_CONTEXT_TOKENS, ModelError, ModelWrapper, context_tokens
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.run import CallResult, Run
from toolwire.service import context
from toolwire.service.context import RESULT_TOKENS, fit_to_context, history_budget, tool_tokens
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.history import estimate_tokens, load_history, message_tokens
from toolwire.store.tables import InteractionCreate
from toolwire.tools import Registry

LEASE = data.Lease(owner="test-process", seconds=30)
WORDS = ("the rate of exchange between the Canadian dollar and the euro moved by 0.37 percent "
         "today, see https://example.org/rates?from=CAD&to=EUR for the table; ")


def add(a: float, b: float) -> float:
    """Add two numbers.

    Args:
        a: the first number
        b: the second number
    """
    return a + b


def registry() -> Registry:
    tools = Registry()
    tools.use_index(ToolIndex(embedder=None))
    tools.register(add)
    return tools


def seed_turns(database: Database, interaction_id: uuid.UUID, turns: int, size: int) -> None:
    """``turns`` finished turns with ``size``-character prompts and answers and one call."""
    for i in range(turns):
        with database.write_session() as s:
            message = data.add_user_message(session=s, interaction_id=interaction_id,
                                            content=f"turn {i}: " + (WORDS * 40)[:size],
                                            lease=LEASE, touch=False)
            reply = data.open_reply(session=s, message=message)
            call = CallResult(id=f"call-{i}", name="add", arguments={"a": i, "b": 0.5},
                              status="ok", result=i + 0.5)
            data.add_tool_call(session=s, message_id=reply.id, call=call)
            data.finish_message(session=s, message=message, reply=reply, run=Run(
                prompt=message.content, answer=f"answer {i}: " + (WORDS * 40)[:size]))


def turn_numbers(history: list[Message]) -> list[int]:
    return [int(m.content.split(":")[0].split()[1]) for m in history if m.role == "user"]


def history_tokens(history: list[Message]) -> int:
    return sum(message_tokens(m) for m in history if m.role != "system")


# -- the estimate and the window ------------------------------------------------------------
def test_the_estimate_is_over_the_embedded_models_true_count() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    from toolwire.models.llama import _CHATML, DEFAULT_LOCAL, _render, resolve_gguf

    try:
        path = resolve_gguf(DEFAULT_LOCAL)
    except Exception as e:  # the weights are an optional package
        pytest.skip(f"no local model: {e}")
    vocab = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    samples = [
        "I want to exchange 42 US dollars to Canadian dollars, then the weather in Paris.",
        json.dumps({"result": {"amount": 52.5, "ts": "2024-05-01T12:33:01Z", "ok": True}}),
        "3141592653589793238462643383279502884197 4f7d9c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
        "我想把四十二美元换成加拿大元。 Je voudrais échanger 42 dollars. 😀🎉🚀",
        "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Qgb2YgYmFzZTY0 THE QUICK BROWN FOX",
        "def f(x):\n    return [i * 2 for i in range(x) if i % 3 == 0]\n\n\n",
        WORDS * 10,
    ]
    for text in samples:
        true = len(vocab.tokenize(text.encode(), add_bos=False, special=False))
        assert estimate_tokens(text) >= true, text
    chat = [Message(role="system", content=WORDS * 3),
            *(Message(role=r, content=t) for t in samples for r in ("user", "assistant"))]
    rendered = _render(_CHATML, chat)
    assert sum(message_tokens(m) for m in chat) >= len(
        vocab.tokenize(rendered.encode(), add_bos=False, special=True))


def test_the_window_comes_from_the_model_with_a_large_default() -> None:
    assert context_tokens(ScriptedModel()) == DEFAULT_CONTEXT_TOKENS
    small = ScriptedModel(context_tokens=2048)
    assert context_tokens(small) == context_tokens(ModelWrapper(small)) == 2048

    from toolwire.models.process import ModelProcess

    process = ModelProcess("toolwire.models.llama:LlamaModel", {"n_ctx": 2048}, name="local:x")
    assert context_tokens(process) == 2048  # what LocalModel passes its child
    assert context_tokens(ModelProcess("m:f", {}, name="x")) == DEFAULT_CONTEXT_TOKENS


def test_a_system_prompt_that_fills_the_window_leaves_no_history() -> None:
    history = [Message(role="system", content=WORDS * 80), Message(role="user", content="hi"),
               Message(role="assistant", content="hello")]
    engine = Engine(registry(), model=ScriptedModel(context_tokens=2048))
    assert fit_to_context(engine, history, question="again") == history[:1]
    assert fit_to_context(Engine(registry(), model=ScriptedModel()), history,
                          question="again") == history


def test_the_embedded_models_strategy_leaves_room_for_history() -> None:
    """The staged strategy shows a tool as a line or a signature, not its JSON schema: with
    the built-in tools, JSON alone would fill the embedded model's window."""
    from toolwire.builtin import default_registry

    tools = default_registry()
    grammar = ScriptedModel(supports_tools=False, supports_grammar=True, context_tokens=2048)
    history = [Message(role="system", content="Be brief.")]
    for i in range(6):
        history += [Message(role="user", content=f"turn {i}: convert 5 euros to yen"),
                    Message(role="assistant", content="5 euros are 810 yen.")]
    kept = fit_to_context(Engine(tools, model=grammar), history, question="and 7?")
    assert tool_tokens([t.spec() for t in tools], 5) > 2048 - 160
    assert turn_numbers(kept) == list(range(6))


# -- a long interaction, from the store -----------------------------------------------------
def test_a_long_interaction_keeps_the_latest_turns_within_the_budget(database: Database) -> None:
    system = (WORDS * 30)[:2000]
    with database.write_session() as s:
        interaction_id = data.create_interaction(
            session=s, interaction_in=InteractionCreate(system_prompt=system)).id
    seed_turns(database, interaction_id, 300, 300)
    with database.write_session() as s:
        now = data.add_user_message(session=s, interaction_id=interaction_id, content="and now?")
    engine = Engine(registry(), model=ScriptedModel(context_tokens=2048))
    with database.session() as s:
        everything = load_history(session=s, interaction_id=interaction_id, before=now,
                                  max_tokens=None)
        default = load_history(session=s, interaction_id=interaction_id, before=now)
    history = fit_to_context(engine, everything, question="and now?")
    budget = history_budget(
        window=2048, fixed=[Message(role="system", content=system),
                            Message(role="user", content="and now?")],
        tools=max(RESULT_TOKENS, tool_tokens([t.spec() for t in engine.registry], 5)),
        answer=160)
    assert history[0] == Message(role="system", content=system)
    assert 0 < history_tokens(history) <= budget < 2048
    kept = turn_numbers(history)
    assert kept and kept == list(range(300 - len(kept), 300))  # the latest turns, whole
    assert len(kept) < len(turn_numbers(everything)) == 20  # MAX_TURNS read, then cut
    assert turn_numbers(default)[-1] == 299 and history_tokens(default) <= 1_000


# -- a long interaction, through the API ----------------------------------------------------
def bounded(window: int, answer: int = 160) -> ScriptedModel:
    """A scripted model that fails like the embedded one on a prompt over its window."""

    def respond(request: Request) -> Completion:
        used = sum(message_tokens(m) for m in request.messages) + tool_tokens(request.tools or [])
        if used + answer > window:
            raise ModelError("local", f"prompt of {used} tokens exceeds the context")
        return Completion(text="Noted.")

    return ScriptedModel(respond, context_tokens=window)


@dataclass
class Service:
    client: httpx.AsyncClient
    database: Database
    model: ScriptedModel


@pytest.fixture
async def long_service(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    model = bounded(8192)
    settings = settings_for(tmp_path)
    engine = Engine(registry(), model=model, settings=settings)
    app = create_app(engine=engine, database_url=database_url, settings=settings)
    async for client in start(app):
        yield Service(client=client, database=app.state.toolwire.database, model=model)


async def test_a_long_interaction_with_a_system_prompt_near_its_limit_runs(
    long_service: Service,
) -> None:
    system = (WORDS * 80)[:7900]  # the limit is 8,000 characters
    created = await long_service.client.post("/interactions", json={"system_prompt": system})
    assert created.status_code == 201, created.text
    interaction_id = uuid.UUID(created.json()["id"])
    seed_turns(long_service.database, interaction_id, 200, 1000)

    response = await long_service.client.post("/execute", json={
        "prompt": "what was the last rate?", "interaction_id": str(interaction_id)})
    assert response.status_code == 200, response.text
    assert response.json()["answer"] == "Noted."
    requests = long_service.model.requests
    assert requests
    for request in requests:
        sent = request.messages
        assert sent[0] == Message(role="system", content=system)
        assert sent[-1] == Message(role="user", content="what was the last rate?")
        kept = turn_numbers(sent[1:-1])
        assert kept == list(range(200 - len(kept), 200))
    assert turn_numbers(requests[0].messages[1:-1]), "the latest turn fits beside it"


def test_the_tool_token_estimate_is_kept_per_tool_set_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(context, "_CACHE_SIZE", 2)
    context._CACHE.clear()
    engine = Engine(registry(), model=ScriptedModel([]))
    first = context.registry_tool_tokens(engine, strategy="native", k=5)
    assert context.registry_tool_tokens(engine, strategy="native", k=5) == first
    engine.registry.register(add, name="add_again")  # the tools changed: estimated again
    assert context.registry_tool_tokens(engine, strategy="native", k=5) > first
    context.registry_tool_tokens(engine, strategy="staged", k=5)
    assert len(context._CACHE) == 2  # the least recently used set was dropped
    context._CACHE.clear()

"""The supervised model process, with real child processes (a scripted model inside them)."""

from __future__ import annotations

import asyncio
import os

import pytest

from toolwire.models.base import Message, ModelError, ModelSettings
from toolwire.models.process import ModelProcess, describe_exit


def _process(timeout: float = 10.0, factory: str = "tests.unit.faulty_models:faulty") -> ModelProcess:
    return ModelProcess(factory, {"greeting": "hi"}, name="faulty", timeout=timeout)


def _ask(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


@pytest.fixture
def model() -> ModelProcess:
    process = _process()
    yield process
    process.close()


async def test_answers_from_a_child_process(model: ModelProcess) -> None:
    completion = await model.complete(_ask("hello"))
    pid = int(completion.text.rsplit(" ", 1)[1])
    assert completion.text.startswith("echo hello") and pid != os.getpid()
    assert model.health().state == "ready" and model.health().pid == pid


async def test_a_crash_fails_one_request_and_the_next_is_served(model: ModelProcess) -> None:
    first = await model.complete(_ask("hello"))
    with pytest.raises(ModelError, match=r"model process crashed \(SIGSEGV\)"):
        await model.complete(_ask("crash"))
    assert model.health().state == "crashed"
    again = await model.complete(_ask("hello"))
    assert again.text.startswith("echo hello") and again.text != first.text  # a new child
    assert model.health().state == "ready" and model.health().restarts == 1


async def test_an_abort_is_named(model: ModelProcess) -> None:
    with pytest.raises(ModelError, match=r"crashed \(SIGABRT\)"):
        await model.complete(_ask("abort"))


async def test_a_hung_model_is_killed_at_its_deadline() -> None:
    model = _process(timeout=0.5)
    try:
        with pytest.raises(ModelError, match=r"did not answer within 0\.5 s"):
            await model.complete(_ask("hang"))
        assert (await model.complete(_ask("after"))).text.startswith("echo after")
    finally:
        model.close()


async def test_a_cancelled_request_kills_the_busy_child(model: ModelProcess) -> None:
    await model.complete(_ask("hello"))
    pid = model.health().pid
    task = asyncio.create_task(model.complete(_ask("hang")))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, not left computing an answer no one reads
    assert (await model.complete(_ask("next"))).text.startswith("echo next")


async def test_backend_errors_come_back_as_model_errors(model: ModelProcess) -> None:
    with pytest.raises(ModelError, match="cannot compile the constraint") as caught:
        await model.complete(_ask("fail"))
    assert caught.value.provider == "local"
    assert model.health().state == "ready"  # an ordinary error keeps the child


async def test_a_model_that_cannot_load_says_why() -> None:
    model = _process(factory="tests.unit.faulty_models:broken")
    with pytest.raises(ModelError, match="cannot load the model: no weights here"):
        await model.complete(_ask("hello"))
    assert model.health().state == "failed"


def test_exit_descriptions() -> None:
    assert describe_exit(-11) == "model process crashed (SIGSEGV)"
    assert "out of memory" in describe_exit(-9)
    assert describe_exit(3) == "model process exited with status 3"


async def test_a_child_model_that_cannot_stream_answers_a_stream_in_one_piece(
    model: ModelProcess,
) -> None:
    pieces: list[str] = []
    completion = await model.stream_complete(_ask("hello"), settings=ModelSettings(),
                                             on_text=pieces.append)
    await asyncio.sleep(0)  # the relayed pieces run on the loop
    assert completion.text and pieces == [completion.text]

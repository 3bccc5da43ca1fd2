"""The embedded model in its supervised process: a portable llama.cpp (no AMX), the staged
strategy's requests answered across the boundary, and a native crash that costs one request."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from toolwire.models.base import ChoiceConstraint, Message, ModelError, Settings
from toolwire.models.local import LocalModel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model() -> LocalModel:
    local = LocalModel()
    local.load()
    yield local
    local.close()


def _ask(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def test_llama_cpp_is_built_portable(model: LocalModel) -> None:
    info = model.health().info["system_info"]
    assert "AVX" in info or "NEON" in info or "SSE3" in info
    assert "AMX" not in info and "AVX512 = 1" not in info


async def test_choices_are_scored_in_the_child(model: LocalModel) -> None:
    completion = await model.complete(
        _ask("Which is a colour?"), constraint=ChoiceConstraint(options=("red", "seven"))
    )
    assert set(completion.scores) == {"red", "seven"} and completion.text in ("red", "seven")
    assert model.health().pid != os.getpid()


async def test_a_segfault_mid_generation_fails_that_request_only(model: LocalModel) -> None:
    await model.complete(_ask("hi"), settings=Settings(max_tokens=2))
    pid, restarts = model.health().pid, model.health().restarts
    assert pid is not None
    threading.Timer(0.3, os.kill, (pid, signal.SIGSEGV)).start()
    with pytest.raises(ModelError, match=r"model process crashed \(SIGSEGV\)"):
        await model.complete(_ask("Tell me a long story about the sea."),
                             settings=Settings(max_tokens=256, stop=("\u0000",)))
    answer = await model.complete(_ask("Say hello."), settings=Settings(max_tokens=8))
    assert answer.text and model.health().restarts == restarts + 1
    assert model.health().state == "ready"

"""``toolwire run`` shows each step live: the steps on stderr, the executed call, its result
and the answer's tokens on stdout as they happen, never the answer a second time at the end."""

from __future__ import annotations

import sys
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from toolwire import Registry
from toolwire.cli import app
from toolwire.messages import Completion, Message, ModelSettings, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.models.streaming import TextSink
from toolwire.retrieval import ToolIndex

MODEL = "scripted:tests.unit.test_cli:streaming_model"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class StreamingModel(ScriptedModel):
    """Hands its text over word by word, noting what stdout already held before each word."""

    seen: ClassVar[list[str]] = []
    """stdout before each streamed piece, across the run."""

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        completion = await self.complete(messages, settings=settings)
        for piece in completion.text.split(" "):
            sys.stdout.flush()
            StreamingModel.seen.append(sys.stdout.buffer.getvalue().decode())  # type: ignore[attr-defined]
            on_text(piece + " ")
        return completion


def streaming_model() -> ScriptedModel:
    def answer(request: Request) -> Completion:
        if request.tools:
            return Completion(tool_calls=[ToolCallRequest(id="", name="add",
                                                          arguments={"a": 2, "b": 3})])
        return Completion(text="Two plus three makes 5.")

    return StreamingModel(answer, streams_text=True)


def half_model() -> ScriptedModel:
    return ScriptedModel(lambda _request: Completion(
        tool_calls=[ToolCallRequest(id="", name="add", arguments={"a": 2})]))


def vague_model() -> ScriptedModel:
    def answer(request: Request) -> Completion:
        if request.tools:
            return Completion(tool_calls=[ToolCallRequest(id="", name="add",
                                                          arguments={"a": 2, "b": 3})])
        return Completion(text="It is five.")

    return StreamingModel(answer, streams_text=True)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(add, keywords=("sum", "plus"))
    monkeypatch.setattr("toolwire.cli.sources.service_tools", lambda: registry)
    StreamingModel.seen = []
    return registry


def test_run_shows_the_result_and_streams_the_answer_live(registry: Registry) -> None:
    result = CliRunner().invoke(app, ["run", "-m", MODEL, "add 2 plus 3"])
    assert result.exit_code == 0, result.output

    output = result.output  # stdout and stderr, in the order they were written
    order = [output.index(text) for text in
             ("retrieved add", "selected add", "attempt 1: add", "call add(a=2, b=3)",
              "result 5", "Two plus three makes 5.")]
    assert order == sorted(order), output
    # the call and its result were on stdout before the first word of the answer was generated
    first = StreamingModel.seen[0]
    assert "call add(a=2, b=3)" in first and "result 5" in first and "Two" not in first
    # each word was out before the next one was generated
    assert "Two plus " in StreamingModel.seen[2] and "three" not in StreamingModel.seen[2]
    assert result.stdout.count("Two plus three makes 5.") == 1
    assert result.stdout.endswith("\n")


def test_an_answer_the_model_did_not_stream_is_printed_once(registry: Registry) -> None:
    """A call that failed is answered without the model: the answer shows up once, at the end."""
    result = CliRunner().invoke(app, ["run", "-m", "scripted:tests.unit.test_cli:half_model",
                                      "add 2 plus something"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("failed:") == 1, result.output
    assert result.stdout.rstrip().endswith("is a required property."), result.output


def test_a_streamed_sentence_that_is_not_kept_is_followed_by_the_answer(
    registry: Registry,
) -> None:
    """The model's words left out the numbers: its draft streamed, then the answer, once."""
    result = CliRunner().invoke(app, ["run", "-m", "scripted:tests.unit.test_cli:vague_model",
                                      "add 2 plus 3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("It is five.") == 1, result.output
    assert result.stdout.count("the result is 5.") == 1, result.output
    assert result.stdout.rstrip().endswith("the result is 5."), result.output
    assert result.stdout.index("It is five.") < result.stdout.index("the result is 5.")

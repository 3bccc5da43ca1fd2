"""``stream: true`` on ``/v1/chat/completions``: a tool call goes out the moment the engine has
decided it (validated), in OpenAI's chunk shape, before any answer text; never cut from a
finished completion after the answer. ``toolwire.execute`` runs go through the Processor on
a SQLite store."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI

from tests.conftest import sqlite_url
from tests.unit.openai_compat_fixtures import CONVERT_TOOL, currency_model
from tests.unit.test_api import start
from tests.unit.test_openai_compat import QUESTION, USER, _app, _events, _post, _served
from toolwire.api.openai_compat import _live, _start, answer, execute, parse_request
from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.messages import Completion, Message, ModelSettings, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Processor
from toolwire.store.db import Database
from toolwire.store.migrate import upgrade
from toolwire.tools import Registry

EXPECTED = {"amount": 42.0, "from_currency": "USD", "to_currency": "CAD"}
ANSWER = ("42 USD ", "is 52.5 ", "CAD.")


class AnsweringModel(ScriptedModel):
    """Calls ``convert_currency`` when offered tools; streams its sentence in pieces."""

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: Callable[[str], None]
    ) -> Completion:
        completion = await self.complete(messages, settings=settings)
        for piece in ANSWER:
            on_text(piece)
        return completion


def _answering_model(*calls: dict[str, Any]) -> AnsweringModel:
    """Proposes ``calls`` in turn (a repair asks again), then answers ``ANSWER``."""
    proposals = [Completion(tool_calls=[ToolCallRequest(id="", name="convert_currency",
                                                        arguments=arguments)])
                 for arguments in calls or (EXPECTED,)]
    return AnsweringModel([*proposals, Completion(text="".join(ANSWER))], streams_text=True)


def _registry(before_result: asyncio.Event | None = None) -> Registry:
    registry = Registry()

    @registry.tool
    async def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
        """Convert an amount of money from one currency to another."""
        if before_result is not None:  # the test has seen the call streamed
            await asyncio.wait_for(before_result.wait(), timeout=5)
        return round(amount * 1.25, 2)

    return registry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(tmp_path))
    upgrade(database)
    yield database
    database.dispose()


async def _chunks(engine: Engine, body: dict[str, Any],
                  on_chunk: Callable[[dict[str, Any]], None] = lambda _c: None,
                  store: Database | None = None) -> list[Any]:
    """The chunks of ``body``'s streamed answer; ``toolwire.execute`` runs through a
    Processor on ``store``."""
    chat = parse_request(body, "toolwire")
    if chat.execute:
        assert store is not None
        settings = Settings(model="scripted")
        processor = Processor(database=store, metrics=Metrics(),
                              engines=Engines(settings=settings, engine=engine))
        started = _start(lambda text, call: execute(processor, chat, owner=None, model=None,
                                                    on_text=text, on_call=call))
    else:
        started = _start(lambda text, call: answer(engine, chat, text, call))
    chunks: list[Any] = []
    async for data in _live(started, chat, "chatcmpl-1", 0):
        text = data.decode().removeprefix("data: ").strip()
        chunk = text if text == "[DONE]" else json.loads(text)
        if isinstance(chunk, dict):
            on_chunk(chunk)
        chunks.append(chunk)
    return chunks


def _deltas(chunks: list[Any], key: str) -> list[tuple[int, Any]]:
    """(position, delta[key]) of every chunk whose delta holds ``key``."""
    return [(i, c["choices"][0]["delta"][key]) for i, c in enumerate(chunks)
            if isinstance(c, dict) and c["choices"] and c["choices"][0]["delta"].get(key)]


def _reassembled(chunks: list[Any]) -> tuple[str, str, dict[str, Any]]:
    """(id, name, arguments) of the one call, put together from its deltas."""
    parts = [d for _, delta in _deltas(chunks, "tool_calls") for d in delta]
    assert {d["index"] for d in parts} == {0}
    head = parts[0]
    assert head["type"] == "function" and head["function"]["arguments"] == ""
    assert all("id" not in d and "name" not in d["function"] for d in parts[1:])
    arguments = "".join(d["function"]["arguments"] for d in parts)
    return head["id"], head["function"]["name"], json.loads(arguments)


async def test_execute_streams_the_call_before_it_runs_then_the_answer(store: Database) -> None:
    seen = asyncio.Event()
    model = _answering_model()
    engine = Engine(_registry(before_result=seen), model=model)

    def watch(chunk: dict[str, Any]) -> None:
        if chunk["choices"] and chunk["choices"][0]["delta"].get("tool_calls"):
            assert len(model.requests) == 1  # the answer was not asked for yet
            seen.set()  # lets the tool finish: the call was out before its result

    chunks = await _chunks(engine, {"messages": USER, "stream": True,
                                    "toolwire": {"execute": True}}, watch, store)
    call_id, name, arguments = _reassembled(chunks)
    assert call_id.startswith("call_") and (name, arguments) == ("convert_currency", EXPECTED)
    calls, texts = _deltas(chunks, "tool_calls"), _deltas(chunks, "content")
    assert calls[-1][0] < texts[0][0]  # every call delta before the answer's first text
    assert "".join(text for _, text in texts) == "".join(ANSWER)  # settled, then sent
    assert chunks[-3]["choices"][0]["finish_reason"] == "stop" and chunks[-1] == "[DONE]"
    extension = chunks[-2]["toolwire"]  # last, where the run was stored
    assert chunks[-2]["choices"] == [] and extension["message_status"] == "done"
    [stored] = extension["calls"]
    assert (stored["id"], stored["result"]) == (call_id, 52.5)
    assert uuid.UUID(stored["tool_call_id"]) and uuid.UUID(extension["interaction_id"])


async def test_a_draft_the_engine_replaces_is_never_streamed(store: Database) -> None:
    """The model's sentence drops the numbers, so the answer is the engine's own; a client
    cannot take streamed text back, so it gets only the settled answer."""

    class Drafting(AnsweringModel):
        async def stream_complete(
            self, messages: list[Message], *, settings: ModelSettings,
            on_text: Callable[[str], None],
        ) -> Completion:
            completion = await self.complete(messages, settings=settings)
            for piece in ("I can convert ", "currencies for you."):
                on_text(piece)
            return completion

    def model() -> Drafting:
        call = Completion(tool_calls=[ToolCallRequest(id="", name="convert_currency",
                                                      arguments=EXPECTED)])
        return Drafting([call, Completion(text="I can convert currencies for you.")],
                        streams_text=True)

    body = {"messages": USER, "stream": True, "toolwire": {"execute": True}}
    chunks = await _chunks(Engine(_registry(), model=model()), body, store=store)
    streamed = "".join(text for _, text in _deltas(chunks, "content"))
    settled = (await Engine(_registry(), model=model()).arun(QUESTION)).answer
    assert streamed == settled and "I can convert currencies" not in streamed
    assert "52.5" in streamed


async def test_execute_streams_only_the_arguments_that_passed_validation(
    store: Database,
) -> None:
    first = {"amount": 42, "from_currency": "USD"}  # to_currency missing: repaired
    engine = Engine(_registry(), model=_answering_model(first, EXPECTED))
    chunks = await _chunks(engine, {"messages": USER, "stream": True,
                                    "toolwire": {"execute": True}}, store=store)
    assert _reassembled(chunks)[1:] == ("convert_currency", EXPECTED)


async def test_a_proposal_streams_only_the_arguments_that_passed_validation() -> None:
    """Without ``execute`` too: the client's tool schema is checked before a call goes out."""
    first = {"amount": 42, "from_currency": "USD"}
    engine = Engine(Registry(), model=_answering_model(first, EXPECTED))
    chunks = await _chunks(engine, {"messages": USER, "tools": [CONVERT_TOOL], "stream": True})
    assert _reassembled(chunks)[1:] == ("convert_currency", EXPECTED)
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


async def test_parallel_tool_calls_false_streams_one_call() -> None:
    question = "42 US dollars to Canadian dollars and 10 euro to yen"
    response = await _post(_app(currency_model()), {
        "messages": [{"role": "user", "content": question}], "tools": [CONVERT_TOOL],
        "stream": True, "parallel_tool_calls": False})
    parts = [d for c in _events(response)[:-1] for ch in c["choices"]
             for d in ch["delta"].get("tool_calls", [])]
    assert {d["index"] for d in parts} == {0}


async def test_the_openai_client_reassembles_a_streamed_call_then_the_answer(
    tmp_path: Path,
) -> None:
    def answer(request: Request) -> Completion:
        if request.tools:
            return Completion(tool_calls=[ToolCallRequest(id="", name="convert_currency",
                                                          arguments=EXPECTED)])
        return Completion(text="42 USD is 52.5 CAD.")

    order: list[str] = []
    name, arguments, text, finish = "", "", "", None
    async for http in start(_served(ScriptedModel(answer), _registry(), tmp_path)):
        client = AsyncOpenAI(base_url="http://toolwire/v1", api_key="unused", http_client=http)
        stream = await client.chat.completions.create(
            model="toolwire", messages=[{"role": "user", "content": QUESTION}], stream=True,
            extra_body={"toolwire": {"execute": True}})
        async for chunk in stream:
            for choice in chunk.choices:
                for delta in choice.delta.tool_calls or []:
                    order.append("call")
                    name += (delta.function and delta.function.name) or ""
                    arguments += (delta.function and delta.function.arguments) or ""
                if choice.delta.content:
                    order.append("text")
                    text += choice.delta.content
                finish = choice.finish_reason or finish
    assert (name, json.loads(arguments)) == ("convert_currency", EXPECTED)
    assert order.index("text") > max(i for i, kind in enumerate(order) if kind == "call")
    assert (text, finish) == ("42 USD is 52.5 CAD.", "stop")

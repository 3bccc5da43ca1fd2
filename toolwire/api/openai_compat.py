"""OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client can use toolwire as its model server:

    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused")
    client.chat.completions.create(model="toolwire", messages=[...], tools=[...])

How an answer is made: the engine's strategy proposes the calls (``engine.propose_calls``,
the pipeline over the request's tools, validated against their schemas, not run), whatever
the model (``native`` for a tool-calling model, ``staged`` for the embedded one: see
``toolwire.strategies``); the model answers in text when no call is proposed, when
``tool_choice`` is ``none`` or when the last message is a tool result.

The extension ``"toolwire": {"execute": true}`` runs the server registry's tools instead,
through the Processor as ``/execute`` does: the last user message is stored as a new
interaction of the caller (the key's owner) with its reply, every call is journalled
(``GET /tool-calls``, ``GET /interactions``) and a call that needs a person's approval waits
(``POST /tool-calls/{id}/approve`` or ``/reject``); the earlier messages are the run's history,
kept by the client. The response's ``toolwire`` object holds the calls (each with its stored
``tool_call_id``) and where the turn was stored (``interaction_id``, ``message_id``,
``reply_id``, ``message_status``).

``stream: true`` sends OpenAI's SSE chunks as the answer is produced: each tool call the moment
it is decided (once it passed validation), as a first delta with its index, id, type, name and
empty arguments, then the arguments in pieces; the text deltas as the model generates them;
then the finish reason (``tool_calls`` when the client is to run them), the usage and
``data: [DONE]``. With ``toolwire.execute`` the calls stream as they are decided, before they
run, and the answer's text follows (``finish_reason: stop``), sent once settled when it
describes results (the model's draft may be replaced, and streamed text cannot be taken
back), token by token when no call was made; a last chunk (no choices) carries ``toolwire``.

An ``Idempotency-Key`` header makes a retry safe (``toolwire.api.idempotency``): within 24 h
the same request gets the first answer again and nothing runs twice; a streamed request's
retry gets its final ``chat.completion`` as JSON. Bad requests get 400 in OpenAI's error
shape, naming the bad field; a conversation (text, tool calls and tool definitions) over the
prompt limit gets 413. The history before the last user message is cut to the model's context
window (``toolwire.service.context``): the latest whole turns that fit are sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from toolwire.api.auth import owner_of
from toolwire.api.errors import ApiError, status_of
from toolwire.api.idempotency import Claim, IdempotencyKey, claim
from toolwire.dialects import DialectError, from_openai, from_openai_messages
from toolwire.dialects import openai as openai_dialect
from toolwire.messages import Completion, Message, ModelSettings, ToolCallRequest, ToolSpec, Usage
from toolwire.models.base import ModelError, context_tokens
from toolwire.models.streaming import TextSink, stream_text
from toolwire.run import AnswerDelta, CallProposed, Event, ValidationFailed
from toolwire.service.context import history_budget, leading_system, tool_tokens
from toolwire.service.errors import NotFound, ServiceError
from toolwire.store.history import fit_history

if TYPE_CHECKING:
    from toolwire.engine import Engine
    from toolwire.run import Run
    from toolwire.service.processing import Outcome, Processor

router = APIRouter(prefix="/v1", tags=["openai"])

STREAM_PIECE = 16
"""Characters of text per streamed content chunk."""

CallSink = Callable[[ToolCallRequest], None]
"""Receives each tool call of an answer, once, as soon as it is decided."""


class OpenAIError(Exception):
    """A request error in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.param, self.status, self.type, self.code = (
            message,
            param,
            status,
            type,
            code,
        )

    def response(self) -> JSONResponse:
        body = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return JSONResponse({"error": body}, status_code=self.status)


# -- dependencies ---------------------------------------------------------------------------
def get_engine(request: Request) -> Engine:
    """The engine that serves the compat API: ``app.state.engine``, else the app's default."""
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is not None:
        return engine
    state = getattr(request.app.state, "toolwire", None)
    if state is None:
        raise OpenAIError("no engine is configured", status=500, type="server_error")
    default: Engine = state.engines.get()
    return default


def model_id(request: Request) -> str:
    """The name ``/v1/models`` lists: the default model string, without loading it."""
    state = getattr(request.app.state, "toolwire", None)
    if state is not None:
        return str(state.engines.default_model)
    return get_engine(request).model.name


# -- the request ----------------------------------------------------------------------------
@dataclass(kw_only=True)
class ChatRequest:
    """A validated chat-completions request."""

    model: str
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: str = "auto"
    parallel: bool = True
    stream: bool = False
    include_usage: bool = False
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    execute: bool = False

    def settings(self, tool_choice: str | None = None) -> ModelSettings:
        return ModelSettings(
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            seed=self.seed,
            tool_choice=tool_choice or self.tool_choice,
        )


def parse_request(body: Any, default_model: str) -> ChatRequest:
    """A ``ChatRequest`` from the JSON body; ``OpenAIError`` names the first bad field."""
    if not isinstance(body, dict):
        raise OpenAIError("the request body must be a JSON object")
    messages = _messages(body.get("messages"))
    tools = _tools(body.get("tools"))
    extension = body.get("toolwire") or {}
    if not isinstance(extension, dict):
        raise OpenAIError("'toolwire' must be an object", param="toolwire")
    stream_options = body.get("stream_options") or {}
    return ChatRequest(
        model=str(body.get("model") or default_model),
        messages=messages,
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), tools),
        parallel=_typed(body, "parallel_tool_calls", bool, True),
        stream=_typed(body, "stream", bool, False),
        include_usage=bool(
            isinstance(stream_options, dict) and stream_options.get("include_usage")
        ),
        max_tokens=_max_tokens(body),
        temperature=float(_typed(body, "temperature", (int, float), 0.0)),
        seed=_typed(body, "seed", int, 0),
        execute=_typed(extension, "execute", bool, False, prefix="toolwire."),
    )


def _typed(body: dict[str, Any], key: str, kind: Any, default: Any, prefix: str = "") -> Any:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "number"
        raise OpenAIError(f"'{prefix}{key}' must be a {names}", param=prefix + key)
    return value


def _max_tokens(body: dict[str, Any]) -> int:
    key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    value = _typed(body, key, int, 256)
    if value < 1:
        raise OpenAIError(f"'{key}' must be at least 1", param=key)
    if body.get("n") not in (None, 1):
        raise OpenAIError("only n=1 is supported", param="n")
    return int(value)


def _messages(raw: Any) -> list[Message]:
    if not isinstance(raw, list) or not raw:
        raise OpenAIError("'messages' must be a non-empty array", param="messages")
    try:
        return from_openai_messages(raw)
    except DialectError as e:
        raise OpenAIError(f"Invalid '{e.path}': {str(e).split(': ', 2)[-1]}", param=e.path) from e


def _tools(raw: Any) -> list[ToolSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise OpenAIError("'tools' must be an array", param="tools")
    specs = []
    for i, tool in enumerate(raw):
        problems = openai_dialect.problems(tool)
        if problems:
            where, _, reason = problems[0].partition(": ")
            param = f"tools[{i}].{where}"
            raise OpenAIError(f"Invalid '{param}': {reason}", param=param)
        specs.append(from_openai(tool))
    names = [s.name for s in specs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise OpenAIError(f"tool {duplicate!r} is declared twice", param="tools")
    return specs


def _tool_choice(raw: Any, tools: list[ToolSpec]) -> str:
    if raw is None:
        return "auto"
    if raw in ("auto", "none", "required"):
        if raw == "required" and not tools:
            raise OpenAIError("tool_choice 'required' needs tools", param="tool_choice")
        return str(raw)
    name = raw.get("function", {}).get("name") if isinstance(raw, dict) else None
    if not isinstance(name, str):
        raise OpenAIError(
            "'tool_choice' must be 'auto', 'none', 'required' or "
            '{"type": "function", "function": {"name": ...}}',
            param="tool_choice",
        )
    if name not in {t.name for t in tools}:
        raise OpenAIError(
            f"tool_choice names {name!r}, which is not in 'tools'", param="tool_choice"
        )
    return name


# -- answering ------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Answer:
    """A completion; for ``toolwire.execute``, the pipeline run behind it and where it was
    stored."""

    completion: Completion
    run: Run | None = None
    stored: dict[str, Any] | None = None
    """The stored turn's ids (``interaction_id``, ``message_id``, ``reply_id``,
    ``message_status``, and ``tool_call_ids``: each call's stored id by its call id)."""


Produce = Callable[[TextSink | None, CallSink | None], Coroutine[Any, Any, Answer]]
"""Makes the answer, handing its text and calls over as they come (see ``answer``)."""


async def answer(
    engine: Engine,
    request: ChatRequest,
    on_text: TextSink | None = None,
    on_call: CallSink | None = None,
) -> Answer:
    """The answer to ``request`` with the client's tools (see the module doc): the calls the
    engine's strategy proposes, else the model's text. ``on_text`` gets the text as the model
    generates it (where the model can stream), ``on_call`` each call as soon as it is
    decided."""
    request = _fitted(engine, request)
    calls = _first_only(on_call) if on_call is not None and not request.parallel else on_call
    wants_text = (
        not request.tools or request.tool_choice == "none" or request.messages[-1].role == "tool"
    )
    proposed = [] if wants_text else await engine.propose_calls(
        request.messages, request.tools, request.tool_choice, on_event=_Relay(None, calls))
    if not proposed:
        return Answer(completion=await _text(engine, request, on_text))
    kept = proposed if request.parallel else proposed[:1]
    return Answer(completion=Completion(tool_calls=kept, usage=_estimate(request, kept)))


def _fitted(engine: Engine, request: ChatRequest) -> ChatRequest:
    """``request`` with the history before its last user message cut to the context window
    of ``engine``'s model; the last user message and what follows it are kept whole."""
    last = max((i for i, m in enumerate(request.messages) if m.role == "user"), default=None)
    if last is None:
        return request
    history, current = request.messages[:last], request.messages[last:]
    offered = request.tools if request.tool_choice != "none" else []
    budget = history_budget(
        window=context_tokens(engine.model), fixed=[*leading_system(history), *current],
        tools=tool_tokens(offered), answer=request.max_tokens,
    )
    kept = fit_history(history, budget)
    if len(kept) == len(history):
        return request
    return dataclasses.replace(request, messages=[*kept, *current])


def _first_only(on_call: CallSink) -> CallSink:
    """``on_call`` for ``parallel_tool_calls: false``: the first call only."""
    seen: list[ToolCallRequest] = []

    def first(call: ToolCallRequest) -> None:
        if not seen:
            seen.append(call)
            on_call(call)

    return first


async def _text(engine: Engine, request: ChatRequest, on_text: TextSink | None) -> Completion:
    """The model's text answer to the conversation (tool calls and results as text for a
    model that cannot read them)."""
    model = engine.model
    messages = request.messages if model.supports_tools else _as_plain_chat(request.messages)
    return await stream_text(model, messages, settings=request.settings(tool_choice="none"),
                             on_text=on_text)


def _as_plain_chat(messages: list[Message]) -> list[Message]:
    """Tool calls and results as plain text, for a model without native tool calling."""
    out = []
    for m in messages:
        if m.role == "tool":
            out.append(
                Message(role="user", content=f"Result of {m.name or 'the tool'}: {m.content}")
            )
        elif m.tool_calls:
            calls = "; ".join(f"{c.name}({json.dumps(c.arguments)})" for c in m.tool_calls)
            out.append(Message(role="assistant", content=f"{m.content} Calling {calls}".strip()))
        else:
            out.append(m)
    return out


async def execute(
    processor: Processor,
    request: ChatRequest,
    *,
    owner: str | None,
    model: str | None,
    on_text: TextSink | None = None,
    on_call: CallSink | None = None,
) -> Answer:
    """Run the last user message through the Processor (``toolwire.execute``): stored as a
    new interaction of ``owner`` and journalled, the earlier messages its history; ``model``
    (``None``: the default) runs it. A failed run raises the model's error, or
    ``OpenAIError``."""
    users = [i for i, m in enumerate(request.messages) if m.role == "user"]
    if not users:
        raise OpenAIError("'toolwire.execute' needs a user message", param="messages")
    last = users[-1]
    outcome = await processor.run_prompt(
        request.messages[last].content, owner=owner, model=model,
        history=request.messages[:last], on_event=_Relay(on_text, on_call))
    run = outcome.run
    if run is None:
        raise _failure(outcome)
    completion = Completion(text=run.answer, usage=_estimate(request, [], run.answer))
    stored = {"interaction_id": str(outcome.message.interaction_id),
              "message_id": str(outcome.message.id), "reply_id": str(outcome.reply.id),
              "message_status": outcome.reply.status,
              "tool_call_ids": {row.call_id: str(row.id) for row in outcome.calls}}
    return Answer(completion=completion, run=run, stored=stored)


def _failure(outcome: Outcome) -> Exception:
    """What a failed run answers: the model's error (502), or why in OpenAI's shape, with
    where the prompt was stored."""
    if isinstance(outcome.exception, ModelError):
        return outcome.exception
    where = f" (message {outcome.message.id} of interaction {outcome.message.interaction_id})"
    if outcome.database_failed:
        return OpenAIError("the database failed during the run; the prompt is stored and will "
                           "be processed once it is back" + where, status=503,
                           type="api_error", code="database_unavailable")
    return OpenAIError((outcome.error or "the prompt could not be processed") + where,
                       status=500, type="api_error", code="execution_failed")


@dataclass
class _Relay:
    """A pipeline run's events for a streamed answer: its text to ``on_text``, and each call
    to ``on_call`` once decided: when its proposal is not followed by a ``ValidationFailed``.
    The pipeline reports a failure in the same step as the proposal, so by the event loop's
    next turn (``call_soon``) the proposal stands or was dropped; a repaired call goes out
    once, with the arguments that passed."""

    on_text: TextSink | None
    on_call: CallSink | None
    proposed: dict[tuple[str, int], CallProposed] = field(default_factory=dict)
    called: bool = False
    """Whether the run proposed a call: its answer then describes results, and the model's
    draft may be replaced by a template (``answer.py``); a client cannot take streamed text
    back, so that answer is sent once settled instead of token by token."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, AnswerDelta) and self.on_text is not None and not self.called:
            self.on_text(event.text)
        elif isinstance(event, CallProposed):
            self.called = True
            if self.on_call is None:
                return
            key = (event.call_id, event.attempt)
            self.proposed[key] = event
            asyncio.get_running_loop().call_soon(self._decided, key)
        elif isinstance(event, ValidationFailed):
            self.proposed.pop((event.call_id, event.attempt), None)

    def _decided(self, key: tuple[str, int]) -> None:
        event = self.proposed.pop(key, None)
        if event is not None and self.on_call is not None:
            self.on_call(ToolCallRequest(id=event.call_id, name=event.name,
                                         arguments=event.arguments))


def _estimate(request: ChatRequest, calls: list[ToolCallRequest], text: str = "") -> Usage:
    """About four characters a token, for backends that report no usage."""
    prompt = sum(len(m.content) for m in request.messages) + len(
        json.dumps([t.parameters for t in request.tools])
    )
    answer = len(text) + len(json.dumps([c.arguments for c in calls])) if calls else len(text)
    return Usage(prompt_tokens=math.ceil(prompt / 4), completion_tokens=math.ceil(answer / 4))


# -- the response ---------------------------------------------------------------------------
def _wire_calls(calls: list[ToolCallRequest]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id or f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
        }
        for c in calls
    ]


def _finish_reason(completion: Completion) -> str:
    if completion.tool_calls:
        return "tool_calls"
    return "length" if completion.finish_reason == "length" else "stop"


def _usage(usage: Usage) -> dict[str, int]:
    total = usage.prompt_tokens + usage.completion_tokens
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": total,
    }


def completion_body(
    result: Answer, request: ChatRequest, cid: str, created: int
) -> dict[str, Any]:
    """A ``chat.completion`` object (with ``toolwire`` for an executed run)."""
    completion = result.completion
    message: dict[str, Any] = {
        "role": "assistant",
        "content": completion.text or None,
        "refusal": None,
    }
    if completion.tool_calls:
        message["tool_calls"] = _wire_calls(completion.tool_calls)
    body: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": request.model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(completion),
            }
        ],
        "usage": _usage(completion.usage),
    }
    if result.run is not None:
        body["toolwire"] = _toolwire_extension(result)
    return body


def stream_chunks(
    completion: Completion, request: ChatRequest, cid: str, created: int
) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a finished completion, in OpenAI's order."""
    chunks = _Chunks(request, cid, created)
    yield chunks.opening()
    text = completion.text
    for start in range(0, len(text), STREAM_PIECE):
        yield chunks.content(text[start : start + STREAM_PIECE])
    yield from chunks.closing(completion)


@dataclass
class _Chunks:
    """Builds the chunks of one streamed answer: the opening, tool-call and text deltas as they
    come, then the calls not sent yet, the finish reason and the usage."""

    request: ChatRequest
    cid: str
    created: int

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {"id": self.cid, "object": "chat.completion.chunk", "created": self.created,
                "model": self.request.model, "system_fingerprint": None, "choices": [choice]}

    def opening(self) -> dict[str, Any]:
        return self.chunk({"role": "assistant", "content": "", "refusal": None})

    sent_calls: int = 0
    """Tool calls sent so far (the next one's index)."""

    def content(self, text: str) -> dict[str, Any]:
        return self.chunk({"content": text})

    def call(self, call: ToolCallRequest) -> Iterator[dict[str, Any]]:
        """One call's deltas, OpenAI's way: index, id, type, name and empty arguments first,
        then the arguments in pieces."""
        [wire] = _wire_calls([call])
        index, self.sent_calls = self.sent_calls, self.sent_calls + 1
        head = {"index": index, "id": wire["id"], "type": "function",
                "function": {"name": wire["function"]["name"], "arguments": ""}}
        yield self.chunk({"tool_calls": [head]})
        arguments = wire["function"]["arguments"]
        for start in range(0, len(arguments), STREAM_PIECE):
            piece = {"index": index,
                     "function": {"arguments": arguments[start : start + STREAM_PIECE]}}
            yield self.chunk({"tool_calls": [piece]})

    def closing(self, completion: Completion) -> Iterator[dict[str, Any]]:
        for call in completion.tool_calls[self.sent_calls:]:
            yield from self.call(call)
        yield self.chunk({}, _finish_reason(completion))
        if self.request.include_usage:
            last = self.chunk({})
            last["choices"] = []
            last["usage"] = _usage(completion.usage)
            yield last


_RUNNING: set[asyncio.Task[Answer]] = set()
"""Streamed answers: they finish (and executed runs are stored) even when the client goes."""


@dataclass(frozen=True)
class _Started:
    """A streamed answer being made: its task, and its text and calls as they come (``None``
    once the task has finished)."""

    task: asyncio.Task[Answer]
    pieces: asyncio.Queue[str | ToolCallRequest | None]


def _start(produce: Produce) -> _Started:
    pieces: asyncio.Queue[str | ToolCallRequest | None] = asyncio.Queue()
    task = asyncio.create_task(produce(pieces.put_nowait, pieces.put_nowait))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    task.add_done_callback(lambda _: pieces.put_nowait(None))
    return _Started(task=task, pieces=pieces)


async def _live(
    started: _Started, chat: ChatRequest, cid: str, created: int
) -> AsyncIterator[bytes]:
    """Chunks as the answer is produced: each tool call the moment it is decided, text deltas
    the moment the model generates them, then the finish reason and the usage; an executed
    run adds a last chunk with ``toolwire`` (where it was stored)."""
    chunks = _Chunks(chat, cid, created)
    yield _data(chunks.opening())
    streamed = ""
    while (piece := await started.pieces.get()) is not None:
        if isinstance(piece, ToolCallRequest):
            for delta in chunks.call(piece):
                yield _data(delta)
        else:
            streamed += piece
            yield _data(chunks.content(piece))
    try:
        result = started.task.result()
    except (ModelError, OpenAIError) as e:
        error = _openai_error(e)
        yield _data({"error": {"message": error.message, "type": error.type,
                               "code": error.code}})
        yield b"data: [DONE]\n\n"
        return
    if result.completion.text.startswith(streamed) and len(result.completion.text) > len(streamed):
        yield _data(chunks.content(result.completion.text[len(streamed):]))  # text not streamed
    for chunk in chunks.closing(result.completion):
        yield _data(chunk)
    if result.run is not None:
        last = chunks.chunk({})
        last["choices"], last["toolwire"] = [], _toolwire_extension(result)
        yield _data(last)
    yield b"data: [DONE]\n\n"


def _openai_error(exc: ModelError | OpenAIError) -> OpenAIError:
    """``exc`` in OpenAI's shape: a model's failure is a 502."""
    if isinstance(exc, OpenAIError):
        return exc
    return OpenAIError(str(exc), status=502, type="api_error", code="model_error")


def _data(chunk: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()


def prompt_size(chat: ChatRequest) -> int:
    """Characters a conversation sends a model: the messages' text, their tool calls
    (name and arguments as JSON) and the tool definitions (as JSON)."""
    calls = [c for m in chat.messages for c in m.tool_calls or []]
    return (
        sum(len(m.content or "") for m in chat.messages)
        + sum(len(c.name) + len(json.dumps(c.arguments, ensure_ascii=False)) for c in calls)
        + sum(len(json.dumps({"name": t.name, "description": t.description,
                              "parameters": t.parameters}, ensure_ascii=False))
              for t in chat.tools)
    )


def _check_size(chat: ChatRequest, limit: int) -> None:
    """413 for a conversation over the prompt limit (``prompt_size``: text, tool calls and
    tool definitions; the history a model can take is far smaller, a longer one is a mistake
    or an attack)."""
    size = prompt_size(chat)
    if size > limit:
        raise OpenAIError(f"the messages and tools hold {size} characters; the limit is "
                          f"{limit} (TOOLWIRE_MAX_PROMPT_CHARS)", status=413,
                          code="prompt_too_large")


def _toolwire_extension(result: Answer) -> dict[str, Any]:
    """The ``toolwire`` object of an executed run: its calls, each with its stored
    ``tool_call_id``, and where the turn was stored."""
    assert result.run is not None
    stored = result.stored or {}
    ids = stored.get("tool_call_ids", {})
    calls = [{**c.to_dict(), **({"tool_call_id": ids[c.id]} if c.id in ids else {})}
             for c in result.run.calls]
    extra = {k: v for k, v in stored.items() if k != "tool_call_ids"}
    return {"calls": calls, "model": result.run.model, **extra}


# -- routes ---------------------------------------------------------------------------------
@router.post("/chat/completions", response_model=None)
async def chat_completions(request: Request, key: IdempotencyKey = None) -> Response:
    """OpenAI chat completions: tools, tool_choice, parallel calls, streaming, usage."""
    try:
        try:
            body = await request.json()
        except ValueError as e:
            raise OpenAIError(f"the request body is not valid JSON: {e}") from e
        chat = parse_request(body, model_id(request))
        engine = await engine_for(request, chat.model)
        _check_size(chat, engine.settings.max_prompt_chars)
        produce = _producer(request, engine, chat)
        held = await _claim(request, key)
    except OpenAIError as e:
        return e.response()
    if isinstance(held, Response):
        return held  # a retry: the first answer
    return await held.run(lambda: _complete(produce, chat, held))


async def _claim(request: Request, key: str | None) -> Claim | Response:
    """``claim`` (the Idempotency-Key) with its refusals in OpenAI's shape; without the
    service's store (an app serving ``app.state.engine`` alone) a key is not kept."""
    state = getattr(request.app.state, "toolwire", None)
    if state is None:
        return Claim()
    try:
        return await claim(request, state.database, owner_of(request), key)
    except ServiceError as e:
        raise OpenAIError(e.message, status=status_of(e), param="Idempotency-Key",
                          code=e.code) from None


def _producer(request: Request, engine: Engine, chat: ChatRequest) -> Produce:
    """What makes the answer: the engine over the client's tools, or with
    ``toolwire.execute`` the Processor over the server's."""
    if not chat.execute:
        return lambda on_text, on_call: answer(engine, chat, on_text, on_call)
    state = getattr(request.app.state, "toolwire", None)
    if state is None:
        raise OpenAIError("'toolwire.execute' needs the service's store", status=500,
                          type="server_error")
    processor: Processor = state.processor
    owner = owner_of(request)
    model = None if chat.model in (DEFAULT_ALIAS, model_id(request)) else chat.model
    return lambda on_text, on_call: execute(processor, chat, owner=owner, model=model,
                                            on_text=on_text, on_call=on_call)


async def _complete(produce: Produce, chat: ChatRequest, held: Claim) -> Response:
    """The completion, streamed or whole; a streamed one's result is kept by ``held`` once
    it has finished (as the unstreamed JSON)."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if chat.stream:
        started = _start(produce)
        held.keep_when_done(started.task, lambda task: _whole(task, chat, cid, created))
        return StreamingResponse(_live(started, chat, cid, created),
                                 media_type="text/event-stream")
    try:
        result = await produce(None, None)
    except (ModelError, OpenAIError) as e:
        return _openai_error(e).response()
    return JSONResponse(completion_body(result, chat, cid, created))


def _whole(task: asyncio.Task[Answer], chat: ChatRequest, cid: str, created: int) -> Response:
    """A finished streamed answer as the unstreamed response."""
    try:
        result = task.result()
    except (ModelError, OpenAIError) as e:
        return _openai_error(e).response()
    return JSONResponse(completion_body(result, chat, cid, created))


@router.get("/models")
async def list_models(request: Request) -> dict[str, Any]:
    """The models a request may name: ``toolwire`` (the server's default), the default model
    string, and those the operator allowed."""
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "toolwire"}
                 for name in served_models(request)],
    }


# -- which model ----------------------------------------------------------------------------
DEFAULT_ALIAS = "toolwire"
"""The name of the server's default model, whatever it is."""


def served_models(request: Request) -> list[str]:
    state = getattr(request.app.state, "toolwire", None)
    allowed = sorted(state.engines.allowed_models) if state is not None else []
    return list(dict.fromkeys([DEFAULT_ALIAS, model_id(request), *allowed]))


async def engine_for(request: Request, model: str) -> Engine:
    """The engine of the model a request names: one ``/v1/models`` lists, or a model string
    the server lets clients choose (``openai:gpt-4o-mini``); anything else is a 404 in
    OpenAI's shape, never a silent substitute."""
    if model in (DEFAULT_ALIAS, model_id(request)):
        return get_engine(request)
    state = getattr(request.app.state, "toolwire", None)
    try:
        if state is None:
            raise NotFound("model_not_found", model)
        state.engines.check(model)
    except (ApiError, ServiceError):
        raise OpenAIError(
            f"The model '{model}' does not exist or is not served here; GET /v1/models lists "
            "the models you can name", status=404, param="model", code="model_not_found",
        ) from None
    engine: Engine = await state.engines.aget(model)
    return engine

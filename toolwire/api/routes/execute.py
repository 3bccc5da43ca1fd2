"""``POST /execute``: one sentence in; the calls, results, snippets and answer out, all stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlmodel import Session

from toolwire.api.deps import AppState, OwnerDep, StateDep, check_prompt_size
from toolwire.api.errors import ApiError
from toolwire.api.idempotency import Claim, IdempotencyKey, claim
from toolwire.api.schemas import ExecuteRequest, ExecuteResponse, MessageAccepted
from toolwire.models.base import ModelError
from toolwire.run import Event
from toolwire.service.errors import ServiceError
from toolwire.service.processing import Outcome
from toolwire.store import data
from toolwire.store.data import Lease
from toolwire.store.tables import InteractionCreate, Message, ToolCallPublic

router = APIRouter(tags=["execute"])


def start_turn(
    session: Session, body: ExecuteRequest, lease: Lease | None, owner: str | None
) -> tuple[Message, Message | None]:
    """Store the prompt and, held under ``lease`` (``running``), open its reply in the same
    transaction; without a lease it is stored ``pending`` for the background processing."""
    new = body.interaction_id is None
    if body.interaction_id is None:
        interaction_id = data.create_interaction(
            session=session, interaction_in=InteractionCreate(model=body.model), owner=owner
        ).id
    elif data.get_interaction(
        session=session, interaction_id=body.interaction_id, owner=owner
    ) is None:
        raise ApiError(404, "not_found", f"no interaction {body.interaction_id}")
    else:
        interaction_id = body.interaction_id
    message = data.add_user_message(
        session=session,
        interaction_id=interaction_id,
        content=body.prompt,
        lease=lease,
        touch=not new,
    )
    return message, (data.open_reply(session=session, message=message) if lease else None)


SSE_EVENT = {"type": "object", "description": "The data of one event: a JSON object"}
"""What each Server-Sent Event carries (its ``event:`` line names the step)."""
STREAM_DOC = """Server-Sent Events, one per step as it happens: ``stored`` (the ids), then the
pipeline's ``retrieved`` (tools and scores), ``selected``, ``call_proposed`` (each attempt's
arguments), ``validation_failed`` (its errors), ``executed`` (the call with its result or error
and snippet), ``answer_delta`` (the answer's text as the model generates it), ``answered``
(the final answer), and last ``done`` (the same body as without streaming) or ``error``."""


@router.post(
    "/execute",
    response_model=ExecuteResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": SSE_EVENT}},
              "description": "The run (JSON), or with ?stream=true its steps as they happen. "
                             + STREAM_DOC},
        202: {"model": MessageAccepted,
              "description": "With ?async=true: stored and queued; poll the message"},
    },
)
async def execute(
    body: ExecuteRequest,
    state: StateDep,
    owner: OwnerDep,
    request: Request,
    key: IdempotencyKey = None,
    queued: Annotated[bool, Query(alias="async", description="Answer 202 at once and process "
                                  "in the background (a worker, with Celery)")] = False,
    stream: Annotated[bool, Query(description="Stream each step as a Server-Sent Event")] = False,
) -> Response:
    """Run the pipeline on ``prompt`` and wait for it. Without ``interaction_id`` a new
    interaction is created; with one, its earlier turns are the context."""
    check_prompt_size(body.prompt, state.settings)
    state.engines.check(body.model)
    held = await claim(request, state.database, owner, key)
    if isinstance(held, Response):
        return held  # a retry: the first answer
    return await held.run(partial(_execute, body, state, owner, held, queued=queued,
                                  stream=stream))


async def _execute(
    body: ExecuteRequest, state: AppState, owner: str | None, held: Claim, *, queued: bool,
    stream: bool,
) -> Response:
    if queued:
        message, _ = await state.database.write(lambda s: start_turn(s, body, None, owner))
        state.processor.submit(message.id)
        accepted = MessageAccepted(id=message.id, interaction_id=message.interaction_id,
                                   status="pending")
        location = f"/interactions/{message.interaction_id}/messages/{message.id}"
        return JSONResponse(accepted.model_dump(mode="json"), status_code=202,
                            headers={"Location": location})
    lease = state.processor.lease
    message, reply = await state.database.write(lambda s: start_turn(s, body, lease, owner))
    assert reply is not None
    fresh = body.interaction_id is None  # a new interaction has no history to read back
    run = partial(state.processor.run_claimed, message, reply, model=body.model,
                  history=[] if fresh else None)
    if stream:
        return StreamingResponse(stream_steps(message, reply, run, held),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
    return _json(await run())


_RUNNING: set[asyncio.Task[Outcome]] = set()
"""Streamed runs: they finish (and are stored) even when their client goes away."""


async def stream_steps(
    message: Message, reply: Message, run: Callable[..., Coroutine[Any, Any, Outcome]],
    held: Claim,
) -> AsyncIterator[bytes]:
    """The run's step events as SSE, as they happen; ``done`` or ``error`` last. ``held``
    keeps the run's result (as the unstreamed answer) once it has finished."""
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    yield sse("stored", {"interaction_id": str(message.interaction_id),
                         "message_id": str(message.id), "reply_id": str(reply.id)})
    task = asyncio.create_task(run(on_event=queue.put_nowait))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    task.add_done_callback(lambda _: queue.put_nowait(None))
    held.keep_when_done(task, lambda done: _json(done.result()))
    while (event := await queue.get()) is not None:
        yield sse(event.kind, event.to_dict())
    try:
        yield sse("done", _response(task.result()).model_dump(mode="json"))
    except (ApiError, ServiceError) as e:
        yield sse("error", {"code": e.code, "message": e.message, **e.extra})


def sse(event: str, data: Any) -> bytes:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {json.dumps(data, default=str, ensure_ascii=False)}\n\n".encode()


def _json(outcome: Outcome) -> JSONResponse:
    """The answer for a finished run (see ``_response``)."""
    return JSONResponse(_response(outcome).model_dump(mode="json"))


def _response(outcome: Outcome) -> ExecuteResponse:
    message, reply, run = outcome.message, outcome.reply, outcome.run
    if run is None:
        if outcome.database_failed:
            raise ApiError(
                503,
                "database_unavailable",
                "the database failed during the run; the prompt is stored and will be "
                "processed once it is back",
                interaction_id=str(message.interaction_id),
                message_id=str(message.id),
            )
        model_failed = isinstance(outcome.exception, ModelError)
        status, code = (502, "model_error") if model_failed else (500, "execution_failed")
        raise ApiError(
            status,
            code,
            outcome.error or "the prompt could not be processed",
            interaction_id=str(message.interaction_id),
            message_id=str(message.id),
        )
    return ExecuteResponse(
        interaction_id=message.interaction_id,
        message_id=message.id,
        reply_id=reply.id,
        calls=[ToolCallPublic.model_validate(c) for c in outcome.calls],
        answer=run.answer,
        model=run.model,
        missing=run.missing,
        outcome=run.outcome,
        clarify=run.clarify,
    )

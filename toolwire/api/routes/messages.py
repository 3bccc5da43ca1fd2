"""``/interactions/{id}/messages``: post a prompt (processed in the background), read replies."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlmodel import Session

from toolwire.api.deps import AppState, OwnerDep, SessionDep, StateDep, check_prompt_size
from toolwire.api.errors import ApiError
from toolwire.api.idempotency import Claim, IdempotencyKey, claim
from toolwire.api.routes.execute import SSE_EVENT, STREAM_DOC, stream_steps
from toolwire.api.routes.interactions import DEFAULT_MESSAGES, MessagePage, Offset, not_found
from toolwire.api.schemas import MessageAccepted
from toolwire.store import data
from toolwire.store.tables import Message, MessageCreate, MessagePublic

router = APIRouter(prefix="/interactions/{interaction_id}/messages", tags=["messages"])


@router.get("", response_model=list[MessagePublic])
def list_messages(
    interaction_id: uuid.UUID,
    session: SessionDep,
    owner: OwnerDep,
    limit: MessagePage = DEFAULT_MESSAGES,
    offset: Offset = 0,
) -> list[MessagePublic]:
    """A page of the interaction's messages, oldest first, each with its tool calls."""
    if data.get_interaction(session=session, interaction_id=interaction_id, owner=owner) is None:
        raise not_found(interaction_id)
    return data.messages_public(session=session, interaction_id=interaction_id, limit=limit,
                                offset=offset)


@router.get("/{message_id}", response_model=MessagePublic)
def read_message(
    interaction_id: uuid.UUID, message_id: uuid.UUID, session: SessionDep, owner: OwnerDep
) -> MessagePublic:
    """One message: poll a posted prompt until its status is ``done``, ``failed`` or
    ``awaiting_approval``."""
    message = data.get_message(session=session, message_id=message_id)
    interaction = data.get_interaction(session=session, interaction_id=interaction_id, owner=owner)
    if message is None or interaction is None or message.interaction_id != interaction_id:
        raise ApiError(404, "not_found", f"no message {message_id} in interaction {interaction_id}")
    calls = data.list_tool_calls(session=session, message_ids=[message.id])[message.id]
    return data.message_public(message, calls)


@router.post(
    "",
    status_code=202,
    response_model=MessageAccepted,
    responses={200: {"content": {"text/event-stream": {"schema": SSE_EVENT}},
                     "description": "With ?stream=true: the run's steps as they happen. "
                                    + STREAM_DOC}},
)
async def post_message(
    interaction_id: uuid.UUID, body: MessageCreate, state: StateDep, owner: OwnerDep,
    request: Request,
    key: IdempotencyKey = None,
    stream: Annotated[bool, Query(description="Process it here and stream each step as a "
                                  "Server-Sent Event (200) instead of answering 202")] = False,
) -> Response:
    """Store the prompt (``pending``) and process it in the background; the reply and its
    tool calls appear as messages as they finish. With ``?stream=true`` this process runs it
    at once and streams its steps."""
    check_prompt_size(body.content, state.settings)
    held = await claim(request, state.database, owner, key)
    if isinstance(held, Response):
        return held  # a retry: the first answer
    return await held.run(partial(_post, interaction_id, body, state, owner, held,
                                  stream=stream))


async def _post(
    interaction_id: uuid.UUID, body: MessageCreate, state: AppState, owner: str | None,
    held: Claim, *, stream: bool,
) -> Response:
    lease = state.processor.lease if stream else None

    def store(session: Session) -> tuple[Message, Message | None]:
        if data.get_interaction(session=session, interaction_id=interaction_id, owner=owner) is None:
            raise not_found(interaction_id)
        message = data.add_user_message(
            session=session, interaction_id=interaction_id, content=body.content, lease=lease
        )
        return message, (data.open_reply(session=session, message=message) if lease else None)

    message, reply = await state.database.write(store)
    if reply is not None:
        run = partial(state.processor.run_claimed, message, reply)
        return StreamingResponse(stream_steps(message, reply, run, held),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
    state.processor.submit(message.id)
    accepted = MessageAccepted(id=message.id, interaction_id=interaction_id, status="pending")
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers={
        "Location": f"/interactions/{interaction_id}/messages/{message.id}"})

"""``/interactions``: create, list (newest first), read with the whole history, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from toolwire.api.deps import OwnerDep, SessionDep, StateDep
from toolwire.api.errors import ApiError
from toolwire.store import data
from toolwire.store.tables import (
    InteractionCreate,
    InteractionDetail,
    InteractionPage,
    InteractionPublic,
)

router = APIRouter(prefix="/interactions", tags=["interactions"])

MAX_OFFSET = 1_000_000_000
"""Past any real table, and within every database's integer range."""
DEFAULT_MESSAGES, MAX_MESSAGES = 100, 500
"""Messages per page of an interaction's history."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
"""Where a page starts (every paged list)."""
MessagePage = Annotated[int, Query(ge=1, le=MAX_MESSAGES)]
"""How many messages a page of a history holds."""


def not_found(interaction_id: uuid.UUID) -> ApiError:
    return ApiError(404, "not_found", f"no interaction {interaction_id}")


@router.post("", status_code=201, response_model=InteractionPublic)
def create_interaction(body: InteractionCreate, state: StateDep, owner: OwnerDep) -> InteractionPublic:
    """Start an interaction with an optional system prompt, model and settings."""
    if body.model is not None:
        state.engines.check(body.model)
    with state.database.write_session() as session:
        interaction = data.create_interaction(session=session, interaction_in=body, owner=owner)
    return InteractionPublic.model_validate(interaction)


@router.get("", response_model=InteractionPage)
def list_interactions(
    session: SessionDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> InteractionPage:
    """Interactions, newest first."""
    items, total = data.list_interactions(session=session, limit=limit, offset=offset, owner=owner)
    return InteractionPage(
        items=[InteractionPublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{interaction_id}", response_model=InteractionDetail)
def read_interaction(
    interaction_id: uuid.UUID,
    session: SessionDep,
    owner: OwnerDep,
    limit: MessagePage = DEFAULT_MESSAGES,
    offset: Offset = 0,
) -> InteractionDetail:
    """One interaction with a page of its messages and tool calls (arguments, results,
    snippets), oldest first; ``message_count`` says how many there are."""
    detail = data.interaction_detail(session=session, interaction_id=interaction_id, owner=owner,
                                     limit=limit, offset=offset)
    if detail is None:
        raise not_found(interaction_id)
    return detail


@router.delete("/{interaction_id}", status_code=204)
def delete_interaction(interaction_id: uuid.UUID, state: StateDep, owner: OwnerDep) -> Response:
    """Delete an interaction with its messages and tool calls."""
    with state.database.write_session() as session:
        deleted = data.delete_interaction(session=session, interaction_id=interaction_id,
                                          owner=owner)
    if not deleted:
        raise not_found(interaction_id)
    return Response(status_code=204)

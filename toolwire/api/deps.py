"""Request dependencies: the app's shared state, database sessions, prompt limits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from toolwire.api.auth import owner_of
from toolwire.api.errors import ApiError, error_response
from toolwire.config import Settings
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Processor
from toolwire.store.db import Database


@dataclass(kw_only=True)
class AppState:
    """Everything the handlers share, kept on ``app.state.toolwire``."""

    settings: Settings
    database: Database
    engines: Engines
    processor: Processor
    metrics: Metrics
    database_ready: bool = False
    """Set once the database answered and is migrated; until then requests get 503."""


_NEEDS_NO_DATABASE = ("/healthz", "/metrics", "/docs", "/redoc", "/openapi.json")


class DatabaseGate:
    """Answers 503 ``database_unavailable`` until the database is reached and migrated.

    Pure ASGI, so it costs one attribute check per request once the database is ready.
    """

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.state.database_ready
            or scope["path"].startswith(_NEEDS_NO_DATABASE)
        ):
            await self.app(scope, receive, send)
            return
        response = error_response(
            503, "database_unavailable", "the database cannot be reached yet; try again shortly"
        )
        response.headers["Retry-After"] = "2"
        await response(scope, receive, send)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.toolwire
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    """A read session; handlers that write commit explicitly."""
    with state.database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
OwnerDep = Annotated[str | None, Depends(owner_of)]
"""The calling key's owner (``None`` with auth off): every query is scoped to it."""


def check_prompt_size(text: str, settings: Settings) -> None:
    """Refuse (413) prompts over ``Settings.max_prompt_chars``."""
    if len(text) > settings.max_prompt_chars:
        raise ApiError(
            413,
            "prompt_too_large",
            f"the prompt has {len(text)} characters; the limit is {settings.max_prompt_chars}",
        )

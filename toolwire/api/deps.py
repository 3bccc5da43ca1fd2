"""Request dependencies: the app's shared state, database sessions, prompt limits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from toolwire.api.engines import Engines
from toolwire.api.errors import ApiError
from toolwire.api.metrics import Metrics
from toolwire.api.processing import Processor
from toolwire.config import Settings
from toolwire.store.db import Database


@dataclass(kw_only=True)
class AppState:
    """Everything the handlers share, kept on ``app.state.toolwire``."""

    settings: Settings
    database: Database
    engines: Engines
    processor: Processor
    metrics: Metrics


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.toolwire
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    """A read session; handlers that write commit explicitly."""
    with state.database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def check_prompt_size(text: str, settings: Settings) -> None:
    """Refuse (413) prompts over ``Settings.max_prompt_chars``."""
    if len(text) > settings.max_prompt_chars:
        raise ApiError(
            413,
            "prompt_too_large",
            f"the prompt has {len(text)} characters; the limit is {settings.max_prompt_chars}",
        )

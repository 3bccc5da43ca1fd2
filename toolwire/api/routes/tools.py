"""``/tools``: the registry, listed and searched."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from toolwire.api.deps import StateDep
from toolwire.api.schemas import ToolHit, ToolPublic

router = APIRouter(prefix="/tools", tags=["tools"])


@router.get("", response_model=list[ToolPublic])
def list_tools(state: StateDep) -> list[ToolPublic]:
    """Every registered tool with its JSON Schema."""
    return [
        ToolPublic(
            name=t.name,
            description=t.description,
            parameters=t.parameters,
            executable=t.executable,
            requires_approval=t.requires_approval,
        )
        for t in state.engines.registry
    ]


@router.get("/search", response_model=list[ToolHit])
def search_tools(
    state: StateDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What the tool does")],
    k: Annotated[int, Query(ge=1, le=50, description="How many tools")] = 5,
) -> list[ToolHit]:
    """The ``k`` tools most relevant to ``q``, best first."""
    return [
        ToolHit(
            name=h.tool.name,
            description=h.tool.description,
            parameters=h.tool.parameters,
            score=h.score,
        )
        for h in state.engines.registry.search(q, k)
    ]

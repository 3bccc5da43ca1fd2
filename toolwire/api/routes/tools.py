"""``/tools``: the registry, listed and searched; OpenAPI documents and MCP servers imported."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from toolwire.api.deps import StateDep
from toolwire.api.errors import ApiError
from toolwire.api.schemas import ToolHit, ToolPublic
from toolwire.sources.documents import SourceError, is_url
from toolwire.sources.saved import import_mcp_source, import_openapi_source
from toolwire.store import data
from toolwire.store.tables import ToolSource
from toolwire.tools.registry import Tool

router = APIRouter(prefix="/tools", tags=["tools"])


def tool_public(t: Tool) -> ToolPublic:
    return ToolPublic(
        name=t.name,
        description=t.description,
        parameters=t.parameters,
        executable=t.executable,
        requires_approval=t.requires_approval,
        source=t.source,
    )


@router.get("", response_model=list[ToolPublic])
def list_tools(state: StateDep) -> list[ToolPublic]:
    """Every registered tool with its JSON Schema and where it came from."""
    return [tool_public(t) for t in state.engines.registry]


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


class OpenApiImport(BaseModel):
    """An OpenAPI 3.x / Swagger 2.0 document to import: by URL, or the document itself."""

    url: str | None = Field(default=None, max_length=2000, description="Where to fetch it")
    document: dict[str, Any] | str | None = Field(
        default=None, description="The document (JSON object, or JSON/YAML text)"
    )
    base_url: str | None = Field(default=None, max_length=2000,
                                 description="Overrides the document's servers")
    auth: str | None = Field(default=None, max_length=200,
                             description="The name of a credential in TOOLWIRE_CREDENTIALS")
    include: list[str] = Field(default_factory=list, description="operationId or path globs")
    exclude: list[str] = Field(default_factory=list)
    timeout: float = Field(default=30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _one_source(self) -> OpenApiImport:
        if (self.url is None) == (self.document is None):
            raise ValueError("give exactly one of 'url' or 'document'")
        if self.url is not None and not is_url(self.url):
            raise ValueError("'url' must be an http(s) URL")
        return self


class McpImport(BaseModel):
    """An MCP server reachable over streamable HTTP (commands are started from the CLI or the
    Python API only: an HTTP client must not make the server run programs)."""

    url: str = Field(max_length=2000, description="The server's streamable-HTTP endpoint")
    timeout: float = Field(default=30.0, gt=0, le=600)


class SourcePublic(BaseModel):
    label: str
    kind: str
    location: str | None
    options: dict[str, Any]
    tools: list[str]


async def _keep(state: StateDep, row: ToolSource) -> None:
    await state.database.write(lambda s: data.save_tool_source(session=s, source=row))


@router.post("/openapi", response_model=list[ToolPublic], status_code=201)
async def import_openapi(body: OpenApiImport, state: StateDep) -> list[ToolPublic]:
    """Import an OpenAPI/Swagger document: one tool per operation, calling the real API.

    The document is kept in the database, so the tools come back after a restart. Operations
    other than GET need approval. A bad document is refused (400) and changes nothing."""
    source: Any = body.url if body.url is not None else body.document
    try:
        tools, row = await anyio.to_thread.run_sync(
            lambda: import_openapi_source(
                state.engines.registry, source, base_url=body.base_url, auth=body.auth,
                include=body.include, exclude=body.exclude, timeout=body.timeout,
                credentials=state.settings.credentials,
            )
        )
    except SourceError as e:
        raise ApiError(400, "invalid_source", str(e)) from None
    await _keep(state, row)
    return [tool_public(t) for t in tools]


@router.post("/mcp", response_model=list[ToolPublic], status_code=201)
async def import_mcp(body: McpImport, state: StateDep) -> list[ToolPublic]:
    """Import the tools of an MCP server over streamable HTTP; calls are forwarded to it."""
    if not is_url(body.url):
        raise ApiError(400, "invalid_source", "'url' must be an http(s) URL")
    try:
        tools, row = await anyio.to_thread.run_sync(
            lambda: import_mcp_source(state.engines.registry, body.url, timeout=body.timeout)
        )
    except SourceError as e:
        raise ApiError(400, "invalid_source", str(e)) from None
    await _keep(state, row)
    return [tool_public(t) for t in tools]


@router.get("/sources", response_model=list[SourcePublic])
async def list_sources(state: StateDep) -> list[SourcePublic]:
    """The imported sources and their tools (credentials by name only)."""
    rows = await state.database.read(lambda s: data.list_tool_sources(session=s))
    registry = state.engines.registry
    return [
        SourcePublic(label=r.label, kind=r.kind, location=r.location, options=r.options,
                     tools=[t.name for t in registry if t.source == r.label])
        for r in rows
    ]


@router.delete("/sources", status_code=204)
async def delete_source(
    state: StateDep, label: Annotated[str, Query(min_length=1, max_length=300)]
) -> None:
    """Forget an imported source and remove its tools."""
    found = await state.database.write(lambda s: data.delete_tool_source(session=s, label=label))
    registry = state.engines.registry
    tools = [t.name for t in registry if t.source == label]
    if not found and not tools:
        raise ApiError(404, "not_found", f"no tool source labelled {label!r}")
    for name in tools:
        registry.remove(name)

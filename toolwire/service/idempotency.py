"""Idempotency keys, Stripe's convention: a client sends ``Idempotency-Key`` on a POST, and a
retry with the same key gets the first answer again instead of running anything twice.

A key belongs to its owner (the calling API key's; owners never share keys) and lives 24 hours
(``TTL``). The first request *claims* it: a row, in flight until the answer is kept. Then:

- the same key and the same request (method, path, query and body, ``fingerprint``) →
  the first answer, kept as it was (``Kept``); nothing runs again;
- the same key and another request → ``Invalid`` (422 ``idempotency_key_reused``);
- the same key while the first request still runs → ``Conflict`` (409
  ``idempotency_key_in_flight``): retry once it has answered;
- a key older than ``TTL`` is forgotten (purged by the next claim) and may be used afresh.

A request whose process died before its answer was kept stays in flight (409) until the key
expires: its prompt is stored and finished by the Processor's sweep, and the answer can be
read under ``/interactions``; running it again could repeat what its tools did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from toolwire.service.errors import Conflict, Invalid
from toolwire.store.db import Database
from toolwire.store.tables import IdempotencyRecord
from toolwire.store.types import to_json, utcnow

TTL = timedelta(hours=24)
"""How long a key's first answer is kept for retries."""
MAX_KEY_CHARS = 255
"""The longest key a client may send (Stripe's limit)."""


@dataclass(frozen=True, kw_only=True)
class Keyed:
    """A request sent with an idempotency key."""

    owner: str
    """The calling key's owner; empty with auth off."""
    key: str
    route: str
    """Method and path: ``POST /execute``."""
    digest: str
    """``fingerprint`` of the whole request."""


@dataclass(frozen=True, kw_only=True)
class Kept:
    """The first answer to a keyed request, as a retry gets it again."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(method: str, path: str, query: Mapping[str, str], body: bytes) -> str:
    """SHA-256 of a request: its method, path, query and body (a JSON body compared by value,
    so spacing and key order do not make a retry a different request)."""
    try:
        content: Any = json.loads(body) if body else None
    except ValueError:
        content = body.decode("utf-8", "replace")
    canonical = json.dumps([method.upper(), path, sorted(query.items()), content],
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    """``key`` if a client may use it: some text, at most ``MAX_KEY_CHARS`` characters."""
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise Invalid("invalid_idempotency_key",
                      f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} characters")
    return key


# -- the database -----------------------------------------------------------------------------
async def claim(database: Database, request: Keyed) -> Kept | None:
    """Claim ``request``'s key for it (``None``: run it, then ``keep`` the answer), or the kept
    answer of the first request with that key; ``Invalid`` for a key used for another request,
    ``Conflict`` while the first still runs."""
    try:
        return await database.write(lambda s: claim_key(session=s, request=request))
    except IntegrityError:  # another request inserted the same key at the same moment
        raise _in_flight(request.key) from None


def claim_key(*, session: Session, request: Keyed) -> Kept | None:
    """``claim`` in the caller's transaction (purging every expired key first)."""
    purge(session=session)
    row = session.exec(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.owner == request.owner, IdempotencyRecord.key == request.key)
        .with_for_update()
    ).first()
    if row is None:
        session.add(IdempotencyRecord(owner=request.owner, key=request.key, route=request.route,
                                      digest=request.digest))
        session.flush()
        return None
    if row.digest != request.digest:
        raise Invalid(
            "idempotency_key_reused",
            f"Idempotency-Key {request.key!r} was first sent with a different request "
            f"({row.route}, another body or query); use a new key for a new request",
        )
    if row.status is None:
        raise _in_flight(request.key)
    return Kept(status=row.status, body=row.body, headers=dict(row.headers))


async def keep(database: Database, request: Keyed, answer: Kept) -> None:
    """Keep the first answer to ``request`` for its retries."""
    await database.write(lambda s: keep_answer(session=s, request=request, answer=answer))


def keep_answer(*, session: Session, request: Keyed, answer: Kept) -> None:
    session.connection().execute(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.owner) == request.owner,
               col(IdempotencyRecord.key) == request.key)
        .values(status=answer.status, body=to_json(answer.body), headers=dict(answer.headers))
    )


async def release(database: Database, request: Keyed) -> None:
    """Give the key up (the request failed before it could answer): a retry runs afresh."""
    await database.write(lambda s: s.connection().execute(
        delete(IdempotencyRecord)
        .where(col(IdempotencyRecord.owner) == request.owner,
               col(IdempotencyRecord.key) == request.key,
               col(IdempotencyRecord.status).is_(None))))


def purge(*, session: Session, ttl: timedelta = TTL) -> int:
    """Forget keys older than ``ttl``; how many."""
    statement = delete(IdempotencyRecord).where(col(IdempotencyRecord.created) < utcnow() - ttl)
    return int(session.connection().execute(statement).rowcount)


def _in_flight(key: str) -> Conflict:
    return Conflict("idempotency_key_in_flight",
                    f"a request with Idempotency-Key {key!r} is still running; retry once it "
                    "has answered")

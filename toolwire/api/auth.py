"""API keys: who is calling, whose data they reach, and how much they may send.

A key is ``tw_`` + 32 random bytes (URL-safe base64); the database keeps only its SHA-256
(a key carries 256 bits of entropy, so a fast hash is enough: nothing is left to guess) and
its first characters, to tell keys apart. ``AuthGate`` runs before anything reads a body:

- no or an unknown/revoked key → 401 with ``WWW-Authenticate: Bearer``;
- over the key's rate (a token bucket per key, refilled per minute, in this process) → 429
  with ``Retry-After``;
- the key's owner goes into the request scope (``owner_of``): every query is scoped to it, so
  another owner's ids answer 404; the key's body limit goes there too, for ``RequestGuard``;
- so does whether it is an admin key (``is_admin``): the tool registry is the service's, not an
  owner's, so only admin keys change its sources (``require_admin``, else 403).

With auth off (the default on loopback) there are no owners: one trusted local user, an admin.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Literal

from fastapi import Request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from toolwire.api.errors import ApiError, error_response
from toolwire.store.db import Database
from toolwire.store.tables import ApiKey
from toolwire.store.types import utcnow

KEY_PREFIX = "tw_"
OPEN_PATHS = ("/healthz", "/docs", "/redoc", "/openapi.json", "/static/")
"""Path prefixes served without a key: health for load balancers, the API's own description
and the playground's script and style."""
OPEN_PAGES = frozenset({"/"})
"""Exact paths served without a key: the playground page, which asks for a key itself (not a
prefix: every path starts with ``/``)."""
CACHE_SECONDS = 5.0
"""How long a looked-up key is trusted before the database is asked again (a revoked key
stops working within this time)."""


# -- keys -----------------------------------------------------------------------------------
def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, *, owner: str, rate_per_minute: int | None = None,
    max_body_bytes: int | None = None, admin: bool = False,
) -> tuple[str, ApiKey]:
    """A new key for ``owner``: the key itself (shown once) and its stored row; an ``admin``
    key may also change the service's tool sources."""
    if not owner.strip():
        raise ValueError("the owner must not be empty")
    key = new_key()
    row = ApiKey(owner=owner, prefix=key[:10], digest=digest(key),
                 rate_per_minute=rate_per_minute, max_body_bytes=max_body_bytes, admin=admin)
    session.add(row)
    session.flush()
    return key, row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created))).all())


def revoke_key(session: Session, which: str) -> ApiKey | None:
    """Revoke the key whose id or prefix is ``which``; ``None`` if there is none."""
    rows = [k for k in list_keys(session) if str(k.id) == which or k.prefix == which]
    if len(rows) != 1:
        return None
    rows[0].revoked = rows[0].revoked or utcnow()
    session.add(rows[0])
    return rows[0]


def find_key(session: Session, key: str) -> ApiKey | None:
    """The live key row for a presented key, or ``None``."""
    row = session.exec(select(ApiKey).where(ApiKey.digest == digest(key))).first()
    return None if row is None or row.revoked is not None else row


# -- requests -------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1`` and ``localhost`` reach only this machine."""
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolved_auth(auth: str, host: str | None) -> Literal["required", "off"]:
    """Whether keys are required: ``auto`` means required unless the server is known to
    listen on loopback only (``host``); an unknown address is treated as a public one."""
    if auth == "auto":
        return "off" if host is not None and is_loopback(host) else "required"
    return "required" if auth == "required" else "off"


def is_open(path: str) -> bool:
    """Whether ``path`` is served without a key (``OPEN_PAGES``, or under ``OPEN_PATHS``)."""
    return path in OPEN_PAGES or path.startswith(OPEN_PATHS)


def owner_of(request: Request) -> str | None:
    """The calling key's owner; ``None`` when auth is off."""
    owner: str | None = request.scope.get("state", {}).get("owner")
    return owner


def is_admin(request: Request) -> bool:
    """Whether the calling key is an admin key; with auth off (no owner) everyone is."""
    state = request.scope.get("state", {})
    return bool(state.get("admin", state.get("owner") is None))


def require_admin(request: Request) -> None:
    """A dependency: 403 unless the caller may change the service's tool registry."""
    if not is_admin(request):
        raise ApiError(403, "forbidden", "only an admin key may see or change the tool sources "
                       "(toolwire keys create --owner NAME --admin)")


@dataclass
class _Bucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class _Known:
    key_id: uuid.UUID
    owner: str
    rate_per_minute: int
    max_body_bytes: int
    admin: bool
    expires: float


class AuthGate:
    """ASGI middleware: 401 without a live key, 429 over its rate; the owner into the scope."""

    def __init__(
        self, app: ASGIApp, *, database: Database, rate_per_minute: int, max_body_bytes: int
    ) -> None:
        self.app = app
        self.database = database
        self.rate_per_minute = rate_per_minute
        self.max_body_bytes = max_body_bytes
        self._known: dict[str, _Known] = {}
        self._buckets: dict[uuid.UUID, _Bucket] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        presented = _bearer(Headers(scope=scope).get("authorization"))
        try:
            known = await self._lookup(presented) if presented else None
        except (OperationalError, InterfaceError):
            response = error_response(503, "database_unavailable",
                                      "the database cannot be reached; try again shortly")
            await response(scope, receive, send)
            return
        if known is None:
            response = error_response(401, "unauthorized", "send a valid API key as "
                                      "'Authorization: Bearer <key>' (toolwire keys create)")
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        wait = self._take(known)
        if wait > 0:
            response = error_response(429, "rate_limited", f"over {known.rate_per_minute} "
                                      "requests per minute for this key; retry later")
            response.headers["Retry-After"] = str(math.ceil(wait))
            await response(scope, receive, send)
            return
        scope.setdefault("state", {}).update(owner=known.owner, admin=known.admin,
                                              max_body_bytes=known.max_body_bytes)
        await self.app(scope, receive, send)

    async def _lookup(self, presented: str) -> _Known | None:
        now = time.monotonic()
        cached = self._known.get(presented)
        if cached is not None and cached.expires > now:
            return cached
        row = await self.database.read(lambda s: find_key(s, presented))
        if row is None:
            self._known.pop(presented, None)
            return None
        known = _Known(key_id=row.id, owner=row.owner,
                       rate_per_minute=row.rate_per_minute or self.rate_per_minute,
                       max_body_bytes=row.max_body_bytes or self.max_body_bytes,
                       admin=row.admin, expires=now + CACHE_SECONDS)
        self._known[presented] = known
        return known

    def _take(self, known: _Known) -> float:
        """Take one request from the key's bucket; seconds to wait when it is empty."""
        rate = known.rate_per_minute / 60.0
        with self._lock:
            bucket = self._buckets.setdefault(known.key_id, _Bucket(tokens=known.rate_per_minute))
            now = time.monotonic()
            bucket.tokens = min(known.rate_per_minute, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate


def _bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token.startswith(KEY_PREFIX) else None

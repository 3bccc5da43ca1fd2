"""The edge of the API: what a request body must be before any route sees it.

``RequestGuard`` is the one place that reads request bodies, so every route, ``/v1`` included,
gets the same rules:

- **JSON only.** A ``POST``/``PUT``/``PATCH`` must be labelled ``application/json``; anything
  else (a cross-site form post, ``text/plain``) is answered 415 before it can run a tool. A
  browser cannot send ``application/json`` to another origin without a CORS preflight, and
  CORS is off unless origins are configured.
- **Bounded while it streams.** A body over ``max_body_bytes`` (or the calling key's own
  limit, which ``AuthGate`` puts in the scope) is answered 413 as soon as the
  declared length or the bytes read so far pass the limit; it is never read in full. Every
  413, a route's (a prompt over its limit) included, carries ``Retry-After`` as a 429 does.
- **Text a database can keep.** In the body and the query string: lone surrogates (``"\\ud800"``), NUL characters, ``NaN`` and
  infinities, and nesting deeper than ``MAX_DEPTH`` are refused with 422 naming where they
  are: such values either break a driver halfway through a commit or a JSON encoder later,
  when the row is read back by every client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toolwire.api.errors import error_response

MAX_DEPTH = 32
"""Deepest JSON nesting accepted: well above any request this API takes (tool arguments
included), well below what overflows a recursive decoder."""
RETRY_AFTER_TOO_LARGE = "1"
"""``Retry-After`` (seconds) on a 413: the same body is refused again, a smaller one at once."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BadBody(ValueError):
    """A body the API refuses: ``status`` (413, 415, 422) and a message for the client."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class RequestGuard:
    """ASGI middleware enforcing the rules above on every request that carries a body."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _retry_after_too_large(send)
        try:
            check_query(scope.get("query_string", b""))
        except BadBody as e:
            await error_response(e.status, e.code, e.message)(scope, receive, send)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            headers = Headers(scope=scope)
            require_json(headers.get("content-type"))
            limit = scope.get("state", {}).get("max_body_bytes") or self.max_body_bytes
            body = await read_body(receive, headers.get("content-length"), limit)
            check_json_body(body)
        except BadBody as e:
            await error_response(e.status, e.code, e.message)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def require_json(content_type: str | None) -> None:
    """415 unless the media type is ``application/json`` (or a ``+json`` type)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        shown = media or "no content type"
        raise BadBody(415, "unsupported_media_type",
                      f"send the request body as application/json (got {shown})")


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The whole body, refused (413) once it is known to be over ``limit`` bytes."""
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise BadBody(400, "bad_request", "the Content-Length header is not a number") from None
        if length > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def check_query(query: bytes) -> None:
    """422 for a query parameter that holds text a database cannot keep (``%00``)."""
    if not query:
        return
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        for text in (name, value):
            problem = clean_text(text)
            if problem:
                raise BadBody(422, "invalid_request", f"query parameter {name[:60]!r}: {problem}")


def check_json_body(body: bytes) -> None:
    """422 for values no route should see; malformed JSON is left to the route to report."""
    if not body.strip():
        return
    try:
        value = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    except BadBody:
        raise
    except RecursionError:
        raise _nested() from None
    except ValueError:
        return  # not JSON: the route answers with its own decoding error
    check_value(value)


def check_value(
    value: Any, *, where: str = "body", max_depth: int = MAX_DEPTH, max_nodes: int | None = None
) -> None:
    """Walk ``value`` (iteratively): depth, strings and keys, numbers; with ``max_nodes``, its
    size too (a YAML document's aliases can make a small text a huge value)."""
    root = where
    stack: list[tuple[Any, str, int]] = [(value, root, 0)]
    seen = 0
    while stack:
        node, where, depth = stack.pop()
        seen += 1
        if depth > max_depth:
            raise _nested(root, max_depth)
        if max_nodes is not None and seen > max_nodes:
            raise BadBody(422, "invalid_request", f"{root} holds more than {max_nodes} values")
        if isinstance(node, str):
            _check_text(node, where)
        elif isinstance(node, float) and not math.isfinite(node):
            raise BadBody(422, "invalid_request", f"{where}: numbers must be finite")
        elif isinstance(node, dict):
            for key, item in node.items():
                _check_text(key, f"{where} (a key)")
                stack.append((item, f"{where}.{key}", depth + 1))
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(node))


def clean_text(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL, a lone surrogate), or ``None`` when it can."""
    if "\x00" in text:
        return "NUL characters are not allowed"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "lone surrogate code points (e.g. \\ud800) are not valid text"
    return None


def _check_text(text: str, where: str) -> None:
    problem = clean_text(text)
    if problem:
        raise BadBody(422, "invalid_request", f"{where[:200]}: {problem}")


def _no_constant(name: str) -> Any:
    raise BadBody(422, "invalid_request", f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BadBody(422, "invalid_request", f"the number {text[:40]} is out of range")
    return number


def _nested(what: str = "body", depth: int = MAX_DEPTH) -> BadBody:
    shown = "the JSON body" if what == "body" else what
    return BadBody(422, "invalid_request", f"{shown} is nested deeper than {depth} levels")


def _too_large(limit: int) -> BadBody:
    return BadBody(413, "payload_too_large", f"the request body is over the limit of {limit} bytes")


def _retry_after_too_large(send: Send) -> Send:
    """``send``, adding ``Retry-After`` to a 413 response that lacks one."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 413:
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"retry-after" for name, _ in headers):
                headers.append((b"retry-after", RETRY_AFTER_TOO_LARGE.encode()))
                message = {**message, "headers": headers}
        await send(message)

    return sending


def _replay(body: bytes, receive: Receive) -> Callable[[], Any]:
    """A ``receive`` that hands the already-read body to the app, then passes on the real
    channel (a streaming response listens on it for the client going away)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

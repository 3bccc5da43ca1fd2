"""Reading a tool document (OpenAPI, Swagger) from a file, a URL, text or a parsed object."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from toolwire.tools.schema import ToolError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""A larger document is refused rather than read into memory."""


class SourceError(ToolError):
    """A tool source that cannot be used: unreadable, unreachable or invalid."""


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def is_inline(text: str) -> bool:
    """Whether ``text`` is a document itself (JSON or multi-line YAML), not a path or URL."""
    return not is_url(text) and (text.lstrip().startswith(("{", "[")) or "\n" in text)


Fetch = Callable[[str, float], str]
"""Reads a document URL (with a timeout) as text: ``fetch`` by default, ``fetch_public`` for a
URL a client handed the service."""


def load_document(
    source: str | Path | dict[str, Any], *, timeout: float = 30.0, fetch: Fetch | None = None
) -> dict[str, Any]:
    """The parsed document behind ``source``: a URL (read by ``fetch``, default
    :func:`fetch`), a file path, JSON/YAML text or a dict."""
    if isinstance(source, dict):
        return source
    text = str(source)
    if isinstance(source, str) and is_url(source):
        return parse_document((fetch or _fetch)(source, timeout), origin=source)
    if isinstance(source, str) and is_inline(source):
        return parse_document(text, origin="the document")
    path = Path(text).expanduser()
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise SourceError(f"{path}: larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
        return parse_document(path.read_text(encoding="utf-8"), origin=str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(f"cannot read {path}: {e}") from None


def _fetch(url: str, timeout: float) -> str:
    """The text at ``url`` (redirects followed; 4xx/5xx, a network error or over
    ``MAX_DOCUMENT_BYTES`` is a ``SourceError``)."""
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            body = b""
            for chunk in _checked(response, url).iter_bytes():
                body = _grown(body, chunk, url)
            return body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.HTTPError as e:
        raise SourceError(f"cannot fetch {url}: {type(e).__name__}: {e}") from None


def fetch_public(url: str, timeout: float) -> str:
    """The text at ``url`` under the rule imported tools' requests follow
    (``http.public_client``): an internal address, at the start or after a redirect, is refused
    unless ``TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE`` allows it. For URLs a client hands the service
    (the API's import), which must not make the server reach into its own network. Runs its
    own event loop: call it from a thread that has none (the API imports in a worker thread)."""
    return asyncio.run(_fetch_public(url, timeout))


async def _fetch_public(url: str, timeout: float) -> str:
    from toolwire.sources.http import public_client

    try:
        async with (public_client(timeout=timeout, follow_redirects=True) as client,
                    client.stream("GET", url) as response):
            body = b""
            async for chunk in _checked(response, url).aiter_bytes():
                body = _grown(body, chunk, url)
            return body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.HTTPError as e:
        raise SourceError(f"cannot fetch {url}: {type(e).__name__}: {e}") from None


def _checked(response: httpx.Response, url: str) -> httpx.Response:
    if response.status_code >= 400:
        raise SourceError(f"{url} answered {response.status_code} {response.reason_phrase}")
    return response


def _grown(body: bytes, chunk: bytes, url: str) -> bytes:
    if len(body) + len(chunk) > MAX_DOCUMENT_BYTES:
        raise SourceError(f"{url}: larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
    return body + chunk


def parse_document(text: str, *, origin: str) -> dict[str, Any]:
    """JSON or YAML text as a mapping; a clear error naming ``origin`` otherwise."""
    try:
        parsed = json.loads(text)
    except ValueError:
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise SourceError(f"{origin} is neither JSON nor YAML: {e}") from None
    if not isinstance(parsed, dict):
        raise SourceError(f"{origin} is not a JSON/YAML object")
    return parsed

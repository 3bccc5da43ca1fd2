"""Reading a tool document (OpenAPI, Swagger) from a file, a URL, text or a parsed object."""

from __future__ import annotations

import json
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


def load_document(source: str | Path | dict[str, Any], *, timeout: float = 30.0) -> dict[str, Any]:
    """The parsed document behind ``source``: a URL, a file path, JSON/YAML text or a dict."""
    if isinstance(source, dict):
        return source
    text = str(source)
    if isinstance(source, str) and is_url(source):
        return parse_document(_fetch(source, timeout), origin=source)
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
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise SourceError(f"{url} answered {response.status_code} {response.reason_phrase}")
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise SourceError(f"{url}: larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
            return body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.HTTPError as e:
        raise SourceError(f"cannot fetch {url}: {type(e).__name__}: {e}") from None


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

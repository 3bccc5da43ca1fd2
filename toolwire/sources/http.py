"""One HTTP operation as a tool handler: validated arguments in, the real request out (httpx).

The credential is added here, from configuration; the model never sees it, and neither the
snippet, the error messages nor the stored result contain it. A response outside 2xx raises
``HttpStatusFailure``, which the dispatch turns into a structured tool error
(``{"type": "http_error", "status": 404, "body": ..., "message": ...}``).

Requests of imported tools (OpenAPI here, MCP over HTTP in ``mcp.py``) go through
``public_client``: the host is resolved, and a loopback, private, link-local (cloud metadata),
unspecified or otherwise internal address is refused before anything is sent
(``http_forbidden_address``) unless ``TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE`` allows it. A source
the operator imported (the Python API, the CLI, or an admin's ``allow_private``) trusts its own
base URL's host and port, that one origin only: a redirect elsewhere is checked as usual.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import httpx

from toolwire import tracing
from toolwire.credentials import ApiKey, Bearer, Credential
from toolwire.tools.calls import ToolFailure

MAX_RESPONSE_CHARS = 100_000
"""Longer response text is cut (the answer and the database get the start of it)."""


@dataclass(frozen=True, kw_only=True)
class Binding:
    """Where one argument travels: ``path``, ``query``, ``header``, ``cookie``, ``body`` (a
    property of the body) or ``form``; ``whole_body`` when the argument is the body itself."""

    argument: str
    location: str
    name: str
    whole_body: bool = False


class HttpFailure(ToolFailure):
    """The request could not be made (refused, timed out, bad URL)."""

    kind = "http_unreachable"


class HttpStatusFailure(ToolFailure):
    """The server answered outside 2xx."""

    kind = "http_error"


class HttpForbiddenAddress(ToolFailure):
    """The API is at an internal address, which imported tools may not call; nothing sent."""

    kind = "http_forbidden_address"


@dataclass(frozen=True, kw_only=True)
class Request:
    """What will be sent, credential excluded."""

    method: str
    url: str
    params: dict[str, Any]
    headers: dict[str, str]
    cookies: dict[str, str]
    json_body: Any = None
    form: dict[str, Any] | None = None
    content: str | None = None


@dataclass(frozen=True, kw_only=True)
class HttpOperation:
    """Calls one operation of an HTTP API (the handler of an imported OpenAPI tool)."""

    method: str
    base_url: str
    path: str
    bindings: tuple[Binding, ...]
    body_kind: str = "json"
    credential: Credential | None = None
    auth_name: str | None = None
    timeout: float = 30.0
    allow_private: bool = False
    """``base_url``'s host and port may be internal: the operator's own API."""

    @property
    def __name__(self) -> str:  # what logs and errors call the handler
        return f"{self.method} {self.path}"

    def request(self, arguments: dict[str, Any]) -> Request:
        """The request for ``arguments`` (already validated against the tool's schema)."""
        path = self.path
        params: dict[str, Any] = {}
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        body: dict[str, Any] = {}
        whole: Any = None
        for b in self.bindings:
            if b.argument not in arguments:
                continue
            value = arguments[b.argument]
            if b.location == "path":
                path = path.replace("{" + b.name + "}", _path_segment(value))
            elif b.location == "query":
                params[b.name] = value if isinstance(value, list) else _text(value)
            elif b.location == "header":
                headers[b.name] = _text(value)
            elif b.location == "cookie":
                cookies[b.name] = _text(value)
            elif b.whole_body:
                whole = value
            else:
                body[b.name] = value
        payload = whole if whole is not None else (body or None)
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        if self.body_kind == "form":
            return Request(method=self.method, url=url, params=params, headers=headers,
                           cookies=cookies, form=payload)
        if self.body_kind == "text":
            return Request(method=self.method, url=url, params=params, headers=headers,
                           cookies=cookies, content=None if payload is None else str(payload))
        return Request(method=self.method, url=url, params=params, headers=headers,
                       cookies=cookies, json_body=payload)

    async def __call__(self, **arguments: Any) -> dict[str, Any]:
        request = self.request(arguments)
        secret_headers = self.credential.headers() if self.credential else {}
        secret_params = self.credential.params() if self.credential else {}
        try:
            trusted = self.base_url if self.allow_private else None
            async with public_client(timeout=self.timeout, follow_redirects=False,
                                     trusted=trusted) as client:
                response = await client.request(
                    request.method, request.url,
                    params={**request.params, **secret_params},
                    headers={**request.headers, **secret_headers, **tracing.carrier()},
                    cookies=request.cookies or None,
                    json=request.json_body,
                    data=request.form,
                    content=request.content,
                )
        except ForbiddenAddress as e:
            raise HttpForbiddenAddress(self._scrub(str(e)), url=request.url) from None
        except httpx.HTTPError as e:
            raise HttpFailure(self._scrub(f"{self.method} {request.url} failed: "
                                          f"{type(e).__name__}: {e}"),
                              url=request.url) from None
        body = _body(response)
        if not response.is_success:
            reason = response.reason_phrase or "error"
            detail = body if isinstance(body, str) else json.dumps(body)[:500]
            raise HttpStatusFailure(
                self._scrub(f"{self.method} {self.path} answered {response.status_code} "
                            f"{reason}: {detail[:500]}"),
                status=response.status_code, body=body,
            )
        return {"status": response.status_code, "body": body}

    def _scrub(self, text: str) -> str:
        """``text`` with the credential's values blanked (an error echoing the URL)."""
        if self.credential is None:
            return text
        values = [*self.credential.headers().values(), *self.credential.params().values()]
        for value in values:
            for form in {value, quote(value, safe=""), value.split(" ", 1)[-1]}:
                if len(form) >= 4:
                    text = text.replace(form, "***")
        return text

    # -- snippet ----------------------------------------------------------------------------
    def snippet(self, arguments: dict[str, Any]) -> str:
        """httpx code that sends the same request; the credential is read from the
        environment (``<NAME>_TOKEN`` ...), never written out."""
        request = self.request(arguments)
        code = {keyword: _py(value) for keyword, value in (
            ("params", request.params), ("headers", request.headers),
            ("cookies", request.cookies), ("json", request.json_body), ("data", request.form),
            ("content", request.content)) if value}
        head = ["import httpx", ""]
        auth = _auth_code(self.credential, self.auth_name)
        if auth is not None:
            line, keyword, entry = auth
            head = ["import os", "", "import httpx", "", line, ""]
            if keyword == "auth":
                code["auth"] = entry
            else:
                code[keyword] = "{" + (f"**{code[keyword]}, " if keyword in code else "") + entry + "}"
        call = [f"response = httpx.request({request.method!r}, {request.url!r}"]
        call += [f"    {keyword}={value}" for keyword, value in code.items()]
        call.append(f"    timeout={self.timeout:g},\n)")
        return "\n".join([*head, ",\n".join(call), "response.raise_for_status()",
                          "print(response.status_code, response.text)"]) + "\n"


def _auth_code(credential: Credential | None, name: str | None) -> tuple[str, str, str] | None:
    """``(line reading the secret, keyword, entry)`` for ``credential``, or ``None``."""
    if credential is None:
        return None
    prefix = re.sub(r"[^A-Z0-9]+", "_", (name or "api").upper()).strip("_") or "API"
    if isinstance(credential, Bearer):
        return (f'token = os.environ["{prefix}_TOKEN"]  # credential {name!r}', "headers",
                '"Authorization": f"Bearer {token}"')
    if isinstance(credential, ApiKey):
        where = {"header": "headers", "query": "params", "cookie": "cookies"}[credential.location]
        return (f'key = os.environ["{prefix}_KEY"]  # credential {name!r}', where,
                f"{credential.name!r}: key")
    return (f'password = os.environ["{prefix}_PASSWORD"]  # credential {name!r}', "auth",
            f"({credential.username!r}, password)")


def _py(value: Any) -> str:
    """A Python literal for JSON data."""
    return repr(value)


def _path_segment(value: Any) -> str:
    """``value`` as one path segment: percent-encoded (``/`` too) and never a dot segment,
    which would move the request to another path (``/pets/..`` is ``/``)."""
    segment = quote(_text(value), safe="")
    return segment.replace(".", "%2E") if segment in {".", ".."} else segment


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _body(response: httpx.Response) -> Any:
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        try:
            return response.json()
        except ValueError:
            pass
    text = response.text
    return text if len(text) <= MAX_RESPONSE_CHARS else text[:MAX_RESPONSE_CHARS] + "…"


# -- where imported tools may connect -------------------------------------------------------
class ForbiddenAddress(httpx.TransportError):
    """``PublicOnlyTransport`` refused a request: its host is at an internal address."""


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def forbidden_address(address: str) -> bool:
    """Whether the IP ``address`` is internal: loopback, private, link-local (the cloud
    metadata service at 169.254.169.254), unspecified, shared (CGNAT), multicast or reserved,
    directly or inside an IPv6 address embedding an IPv4 one (mapped, 6to4, NAT64)."""
    ip = ipaddress.ip_address(address)
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return forbidden_address(str(embedded))
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    return not ip.is_global or ip.is_multicast or site_local


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.ipv4_mapped or ip.sixtofour


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` (an IP literal is its own)."""
    try:
        found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise httpx.ConnectError(f"cannot resolve {host}: {e}") from None
    return [str(sockaddr[0]) for *_, sockaddr in found]


class PublicOnlyTransport(httpx.AsyncBaseTransport):
    """httpx's transport, sending a request only to a public address: the host is resolved
    here, every address it has is checked, and the connection goes to a checked one (a DNS
    answer that changes in between cannot move it), its name kept for ``Host`` and TLS.
    ``allow_private`` (default: ``TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE``, read at each request)
    lets internal addresses through; ``trusted``, a URL, lets its host and port through alone
    (each request is checked, so a redirect to another origin is refused as usual)."""

    def __init__(self, allow_private: bool | None = None, trusted: str | None = None) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._allow_private = allow_private
        self._trusted = trusted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        *others, last = await public_addresses(request.url, self._allow_private, self._trusted)
        for address in others:  # the next address when one cannot be reached
            with contextlib.suppress(httpx.ConnectError):
                return await self._send(request, address)
        return await self._send(request, last)

    async def _send(self, request: httpx.Request, address: str) -> httpx.Response:
        named = request.url
        if address != named.host and "%" not in address:  # (not a scoped link-local one)
            request.url = named.copy_with(host=address)
            if named.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": named.host}
        try:
            return await self._inner.handle_async_request(request)
        finally:
            request.url = named  # what a redirect is resolved against

    async def aclose(self) -> None:
        await self._inner.aclose()


async def public_addresses(
    url: httpx.URL, allow_private: bool | None = None, trusted: str | None = None
) -> list[str]:
    """The addresses of ``url``'s host, checked (``PublicOnlyTransport``); none is refused
    when ``url`` has the origin (host and port) of the ``trusted`` URL.

    Raises:
        ForbiddenAddress: one of them is internal, and that is not allowed.
        httpx.ConnectError: the host has no address.
    """
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await _resolve(url.host, port)
    if not addresses:
        raise httpx.ConnectError(f"{url.host} has no address")
    internal = [a for a in addresses if forbidden_address(a)]
    if internal and not _private_allowed(allow_private) and not same_origin(url, trusted):
        where = url.host if internal[0] == url.host else f"{url.host} ({internal[0]})"
        raise ForbiddenAddress(
            f"refused to call {where}: a loopback, private, link-local or reserved address, "
            "which imported tools may not reach (the operator can allow it: import the "
            "source with allow_private, which trusts its base URL, or set "
            "TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE=true)"
        )
    return list(dict.fromkeys(addresses))


def same_origin(url: httpx.URL, other: str | None) -> bool:
    """Whether ``url`` has the host and port of the URL ``other`` (``None``: no)."""
    if other is None:
        return False
    try:
        trusted = httpx.URL(other)
    except httpx.InvalidURL:
        return False
    return bool(trusted.host) and _origin(url) == _origin(trusted)


def _origin(url: httpx.URL) -> tuple[str, int]:
    return url.host.lower(), url.port or (443 if url.scheme == "https" else 80)


def _private_allowed(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    from toolwire.config import get_settings

    return get_settings().http_tools_allow_private


def public_client(*, trusted: str | None = None, **options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for imported tools, on a ``PublicOnlyTransport`` that trusts
    the origin of the URL ``trusted`` (the base URL of a source the operator imported)."""
    return httpx.AsyncClient(transport=PublicOnlyTransport(trusted=trusted), **options)

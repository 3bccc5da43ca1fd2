"""Scripted HTTP exchanges for the provider backends: the network edge, and nothing else.

    script = HttpScript([reply(200, {...}), reply(429, {...}, headers={"retry-after-ms": "1"})])
    model = OpenAIModel("gpt-4o-mini", api_key="k", http_client=script.client())

Each request is answered by the next reply in order; running out is a loud failure, and every
request is kept (with its JSON body) so a test can assert what went over the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx


@dataclass(kw_only=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=body, headers=headers or {})


class HttpScript:
    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[Any] = []

    def client(self, flavour: ModuleType = httpx) -> Any:
        """An async client of ``flavour`` (``httpx``, or ``httpx2`` for SDKs built on the fork)."""

        def handler(request: Any) -> Any:
            self.requests.append(request)
            if not self.replies:
                raise AssertionError(f"unexpected request {request.method} {request.url}")
            r = self.replies.pop(0)
            return flavour.Response(r.status, json=r.body, headers=r.headers)

        return flavour.AsyncClient(transport=flavour.MockTransport(handler))

    def body(self, index: int = -1) -> dict[str, Any]:
        """The JSON body of a request sent."""
        return json.loads(self.requests[index].content)

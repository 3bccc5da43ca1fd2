"""The ``Idempotency-Key`` header on ``POST /execute``, ``POST /interactions/{id}/messages``
and ``POST /v1/chat/completions`` (the rules: ``toolwire.service.idempotency``).

A route claims the key before it stores or runs anything (``claim``) and answers through the
claim (``Claim.run``), which keeps the answer for retries; a retry gets the kept answer with
``Idempotent-Replayed: true``. Kept: every answer the route gives, errors it raises
(``ApiError``, ``ServiceError``) included; an unexpected failure gives the key up, so a retry
runs afresh. A streamed request (``stream``) streams as usual; what is kept is its final
result as the unstreamed JSON body (``/execute``: the ``done`` event's; ``/v1``: the
``chat.completion``), once the run has finished, even if the client has gone: a retry gets
that JSON, or 409 while the run goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from toolwire.api.errors import ApiError, error_response, status_of
from toolwire.service import idempotency
from toolwire.service.errors import ServiceError
from toolwire.service.idempotency import Kept, Keyed
from toolwire.store.db import Database

log = logging.getLogger(__name__)

T = TypeVar("T")

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key",
    description="Send the same key to retry safely: within 24 h the same request gets the "
                "first answer again (Idempotent-Replayed: true) and nothing runs twice; the "
                "same key with another request is a 422, one still running a 409. A streamed "
                "request's retry gets its final result as JSON.",
)]
REPLAYED = "Idempotent-Replayed"
"""The header on an answer replayed for a retry."""
KEPT_HEADERS = ("location",)
"""Headers of a first answer that its replays carry too."""

_KEEPING: set[asyncio.Task[None]] = set()
"""Answers of streamed runs being kept (held so that they finish)."""


@dataclass
class Claim:
    """A request's hold on its idempotency key (none without a key: then it keeps nothing)."""

    database: Database | None = None
    request: Keyed | None = None

    async def run(self, handle: Callable[[], Awaitable[Response]]) -> Response:
        """``handle()``'s answer, kept for retries (a streamed one is kept by
        ``keep_when_done``); an error it raises is kept and raised."""
        try:
            response = await handle()
        except (ApiError, ServiceError) as e:
            await self.keep(_error(e))
            raise
        except Exception:  # a cancelled one stays in flight: its prompt is handed back
            await self.give_up()
            raise
        if not isinstance(response, StreamingResponse):
            await self.keep(response)
        return response

    async def keep(self, response: Response) -> None:
        """Keep ``response`` (JSON) as the key's first answer."""
        if self.database is None or self.request is None:
            return
        headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
        answer = Kept(status=response.status_code, body=json_body(response), headers=headers)
        try:
            await idempotency.keep(self.database, self.request, answer)
        except Exception as e:  # the client still gets its answer; the key stays in flight
            log.warning("the answer to Idempotency-Key %r was not kept: %s", self.request.key, e)

    async def give_up(self) -> None:
        """Free the key: the request failed before it could answer."""
        if self.database is None or self.request is None:
            return
        try:
            await idempotency.release(self.database, self.request)
        except Exception as e:
            log.warning("Idempotency-Key %r not released: %s", self.request.key, e)

    def keep_when_done(self, task: asyncio.Task[T],
                       answer: Callable[[asyncio.Task[T]], Response]) -> None:
        """Once ``task`` (a streamed run) has finished, keep ``answer(task)``, its result as
        the unstreamed route would have answered it."""
        if self.request is None:
            return

        async def kept() -> None:
            await asyncio.gather(task, return_exceptions=True)
            try:
                response = answer(task)
            except (ApiError, ServiceError) as e:
                response = _error(e)
            except asyncio.CancelledError:  # handed back to be finished: stays in flight
                return
            except Exception:
                await self.give_up()
                return
            await self.keep(response)

        keeping = asyncio.create_task(kept())
        _KEEPING.add(keeping)
        keeping.add_done_callback(_KEEPING.discard)


async def claim(
    request: Request, database: Database, owner: str | None, key: str | None
) -> Claim | Response:
    """Claim ``key`` for ``request``: a ``Claim`` to answer through, or the kept answer of
    the first request with this key (a retry). ``Invalid`` (422) for a key first sent with
    another request, ``Conflict`` (409) while that request still runs."""
    if key is None:
        return Claim()
    keyed = Keyed(
        owner=owner or "", key=idempotency.check_key(key),
        route=f"{request.method} {request.url.path}",
        digest=idempotency.fingerprint(request.method, request.url.path,
                                       dict(request.query_params), await request.body()),
    )
    kept = await idempotency.claim(database, keyed)
    if kept is None:
        return Claim(database=database, request=keyed)
    return JSONResponse(kept.body, status_code=kept.status,
                        headers={**kept.headers, REPLAYED: "true"})


def _error(exc: ApiError | ServiceError) -> JSONResponse:
    """The answer the API's error handlers give for ``exc``."""
    status = exc.status if isinstance(exc, ApiError) else status_of(exc)
    return error_response(status, exc.code, exc.message, **exc.extra)


def json_body(response: Response) -> Any:
    """The JSON a (non-streamed) response carries."""
    return json.loads(bytes(response.body)) if response.body else None

"""Read form-encoded bodies as JSON: ``curl -d '{"prompt": ...}'`` sends JSON labelled as a form.

The API takes no forms anywhere, so a body labelled ``application/x-www-form-urlencoded``
(curl's default for ``-d``) is relabelled ``application/json``; a body that is not JSON then
gets the usual 422 with the decoding error.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

FORM = b"application/x-www-form-urlencoded"


class FormAsJsonMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(
            name == b"content-type" and value.split(b";")[0].strip().lower() == FORM
            for name, value in scope["headers"]
        ):
            scope["headers"] = [
                (name, b"application/json" if name == b"content-type" else value)
                for name, value in scope["headers"]
            ]
        await self.app(scope, receive, send)

"""The model process: ``python -m toolwire.models.runner FD FACTORY KWARGS_JSON``.

Started by ``toolwire.models.process.ModelProcess``. Builds the model (``FACTORY`` is
``module:attr``, called with the JSON keyword arguments), loads it, reports ``ready`` and then
answers one request at a time on the socket ``FD`` until the parent closes it. Nothing here
catches a crash of native code: the parent sees the socket close and the exit signal.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from multiprocessing.connection import Connection
from typing import Any

from toolwire.models.base import Model, ModelError
from toolwire.models.streaming import stream_text


def _build(factory: str, kwargs: dict[str, Any]) -> Model:
    module_name, _, attr = factory.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    model = target(**kwargs)
    if not isinstance(model, Model):
        raise TypeError(f"{factory} did not return a Model")
    return model


def _error(provider: str, exc: BaseException, status: int | None = None) -> tuple[Any, ...]:
    return ("error", provider, str(exc) or type(exc).__name__, status)


def _answer(
    model: Model, loop: asyncio.AbstractEventLoop, request: tuple[Any, ...], conn: Connection
) -> Any:
    """The reply to one request; a ``stream`` request first sends ``("chunk", text)`` for each
    piece of text as it is generated."""
    kind, messages, tools, constraint, settings = request
    if kind not in ("complete", "stream"):
        return ("error", "local", f"unknown request {kind!r}", None)
    try:
        if kind == "stream":  # a model that cannot stream sends its answer as one chunk
            work = stream_text(model, messages, settings=settings,
                               on_text=lambda text: conn.send(("chunk", text)))
        else:
            work = model.complete(messages, tools=tools, constraint=constraint, settings=settings)
        completion = loop.run_until_complete(work)
    except ModelError as e:
        message = str(e).removeprefix(f"{e.provider}: ")
        return ("error", e.provider, message, e.status)
    except Exception as e:
        return _error("local", e)
    return ("ok", completion)


def serve(conn: Connection, factory: str, kwargs: dict[str, Any]) -> None:
    """Load the model, say ``ready``, then answer requests until the parent hangs up."""
    try:
        model = _build(factory, kwargs)
        model.load()
        info = model.runtime_info()
    except Exception as e:
        conn.send(_error("local", e))
        return
    conn.send(("ready", info))
    loop = asyncio.new_event_loop()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        conn.send(_answer(model, loop, request, conn))


def main() -> None:
    fd, factory, kwargs = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    serve(Connection(fd), factory, kwargs)


if __name__ == "__main__":
    main()

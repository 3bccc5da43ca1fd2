"""Models for the model-process tests, built *inside* the child by ``module:attr``.

The prompt says what the child does: ``crash`` (SIGSEGV, as native code would), ``abort``
(SIGABRT), ``hang`` (never answers), ``fail`` (a ModelError), anything else is echoed.
"""

from __future__ import annotations

import os
import signal
import time

from toolwire.models.base import Completion, ModelError
from toolwire.models.scripted import Request, ScriptedModel


def _answer(request: Request) -> Completion:
    text = request.messages[-1].content
    if text == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if text == "abort":
        os.abort()
    if text == "hang":
        time.sleep(3600)
    if text == "fail":
        raise ModelError("local", "cannot compile the constraint")
    return Completion(text=f"echo {text} from {os.getpid()}")


def faulty(greeting: str = "") -> ScriptedModel:
    """The factory the child calls (kwargs arrive as JSON)."""
    return ScriptedModel(_answer, name="faulty", supports_tools=False, supports_grammar=True)


def broken(**_: object) -> ScriptedModel:
    raise RuntimeError("no weights here")

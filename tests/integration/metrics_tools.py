"""A slow tool and the scripted model that calls it, for the worker-metrics test
(``TOOLWIRE_TOOL_MODULES``, ``TOOLWIRE_MODEL=scripted:...``): a module of its own, so that
collecting the tests never declares the tool into every default registry."""

from __future__ import annotations

import os
import time

import toolwire
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel


@toolwire.tool(timeout=30)
def pause_note(text: str) -> str:
    """Write a note down, slowly.

    Args:
        text: what to note
    """
    time.sleep(1)  # long enough for the other idle pool process to take the next message
    with open(os.environ["TOOLWIRE_TEST_NOTES"], "a") as notes:
        notes.write(f"{os.getpid()} {text}\n")
    return f"noted {text}"


def pause_model() -> ScriptedModel:
    """``TOOLWIRE_MODEL=scripted:tests.integration.metrics_tools:pause_model``."""

    def answer(request: Request) -> Completion:
        if request.tools:
            text = request.messages[-1].content.split()[-1]
            return Completion(tool_calls=[ToolCallRequest(id="", name="pause_note",
                                                          arguments={"text": text})])
        return Completion(text="Noted.")

    return ScriptedModel(answer, name="scripted-pause")

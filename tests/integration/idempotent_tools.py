"""An idempotent tool for the recovery tests (``TOOLWIRE_TOOL_MODULES``), beside the plain
``take_note`` of ``celery_tools``. Each run of ``reserve`` appends ``start <pid> <call_key>
<text>`` to ``$TOOLWIRE_TEST_NOTES`` (how many times it ran, and with which key); its effect,
a line ``<call_key> <text>`` in ``effects.txt`` beside the notes, is written once per key, so
a second run of the same call has no second effect. A ``slow`` text then waits 8 s: the
effect has happened but the call has not returned when the test kills its worker."""

from __future__ import annotations

import os
import time
from pathlib import Path

import toolwire
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel


@toolwire.tool(timeout=60, idempotent=True, keywords=("reserve", "book", "seat"))
def reserve(text: str, call_key: str) -> str:
    """Reserve a seat under a name.

    Args:
        text: the name to reserve under
    """
    notes = Path(os.environ["TOOLWIRE_TEST_NOTES"])
    with notes.open("a") as out:
        out.write(f"start {os.getpid()} {call_key} {text}\n")
    effects = notes.with_name("effects.txt")
    done = effects.read_text().split() if effects.exists() else []
    if call_key not in done:
        with effects.open("a") as out:
            out.write(f"{call_key} {text}\n")
    time.sleep(8 if text.startswith("slow") else 0)
    return f"reserved {text}"


def answer(request: Request) -> Completion:
    """``reserve`` or ``take_note`` (by the prompt's first verb) of the prompt's last word."""
    if request.tools:
        words = request.messages[-1].content.split()
        name = "reserve" if "reserve" in words else "take_note"
        return Completion(tool_calls=[ToolCallRequest(id="", name=name,
                                                      arguments={"text": words[-1]})])
    return Completion(text="Done.")


def reserve_or_note_model() -> ScriptedModel:
    """``TOOLWIRE_MODEL=scripted:tests.integration.idempotent_tools:reserve_or_note_model``."""
    return ScriptedModel(answer, name="scripted-reserve-or-note")

"""A tool with a visible side effect for the Celery tests (``TOOLWIRE_TOOL_MODULES``): each run
appends ``start <pid> <text>`` and ``end <text>`` lines to ``$TOOLWIRE_TEST_NOTES``, so a test
counts how many times it really ran and which process ran it."""

from __future__ import annotations

import os
import time

import toolwire


@toolwire.tool(timeout=60)
def take_note(text: str) -> str:
    """Write a note down.

    Args:
        text: what to note
    """
    with open(os.environ["TOOLWIRE_TEST_NOTES"], "a") as notes:
        notes.write(f"start {os.getpid()} {text}\n")
    time.sleep(8 if text.startswith("slow") else 0)
    with open(os.environ["TOOLWIRE_TEST_NOTES"], "a") as notes:
        notes.write(f"end {text}\n")
    return f"noted {text}"

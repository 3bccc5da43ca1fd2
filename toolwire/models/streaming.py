"""Text as it is generated: ``stream_text`` hands each piece of a model's answer to a callback
the moment the model produces it, and returns the whole completion.

A backend that can stream has ``stream_complete(messages, *, settings, on_text)`` (the local
model through its process, token by token); any other model answers in one piece, which is
then handed over whole. Wrappers (deadlines, an interaction's sampling settings) pass streaming
through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from toolwire.messages import Completion, Message, ModelSettings

TextSink = Callable[[str], None]
"""Receives each new piece of text, in order."""


async def stream_text(
    model: Any, messages: list[Message], *, settings: ModelSettings, on_text: TextSink | None
) -> Completion:
    """``model.complete(messages)``, with the text handed to ``on_text`` as it is produced."""
    streaming = getattr(model, "stream_complete", None)
    if on_text is not None and callable(streaming):
        completion: Completion = await streaming(messages, settings=settings, on_text=on_text)
        return completion
    completion = await model.complete(messages, settings=settings)
    if on_text is not None and completion.text:
        on_text(completion.text)
    return completion

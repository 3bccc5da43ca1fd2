"""Text as it is generated: ``stream_text`` hands each piece of a model's answer to a callback
the moment the model produces it, and returns the whole completion.

Every model has ``stream_complete(messages, *, settings, on_text)``: a backend that can stream
(``capabilities.streams_text``: the local model through its process, token by token, the
remote APIs through their SDKs) hands the text over as it comes, any other in one piece once
the answer is whole. Wrappers (deadlines, an interaction's sampling settings) pass streaming
through.
"""

from __future__ import annotations

from toolwire.messages import Completion, Message, ModelSettings
from toolwire.models.base import Model, TextSink

__all__ = ["TextSink", "stream_text"]


async def stream_text(
    model: Model, messages: list[Message], *, settings: ModelSettings, on_text: TextSink | None
) -> Completion:
    """``model.complete(messages)``, with the text handed to ``on_text`` as it is produced."""
    if on_text is None:
        return await model.complete(messages, settings=settings)
    return await model.stream_complete(messages, settings=settings, on_text=on_text)

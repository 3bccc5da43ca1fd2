"""Tokens streamed as they are generated, by the real embedded model in its process: the
first piece of a long answer arrives well before the answer is complete (one run, measured
side by side), and the pieces make up exactly the answer."""

from __future__ import annotations

import asyncio
import time

import pytest

from toolwire.messages import Message, ModelSettings
from toolwire.models import load_model
from toolwire.models.streaming import stream_text

pytestmark = pytest.mark.integration


def test_the_first_token_arrives_long_before_the_answer_ends() -> None:
    # the assertion is an order (first piece before half the answer), not a speed: on cores
    # another job holds, 240 tokens can take longer than the default 60 s a request may
    model = load_model("local:smollm2-135m", timeout=300)
    try:
        model.load()
        pieces: list[tuple[float, str]] = []

        async def run() -> tuple[float, str]:
            started = time.perf_counter()
            completion = await stream_text(
                model, [Message(role="user", content="Tell me a long story about a dragon.")],
                settings=ModelSettings(max_tokens=240),
                on_text=lambda text: pieces.append((time.perf_counter() - started, text)),
            )
            return time.perf_counter() - started, completion.text

        total, text = asyncio.run(run())
    finally:
        model.close()
    assert len(pieces) > 50 and "".join(p for _, p in pieces) == text
    first = pieces[0][0]  # reading the prompt comes first; then tokens, each as it is made
    assert first < total / 2, f"first token after {first:.2f} s of {total:.2f} s"

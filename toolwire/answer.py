"""Describe what the calls returned, in plain language.

The model writes the sentence; a small model can garble numbers, so an answer that drops a
number the results hold is replaced by a plain factual sentence built from the results.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolwire.messages import Message, ModelSettings
from toolwire.models.base import Model
from toolwire.models.streaming import TextSink, stream_text
from toolwire.run import CallResult

DESCRIBE_SYSTEM = (
    "You are a helpful assistant. Reply to the user in one friendly sentence that states the "
    "result."
)

ANSWER_SYSTEM = "You are a helpful assistant. Answer briefly."

_MAX_RESULT_CHARS = 600
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _MAX_RESULT_CHARS else text[: _MAX_RESULT_CHARS - 3] + "..."


def call_text(call: CallResult) -> str:
    """``convert_currency(amount=42, ...)``: the call as a reader would write it."""
    args = ", ".join(f"{k}={json.dumps(v)}" for k, v in call.arguments.items())
    return f"{call.name}({args})"


def outcome_text(call: CallResult) -> str:
    """One line stating what a call returned or why it failed."""
    if call.status == "ok":
        return f"{call_text(call)} returned {_short(call.result)}."
    if call.status == "pending_approval":
        return f"{call_text(call)} is waiting for approval."
    if call.status == "rejected":
        reason = (call.error or {}).get("message", "rejected")
        return f"{call_text(call)} was not run: it was {reason}."
    if call.status == "not_executable":
        return f"{call_text(call)} is the call to make (this tool is not executable here)."
    message = (call.error or {}).get("message", call.status)
    return f"{call_text(call)} failed: {message}."


def factual_answer(calls: list[CallResult]) -> str:
    return " ".join(outcome_text(c) for c in calls)


def _numbers_kept(answer: str, calls: list[CallResult], *, strict: bool) -> bool:
    """The answer states every number of each scalar result (``strict``: of the numeric
    arguments too).

    A small model that drops the input amount tends to misstate what was computed
    ("you can exchange 131.95 US dollars"), so for it both sides must be there.
    """
    written = set(_NUM.findall(answer.replace(",", "")))
    for call in calls:
        wanted: list[object] = (
            [v for v in call.arguments.values() if isinstance(v, (int, float))] if strict else []
        )
        if isinstance(call.result, (int, float, str)):
            wanted.append(call.result)
        for value in wanted:
            for number in _NUM.findall(str(value)):
                if number not in written and number.removesuffix(".0") not in written:
                    return False
    return True


def _result_text(call: CallResult) -> str:
    return _short(call.result) if call.status == "ok" else outcome_text(call)


async def describe(
    model: Model,
    question: str,
    calls: list[CallResult],
    history: list[Message],
    *,
    strict: bool = False,
    max_tokens: int = 40,
    on_text: TextSink | None = None,
) -> str:
    """A one-sentence answer to ``question`` from the calls' outcomes.

    When a call did not succeed, or the model's sentence loses a number, the answer is the
    factual one: a small model asked to describe an error describes the weather it could not
    fetch.
    """
    if any(c.status != "ok" for c in calls):
        return factual_answer(calls)
    results = "; ".join(_result_text(c) for c in calls)
    messages = [
        Message(role="system", content=DESCRIBE_SYSTEM),
        *history,
        Message(role="user", content=f"{question}\n(Result: {results})"),
    ]
    completion = await stream_text(
        model, messages, settings=ModelSettings(max_tokens=max_tokens, stop=("\n",)),
        on_text=on_text,
    )
    answer = " ".join(completion.text.split())
    if not answer or not _numbers_kept(answer, calls, strict=strict):
        return factual_answer(calls)
    return answer


async def chat_answer(
    model: Model, question: str, history: list[Message], *, max_tokens: int = 160,
    on_text: TextSink | None = None,
) -> str:
    """A plain answer when no tool fits."""
    messages = [
        Message(role="system", content=ANSWER_SYSTEM),
        *history,
        Message(role="user", content=question),
    ]
    completion = await stream_text(model, messages, settings=ModelSettings(max_tokens=max_tokens),
                                   on_text=on_text)
    return completion.text.strip()


def missing_answer(tool_name: str, missing: list[str], descriptions: dict[str, str]) -> str:
    """Ask for the required values the sentence did not give."""
    wanted = ", ".join(
        f"{name} ({descriptions[name]})" if descriptions.get(name) else name for name in missing
    )
    return f"To call {tool_name} I need: {wanted}. Please tell me and I will run it."

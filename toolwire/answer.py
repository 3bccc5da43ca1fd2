"""Describe what the calls returned, in plain language.

The model writes the sentence; a small model can garble numbers, cut a sentence short or
write code, so such an answer is replaced by the tool's answer template (``@tool(answer=...)``)
or by a sentence built from the tool's description. No answer contains call syntax.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from toolwire.messages import Message, ModelSettings
from toolwire.models.base import Model
from toolwire.models.streaming import TextSink, stream_text
from toolwire.run import CallResult
from toolwire.tools.registry import Tool

DESCRIBE_SYSTEM = (
    "You are a helpful assistant. Reply to the user in one friendly sentence that states the "
    "result."
)

ANSWER_SYSTEM = "You are a helpful assistant. Answer briefly."

_MAX_RESULT_CHARS = 600
_MAX_ITEMS = 8
_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_CALL_SYNTAX = re.compile(r"[A-Za-z_][\w.]*\(|\b[A-Za-z_]\w*\s*=\s*[\w\"'\[{-]")
"""``name(`` or ``key=value``: code, not a sentence."""
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
_MACHINE_VALUE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|[{\[]\s*\"")
"""An ISO timestamp or JSON copied from the result: data, not what a person writes."""

log = logging.getLogger(__name__)

ToolLookup = Callable[[str], "Tool | None"]
"""The registered tool of a name, if any (``Registry.find``)."""


def _no_tools(_name: str) -> Tool | None:
    return None


# -- values as words ----------------------------------------------------------------------
def spoken(value: Any, *, budget: int = _MAX_RESULT_CHARS) -> str:
    """``value`` as a reader would write it: numbers plain, lists "a, b and c", objects
    "temperature 21, unit celsius"; long values lose whole items ("and 3 more"), never a
    word cut in half."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format(value, ".10g")
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        parts = [f"{_words(str(k))} {spoken(v, budget=budget // 2)}" for k, v in value.items()
                 if v is not None]
        return _listed(parts, budget, "fields")
    if isinstance(value, (list, tuple)):
        return _listed([spoken(v, budget=budget // 2) for v in value], budget, "items")
    text = " ".join(str(value).split())
    if len(text) <= budget:
        return text
    cut = text[:budget].rsplit(" ", 1)[0]
    return f"{cut} (and more)"


def _listed(parts: list[str], budget: int, noun: str) -> str:
    kept: list[str] = []
    for part in parts[:_MAX_ITEMS]:
        if sum(len(p) + 2 for p in kept) + len(part) > budget and kept:
            break
        kept.append(part)
    rest = len(parts) - len(kept)
    if not kept:
        return "nothing"
    if rest:
        return f"{', '.join(kept)} and {rest} more {noun}"
    return kept[0] if len(kept) == 1 else f"{', '.join(kept[:-1])} and {kept[-1]}"


def _words(name: str) -> str:
    """``from_currency`` -> ``from currency``."""
    return " ".join(name.replace("_", " ").split())


def _arguments(arguments: dict[str, Any]) -> str:
    return _listed([f"{_words(k)} {spoken(v, budget=120)}" for k, v in arguments.items()],
                   300, "arguments")


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if _SENTENCE_END.search(text) else f"{text}."


def _subject(call: CallResult) -> str:
    """``the tool open_app, with app name calculator,``: the call in words."""
    given = f", with {_arguments(call.arguments)}," if call.arguments else ""
    return f"the tool {call.name}{given}"


# -- one call's sentence ------------------------------------------------------------------
def templated(tool: Tool, call: CallResult) -> str | None:
    """The tool's own answer for an ``ok`` call, or ``None`` when it has none or it fails
    (a template naming an optional argument the call left out, a function that raises)."""
    if tool.answer is None:
        return None
    values = {name: prop["default"] for name, prop in
              tool.parameters.get("properties", {}).items()
              if isinstance(prop, dict) and "default" in prop}
    values.update(call.arguments)
    try:
        if callable(tool.answer):
            text = tool.answer(values, call.result)
        else:
            text = tool.answer.format_map({**values, "result": call.result})
    except Exception as e:  # a template that does not fit this call falls back
        log.debug("answer template of %s did not apply: %s", tool.name, e)
        return None
    return _sentence(text) if isinstance(text, str) and text.strip() else None


def generic_sentence(tool: Tool | None, call: CallResult) -> str:
    """A sentence for an ``ok`` call from the tool's description: "Convert an amount of money
    from one currency to another, with amount 42, ...: the result is 131.95."."""
    phrase = _first_sentence(tool.description) if tool else ""
    phrase = phrase or _words(call.name)
    given = f", with {_arguments(call.arguments)}" if call.arguments else ""
    return _sentence(f"{phrase}{given}: the result is {spoken(call.result)}")


def _first_sentence(description: str) -> str:
    first = re.split(r"(?<=[.!?])\s|\n", description.strip(), maxsplit=1)[0]
    return first.rstrip(" .:;")


def outcome_text(call: CallResult, tool: Tool | None = None) -> str:
    """One sentence stating what a call returned, or why it did not."""
    if call.status == "ok":
        return (templated(tool, call) if tool else None) or generic_sentence(tool, call)
    if call.status == "pending_approval":
        return _sentence(f"{_subject(call)} is waiting for approval before it runs")
    if call.status == "rejected":
        reason = (call.error or {}).get("message", "rejected")
        return _sentence(f"{_subject(call)} was not run: it was {reason}")
    if call.status == "not_executable":
        return _sentence(f"The call to make is {_subject(call).rstrip(',')} (it cannot run here)")
    message = (call.error or {}).get("message", call.status)
    return _sentence(f"{_subject(call)} failed: {message}")


def factual_answer(calls: list[CallResult], tools: ToolLookup = _no_tools) -> str:
    return " ".join(outcome_text(c, tools(c.name)) for c in calls)


# -- the model's sentence, when it can be trusted -----------------------------------------
def acceptable(answer: str, calls: list[CallResult], *, finish_reason: str = "stop") -> bool:
    """The model's sentence may stand: complete (not cut off by the token limit, ending like
    a sentence), free of code and of copied data (an ISO timestamp, JSON), and stating every number of the calls' inputs and results (a
    small model that drops the input amount tends to misstate what was computed)."""
    if not answer or finish_reason == "length" or not _SENTENCE_END.search(answer):
        return False
    if _CALL_SYNTAX.search(answer) or _MACHINE_VALUE.search(answer):
        return False
    written = set(_NUM.findall(answer.replace(",", "")))
    for call in calls:
        wanted: list[object] = [v for v in call.arguments.values()
                                if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if isinstance(call.result, (int, float, str)) and not isinstance(call.result, bool):
            wanted.append(call.result)
        for value in wanted:
            for number in _NUM.findall(str(value)):
                if number not in written and number.removesuffix(".0") not in written:
                    return False
    return True


def _result_text(call: CallResult) -> str:
    return _short(call.result) if call.status == "ok" else outcome_text(call)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _MAX_RESULT_CHARS else text[: _MAX_RESULT_CHARS - 3] + "..."


async def describe(
    model: Model,
    question: str,
    calls: list[CallResult],
    history: list[Message],
    *,
    tools: ToolLookup = _no_tools,
    max_tokens: int = 40,
    on_text: TextSink | None = None,
) -> str:
    """A one-sentence answer to ``question`` from the calls' outcomes.

    The model's sentence is kept only when ``acceptable``; otherwise each call is stated by
    its tool's answer template or a sentence built from its description. When a call did not
    succeed the answer is the factual one: a small model asked to describe an error
    describes the weather it could not fetch.
    """
    if any(c.status != "ok" for c in calls):
        return factual_answer(calls, tools)
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
    if acceptable(answer, calls, finish_reason=completion.finish_reason):
        return answer
    return factual_answer(calls, tools)


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

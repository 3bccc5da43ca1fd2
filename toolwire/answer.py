"""Describe what the calls returned, in plain language.

By default (``answer_style="template"``) a call whose tool has an answer template
(``@tool(answer=...)``) is stated by it and the model is not asked. Otherwise the model writes
the sentence; a small model can garble numbers, cut a sentence short or write code, so such an
answer is replaced by the tool's template or by a sentence built from the tool's description.
No answer contains call syntax, and none states a number without a source
(``toolwire.grounding``): the model's sentence, a template's and the generic one alike.

Where no call is made the answer says that no tool can do it, naming the closest tools,
unless free answers are allowed (``free_answers_allowed``): a small model answering from its
own knowledge states invented facts.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from toolwire.grounding import (
    Sources,
    grounded,
    payload,
    sources,
    stated,
    ungrounded,
    unstated,
)
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

NO_TOOL = "I have no tool that can do that."
_MAX_CLOSEST = 3
"""Tools the no-tool answer names."""
_LOCAL_PREFIX = "local:"

_MAX_RESULT_CHARS = 600
_MAX_ITEMS = 8
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
    "temperature 21, unit celsius"; long values lose whole items ("and more items"), never a
    word cut in half. Every number it writes is one of ``value``'s (``toolwire.grounding``)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
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
    return text if len(text) <= budget else _cut(text, budget)


def _cut(text: str, budget: int) -> str:
    """``text`` cut to ``budget`` characters at the end of a word: a number cut in half would
    be another number."""
    cut = text[:budget]
    if text[budget:budget + 1].strip():  # the last word goes on past the budget
        cut = re.sub(r"\S+$", "", cut)
    cut = cut.rstrip()
    return f"{cut} (and more)" if cut else "(and more)"


def _listed(parts: list[str], budget: int, noun: str) -> str:
    kept: list[str] = []
    for part in parts[:_MAX_ITEMS]:
        if sum(len(p) + 2 for p in kept) + len(part) > budget and kept:
            break
        kept.append(part)
    rest = len(parts) - len(kept)
    if not kept:
        return "nothing"
    if rest:  # the count left out is not in the result: not a number to state
        return f"{', '.join(kept)} and more {noun}"
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
    if not isinstance(text, str) or not text.strip():
        return None
    invented = ungrounded(text, Sources.of(call.name, values, call.result))
    if invented:
        log.debug("answer template of %s states %s, not in the call", tool.name, invented)
        return None
    return _sentence(text)


def generic_sentence(tool: Tool | None, call: CallResult) -> str:
    """A sentence for an ``ok`` call from the tool's description: "Convert an amount of money
    from one currency to another, with amount 42, ...: the result is 131.95." (an HTTP
    result by its body alone). A description stating a number the call does not hold
    ("Rates of 2019") gives way to the tool's name in words."""
    phrase = _first_sentence(tool.description) if tool else ""
    if not grounded(phrase, sources("", [call])):
        phrase = ""
    phrase = phrase or _words(call.name)
    given = f", with {_arguments(call.arguments)}" if call.arguments else ""
    return _sentence(f"{phrase}{given}: the result is {spoken(payload(call.result))}")


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
    """The calls' outcomes, one sentence each (``outcome_text``): no model involved."""
    return " ".join(outcome_text(c, tools(c.name)) for c in calls)


def templated_answer(calls: list[CallResult], tools: ToolLookup = _no_tools) -> str | None:
    """The answer the tools' own templates give, when every call is ``ok`` and each one's
    tool has a template that applies and states only the call's numbers; else ``None``."""
    sentences = []
    for call in calls:
        tool = tools(call.name) if call.status == "ok" else None
        text = templated(tool, call) if tool else None
        if text is None:
            return None
        sentences.append(text)
    return " ".join(sentences) or None


# -- the model's sentence, when it can be trusted -----------------------------------------
def acceptable(
    answer: str, calls: list[CallResult], *, finish_reason: str = "stop", question: str = "",
) -> bool:
    """The model's sentence may stand: complete (not cut off by the token limit, ending like
    a sentence), free of code and of copied data (an ISO timestamp, JSON), every number it
    writes explained by the question or the calls (``grounding.ungrounded``), and stating the
    number of each result that holds one (``grounding.unstated``) and every number the calls
    were given (a small model that drops the input amount tends to misstate what was
    computed)."""
    if not answer or finish_reason == "length" or not _SENTENCE_END.search(answer):
        return False
    if _CALL_SYNTAX.search(answer) or _MACHINE_VALUE.search(answer):
        return False
    invented = ungrounded(answer, sources(question, calls))
    missing = unstated(answer, calls)
    if invented or missing:
        log.debug("model sentence replaced: it states %s and leaves out %s", invented, missing)
        return False
    return all(stated(answer, number) for number in _inputs(calls))


def _inputs(calls: list[CallResult]) -> list[Decimal]:
    """The numbers the calls were given as arguments of their own (not inside lists)."""
    return [Decimal(repr(value) if isinstance(value, float) else value)
            for call in calls for value in call.arguments.values()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value)]


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
    if acceptable(answer, calls, finish_reason=completion.finish_reason, question=question):
        return answer
    return factual_answer(calls, tools)


async def chat_answer(
    model: Model, question: str, history: list[Message], *, max_tokens: int = 160,
    on_text: TextSink | None = None,
) -> str:
    """A plain answer when no tool fits, from the model's own knowledge (only where free
    answers are allowed: ``free_answers_allowed``)."""
    messages = [
        Message(role="system", content=ANSWER_SYSTEM),
        *history,
        Message(role="user", content=question),
    ]
    completion = await stream_text(model, messages, settings=ModelSettings(max_tokens=max_tokens),
                                   on_text=on_text)
    return completion.text.strip()


# -- no call -------------------------------------------------------------------------------
def free_answers_allowed(setting: bool | None, model_name: str) -> bool:
    """Whether a run that makes no call may answer from the model's own knowledge: as
    ``setting`` says, and by default (``None``) for every model but a local one (``local:``,
    the embedded model above all: a 135M model states invented facts)."""
    if setting is not None:
        return setting
    return not model_name.startswith(_LOCAL_PREFIX)


def no_tool_answer(closest: list[str]) -> str:
    """Say plainly that no tool can do it, naming the ``closest`` tools (at most three)."""
    names = closest[:_MAX_CLOSEST]
    if not names:
        return NO_TOOL
    if len(names) == 1:
        return f"{NO_TOOL} The closest tool I have is {names[0]}."
    return f"{NO_TOOL} The closest tools I have are {', '.join(names[:-1])} and {names[-1]}."


def echoes(answer: str, question: str) -> bool:
    """Whether ``answer`` only repeats ``question`` (its words, in order, and nothing else)."""
    said, asked = _plain_words(answer), _plain_words(question)
    return bool(said) and said == asked


def _plain_words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def clarify_answer(names: list[str]) -> str:
    """Ask which of ``names`` (the likeliest tools, best first) the sentence means: the
    evidence was too weak to call one."""
    if len(names) == 1:
        return (f"Did you mean {names[0]}? If so, please ask again naming it, and I will "
                "call it.")
    listed = f"{', '.join(names[:-1])} or {names[-1]}"
    return f"Did you mean {listed}? Please ask again naming the one you want."


def missing_answer(
    tool_name: str, missing: list[str], descriptions: dict[str, str], *, question: str = "",
) -> str:
    """Ask for the required values the sentence did not give. A value's description that
    states a number the sentence does not hold ("ISO 4217 code") is left out."""
    known = sources(question, [], names=[tool_name, *missing])
    wanted = ", ".join(
        f"{name} ({descriptions[name]})"
        if descriptions.get(name) and grounded(descriptions[name], known) else name
        for name in missing
    )
    return f"To call {tool_name} I need: {wanted}. Please tell me and I will run it."

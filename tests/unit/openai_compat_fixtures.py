"""A scripted model that answers currency questions the way a tool-calling model would.

It reads the amount and the currencies from the last user message (no network, no weights):
with tools offered it calls the first one with them; with ``tool_choice="none"`` or a tool
result in hand it answers in words. ``TOOLWIRE_MODEL=scripted:tests.unit.openai_compat_fixtures:currency_model``
serves it from a real ``toolwire serve``.
"""

from __future__ import annotations

import json
import re

from toolwire.models.base import Completion, JsonSchemaConstraint, ToolCallRequest, Usage
from toolwire.models.scripted import Request, ScriptedModel

CURRENCIES = {
    "us dollar": "USD",
    "canadian dollar": "CAD",
    "euro": "EUR",
    "yen": "JPY",
    "pound": "GBP",
}

CONVERT_TOOL = {
    "type": "function",
    "function": {
        "name": "convert_currency",
        "description": "Convert an amount of money from one currency to another at exchange rates.",
        "parameters": {
            "type": "object",
            "properties": {
                "amount": {"type": "number", "description": "how much money to convert"},
                "from_currency": {"type": "string", "description": "ISO 4217 code, e.g. USD"},
                "to_currency": {"type": "string", "description": "ISO 4217 code, e.g. CAD"},
            },
            "required": ["amount", "from_currency", "to_currency"],
            "additionalProperties": False,
        },
    },
}


def read_conversions(text: str) -> list[dict[str, object]]:
    """Every "<amount> <currency> to <currency>" the sentence asks for."""
    lowered = text.lower()
    order = sorted(
        ((m.start(), code) for name, code in CURRENCIES.items() for m in re.finditer(name, lowered))
    )
    codes = [code for _, code in order]
    amounts = [float(a) for a in re.findall(r"\d+(?:\.\d+)?", text)]
    pairs = list(zip(codes[::2], codes[1::2], strict=False))
    return [
        {"amount": amount, "from_currency": src, "to_currency": dst}
        for amount, (src, dst) in zip(amounts, pairs, strict=False)
    ]


def respond(request: Request) -> Completion:
    last = request.messages[-1]
    usage = Usage(
        prompt_tokens=sum(len(m.content.split()) for m in request.messages), completion_tokens=9
    )
    if last.role == "tool":
        return Completion(text=f"That is {last.content}.", usage=usage)
    conversions = read_conversions(last.content)
    if isinstance(request.constraint, JsonSchemaConstraint):  # the plain strategy's call list
        calls = [{"name": "convert_currency", "arguments": c} for c in conversions]
        return Completion(text=json.dumps(calls), usage=usage)
    choice = request.settings.tool_choice
    if not request.tools or choice == "none" or not conversions:
        return Completion(text="I can convert currencies for you.", usage=usage)
    name = choice if choice not in ("auto", "required") else request.tools[0].name
    calls = [
        ToolCallRequest(id=f"call_{i}", name=name, arguments=c) for i, c in enumerate(conversions)
    ]
    return Completion(tool_calls=calls, usage=usage, finish_reason="tool_calls")


def currency_model() -> ScriptedModel:
    """The native tool-calling flavour (what ``scripted:`` model strings load)."""
    return ScriptedModel(respond, name="scripted-currency")


def grammar_currency_model() -> ScriptedModel:
    """The flavour without native tool calling, like the embedded model."""
    return ScriptedModel(
        respond, name="scripted-grammar", supports_tools=False, supports_grammar=True
    )

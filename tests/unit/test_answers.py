"""Answers a person would write: the model's sentence only when it keeps every number and is
complete and free of code; else the tool's answer template; else a sentence from the tool's
description. Never call syntax, never a sentence cut short."""

from __future__ import annotations

import re
from typing import Any

import pytest

from toolwire.answer import acceptable, describe, factual_answer, outcome_text, spoken
from toolwire.builtin import default_registry
from toolwire.messages import Completion
from toolwire.models.scripted import ScriptedModel
from toolwire.run import CallResult
from toolwire.tools.registry import Registry
from toolwire.tools.schema import ToolError

CALL_SYNTAX = re.compile(r"[A-Za-z_]\w*\(|\w=\S")


def ok(name: str, result: Any, **arguments: Any) -> CallResult:
    return CallResult(id="c1", name=name, arguments=arguments, status="ok", result=result)


def exchange(amount: float, from_currency: str, to_currency: str) -> float:
    """Convert money between currencies.

    Args:
        amount: how much
        from_currency: the source currency, e.g. USD
        to_currency: the target currency, e.g. CAD
    """
    return amount * 3.1417


def templated_registry() -> Registry:
    registry = Registry()
    registry.register(exchange, answer="{amount} {from_currency} is {result:.2f} {to_currency}")
    return registry


def test_a_template_states_the_result_as_a_sentence() -> None:
    registry = templated_registry()
    call = ok("exchange", 131.9514, amount=42, from_currency="USD", to_currency="CAD")
    assert outcome_text(call, registry.get("exchange")) == "42 USD is 131.95 CAD."


def test_a_template_naming_an_unknown_field_fails_at_registration() -> None:
    with pytest.raises(ToolError, match=r"answer template names \{currency\}"):
        Registry().register(exchange, answer="{amount} {currency} is {result}")
    with pytest.raises(ToolError, match="malformed"):
        Registry().register(exchange, answer="{amount is {result}")


def test_a_template_that_does_not_fit_the_call_falls_back_to_the_description() -> None:
    registry = Registry()
    registry.register(exchange, answer="{result:.2f} {to_currency}")
    call = ok("exchange", "not a number", amount=1, from_currency="USD", to_currency="CAD")
    text = outcome_text(call, registry.get("exchange"))
    assert text == ("Convert money between currencies, with amount 1, from currency USD and to "
                    "currency CAD: the result is not a number.")


@pytest.mark.parametrize("status, error, expected", [
    ("error", {"message": "boom"}, "The tool exchange, with amount 42, from currency USD and to "
                                   "currency CAD, failed: boom."),
    ("pending_approval", None, "is waiting for approval before it runs."),
    ("rejected", {"message": "rejected: too costly"}, "was not run: it was rejected: too costly."),
    ("not_executable", None, "The call to make is the tool exchange, with amount 42"),
])
def test_no_outcome_is_written_as_code(status: str, error: Any, expected: str) -> None:
    call = CallResult(id="c", name="exchange", status=status,  # type: ignore[arg-type]
                      arguments={"amount": 42, "from_currency": "USD", "to_currency": "CAD"},
                      error=error)
    text = outcome_text(call, templated_registry().get("exchange"))
    assert expected in text and not CALL_SYNTAX.search(text), text


def test_a_long_result_loses_whole_items_not_half_a_word() -> None:
    text = spoken([f"item number {i}" for i in range(100)])
    # the count left out is no number of the result, so it is not written
    assert text.endswith("item number 7 and more items") and "92" not in text
    long = spoken("word " * 400, budget=50)
    assert long.endswith("(and more)") and all(w in ("word", "(and", "more)") for w in long.split())


@pytest.mark.parametrize("answer, finish, verdict", [
    ("42 US dollars is 131.95 Canadian dollars.", "stop", True),
    ("That is 131.95 Canadian dollars.", "stop", False),  # the amount is lost
    ("42 US dollars is 131.95 Canadian", "length", False),  # cut off by the token limit
    ("42 US dollars is 131.95 Canadian dollars and", "stop", False),  # not a sentence
    ("convert_currency(amount=42) gives 131.95 for 42.", "stop", False),  # code
    ("The result is 2026-12-03T19:44:32+09:00 for 42 and 131.95.", "stop", False),  # data
])
def test_the_model_sentence_must_be_complete_plain_and_keep_every_number(
    answer: str, finish: str, verdict: bool,
) -> None:
    call = ok("convert_currency", 131.95, amount=42, from_currency="USD", to_currency="CAD")
    assert acceptable(answer, [call], finish_reason=finish) is verdict


async def test_describe_falls_back_to_the_template_when_the_model_garbles() -> None:
    registry = default_registry()
    call = ok("convert_currency", 131.95, amount=42, from_currency="USD", to_currency="CAD")
    garbled = ScriptedModel([Completion(text="convert_currency(amount=42) returned 131.95.")])
    text = await describe(garbled, "exchange 42 USD to CAD", [call], [], tools=registry.find)
    assert text == "42 US dollars is 131.95 Canadian dollars."
    cut = ScriptedModel([Completion(text="You get 131.95 Canadian for 42", finish_reason="length")])
    assert await describe(cut, "q", [call], [], tools=registry.find) == text
    fine = ScriptedModel([Completion(text="42 US dollars buys you 131.95 Canadian dollars.")])
    assert await describe(fine, "q", [call], [], tools=registry.find) == (
        "42 US dollars buys you 131.95 Canadian dollars.")


BUILTIN_ANSWERS = [
    (ok("convert_currency", 131.95, amount=42, from_currency="USD", to_currency="CAD"),
     "42 US dollars is 131.95 Canadian dollars."),
    (ok("convert_units", 8.04672, value=5, from_unit="mile", to_unit="kilometer"),
     "5 miles is 8.05 kilometers."),
    (ok("calculate", 27, expression="3 * (4 + 5)"), "3 * (4 + 5) is 27."),
    (ok("calculate", 4.0, expression="sqrt(16)"), "The result is 4."),
    (ok("get_time", "2026-12-03T19:18:05+09:00", timezone="Asia/Tokyo"),
     "It is 19:18 on Thursday, 3 December 2026 in Tokyo."),
    (ok("convert_timezone", "2026-12-03T23:30:00+09:00", time="15:30",
        from_timezone="Europe/London", to_timezone="Asia/Tokyo"),
     "15:30 in London is 23:30 on Thursday, 3 December 2026 in Tokyo."),
    (ok("open_app", {"app": "calculator", "launched": "gnome-calculator", "pid": 7},
        app_name="calculator"), "Opened calculator."),
    (ok("get_weather", {"city": "Paris", "temperature": 12.4, "feels_like": 10.0,
                        "unit": "celsius", "conditions": "Partly cloudy", "humidity_percent": 80,
                        "wind_speed_kmh": 11.5}, city="Paris", unit="celsius"),
     "In Paris it is 12.4 °C (feels like 10 °C), partly cloudy, with humidity 80% and wind "
     "11.5 km/h."),
]


@pytest.mark.parametrize("call, expected", BUILTIN_ANSWERS, ids=[c.name for c, _ in BUILTIN_ANSWERS])
def test_every_builtin_states_its_result_in_words(call: CallResult, expected: str) -> None:
    answer = factual_answer([call], default_registry().find)
    assert answer == expected
    assert not CALL_SYNTAX.search(answer)


def test_a_tool_without_template_gets_a_sentence_from_its_description() -> None:
    registry = Registry()

    @registry.tool
    def lookup_stock(symbol: str) -> dict[str, Any]:
        """Look up the latest price of a stock.

        Args:
            symbol: ticker symbol
        """
        return {}

    call = ok("lookup_stock", {"symbol": "ACME", "price_usd": 12.5}, symbol="ACME")
    answer = factual_answer([call], registry.find)
    assert answer == ("Look up the latest price of a stock, with symbol ACME: the result is "
                      "symbol ACME and price usd 12.5.")
    assert not CALL_SYNTAX.search(answer)


async def test_the_names_people_write_are_rewritten_before_validation() -> None:
    from toolwire.tools.dispatch import dispatch

    registry = default_registry()
    done = await dispatch(registry, "convert_units",
                          {"value": 5, "from_unit": "miles", "to_unit": "km"})
    assert done.status == "ok" and done.result == 8.04672
    money = await dispatch(registry, "convert_currency",
                           {"amount": 42, "from_currency": "US dollars", "to_currency": "CAD"})
    assert money.status == "ok"
    wrong = await dispatch(registry, "convert_units",
                           {"value": 5, "from_unit": "parsecs", "to_unit": "km"})
    assert wrong.status == "invalid"  # what cannot be rewritten is still refused

"""convert_currency: the configured rate table drives the values and the schema's enum."""

from __future__ import annotations

import pytest

from toolwire import Registry
from toolwire.builtin.currency import (
    CurrencyError,
    check_rates,
    convert,
    convert_currency,
    currency_tool,
)
from toolwire.config import DEFAULT_RATES, Settings, get_settings
from toolwire.tools.dispatch import dispatch


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    get_settings.cache_clear()


def test_42_usd_is_131_95_cad() -> None:
    assert convert_currency(42, "USD", "CAD") == 131.95


def test_cross_rates_go_through_usd() -> None:
    rates = {"USD": 1.0, "EUR": 0.5, "GBP": 0.25}
    assert convert(10, "EUR", "GBP", rates) == 5.0
    assert convert(10, "GBP", "USD", rates) == 40.0
    assert convert(1, "EUR", "EUR", rates) == 1.0


def test_unknown_code_is_a_clear_error() -> None:
    with pytest.raises(CurrencyError, match="unknown currency 'XYZ': use one of AUD, CAD"):
        convert_currency(1, "XYZ", "USD")


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ({"usd": 1.0}, "not an ISO 4217 currency code"),
        ({"DOLLAR": 1.0}, "not an ISO 4217 currency code"),
        ({"USD": 0.0}, "must be positive"),
        ({}, "empty"),
    ],
)
def test_bad_rate_tables_are_refused(rates: dict[str, float], message: str) -> None:
    with pytest.raises(CurrencyError, match=message):
        check_rates(rates)


def test_schema_enum_and_descriptions_come_from_the_rate_table() -> None:
    tool = Registry().register(currency_tool())
    props = tool.parameters["properties"]
    assert props["from_currency"]["enum"] == sorted(DEFAULT_RATES)
    assert props["to_currency"]["enum"] == sorted(DEFAULT_RATES)
    assert "USD (US dollar)" in props["from_currency"]["description"]
    assert "CAD (Canadian dollar)" in props["to_currency"]["description"]
    assert props["amount"]["type"] == "number"
    assert tool.import_path == "toolwire.builtin.currency:convert_currency"


async def test_custom_rates_change_the_enum_and_drop_the_import_path() -> None:
    settings = Settings(currency_rates={"USD": 1.0, "SEK": 10.0})
    registry = Registry()
    tool = registry.register(currency_tool(settings))
    assert tool.parameters["properties"]["to_currency"]["enum"] == ["SEK", "USD"]
    assert tool.import_path is None  # the module function would use other rates
    assert (
        await dispatch(
            registry,
            "convert_currency",
            {"amount": 3, "from_currency": "USD", "to_currency": "SEK"},
        )
    ).result == 30.0
    refused = await dispatch(
        registry, "convert_currency", {"amount": 3, "from_currency": "USD", "to_currency": "CAD"}
    )
    assert refused.status == "invalid"


def test_rates_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_CURRENCY_RATES", '{"USD": 1.0, "EUR": 2.0}')
    get_settings.cache_clear()
    assert convert_currency(5, "USD", "EUR") == 10.0
    tool = Registry().register(currency_tool())
    assert tool.import_path == "toolwire.builtin.currency:convert_currency"
    get_settings.cache_clear()

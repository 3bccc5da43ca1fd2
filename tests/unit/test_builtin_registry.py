"""register_builtins: every built-in tool registered with a sound schema and import path."""

from __future__ import annotations

import importlib

from toolwire import Registry
from toolwire.builtin import BUILTIN_NAMES, default_registry, register_builtins


def test_default_registry_holds_the_builtins() -> None:
    registry = default_registry()
    assert registry.names == list(BUILTIN_NAMES)
    assert register_builtins(Registry()).names == registry.names


def test_every_builtin_is_described_and_importable() -> None:
    for tool in default_registry():
        assert tool.executable and tool.description and len(tool.description) <= 90, tool.name
        assert tool.import_path is not None
        module, _, name = tool.import_path.partition(":")
        assert callable(getattr(importlib.import_module(module), name))
        for param, schema in tool.parameters["properties"].items():
            assert schema.get("description"), f"{tool.name}.{param} lacks a description"
            assert "\n" not in schema["description"]


def test_schemas_carry_enums_and_defaults() -> None:
    registry = default_registry()
    weather = registry.get("get_weather").parameters
    assert weather["required"] == ["city"]
    assert weather["properties"]["unit"] == {
        "default": "celsius",
        "description": "temperature unit of the answer",
        "enum": ["celsius", "fahrenheit"],
        "type": "string",
    }
    assert registry.get("get_time").parameters["properties"]["timezone"]["default"] == "UTC"
    app = registry.get("open_app").parameters["properties"]["app_name"]
    assert "calculator" in app["enum"] and "chrome" in app["enum"]
    units = registry.get("convert_units").parameters["properties"]["from_unit"]["enum"]
    assert {"mile", "kilogram", "celsius", "liter", "knot"} <= set(units)
    assert registry.get("calculate").parameters["properties"]["expression"]["type"] == "string"


def test_keywords_help_retrieval() -> None:
    registry = default_registry()
    assert {"exchange", "money", "forex"} <= set(registry.get("convert_currency").keywords)
    assert "forecast" in registry.get("get_weather").keywords

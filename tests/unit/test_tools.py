"""Registry: schemas from signatures and docstrings, schema-only specs, clear errors."""

from __future__ import annotations

import enum
from typing import Literal

import pytest
from pydantic import BaseModel

from toolwire import Registry, ToolError


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(BaseModel):
    x: float
    y: float


def test_google_docstring_becomes_descriptions() -> None:
    registry = Registry()

    @registry.tool
    def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
        """Convert an amount of money from one currency to another.

        Args:
            amount: the amount to convert
            from_currency: ISO 4217 code of the source currency, e.g. USD
            to_currency: ISO 4217 code of the target currency, e.g. CAD
        """
        return amount

    tool = registry.get("convert_currency")
    assert tool.description == "Convert an amount of money from one currency to another."
    props = tool.parameters["properties"]
    assert props["amount"] == {"type": "number", "description": "the amount to convert"}
    assert props["from_currency"]["description"].startswith("ISO 4217 code of the source")
    assert tool.parameters["required"] == ["amount", "from_currency", "to_currency"]
    assert tool.parameters["additionalProperties"] is False
    assert tool.import_path is None  # a local function cannot be imported by a snippet


@pytest.mark.parametrize("style", ["numpy", "rest"])
def test_numpy_and_rest_docstrings(style: str) -> None:
    doc = {
        "numpy": "Add.\n\nParameters\n----------\na : int\n    first term\nb : int\n    second term\n",
        "rest": "Add.\n\n:param a: first term\n:param b: second term\n",
    }[style]

    def add(a: int, b: int = 2) -> int:
        return a + b

    add.__doc__ = doc
    tool = Registry().register(add)
    assert tool.parameters["properties"]["a"]["description"] == "first term"
    assert tool.parameters["properties"]["b"] == {
        "type": "integer",
        "default": 2,
        "description": "second term",
    }
    assert tool.parameters["required"] == ["a"]


def test_enums_literals_optionals_lists_and_nested_models() -> None:
    def paint(
        color: Color,
        mode: Literal["fast", "slow"],
        points: list[Point],
        note: str | None = None,
    ) -> None:
        """Paint points."""

    schema = Registry().register(paint).parameters
    assert schema["required"] == ["color", "mode", "points"]
    assert schema["properties"]["mode"]["enum"] == ["fast", "slow"]
    assert "$defs" in schema and "Color" in schema["$defs"] and "Point" in schema["$defs"]
    tool = Registry().register(paint)
    assert tool.validate({"color": "red", "mode": "fast", "points": [{"x": 1, "y": 2}]}) == []
    errors = tool.validate({"color": "green", "mode": "fast", "points": []})
    assert errors and errors[0].startswith("color:")


def test_validate_reports_paths_and_extra_keys() -> None:
    registry = Registry()
    registry.add_schema(
        {
            "name": "f",
            "description": "d",
            "parameters": {
                "type": "object",
                "properties": {"n": {"type": "integer", "maximum": 3}},
                "required": ["n"],
                "additionalProperties": False,
            },
        }
    )
    tool = registry.get("f")
    assert tool.validate({"n": 2}) == []
    assert tool.validate({"n": 9}) == ["n: 9 is greater than the maximum of 3"]
    assert tool.validate({}) == ["(arguments): 'n' is a required property"]
    assert not tool.executable


def test_duplicate_names_and_bad_schemas_are_clear_errors() -> None:
    registry = Registry()
    registry.add_schema({"name": "f", "parameters": {"type": "object", "properties": {}}})
    with pytest.raises(ToolError, match="already registered"):
        registry.add_schema({"name": "f"})
    with pytest.raises(ToolError, match="invalid parameters schema"):
        registry.add_schema({"name": "g", "parameters": {"type": "object", "properties": 3}})
    with pytest.raises(ToolError, match="type 'object'"):
        registry.add_schema({"name": "h", "parameters": {"type": "string"}})
    for bad in ("", "   ", " padded", "line\nbreak", "x" * 257):
        with pytest.raises(ToolError, match="invalid tool name"):
            registry.add_schema({"name": bad})
    with pytest.raises(ToolError, match="name"):
        registry.add_schema({"description": "no name"})


def test_openai_wrapped_spec_and_decorator_options() -> None:
    registry = Registry()
    registry.add_schema({"type": "function", "function": {"name": "w", "description": "x"}})
    assert "w" in registry

    @registry.tool(name="sum2", keywords=("add",), timeout=1.5, requires_approval=True)
    def s(a: int) -> int:
        """Sum."""
        return a

    tool = registry.get("sum2")
    assert tool.keywords == ("add",) and tool.timeout == 1.5 and tool.requires_approval
    assert s(3) == 3  # the decorator returns the function itself
    assert [t.name for t in registry] == ["w", "sum2"] and len(registry) == 2


def test_var_args_refused() -> None:
    def f(*args: int) -> None:
        """F."""

    with pytest.raises(ToolError, match=r"\*args"):
        Registry().register(f)


@pytest.mark.parametrize("name", [
    "Get_Hotel_Reviews(Tips)_Sort_Option", "billing.invoices.list", "get /pets/{petId}",
    "名前", "a:b", "x" * 256,
])
def test_any_printable_name_is_kept_as_given(name: str) -> None:
    registry = Registry()
    tool = registry.add_schema({"name": name, "parameters": {"type": "object", "properties": {}}})
    assert tool.name == name and registry.get(name) is tool and tool.source == "schema"


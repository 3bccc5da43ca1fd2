"""snippet_for: valid Python for any JSON arguments, faithful literals, the right call form."""

from __future__ import annotations

import ast
import enum
import math
from typing import Any, Literal

import pytest

from toolwire import Registry
from toolwire.tools import Tool
from toolwire.tools.snippets import snippet_for


class Size(enum.Enum):
    SMALL = "small"
    LARGE = "large"


def echo(**kwargs: Any) -> dict[str, Any]:
    """Return the arguments."""
    return kwargs


def pick(size: Size, shape: Literal["round", "square"]) -> str:
    """Pick a size and shape."""
    return f"{size.value} {shape}"


async def fetch(url: str) -> str:
    """Fetch a URL."""
    return url


TRICKY: list[Any] = [
    'it\'s a "quote"',
    "line one\nline two\r\n\ttabbed \\ backslash",
    "'''triple''' \"\"\"double\"\"\"",
    "unicode: café ☕ \u2028 separator",
    "# not a comment",
    "",
    None,
    True,
    False,
    0,
    -17,
    10**40,
    3.14159,
    -0.0,
    1e-300,
    [],
    {},
    [1, "two", None, [3.5, {"deep": [True]}]],
    {"nested": {"list": [1, 2, {"k": "v'\""}], "none": None}},
    {"weird key with spaces": 1, "class": 2, "": 3, "a\nb": 4},
    ["x" * 30 for _ in range(10)],
]


def _tool(handler: Any = None, import_path: str | None = None, name: str = "echo") -> Tool:
    return Tool(
        name=name,
        description="Return the arguments.\nSecond line of the description.",
        parameters={"type": "object", "properties": {}},
        handler=handler,
        import_path=import_path,
    )


def _call_keywords(source: str) -> dict[str, Any]:
    """The keyword arguments of the one ``result = f(...)`` call in ``source``, evaluated as
    literals (``ast.literal_eval`` never runs code)."""
    tree = ast.parse(source)
    calls = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        and isinstance(n.targets[0], ast.Name)
        and n.targets[0].id == "result"
    ]
    call = calls[0]
    if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "run":  # asyncio.run
        call = call.args[0]
    assert isinstance(call, ast.Call)
    found: dict[str, Any] = {}
    for kw in call.keywords:
        value = _literal(kw.value)
        if kw.arg is None:
            found.update(value)
        else:
            found[kw.arg] = value
    return found


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "float":
        return float(ast.literal_eval(node.args[0]))
    return ast.literal_eval(node)


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_runnable_snippet_is_valid_python_with_the_same_values(value: Any) -> None:
    tool = _tool(echo, "tests.unit.test_snippets:echo")
    arguments = {"value": value, "other": "x"}
    source = snippet_for(tool, arguments)
    assert _call_keywords(source) == arguments


def test_all_tricky_values_at_once_including_odd_keys() -> None:
    arguments = {f"k{i}": v for i, v in enumerate(TRICKY)} | {"class": 1, "two words": 2}
    source = snippet_for(_tool(echo, "tests.unit.test_snippets:echo"), arguments)
    assert _call_keywords(source) == arguments
    assert "**{" in source  # names that are not identifiers go through a dict


def test_non_finite_floats_stay_valid_python() -> None:
    source = snippet_for(
        _tool(echo, "tests.unit.test_snippets:echo"), {"a": math.inf, "b": -math.inf}
    )
    assert _call_keywords(source) == {"a": math.inf, "b": -math.inf}


def test_runnable_snippet_shape() -> None:
    source = snippet_for(_tool(echo, "tests.unit.test_snippets:echo"), {"n": 1})
    assert "from tests.unit.test_snippets import echo\n" in source
    assert "    result = echo(n=1)\n" in source
    assert "print(json.dumps(result, default=str))" in source
    assert "except Exception as error:" in source
    assert "validate_call" not in source


def test_long_calls_put_one_argument_per_line() -> None:
    source = snippet_for(
        _tool(echo, "tests.unit.test_snippets:echo"), {"first": "a" * 40, "second": "b" * 40}
    )
    assert "    result = echo(\n        first='" in source


def test_enum_parameters_go_through_validate_call() -> None:
    r = Registry()
    tool = r.register(pick)
    source = snippet_for(tool, {"size": "large", "shape": "round"})
    assert "from pydantic import validate_call" in source
    assert "result = validate_call(pick)(size='large', shape='round')" in source


def test_literal_parameters_need_no_conversion() -> None:
    r = Registry()

    def shape_only(shape: Literal["round", "square"]) -> str:
        return shape

    tool = r.register(shape_only)
    tool.import_path = "somewhere:shape_only"
    assert "validate_call" not in snippet_for(tool, {"shape": "round"})


def test_async_handlers_run_with_asyncio() -> None:
    tool = Registry().register(fetch)
    source = snippet_for(tool, {"url": "https://example.com"})
    assert "import asyncio" in source
    assert "result = asyncio.run(fetch(url='https://example.com'))" in source
    ast.parse(source)


def test_names_that_clash_with_the_snippet_are_aliased() -> None:
    source = snippet_for(_tool(echo, "mytools:json"), {"a": 1})
    assert "from mytools import json as tool_function" in source
    assert "result = tool_function(a=1)" in source


@pytest.mark.parametrize(
    "import_path",
    ["os:system('rm -rf /')", "os; import sys:x", "a:b:c", "mod:", ":fn", "m.1x:fn", "m:class"],
)
def test_unsafe_import_paths_are_not_written_as_code(import_path: str) -> None:
    source = snippet_for(_tool(echo, import_path), {"a": 1})
    assert source.startswith("# NOT EXECUTABLE")
    assert "import os" not in source and "system(" not in source.split("arguments = ")[1]
    ast.parse(source)


def test_schema_only_snippet_documents_the_call() -> None:
    tool = _tool(name="get-stock.price")
    arguments = {"symbol": "AAPL", "note": "multi\nline 'quoted'"}
    source = snippet_for(tool, arguments)
    tree = ast.parse(source)
    assert source.startswith("# NOT EXECUTABLE: 'get-stock.price'")
    assert "schema-only tool" in source
    assert "#   get-stock.price(symbol='AAPL', note=\"multi\\nline 'quoted'\")" in source
    assert "# Second line of the description." in source
    assigned = [n for n in tree.body if isinstance(n, ast.Assign)]
    assert ast.literal_eval(assigned[0].value) == arguments


def test_handler_defined_in_a_function_is_documented_not_imported() -> None:
    def inner(x: int) -> int:
        return x

    tool = Registry().register(inner)
    source = snippet_for(tool, {"x": 1})
    assert tool.import_path is None
    assert source.startswith("# NOT EXECUTABLE") and "cannot be imported" in source

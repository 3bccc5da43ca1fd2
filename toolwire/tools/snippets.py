"""The reproducible Python snippet of a tool call.

``snippet_for(tool, arguments)`` returns self-contained source that imports the tool's function
(from ``tool.import_path``), calls it with the same arguments as Python literals and prints
the result as JSON (``json.dumps(result, default=str)``), or ``{"error": {"type", "message"}}``
and exit status 1 when the call raises, so running it shows what toolwire recorded:

    # Reproduces toolwire's call of convert_currency; prints the result (or error) as JSON.
    import json
    import sys

    from toolwire.builtin.currency import convert_currency

    try:
        result = convert_currency(
            amount=42,
            from_currency='USD',
            to_currency='CAD',
        )
    except Exception as error:
        ...

When the JSON values must become other types first (an enum, a nested model, a date), the call
goes through ``pydantic.validate_call``, as toolwire's own dispatch does. A tool without an
import path (schema-only, or defined inside a function) gets a snippet that documents the call
and its JSON arguments and is marked NOT EXECUTABLE. Argument values are rendered with
``repr``, never evaluated.
"""

from __future__ import annotations

import inspect
import keyword
import math
from typing import Any

from toolwire.tools.dispatch import ArgumentError, coerce_arguments, to_json_value
from toolwire.tools.registry import Tool

__all__ = ["snippet_for"]

_WIDTH = 88
_TYPED_NOTE = "    # validate_call turns the JSON values into the annotated types, as toolwire does"
_TAKEN = frozenset({"asyncio", "json", "sys", "validate_call", "result", "error"})


def snippet_for(tool: Tool, arguments: dict[str, Any]) -> str:
    """Python source reproducing the call of ``tool`` with ``arguments`` (JSON values)."""
    values: dict[str, Any] = to_json_value(arguments)
    if tool.snippet is not None:
        return tool.snippet(values)
    target = _import_target(tool.import_path)
    if target is None:
        return _documented(tool, values)
    return _runnable(tool, values, *target)


# -- runnable -------------------------------------------------------------------------------
def _import_target(import_path: str | None) -> tuple[str, str] | None:
    """``(module, qualname)`` when ``import_path`` is a safe ``pkg.module:Name.attr``."""
    if not import_path or import_path.count(":") != 1:
        return None
    module, qualname = import_path.split(":")
    if not all(_is_name(part) for part in (*module.split("."), *qualname.split("."))):
        return None
    return module, qualname


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def _runnable(tool: Tool, arguments: dict[str, Any], module: str, qualname: str) -> str:
    head, _, rest = qualname.partition(".")
    alias = "tool_function" if head in _TAKEN else head
    imported = f"from {module} import {head}" + (f" as {alias}" if alias != head else "")
    function = alias + (f".{rest}" if rest else "")
    typed = _needs_types(tool, arguments)
    if typed:
        function = f"validate_call({function})"
    call = _call(function, arguments, indent=4)
    if tool.handler is not None and inspect.iscoroutinefunction(tool.handler):
        call = f"asyncio.run({call})"
    lines = [
        f"# Reproduces toolwire's call of {tool.name}; prints the result (or error) as JSON.",
        *(["import asyncio"] if call.startswith("asyncio.run(") else []),
        "import json",
        "import sys",
        "",
        *(["from pydantic import validate_call"] if typed else []),
        imported,
        "",
        "try:",
        *([_TYPED_NOTE] if typed else []),
        f"    result = {call}",
        "except Exception as error:",
        '    failure = {"type": type(error).__name__, "message": str(error)}',
        '    print(json.dumps({"error": failure}, default=str))',
        "    sys.exit(1)",
        "print(json.dumps(result, default=str))",
    ]
    return "\n".join(lines) + "\n"


def _needs_types(tool: Tool, arguments: dict[str, Any]) -> bool:
    """Whether the handler's annotations turn some JSON value into another type."""
    if tool.handler is None:
        return False
    try:
        coerced = coerce_arguments(tool.handler, arguments)
    except ArgumentError:
        return True
    return not all(_same(coerced[k], v) for k, v in arguments.items())


def _same(converted: Any, original: Any) -> bool:
    if type(converted) is float and type(original) is int:
        return converted == original
    if type(converted) is not type(original):
        return False
    if isinstance(original, dict):
        return converted.keys() == original.keys() and all(
            _same(converted[k], v) for k, v in original.items()
        )
    if isinstance(original, list):
        return len(converted) == len(original) and all(map(_same, converted, original))
    return bool(converted == original) or (
        isinstance(original, float) and math.isnan(original) and math.isnan(converted)
    )


def _call(function: str, arguments: dict[str, Any], *, indent: int) -> str:
    """``function(name=value, ...)``, one argument per line when it does not fit in one."""
    named = [(k, v) for k, v in arguments.items() if _is_name(k)]
    other = {k: v for k, v in arguments.items() if not _is_name(k)}
    inner = " " * (indent + 4)
    parts = [f"{k}={_literal(v, len(inner))}" for k, v in named]
    if other:
        parts.append(f"**{_literal(other, len(inner))}")
    one_line = f"{function}({', '.join(parts)})"
    if len(one_line) + indent <= _WIDTH and "\n" not in one_line:
        return one_line
    body = "".join(f"{inner}{part},\n" for part in parts)
    return f"{function}(\n{body}{' ' * indent})"


def _literal(value: Any, indent: int = 0) -> str:
    """``value`` (JSON data) as a Python literal, nested containers spread over lines."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, dict):
        items = [f"{_literal(str(k))}: {_literal(v, indent + 4)}" for k, v in value.items()]
        return _container("{", items, "}", indent)
    if isinstance(value, list | tuple):
        return _container("[", [_literal(v, indent + 4) for v in value], "]", indent)
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    return repr(str(value))


def _container(opening: str, items: list[str], closing: str, indent: int) -> str:
    one_line = opening + ", ".join(items) + closing
    if len(one_line) + indent <= _WIDTH and "\n" not in one_line:
        return one_line
    pad = " " * (indent + 4)
    return opening + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + closing


# -- documented only ------------------------------------------------------------------------
def _documented(tool: Tool, arguments: dict[str, Any]) -> str:
    why = (
        "it is a schema-only tool: toolwire has no Python handler for it"
        if tool.handler is None
        else "its handler cannot be imported (it is defined inside a function)"
    )
    call = _call(tool.name, arguments, indent=0)
    lines = [
        f"# NOT EXECUTABLE: {tool.name!r} cannot be reproduced in Python here;",
        f"# {why}.",
        "# The call toolwire made, as a documented function call:",
        "#",
        *_comment(tool.description),
        "#",
        *_comment(call, prefix="#   "),
        "#",
        "# and its JSON arguments:",
        "import json",
        "",
        f"arguments = {_literal(arguments)}",
        f'print(json.dumps({{"tool": {tool.name!r}, "arguments": arguments, "executed": False}}))',
    ]
    return "\n".join(lines) + "\n"


def _comment(text: str, *, prefix: str = "# ") -> list[str]:
    return [(prefix + line).rstrip() for line in (text or "(no description)").splitlines()]

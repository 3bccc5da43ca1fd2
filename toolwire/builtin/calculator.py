"""``calculate``: arithmetic on a parsed expression tree, never ``eval``.

Only numbers, ``+ - * / // % **`` (``^`` also means power), unary signs, parentheses, the
constants ``pi e tau`` and a few ``math`` functions are accepted; anything else (names,
attributes, strings, comprehensions...) is refused with a ``CalculatorError`` that says what.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

MAX_LENGTH = 500
"""Longest expression accepted (keeps parsing and big-number chains cheap)."""
MAX_BITS = 4096
"""Largest integer power computed exactly; beyond it the result would be astronomically big."""

Number = int | float


class CalculatorError(ValueError):
    """An expression that is not plain arithmetic, or whose value cannot be computed."""


def _factorial(n: Number) -> Number:
    if n != int(n) or not 0 <= n <= 1000:
        raise CalculatorError("factorial needs a whole number from 0 to 1000")
    return math.factorial(int(n))


FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "radians": math.radians,
    "degrees": math.degrees,
    "factorial": _factorial,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,  # people write 2^10 for a power
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_SYMBOLS = str.maketrans({"×": "*", "÷": "/", "−": "-"})


KEYWORDS = (
    "math", "arithmetic", "compute", "sum", "multiply", "plus", "minus", "times", "divided by",
    "square root", "power", "percent of",
)
"""What people write when they want a sum worked out; retrieval reads the operators of a
written expression as these words ("17 * 23" as "17 multiply 23")."""


def calculate(expression: str) -> float:
    """Evaluate an arithmetic expression, like a calculator.

    Args:
        expression: arithmetic to compute, e.g. "(2 + 3) * 4", "sqrt(16)", "2 ** 10", "sin(pi/2)"
    """
    tree = _parse(expression)
    try:
        value = _evaluate(tree.body)
        result = float(value)
    except CalculatorError:
        raise
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None
    except OverflowError:
        raise CalculatorError("the result is too large to compute") from None
    except (ValueError, TypeError) as e:
        raise CalculatorError(f"cannot compute {expression!r}: {e}") from None
    if not math.isfinite(result):
        raise CalculatorError("the result is not a finite number")
    return result


def _parse(expression: str) -> ast.Expression:
    if not isinstance(expression, str) or not expression.strip():
        raise CalculatorError("give an arithmetic expression, e.g. '2 + 2'")
    if len(expression) > MAX_LENGTH:
        raise CalculatorError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        return ast.parse(expression.translate(_SYMBOLS).strip(), mode="eval")
    except SyntaxError as e:
        raise CalculatorError(f"not a valid arithmetic expression ({e.msg}): {expression!r}") from e
    except (ValueError, RecursionError, MemoryError) as e:
        raise CalculatorError(f"not a valid arithmetic expression: {expression!r}") from e


def _evaluate(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        return _number(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow | ast.BitXor):
            _check_power(left, right)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CalculatorError(f"unknown name {node.id!r}: only pi, e and tau are defined")
    if isinstance(node, ast.Call):
        return _call(node)
    raise CalculatorError(f"not allowed in a calculation: {_describe(node)}")


def _number(value: object) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalculatorError(f"not a number: {value!r}")
    return value


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > 10_000 or (
        abs(base) > 1 and abs(exponent) * math.log2(abs(base)) > MAX_BITS
    ):
        raise CalculatorError("the power is too large to compute")


def _call(node: ast.Call) -> Number:
    if not isinstance(node.func, ast.Name):
        raise CalculatorError(f"not allowed in a calculation: {_describe(node.func)}")
    name = node.func.id
    if name not in FUNCTIONS:
        allowed = ", ".join(sorted(FUNCTIONS))
        raise CalculatorError(f"unknown function {name!r}: use one of {allowed}")
    if node.keywords:
        raise CalculatorError(f"{name}() takes positional arguments only")
    return FUNCTIONS[name](*(_evaluate(arg) for arg in node.args))


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "indexing",
        ast.Lambda: "lambda",
        ast.Compare: "comparison",
        ast.BoolOp: "boolean logic",
    }
    return kinds.get(type(node), type(node).__name__)

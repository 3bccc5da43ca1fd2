"""calculate: arithmetic right, everything else refused with a clear message."""

from __future__ import annotations

import math

import pytest

from toolwire.builtin.calculator import CalculatorError, calculate


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 3 * 4", 14.0),
        ("(2 + 3) * 4", 20.0),
        ("7 / 2", 3.5),
        ("7 // 2", 3.0),
        ("7 % 4", 3.0),
        ("2 ** 10", 1024.0),
        ("2 ^ 10", 1024.0),
        ("-3 + +5", 2.0),
        ("--4", 4.0),
        ("sqrt(16)", 4.0),
        ("sin(pi / 2)", 1.0),
        ("cos(0)", 1.0),
        ("log(e)", 1.0),
        ("log(8, 2)", 3.0),
        ("abs(-2.5)", 2.5),
        ("round(2.567, 2)", 2.57),
        ("factorial(5)", 120.0),
        ("3 × 4 ÷ 2", 6.0),
        ("1e3 + 0.5", 1000.5),
        ("  42  ", 42.0),
    ],
)
def test_arithmetic(expression: str, expected: float) -> None:
    assert calculate(expression) == pytest.approx(expected)


def test_result_is_a_float() -> None:
    assert isinstance(calculate("1 + 1"), float)
    assert calculate("tau") == pytest.approx(2 * math.pi)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('echo hacked')", "attribute access"),
        ("().__class__.__bases__[0]", "indexing"),
        ("().__class__", "attribute access"),
        ("getattr(1, 'real')", "unknown function 'getattr'"),
        ("eval('1')", "unknown function 'eval'"),
        ("(1).real", "attribute access"),
        ("os", "unknown name 'os'"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("math.sqrt(4)", "attribute access"),
        ("[1, 2][0]", "indexing"),
        ("lambda: 1", "lambda"),
        ("'a' * 3", "not a number: 'a'"),
        ("True + 1", "not a number: True"),
        ("1 < 2", "comparison"),
        ("1 << 10", "BinOp"),
        ("sqrt(x=4)", "positional arguments only"),
        ("x = 1", "not a valid arithmetic expression"),
        ("import os", "not a valid arithmetic expression"),
        ("", "give an arithmetic expression"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("sqrt(-1)", "math domain error"),
        ("9 ** 9 ** 9", "too large"),
        ("10 ** 100000", "too large"),
        ("2.0 ** 5000", "too large"),
        ("factorial(100000)", "factorial needs a whole number"),
        ("1e308 * 10", "not a finite number"),
        ("1 + " * 200 + "1", "longer than 500"),
    ],
)
def test_refused(expression: str, message: str) -> None:
    with pytest.raises(CalculatorError) as info:
        calculate(expression)
    assert message in str(info.value)


def test_deep_nesting_is_computed_or_refused_cleanly() -> None:
    assert calculate("(" * 100 + "1" + ")" * 100) == 1.0
    assert calculate("-" * 499 + "1") == -1.0
    with pytest.raises(CalculatorError, match="too many nested parentheses"):
        calculate("(" * 240 + "1" + ")" * 240)

"""Adapter to bfcl-eval's own checker and data: toolwire never re-implements BFCL's scoring.

bfcl-eval is installed lean (``--no-deps``, see DESIGN.md): its ``constants.model_config``
module imports every provider SDK, yet the AST checker only reads
``MODEL_CONFIG_MAPPING[model].underscore_to_dot``. Before importing the checker this module
puts a small stand-in for ``model_config`` in ``sys.modules`` (or, where the full package is
installed and already imported, adds toolwire's entry to the real mapping), and points
``BFCL_PROJECT_ROOT`` at a temporary directory because bfcl-eval creates result folders there
on import.

    verdict = check(category="simple_python", functions=entry["function"],
                    calls=[{"math.factorial": {"number": 5}}], ground_truth=answer["ground_truth"])
    verdict.valid, verdict.error_type
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

#: The model name toolwire passes to the checker; function names keep their dots.
CHECKER_MODEL_NAME = "toolwire"

_MODEL_CONFIG = "bfcl_eval.constants.model_config"
_INSTALL_HINT = (
    'BFCL evaluation needs bfcl-eval: pip install --no-deps "bfcl-eval==2026.3.23" '
    '"tree_sitter==0.21.3" filelock tenacity (or `make install`)'
)


class CheckerUnavailable(ImportError):
    """bfcl-eval is not installed (or not importable); the message says how to install it."""


@dataclass(kw_only=True, frozen=True)
class _ModelConfig:
    """The one field of bfcl-eval's ``ModelConfig`` that the AST checker reads."""

    underscore_to_dot: bool = False
    """True for providers that rename ``a.b`` to ``a_b``; toolwire keeps the dots."""


class _AnyModelConfig(dict[str, Any]):
    """A mapping that answers every model name with a dots-kept config."""

    def __missing__(self, key: str) -> _ModelConfig:
        return _ModelConfig()


@dataclass(kw_only=True)
class Verdict:
    """What the checker said about one answer."""

    valid: bool
    error_type: str | None = None
    """The checker's error type, e.g. ``simple_function_checker:wrong_func_name``."""
    errors: list[Any] = field(default_factory=list)
    """The checker's error details (JSON-serialisable)."""


def _install_model_config_stub() -> None:
    """Make ``bfcl_eval.constants.model_config`` importable without any provider SDK."""
    existing = sys.modules.get(_MODEL_CONFIG)
    if existing is not None:
        mapping = getattr(existing, "MODEL_CONFIG_MAPPING", None)
        if isinstance(mapping, dict) and not isinstance(mapping, _AnyModelConfig):
            mapping.setdefault(CHECKER_MODEL_NAME, _ModelConfig())
        return
    stub = types.ModuleType(_MODEL_CONFIG)
    stub.__doc__ = "toolwire's stand-in: the AST checker only reads underscore_to_dot."
    stub.MODEL_CONFIG_MAPPING = _AnyModelConfig()  # type: ignore[attr-defined]
    stub.ModelConfig = _ModelConfig  # type: ignore[attr-defined]
    sys.modules[_MODEL_CONFIG] = stub


@cache
def _bfcl() -> types.SimpleNamespace:
    """Import the parts of bfcl-eval the harness uses (once)."""
    if "BFCL_PROJECT_ROOT" not in os.environ:  # bfcl-eval makes result folders there on import
        root = tempfile.mkdtemp(prefix="toolwire-bfcl-")
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        os.environ["BFCL_PROJECT_ROOT"] = root
    _install_model_config_stub()
    try:
        from bfcl_eval.constants.enums import Language
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
        from bfcl_eval.utils import (
            is_empty_output,
            is_function_calling_format_output,
            load_dataset_entry,
            load_ground_truth_entry,
        )
    except ImportError as e:
        raise CheckerUnavailable(f"{_INSTALL_HINT} ({e})") from e
    return types.SimpleNamespace(
        ast_checker=ast_checker,
        python=Language.PYTHON,
        is_empty_output=is_empty_output,
        is_format_ok=is_function_calling_format_output,
        load_dataset_entry=load_dataset_entry,
        load_ground_truth_entry=load_ground_truth_entry,
    )


def load_entries(category: str) -> list[dict[str, Any]]:
    """The category's questions as bfcl-eval loads them (without its language hint)."""
    entries: list[dict[str, Any]] = _bfcl().load_dataset_entry(
        category, include_prereq=False, include_language_specific_hint=False
    )
    return entries


def load_ground_truth(category: str) -> dict[str, list[dict[str, Any]]]:
    """The category's possible answers keyed by question id; empty for (ir)relevance."""
    if is_relevance_category(category):
        return {}
    rows = _bfcl().load_ground_truth_entry(category)
    return {row["id"]: row["ground_truth"] for row in rows}


def is_relevance_category(category: str) -> bool:
    """Categories scored by whether a call was made at all, not by its content."""
    return "relevance" in category


def check(
    *,
    category: str,
    functions: list[dict[str, Any]],
    calls: list[dict[str, dict[str, Any]]],
    ground_truth: list[dict[str, Any]] | None,
) -> Verdict:
    """Score ``calls`` (``[{name: {arg: value}}]``) the way bfcl-eval's runner does."""
    bfcl = _bfcl()
    if is_relevance_category(category):
        return _check_relevance(category, calls, bfcl.is_empty_output(calls))
    if not bfcl.is_format_ok(calls):
        return Verdict(valid=False, error_type="ast_decoder:decoder_wrong_output_format")
    if ground_truth is None:
        raise ValueError(f"{category}: no ground truth for an AST-scored question")
    try:
        result = bfcl.ast_checker(
            functions, calls, ground_truth, bfcl.python, category, CHECKER_MODEL_NAME
        )
    except Exception as e:  # the checker's own crash on odd output is a wrong answer
        return Verdict(
            valid=False, error_type="checker:exception", errors=[f"{type(e).__name__}: {e}"]
        )
    return _verdict(result)


def _check_relevance(category: str, calls: list[Any], empty: bool) -> Verdict:
    if "irrelevance" in category:
        if empty:
            return Verdict(valid=True)
        return Verdict(
            valid=False,
            error_type="irrelevance_error:decoder_success",
            errors=["Valid syntax. Successfully decode AST when it should not."],
        )
    if not empty:
        return Verdict(valid=True)
    return Verdict(
        valid=False,
        error_type="relevance_error:decoder_failed",
        errors=["No function call when one was expected."],
    )


def _verdict(result: Mapping[str, Any]) -> Verdict:
    valid = bool(result.get("valid"))
    if valid:
        return Verdict(valid=True)
    return Verdict(
        valid=False,
        error_type=str(result.get("error_type") or "unknown"),
        errors=_jsonable(result.get("error") or []),
    )


def _jsonable(value: Any) -> Any:
    """Checker error details contain plain data; anything else becomes its ``repr``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)

"""Every function schema in the BFCL data converts to each dialect, obeys that dialect's rules,
and round-trips to the same ToolSpec."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolwire.dialects import (
    WireNames,
    from_anthropic,
    from_gemini,
    from_openai,
    onto_schema,
    to_anthropic,
    to_gemini,
    to_openai,
)
from toolwire.dialects import anthropic as anthropic_dialect
from toolwire.dialects import gemini as gemini_dialect
from toolwire.dialects import openai as openai_dialect
from toolwire.models.base import ToolSpec

bfcl_data = pytest.importorskip("toolwire.eval.bfcl_data")


def _functions(path: Path) -> Iterator[dict]:
    for entry in bfcl_data.read_jsonl(path):
        if "function" in entry:
            functions = entry["function"]
            yield from functions if isinstance(functions, list) else [functions]
        elif "parameters" in entry:  # multi_turn_func_doc: one function per line
            yield entry


def _all_specs() -> list[ToolSpec]:
    try:
        root = bfcl_data.data_dir()
    except ImportError:
        return []
    files = sorted(root.glob("BFCL_v4_*.json")) + sorted(
        (root / "multi_turn_func_doc").glob("*.json")
    )
    specs: dict[str, ToolSpec] = {}
    for path in files:
        if path.stem.endswith("format_sensitivity"):
            continue
        for fn in _functions(path):
            spec = ToolSpec(
                name=fn["name"],
                description=fn.get("description", ""),
                parameters=bfcl_data.bfcl_to_json_schema(fn.get("parameters")),
            )
            key = json.dumps([spec.name, spec.description, spec.parameters], sort_keys=True)
            specs[key] = spec
    return list(specs.values())


SPECS = _all_specs()


def test_the_bfcl_pool_is_all_there() -> None:
    if not SPECS:
        pytest.skip("bfcl-eval is not installed")
    assert len(SPECS) > 2000  # distinct (name, description, schema) triples, all categories


def _check(spec: ToolSpec, dialect: str) -> None:
    wire_dialect = "openai" if dialect == "openai-strict" else dialect
    names = WireNames.build([spec.name], wire_dialect)  # type: ignore[arg-type]
    original = copy.deepcopy(spec)
    if dialect == "openai":
        tool = to_openai(spec, names=names)
        back = from_openai(json.loads(json.dumps(tool)), names=names)
        problems = openai_dialect.problems(tool)
    elif dialect == "openai-strict":
        tool = to_openai(spec, strict=True, names=names)
        back = from_openai(json.loads(json.dumps(tool)), names=names)
        problems = openai_dialect.problems(tool)
    elif dialect == "anthropic":
        tool = to_anthropic(spec, names=names)
        back = from_anthropic(json.loads(json.dumps(tool)), names=names)
        problems = anthropic_dialect.problems(tool)
    else:
        tool = to_gemini(spec, names=names)
        back = from_gemini(json.loads(json.dumps(tool)), names=names)
        problems = gemini_dialect.problems(tool)
    assert problems == [], (spec.name, problems)
    assert back == original, spec.name
    assert spec == original, "the conversion must not mutate its input"


@pytest.mark.parametrize("dialect", ["openai", "openai-strict", "anthropic", "gemini"])
def test_every_bfcl_schema_converts_validates_and_round_trips(dialect: str) -> None:
    if not SPECS:
        pytest.skip("bfcl-eval is not installed")
    failures = []
    for spec in SPECS:
        try:
            _check(spec, dialect)
        except Exception as e:  # collect them all, then report the first few
            failures.append(f"{spec.name}: {e!r}"[:400])
    assert not failures, f"{len(failures)} of {len(SPECS)} failed:\n" + "\n".join(failures[:10])


def test_bfcl_arguments_survive_the_strict_rewrite() -> None:
    """A strict answer (every optional given as null) maps back to the original arguments."""
    spec = next(
        s for s in SPECS if any("default" in p for p in s.parameters["properties"].values())
    )
    tool = to_openai(spec, strict=True)
    props = spec.parameters["properties"]
    required = set(spec.parameters.get("required", []))
    strict_answer = {
        k: (None if k not in required else "x")
        for k in tool["function"]["parameters"]["properties"]
    }
    assert set(onto_schema(spec.parameters, strict_answer)) == required & set(props)


@pytest.mark.parametrize("dialect", ["openai", "anthropic", "gemini"])
def test_wire_names_map_every_bfcl_name_and_back_without_collisions(dialect: str) -> None:
    """Every BFCL function name, and each spelled the awkward ways real specs spell names
    (spaces, parentheses, slashes, dots; near-duplicates that differ only there), gets a wire
    name the vendor accepts, no two alike, and maps back to itself."""
    base = sorted({spec.name for spec in _all_specs()})
    awkward = [f"{n} (v2)" for n in base[:500]] + [n.replace("_", " ") for n in base[:500]]
    awkward += [n.replace("_", "/") for n in base[:500]] + ["x" * 300, "y" * 70 + "/z"]
    names = list(dict.fromkeys(base + awkward))
    wire = WireNames.build(names, dialect)  # type: ignore[arg-type]
    wires = [wire.wire(n) for n in names]
    assert len(set(wires)) == len(names)
    pattern = {"gemini": r"[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}"}.get(dialect, r"[a-zA-Z0-9_-]{1,64}")
    import re

    assert all(re.fullmatch(pattern, w) for w in wires)
    assert all(wire.original(w) == n for n, w in zip(names, wires, strict=True))

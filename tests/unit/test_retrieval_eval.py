"""The BFCL tool-retrieval benchmark (keyword-only index here: fast and offline) and its report."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from toolwire.eval.bfcl_data import bfcl_to_json_schema, user_text
from toolwire.eval.retrieval import (
    CaseOutcome,
    RetrievalCase,
    RetrievalReport,
    evaluate_retrieval,
    rank_of_all,
    write_retrieval_report,
)
from toolwire.retrieval import ToolIndex


def test_bfcl_types_become_json_schema_types() -> None:
    schema = bfcl_to_json_schema(
        {
            "type": "dict",
            "properties": {
                "ratio": {"type": "float", "description": "a ratio"},
                "point": {"type": "tuple", "items": {"type": "integer"}},
                "anything": {"type": "any"},
                "name": {"type": "String"},
                "options": {"type": "HashMap", "properties": {"deep": {"type": "double"}}},
                "type": {"type": "string", "enum": ["a", "b"]},
                "rows": {"type": "ArrayList", "items": {"type": "dict", "properties": {}}},
            },
            "required": ["ratio"],
        }
    )
    props = schema["properties"]
    assert schema["type"] == "object" and schema["required"] == ["ratio"]
    assert props["ratio"] == {"type": "number", "description": "a ratio"}
    assert props["point"] == {"type": "array", "items": {"type": "integer"}}
    assert props["anything"] == {}
    assert props["name"]["type"] == "string"
    assert props["options"] == {"type": "object", "properties": {"deep": {"type": "number"}}}
    assert props["type"] == {"type": "string", "enum": ["a", "b"]}  # a property named "type"
    assert props["rows"]["items"]["type"] == "object"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"ratio": 0.5, "anything": [1], "point": [1, 2]}, schema)


def test_missing_or_odd_schemas_become_empty_objects() -> None:
    assert bfcl_to_json_schema(None) == {"type": "object", "properties": {}}
    assert bfcl_to_json_schema({"type": "dict", "properties": {}, "required": "x"}) == {
        "type": "object",
        "properties": {},
    }


def test_user_text_joins_user_messages_of_the_first_turn() -> None:
    entry = {
        "question": [
            [
                {"role": "system", "content": "be nice"},
                {"role": "user", "content": "first"},
                {"role": "user", "content": "second"},
            ],
            [{"role": "user", "content": "later turn"}],
        ]
    }
    assert user_text(entry) == "first\nsecond"


def test_rank_of_all_needs_every_expected_name() -> None:
    assert rank_of_all(["a", "b", "c"], frozenset({"a"})) == 1
    assert rank_of_all(["a", "b", "c"], frozenset({"c", "a"})) == 3
    assert rank_of_all(["a", "b"], frozenset({"a", "z"})) is None


def _outcome(category: str, rank: int | None, ms: float) -> CaseOutcome:
    case = RetrievalCase(
        id=f"{category}_{rank}", category=category, query="q", expected=frozenset()
    )
    found = {k: float(rank is not None and rank <= k) for k in (1, 5)}
    return CaseOutcome(case=case, rank=rank, latency_ms=ms, found=found)


def test_report_metrics_and_html(tmp_path: Path) -> None:
    report = RetrievalReport(
        ks=(1, 5),
        outcomes=[
            _outcome("a", 1, 1.0),
            _outcome("a", 4, 2.0),
            _outcome("b", None, 3.0),
            _outcome("b", 2, 4.0),
        ],
        pool_size=10,
        build_s=0.5,
        dense=False,
    )
    data = report.to_dict()
    assert data["recall@1"] == 0.25 and data["recall@5"] == 0.75 and data["n"] == 4
    assert data["mrr"] == pytest.approx((1 + 0.25 + 0.5) / 4, abs=1e-4)
    assert data["per_category"]["a"] == {
        "n": 2, "recall@1": 0.5, "recall@5": 1.0, "coverage@1": 0.5, "coverage@5": 1.0,
        "mrr": 0.625,
    }
    assert data["latency_ms"] == {"p50": 2.5, "p99": 4.0}
    page = write_retrieval_report(report, tmp_path / "out" / "r.html").read_text()
    assert "<svg" in page and "<table>" in page and "R@5" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page


def test_bad_ks_are_refused() -> None:
    with pytest.raises(ValueError, match="ks must be positive"):
        evaluate_retrieval(ks=(0, 5), index=ToolIndex(embedder=None))

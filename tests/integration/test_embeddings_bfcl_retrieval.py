"""The BFCL tool-retrieval benchmark on its real data (pool of 1,853 tools, 2,501 questions)."""

from __future__ import annotations

import importlib.util

import pytest

from toolwire.eval.retrieval import evaluate_retrieval, load_cases, pool_registry, split_half
from toolwire.retrieval import ToolIndex
from toolwire.retrieval.embeddings import default_embedder

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval"),
]


def test_pool_and_cases_cover_bfcl() -> None:
    registry = pool_registry()
    cases = load_cases()
    assert len(registry) == 1853
    assert len(cases) == 2501
    assert all(name in registry for c in cases for name in c.expected)
    halves = {split_half(c) for c in cases}
    assert halves == {"tune", "test"}


def test_keyword_only_benchmark_on_a_sample() -> None:
    seen: list[int] = []
    report = evaluate_retrieval(
        ks=(10, 1, 5),
        limit=60,
        index=ToolIndex(embedder=None),
        progress=lambda done, total: seen.append(done),
    )
    data = report.to_dict()
    assert report.ks == (1, 5, 10) and data["n"] == 60 and seen[-1] == 60
    assert 0.5 < data["recall@10"] <= 1.0
    assert data["recall@1"] <= data["recall@5"] <= data["recall@10"]
    assert sum(int(c["n"]) for c in data["per_category"].values()) == 60
    assert data["dense"] is False


def test_hybrid_beats_keywords_on_a_sample(tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = tmp_path_factory.mktemp("index")
    cases = [c for c in load_cases() if split_half(c) == "test"]
    keyword = evaluate_retrieval(limit=150, cases=cases, index=ToolIndex(embedder=None)).to_dict()
    hybrid = evaluate_retrieval(
        limit=150, cases=cases, index=ToolIndex(embedder=default_embedder(), cache_dir=cache)
    ).to_dict()
    assert hybrid["dense"] is True and hybrid["n"] == 150
    assert hybrid["recall@5"] > keyword["recall@5"]
    assert hybrid["mrr"] > keyword["mrr"]

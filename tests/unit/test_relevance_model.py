"""The calibrated relevance decision: evidence from the candidates, a logistic model fitted on
BFCL's tuning split (shipped), the staged gate deciding by it where embedding scores exist and
by the fixed thresholds where they don't."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tests.unit.test_pipeline import make_registry, staged_model
from tests.unit.test_retrieval import HashEmbedder
from toolwire.engine import Engine
from toolwire.pipeline import EngineConfig
from toolwire.retrieval import ToolIndex
from toolwire.retrieval.index import Hit
from toolwire.strategies import StagedRules
from toolwire.strategies.staged.relevance import (
    FEATURES,
    NOT_NAMED,
    RelevanceModel,
    evidence,
)
from toolwire.text.reading import read
from toolwire.tools import Tool


def _hits(question: str) -> list[Hit[Tool]]:
    registry = make_registry()
    index: ToolIndex[Tool] = ToolIndex(embedder=HashEmbedder())
    registry.use_index(index)
    return index.search(question, k=3)


def test_evidence_reads_every_feature_from_the_candidates() -> None:
    hits = _hits("what's the weather in Paris, 3 days ahead")
    features = evidence(read("what's the weather in Paris, 3 days ahead"), hits)
    assert set(features) == set(FEATURES)
    assert features["best"] == max(h.score for h in hits)
    assert features["dense"] == max(h.dense_score for h in hits)
    assert features["literal"] >= 1.0 and features["named_best"] > NOT_NAMED  # names get_weather
    assert features["numbers"] == 1.0 and features["words"] == pytest.approx(math.log1p(8))
    poem = evidence(read("write me a poem about the sea"), _hits("write me a poem about the sea"))
    assert poem["named_best"] == NOT_NAMED and poem["literal"] < 1.0


def test_the_probability_is_a_logistic_of_the_weighted_evidence() -> None:
    model = RelevanceModel(weights={n: (2.0 if n == "dense" else 0.0) for n in FEATURES},
                           bias=-1.0, threshold=0.5)
    features = dict.fromkeys(FEATURES, 0.0) | {"dense": 0.5}
    assert model.probability(features) == pytest.approx(0.5)
    assert model.probability(features | {"dense": 1.0}) == pytest.approx(1 / (1 + math.exp(-1)))
    assert model.probability(features | {"dense": -1e6}) == 0.0  # no overflow


def test_without_embedding_scores_the_model_does_not_judge() -> None:
    registry = make_registry()  # keyword-only index: dense scores are NaN
    hits = registry.search("what's the weather in Paris", k=3)
    assert RelevanceModel.shipped().relevant(read("what's the weather in Paris"), hits) is None


def test_the_shipped_model_was_fitted_on_the_tuning_split() -> None:
    model = RelevanceModel.shipped()
    assert set(model.weights) == set(FEATURES)
    assert 0.0 < model.threshold < 1.0
    assert "tuning split" in model.fitted["on"] and model.fitted["questions"] > 300
    assert max(model.fitted["tuning_loss_points"].values()) <= model.fitted["max_loss_points"]
    assert model.weights["dense"] > 0  # closer in meaning, likelier a call


NEVER = RelevanceModel(weights=dict.fromkeys(FEATURES, 0.0), bias=-50.0, threshold=0.5)
ALWAYS = replace(NEVER, bias=50.0)


def _engine(
    monkeypatch: pytest.MonkeyPatch, model: RelevanceModel, **rules: bool
) -> Engine:
    monkeypatch.setattr(RelevanceModel, "shipped", classmethod(lambda cls: model))
    registry = make_registry()
    registry.use_index(ToolIndex(embedder=HashEmbedder()))
    config = EngineConfig(relevance_threshold=0.0, named_relevance_threshold=0.0,
                          rules=StagedRules(**rules))
    return Engine(registry, model=staged_model(), config=config)


async def test_the_gate_decides_by_the_calibrated_model_where_it_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    turned = await _engine(monkeypatch, NEVER, whole_places=False).arun(  # Paris: a place
        "what's the weather in Paris in celsius"
    )
    assert turned.gated and turned.calls == []  # the fixed thresholds (0) would have let it in
    passed = await _engine(monkeypatch, ALWAYS).arun("what's the weather in Paris in celsius")
    assert not passed.gated and [c.name for c in passed.calls] == ["get_weather"]


async def test_the_calibrated_rule_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    run = await _engine(monkeypatch, NEVER, calibrated_relevance=False).arun(
        "what's the weather in Paris in celsius"
    )
    assert not run.gated and [c.name for c in run.calls] == ["get_weather"]

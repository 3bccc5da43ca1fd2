"""The calibrated selection among candidates: each candidate's evidence and a conditional
logistic model fitted on BFCL's tuning split (shipped), the one mechanism that chooses, with
or without embedding scores."""

from __future__ import annotations

import math

import pytest

from tests.unit.test_pipeline import make_registry
from tests.unit.test_retrieval import HashEmbedder
from toolwire.builtin.clock import convert_timezone
from toolwire.retrieval import ToolIndex
from toolwire.retrieval.index import Hit
from toolwire.strategies import StagedRules
from toolwire.strategies.staged.choice import (
    FEATURES,
    SelectionModel,
    candidate_evidence,
    log_softmax,
)
from toolwire.strategies.staged.matching import moment_kind, moments_feasible
from toolwire.strategies.staged.select import select
from toolwire.text.reading import read
from toolwire.tools import Registry, Tool

QUESTION = "what's the weather in Paris, 3 days ahead"


def _hits(question: str) -> list[Hit[Tool]]:
    registry = make_registry()
    index: ToolIndex[Tool] = ToolIndex(embedder=HashEmbedder())
    registry.use_index(index)
    return index.search(question, k=3)


def test_each_candidate_gets_its_evidence_in_retrieval_order() -> None:
    hits = _hits(QUESTION)
    features = candidate_evidence(read(QUESTION), hits)
    assert [set(f) for f in features] == [set(FEATURES)] * len(hits)
    assert [f["fused"] for f in features] == [h.score for h in hits]
    assert [f["dense"] for f in features] == [h.dense_score for h in hits]
    assert sum(f["first"] for f in features) == 1.0
    weather = next(f for f, h in zip(features, hits, strict=True) if h.tool.name == "get_weather")
    assert weather["name_share"] == 1.0 and weather["feasible"] == 1.0
    add = next(f for f, h in zip(features, hits, strict=True) if h.tool.name == "add")
    assert add["feasible"] == 0.0  # two required numbers, the sentence writes one


def test_switched_off_rules_take_their_evidence_away() -> None:
    hits = _hits(QUESTION)
    off = candidate_evidence(read(QUESTION), hits, StagedRules(literal_selection=False,
                                                               feasibility=False))
    assert all(f["name_share"] == 0.0 and f["enum_named"] == 0.0 for f in off)
    assert all(f["feasible"] == 1.0 for f in off)


def test_probabilities_are_a_softmax_of_the_weighted_evidence() -> None:
    model = SelectionModel(weights={n: (1.0 if n == "dense" else 0.0) for n in FEATURES})
    features = [dict.fromkeys(FEATURES, 0.0) | {"dense": d} for d in (0.0, math.log(3))]
    assert model.probabilities(features) == pytest.approx([0.25, 0.75])
    assert log_softmax([0.0, -100.0], floor=-10.0) == pytest.approx([0.0, -10.0])


def test_the_shipped_model_was_fitted_on_the_tuning_split() -> None:
    model = SelectionModel.shipped()
    assert set(model.weights) == set(FEATURES)
    assert "tuning split" in model.fitted["on"] and model.fitted["questions"] > 100
    assert model.weights["dense"] > 0  # closer in meaning, likelier the one meant


def test_the_fitted_model_chooses_and_its_weights_are_probabilities() -> None:
    hits = _hits(QUESTION)
    tool, weights = select(read(QUESTION), hits)
    assert tool.name == "get_weather"
    assert set(weights) == {h.tool.name for h in hits}
    assert sum(weights.values()) == pytest.approx(1.0)
    lone, only = select(read(QUESTION), hits[:1])
    assert lone is hits[0].tool and only == {lone.name: 1.0}


def test_without_embedding_scores_the_same_model_chooses() -> None:
    keyword_only = make_registry().search(QUESTION, k=3)
    assert all(math.isnan(h.dense_score) for h in keyword_only)
    features = candidate_evidence(read(QUESTION), keyword_only)
    assert all(f["dense"] == 0.0 for f in features)  # the same for all: it drops out
    tool, weights = select(read(QUESTION), keyword_only)
    assert tool.name == "get_weather"
    assert sum(weights.values()) == pytest.approx(1.0)
    shifted = [f | {"dense": 5.0} for f in features]  # any level, the same choice
    model = SelectionModel.shipped()
    assert model.probabilities(shifted) == pytest.approx(model.probabilities(features))


def test_moment_parameters_want_a_written_date_or_time() -> None:
    assert moment_kind("start_time", {"type": "string"}) == "time"
    assert moment_kind("due_date", {"type": "string"}) == "date"
    assert moment_kind("when", {"type": "string", "format": "date-time"}) == "time"
    assert moment_kind("timezone", {"type": "string"}) is None
    assert moment_kind("time", {"type": "string", "enum": ["am", "pm"]}) is None
    tool = Registry().register(convert_timezone)  # requires a time to convert
    assert not moments_feasible(read("Is it hot in Tokyo today? Tell me in fahrenheit."), tool)
    assert moments_feasible(read("convert 3pm London time to Tokyo"), tool)
    assert moments_feasible(read("what time is it in Tokyo now, in London time"), tool)
    dated = Tool(name="book", description="", parameters={
        "type": "object", "properties": {"day": {"type": "string", "format": "date"}},
        "required": ["day"]})
    assert moments_feasible(read("book it for tomorrow"), dated)
    assert moments_feasible(read("book it for April 25th 2023"), dated)
    assert not moments_feasible(read("book it"), dated)

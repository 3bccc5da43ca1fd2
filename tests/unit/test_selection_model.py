"""The calibrated selection among candidates: each candidate's evidence, a conditional logistic
model fitted on BFCL's tuning split (shipped), asking the model only when the evidence is not
confident, and the hand-set weights where embedding scores are missing."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tests.unit.test_pipeline import make_registry, staged_model
from tests.unit.test_retrieval import HashEmbedder
from toolwire.builtin.clock import convert_timezone
from toolwire.messages import ChoiceConstraint, Completion
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.retrieval.index import Hit
from toolwire.strategies import StagedRules
from toolwire.strategies.staged.choice import (
    FEATURES,
    MODEL_FEATURE,
    SelectionModel,
    candidate_evidence,
    log_softmax,
)
from toolwire.strategies.staged.matching import moment_kind, moments_feasible
from toolwire.strategies.staged.select import select
from toolwire.tools import Registry, Tool

QUESTION = "what's the weather in Paris, 3 days ahead"


def _hits(question: str) -> list[Hit[Tool]]:
    registry = make_registry()
    index: ToolIndex[Tool] = ToolIndex(embedder=HashEmbedder())
    registry.use_index(index)
    return index.search(question, k=3)


def test_each_candidate_gets_its_evidence_in_retrieval_order() -> None:
    hits = _hits(QUESTION)
    features = candidate_evidence(QUESTION, hits)
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
    off = candidate_evidence(QUESTION, hits, StagedRules(literal_selection=False,
                                                         feasibility=False))
    assert all(f["name_share"] == 0.0 and f["enum_named"] == 0.0 for f in off)
    assert all(f["feasible"] == 1.0 for f in off)


def test_probabilities_are_a_softmax_of_the_weighted_evidence() -> None:
    model = SelectionModel(weights={n: (1.0 if n == "dense" else 0.0) for n in FEATURES},
                           model_weights={n: (1.0 if n == MODEL_FEATURE else 0.0)
                                          for n in (*FEATURES, MODEL_FEATURE)},
                           confident=0.9)
    features = [dict.fromkeys(FEATURES, 0.0) | {"dense": d} for d in (0.0, math.log(3))]
    assert model.probabilities(features) == pytest.approx([0.25, 0.75])
    assert model.probabilities(features, [math.log(0.9), math.log(0.1)]) == pytest.approx(
        [0.9, 0.1])
    assert log_softmax([0.0, -100.0], floor=-10.0) == pytest.approx([0.0, -10.0])


def test_the_shipped_model_was_fitted_on_the_tuning_split() -> None:
    model = SelectionModel.shipped()
    assert set(model.weights) == set(FEATURES)
    assert set(model.model_weights) == {*FEATURES, MODEL_FEATURE}
    assert 0.0 <= model.confident <= 1.0  # 0: the evidence always decides alone
    assert "tuning split" in model.fitted["on"] and model.fitted["questions"] > 100
    assert model.model_weights[MODEL_FEATURE] > 0  # the model's choice counts for it
    assert model.weights["dense"] > 0  # closer in meaning, likelier the one meant


def _counting_model(calls: list[tuple[str, ...]], prefer: str) -> ScriptedModel:
    """Scores the names it is offered, preferring ``prefer``, and records each choice asked."""

    def respond(request: Request) -> Completion:
        assert isinstance(request.constraint, ChoiceConstraint)
        calls.append(request.constraint.options)
        scores = {o: (0.0 if o.startswith(prefer) else -8.0) for o in request.constraint.options}
        return Completion(text=max(scores, key=lambda o: scores[o]), scores=scores)

    return ScriptedModel(respond, supports_tools=False, supports_grammar=True)


def _uniform(confident: float, model_weight: float) -> SelectionModel:
    """Evidence that cannot tell the candidates apart; the model's log-probability weighted."""
    return SelectionModel(weights=dict.fromkeys(FEATURES, 0.0),
                          model_weights=dict.fromkeys(FEATURES, 0.0) | {MODEL_FEATURE:
                                                                         model_weight},
                          confident=confident)


async def test_the_model_is_asked_only_when_the_evidence_is_not_confident(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hits = _hits(QUESTION)
    asked: list[tuple[str, ...]] = []
    monkeypatch.setattr(SelectionModel, "shipped", classmethod(lambda cls: _uniform(0.99, 1.0)))
    tool, weights = await select(_counting_model(asked, "explode"), QUESTION, hits)
    assert tool.name == "explode" and len(asked) == 1  # evidence even: the model decides
    assert sum(weights.values()) == pytest.approx(1.0)

    asked.clear()  # every candidate is "confident" at 1/len: the model is not asked
    monkeypatch.setattr(SelectionModel, "shipped",
                        classmethod(lambda cls: _uniform(1 / len(hits), 1.0)))
    tool, _ = await select(_counting_model(asked, "explode"), QUESTION, hits)
    assert asked == [] and tool.name == hits[0].tool.name


async def test_without_embedding_scores_or_the_rule_the_hand_weights_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    never_called = _uniform(0.99, 1.0)
    monkeypatch.setattr(SelectionModel, "shipped", classmethod(lambda cls: never_called))
    keyword_only = make_registry().search(QUESTION, k=3)
    assert all(math.isnan(h.dense_score) for h in keyword_only)
    tool, _ = await select(staged_model(), QUESTION, keyword_only)
    assert tool.name == "get_weather"

    asked: list[tuple[str, ...]] = []
    rules = replace(StagedRules(), calibrated_selection=False)
    tool, weights = await select(_counting_model(asked, "explode"), QUESTION, _hits(QUESTION),
                                 rules=rules)
    assert tool.name == "get_weather"  # the name written and retrieval outweigh the model
    assert sum(weights.values()) != pytest.approx(1.0)  # hand evidence, not probabilities


def test_moment_parameters_want_a_written_date_or_time() -> None:
    assert moment_kind("start_time", {"type": "string"}) == "time"
    assert moment_kind("due_date", {"type": "string"}) == "date"
    assert moment_kind("when", {"type": "string", "format": "date-time"}) == "time"
    assert moment_kind("timezone", {"type": "string"}) is None
    assert moment_kind("time", {"type": "string", "enum": ["am", "pm"]}) is None
    tool = Registry().register(convert_timezone)  # requires a time to convert
    assert not moments_feasible("Is it hot in Tokyo today? Tell me in fahrenheit.", tool)
    assert moments_feasible("convert 3pm London time to Tokyo", tool)
    assert moments_feasible("what time is it in Tokyo now, in London time", tool)
    dated = Tool(name="book", description="", parameters={
        "type": "object", "properties": {"day": {"type": "string", "format": "date"}},
        "required": ["day"]})
    assert moments_feasible("book it for tomorrow", dated)
    assert moments_feasible("book it for April 25th 2023", dated)
    assert not moments_feasible("book it", dated)

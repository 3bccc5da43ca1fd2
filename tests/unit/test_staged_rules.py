"""The staged rules are named, explained and switchable: each switch changes what it says."""

from __future__ import annotations

import pytest

from tests.unit.test_pipeline import make_registry, staged_model
from toolwire.engine import Engine
from toolwire.pipeline import EngineConfig
from toolwire.strategies import StagedRules


def test_every_rule_is_named_on_by_default_and_explained() -> None:
    names = StagedRules.names()
    assert len(names) == len(set(names)) >= 10
    assert all(getattr(StagedRules(), name) is True for name in names)
    for name in names:
        assert len(StagedRules.explain(name)) > 30, name
    with pytest.raises(KeyError):
        StagedRules.explain("no_such_rule")


def _engine(**rules: bool) -> tuple[Engine, object]:
    model = staged_model()
    config = EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.99,
                          rules=StagedRules(**rules))
    return Engine(make_registry(), model=model, config=config), model


async def test_the_relevance_gate_can_be_switched_off() -> None:
    gated, _ = _engine(whole_places=False)  # a named place would let the weather tool past
    assert (await gated.arun("what's the weather in Paris in celsius")).gated
    open_, _ = _engine(relevance_gate=False)
    run = await open_.arun("what's the weather in Paris in celsius")
    assert not run.gated and [c.name for c in run.calls] == ["get_weather"]


async def test_more_calls_can_be_switched_off() -> None:
    both, _ = _engine(relevance_gate=False)
    run = await both.arun("What's the weather in Paris and London?")
    assert [c.arguments.get("city") for c in run.calls] == ["Paris", "London"]
    one, _ = _engine(relevance_gate=False, more_calls=False, listed_items=False)
    run = await one.arun("What's the weather in Paris and London?")
    assert [c.arguments.get("city") for c in run.calls] == ["Paris"]


async def test_number_segments_can_be_switched_off() -> None:
    cut, _ = _engine(relevance_gate=False)
    sentence = "add 1 and 2, and also add 3 and 4"
    assert len((await cut.arun(sentence)).calls) == 2
    whole, _ = _engine(relevance_gate=False, number_segments=False, more_calls=False,
                       listed_items=False)
    assert len((await whole.arun(sentence)).calls) == 1

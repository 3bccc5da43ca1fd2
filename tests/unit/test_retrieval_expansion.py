"""What retrieval adds to a tool's text: requests written from its schema, verbs' synonyms, and
the ranking that reads them (with the bag-of-words test embedder of test_retrieval.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.unit.test_retrieval import HashEmbedder, make_tool
from toolwire.retrieval import Ranking, ToolIndex, tool_document
from toolwire.retrieval.expansion import (
    SYNONYMS,
    expanded_terms,
    imperative,
    sentences,
    synthetic_queries,
)
from toolwire.text.words import stem

CAR = (
    "This tool belongs to the vehicle control system, which allows users to control the "
    "engine, doors and lights. Tool description: "
)
"""A boilerplate opening shared by every tool of one API (as BFCL's multi-turn classes have)."""

FUSED_ORDER = Ranking(rank_dense_weight=0.4, rank_query_weight=0.0, synthetic_queries=False,
                      synonym_weight=0.0)
"""The order before synthetic requests and synonyms: the fused score's."""


def test_sentences_fold_whitespace_and_drop_one_word_fragments() -> None:
    text = "Retrieves the weather.  Supports:\n\n- city names\n- Coordinates given as pairs. Ok."
    assert sentences(text) == ["Retrieves the weather", "city names", "Coordinates given as pairs"]
    assert sentences("") == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Retrieves the current weather", "retrieve the current weather"),
        ("Searches flights by date", "search flights by date"),
        ("Copies a file", "copy a file"),
        ("Pushes a commit", "push a commit"),
        ("Convert an amount", "Convert an amount"),  # already an instruction
        ("This tool belongs to the Math API", "This tool belongs to the Math API"),
        ("Status of the order", "Status of the order"),
        ("Gets", "Gets"),  # nothing after the verb
    ],
)
def test_imperative_turns_a_third_person_opening_into_an_instruction(
    sentence: str, expected: str
) -> None:
    assert imperative(sentence) == expected


def test_synthetic_queries_come_from_the_name_description_and_parameters() -> None:
    tool = make_tool(
        "get_weatherForecast",
        "Retrieves the forecast for a city. Uses the Open-Meteo API. Supports metric units. "
        "Caches results for ten minutes.",
        city="the city name",
        units={"type": "string", "enum": ["metric", "imperial"]},
    )
    assert synthetic_queries(tool) == [
        "get weather forecast",
        "retrieve the forecast for a city",
        "use the Open-Meteo API",
        "support metric units",
        "get weather forecast city units",
    ]
    assert synthetic_queries(tool) == synthetic_queries(tool)  # deterministic


def test_a_tool_without_description_or_parameters_still_has_its_name() -> None:
    assert synthetic_queries(make_tool("ls", "")) == ["ls"]
    assert synthetic_queries(make_tool("add", "add")) == ["add"]


def test_synonym_groups_are_symmetric_and_exclude_the_word_itself() -> None:
    assert stem("fetch") in SYNONYMS[stem("retrieve")]
    assert stem("retrieve") in SYNONYMS[stem("fetch")]
    assert all(s not in group for s, group in SYNONYMS.items())


def test_expanded_terms_add_missing_synonyms_at_a_share_of_the_verbs_count() -> None:
    counts = {stem("purchase"): 3.0, stem("insurance"): 2.0}
    out = expanded_terms(counts, 0.5)
    assert out == {stem("purchase"): 3.0, stem("insurance"): 2.0, stem("buy"): 1.5,
                   stem("order"): 1.5}
    both = expanded_terms({stem("purchase"): 3.0, stem("buy"): 1.0}, 0.5)
    assert both[stem("buy")] == 1.0  # present already: unchanged
    assert both[stem("order")] == 2.0  # a synonym of both verbs gets both shares
    assert expanded_terms(counts, 0.0) == counts


def test_the_tool_document_carries_synonyms_and_requests() -> None:
    doc = tool_document(make_tool("purchase_insurance", "Purchase travel insurance."))
    assert doc.terms[stem("buy")] == pytest.approx(doc.terms[stem("purchase")])
    assert doc.queries == ["purchase insurance", "Purchase travel insurance"]
    plain = tool_document(
        make_tool("purchase_insurance", "Purchase travel insurance."),
        Ranking(synonym_weight=0.0, synthetic_queries=False),
    )
    assert stem("buy") not in plain.terms and plain.queries == []


def test_the_ranking_weighs_the_sides_and_gives_a_missing_one_to_keywords() -> None:
    ranking = Ranking(rank_dense_weight=0.2, rank_query_weight=0.3)
    keyword, dense, query = np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.5, np.nan])
    assert ranking.rank(keyword, dense, query) == pytest.approx([0.65, 0.2])
    assert ranking.rank(keyword, None, None) == pytest.approx(keyword)


TRAVEL = [
    make_tool("book_flight", "Book a flight for a trip.", origin="departure city"),
    make_tool("cancel_booking", "Cancel the booking of a trip.", booking_id="the booking"),
    make_tool("purchase_insurance", "Purchase travel insurance for a booking.",
              booking_id="the booking"),
]


def test_a_paraphrase_sharing_no_word_with_the_name_finds_the_tool() -> None:
    query = "I want to buy cover for my trip"
    assert not set(query.lower().split()) & {"purchase", "insurance"}
    new = ToolIndex(embedder=HashEmbedder())
    old = ToolIndex(embedder=HashEmbedder(), ranking=FUSED_ORDER)
    for index in (new, old):
        index.add(TRAVEL)
    assert new.search(query, k=1)[0].tool.name == "purchase_insurance"
    assert old.search(query, k=1)[0].tool.name != "purchase_insurance"


def test_requests_outweigh_an_opening_every_tool_of_an_api_shares() -> None:
    car = [
        make_tool("startEngine", CAR + "Starts the engine of the vehicle in a mode.",
                  ignitionMode="the ignition mode"),
        make_tool("lockDoors", CAR + "Locks the doors of the vehicle.", door="which door"),
        make_tool("setHeadlights", CAR + "Sets the headlights of the vehicle.", mode="on or off"),
    ]
    index = ToolIndex(embedder=HashEmbedder())
    index.add(car)
    hit = index.search("start engine", k=1)[0]
    assert hit.tool.name == "startEngine"
    # the requests ("start engine", "start the engine of...") sit nearer than the whole text
    assert hit.query_score > hit.dense_score


def test_hits_carry_the_query_score_only_where_it_was_computed() -> None:
    index = ToolIndex(embedder=HashEmbedder())
    index.add(TRAVEL)
    assert all(not math.isnan(h.query_score) for h in index.search("book a trip", k=3))
    assert all(math.isnan(h.query_score) for h in index.search("book a trip", k=3, dense=False))
    off = ToolIndex(embedder=HashEmbedder(), ranking=Ranking(synthetic_queries=False))
    off.add(TRAVEL)
    assert all(math.isnan(h.query_score) for h in off.search("book a trip", k=3))


def test_the_fused_score_keeps_its_meaning_whatever_the_order() -> None:
    index = ToolIndex(embedder=HashEmbedder())
    index.add(TRAVEL)
    weight = index.ranking.dense_weight
    for hit in index.search("buy cover for my trip", k=3):
        expected = weight * hit.dense_score + (1 - weight) * hit.keyword_score
        assert hit.score == pytest.approx(expected)
    assert index.relevance("buy cover for my trip") == max(
        h.score for h in index.search("buy cover for my trip", k=5)
    )

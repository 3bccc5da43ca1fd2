"""BM25 inverted index and the word helpers it is fed by."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolwire.retrieval.bm25 import KeywordIndex
from toolwire.text.words import split_identifier, stem, terms


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("get_currentWeather.v2", ["get", "current", "weather", "v2"]),
        ("HTTPServerError", ["http", "server", "error"]),
        ("math.factorial", ["math", "factorial"]),
        ("Hotels_4-SearchHotel", ["hotels", "4", "search", "hotel"]),
    ],
)
def test_split_identifier(name: str, expected: list[str]) -> None:
    assert split_identifier(name) == expected


@pytest.mark.parametrize(
    "family",
    [
        ["convert", "converts", "converted", "converting"],
        ["create", "creates", "created", "creating"],
        ["city", "cities"],
        ["box", "boxes"],
        ["run", "running"],
        ["class", "classes"],
    ],
)
def test_stem_folds_word_families(family: list[str]) -> None:
    assert len({stem(w) for w in family}) == 1


def test_terms_drop_stop_words_and_keep_numbers() -> None:
    assert terms("What is the weather in Paris? Convert 100 USD, please.") == [
        "weather",
        "paris",
        "convert",
        "100",
        "usd",
    ]


def brute_force_bm25(
    docs: dict[int, dict[str, float]], query: list[str], k1: float, b: float
) -> dict[int, float]:
    n = len(docs)
    avg = sum(sum(d.values()) for d in docs.values()) / n
    out = dict.fromkeys(docs, 0.0)
    for term in dict.fromkeys(query):
        df = sum(term in d for d in docs.values())
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for row, d in docs.items():
            tf = d.get(term, 0.0)
            if tf:
                length = sum(d.values())
                out[row] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
    return out


DOCS = {
    0: {"weather": 2.0, "city": 1.0, "forecast": 1.0},
    1: {"currency": 2.0, "convert": 2.0, "amount": 1.0},
    2: {"convert": 1.0, "unit": 2.0, "length": 1.0, "mass": 1.0},
    3: {"time": 2.0, "timezone": 1.0},
}


def test_scores_match_textbook_bm25_before_and_after_merge() -> None:
    idx = KeywordIndex()
    for row, doc in DOCS.items():
        idx.add(row, doc)
    query = ["convert", "currency", "nothing"]
    expected = brute_force_bm25(DOCS, query, idx.k1, idx.b)
    before, ceiling = idx.scores(query)
    idx.merge()
    after, _ = idx.scores(query)
    for row, score in expected.items():
        assert before[row] == pytest.approx(score)
        assert after[row] == pytest.approx(score)
    assert 0 < max(before) < ceiling


def test_removed_documents_stop_counting() -> None:
    idx = KeywordIndex()
    for row, doc in DOCS.items():
        idx.add(row, doc)
    idx.merge()
    idx.remove(1)
    idx.remove(1)  # twice is harmless
    remaining = {r: d for r, d in DOCS.items() if r != 1}
    expected = brute_force_bm25(remaining, ["convert"], idx.k1, idx.b)
    scores, _ = idx.scores(["convert"])
    assert scores[1] == 0
    assert scores[2] == pytest.approx(expected[2])
    assert len(idx) == 3


def test_incremental_adds_after_a_merge_are_searchable() -> None:
    idx = KeywordIndex()
    idx.add(0, DOCS[0])
    idx.merge()
    idx.add(1, DOCS[1])
    scores, _ = idx.scores(["currency"])
    assert scores[1] > 0 and scores[0] == 0
    with pytest.raises(ValueError, match="already indexed"):
        idx.add(1, DOCS[1])


def test_large_index_merges_itself() -> None:
    idx = KeywordIndex()
    rng = np.random.default_rng(0)
    for row in range(6000):
        idx.add(row, {f"w{int(w)}": 1.0 for w in rng.integers(0, 500, size=8)})
    idx.scores(["w1"])  # the delta (~48k postings) exceeds the merge threshold
    assert len(idx._delta[0]) == 0
    scores, _ = idx.scores(["w1", "w2"])
    assert (scores > 0).sum() > 50


def test_empty_index_scores_nothing() -> None:
    scores, ceiling = KeywordIndex().scores(["anything"])
    assert len(scores) == 0 and ceiling == 0

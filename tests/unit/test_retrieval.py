"""Hybrid tool retrieval: documents, BM25, fusion, clauses, incremental updates, the disk cache.

The embedder here is a small deterministic bag-of-words hasher (a test double for speed); the
real MiniLM is covered by tests/integration/test_embeddings.py.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from toolwire.retrieval import Hit, Ranking, ToolIndex, clauses, tool_document
from toolwire.retrieval.embeddings import Embedder
from toolwire.text.words import terms
from toolwire.tools import Tool


class HashEmbedder:
    """Sum of one fixed random vector per (stemmed) word, L2-normalised; counts its calls."""

    model_id = "test-hash-bow"
    dim = 64

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in terms(text):
                seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
                out[i] += np.random.default_rng(seed).standard_normal(self.dim)
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out


def make_tool(name: str, description: str, **props: Any) -> Tool:
    properties = {
        p: spec if isinstance(spec, dict) else {"type": "string", "description": spec}
        for p, spec in props.items()
    }
    return Tool(
        name=name,
        description=description,
        parameters={"type": "object", "properties": properties, "required": []},
    )


BUILTINS = [
    make_tool(
        "convert_currency",
        "Convert an amount of money from one currency to another.",
        amount="the amount of money",
        from_currency="currency code to convert from, e.g. USD",
        to_currency="currency code to convert to, e.g. CAD",
    ),
    make_tool("get_weather", "Current weather forecast for a city.", city="the city name"),
    make_tool("open_app", "Open an application on the computer.", app="application name"),
    make_tool("calculator", "Evaluate an arithmetic expression.", expression="e.g. 2 * (3 + 4)"),
    make_tool("get_time", "The current time in a timezone.", timezone="IANA timezone name"),
    make_tool(
        "convert_units",
        "Convert a quantity between units of length, mass or temperature.",
        value="the quantity",
        unit={"type": "string", "enum": ["meters", "feet", "kilograms", "pounds"]},
    ),
]


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def index(embedder: HashEmbedder) -> ToolIndex:
    idx = ToolIndex(embedder=embedder)
    idx.add(BUILTINS)
    return idx


def names(hits: list[Hit]) -> list[str]:
    return [h.tool.name for h in hits]


def embedded_texts(tool: Tool) -> list[str]:
    """What the index embeds for ``tool``: its document, then the requests written for it."""
    doc = tool_document(tool)
    return [doc.text, *doc.queries]


def test_the_test_embedder_satisfies_the_protocol(embedder: HashEmbedder) -> None:
    assert isinstance(embedder, Embedder)


def test_document_has_name_words_params_and_enums() -> None:
    doc = tool_document(BUILTINS[-1])
    assert {"convert", "unit", "quantity", "meter", "pound", "valu"} <= set(doc.terms)
    assert doc.text.startswith("convert units: Convert a quantity")
    assert "one of meters, feet" in doc.text


def test_name_words_weigh_more_than_description_words() -> None:
    doc = tool_document(make_tool("get_weather", "Report it."), Ranking(name_weight=2.0))
    assert doc.terms["weather"] == 2.0
    assert doc.terms["report"] == 1.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how many Canadian dollars is 20 USD", "convert_currency"),
        ("what's the weather like in Paris", "get_weather"),
        ("please open spotify app", "open_app"),
        ("what time is it in Tokyo timezone", "get_time"),
        ("convert 5 feet to meters", "convert_units"),
    ],
)
def test_search_finds_the_right_tool_first(index: ToolIndex, query: str, expected: str) -> None:
    hits = index.search(query, k=3)
    assert hits[0].tool.name == expected
    assert hits[0].score >= hits[1].score


def test_scores_are_bounded_and_explained(index: ToolIndex) -> None:
    hit = index.search("weather forecast for Paris", k=1)[0]
    assert 0 < hit.keyword_score <= 1
    assert -1 <= hit.dense_score <= 1
    w = index.ranking.dense_weight
    assert hit.score == pytest.approx(w * hit.dense_score + (1 - w) * hit.keyword_score)


def test_unrelated_request_scores_far_below_a_related_one(index: ToolIndex) -> None:
    poem = index.search("write me a poem about the sea", k=1)[0]
    weather = index.search("weather forecast for Paris", k=1)[0]
    assert poem.keyword_score == 0
    assert poem.score < 0.2 < weather.score
    assert index.relevance("write me a poem about the sea") == pytest.approx(poem.score)


def test_keyword_only_index_has_nan_dense_scores() -> None:
    idx = ToolIndex(embedder=None)
    idx.add(BUILTINS)
    hit = idx.search("convert dollars to another currency", k=1)[0]
    assert hit.tool.name == "convert_currency"
    assert math.isnan(hit.dense_score)
    assert hit.score == hit.keyword_score
    assert not idx.dense


def test_add_remove_contains_len(index: ToolIndex) -> None:
    assert len(index) == len(BUILTINS) and "get_time" in index
    index.remove(["get_time", "no_such_tool"])
    assert "get_time" not in index and len(index) == len(BUILTINS) - 1
    assert "get_time" not in names(index.search("what time is it in the timezone", k=10))
    index.add([make_tool("get_time", "Clock: the current time in a timezone.")])
    assert index.search("what time is it in the timezone", k=1)[0].tool.name == "get_time"


def test_adding_a_known_name_replaces_the_tool(index: ToolIndex) -> None:
    index.add([make_tool("open_app", "Book a table at a restaurant.")])
    assert len(index) == len(BUILTINS)
    assert index.search("book a restaurant table", k=1)[0].tool.name == "open_app"
    assert index.search("book a restaurant table", k=1)[0].tool.description.startswith("Book")


def test_search_edge_cases(index: ToolIndex) -> None:
    assert index.search("   ", k=3) == []
    assert index.search("weather", k=0) == []
    assert len(index.search("weather", k=100)) == len(BUILTINS)
    assert ToolIndex(embedder=HashEmbedder()).search("weather") == []


def test_embeddings_are_computed_lazily_in_one_batch(embedder: HashEmbedder) -> None:
    idx = ToolIndex(embedder=embedder)
    for tool in BUILTINS:
        idx.add([tool])
    assert embedder.encoded == []
    idx.search("weather")
    texts = {t for tool in BUILTINS for t in embedded_texts(tool)}
    assert set(embedder.encoded[:-1]) == texts  # the tools' documents and written requests,
    assert len(embedder.encoded) == len(texts) + 1 and embedder.encoded[-1] == "weather"


def test_clauses_split_multi_part_questions_only() -> None:
    assert clauses("Convert 20 USD to EUR and then tell me the weather in Paris") == [
        "Convert 20 USD to EUR",
        "tell me the weather in Paris",
    ]
    assert clauses("What is the weather in Paris?") == []
    assert clauses("salt and pepper") == []


def test_each_clause_gets_its_best_tool_into_the_top_k() -> None:
    distractors = [
        make_tool(f"currency_tool_{i}", "Convert money between currencies, exchange rates.")
        for i in range(6)
    ]
    query = "Convert 20 USD to EUR exchange currency money and then tell me the weather forecast"
    fused = Ranking(rank_dense_weight=0.4, rank_query_weight=0.0, synthetic_queries=False)
    split = ToolIndex(embedder=HashEmbedder(), ranking=replace(fused, split_clauses=True))
    whole = ToolIndex(embedder=HashEmbedder(), ranking=fused)
    for idx in (split, whole):
        idx.add(BUILTINS + distractors)
    assert "get_weather" in names(split.search(query, k=3))
    assert "get_weather" not in names(whole.search(query, k=3))


def test_disk_cache_embeds_each_tool_once(tmp_path: Path) -> None:
    first = HashEmbedder()
    idx = ToolIndex(embedder=first, cache_dir=tmp_path)
    idx.add(BUILTINS)
    idx.embed_pending()
    assert sorted(first.encoded) == sorted({t for tool in BUILTINS for t in embedded_texts(tool)})
    assert list((tmp_path / HashEmbedder.model_id).glob("shard-*.npz"))

    second = HashEmbedder()
    again = ToolIndex(embedder=second, cache_dir=tmp_path)
    changed = make_tool("get_time", "Tell the time anywhere.")
    again.add([*BUILTINS[:-2], changed])
    hits = again.search("weather in Paris", k=1)
    fresh = [t for t in embedded_texts(changed) if t not in first.encoded]
    assert second.encoded == [*fresh, "weather in Paris"]
    assert hits[0].dense_score == pytest.approx(
        idx.search("weather in Paris", k=1)[0].dense_score, abs=1e-6
    )


def test_unreadable_cache_shard_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / HashEmbedder.model_id
    folder.mkdir()
    (folder / "shard-broken.npz").write_bytes(b"not a numpy file")
    idx = ToolIndex(embedder=HashEmbedder(), cache_dir=tmp_path)
    idx.add(BUILTINS)
    assert idx.search("weather in Paris", k=1)[0].tool.name == "get_weather"


def test_many_removals_compact_the_index() -> None:
    idx = ToolIndex(embedder=HashEmbedder())
    filler = [
        make_tool(f"filler_{i}", f"Filler tool number {i} about topic {i % 7}.")
        for i in range(1500)
    ]
    idx.add(filler + BUILTINS)
    idx.embed_pending()
    idx.remove([t.name for t in filler])
    assert len(idx) == len(BUILTINS)
    assert len(idx._tools) == len(BUILTINS)  # compacted: dead rows are gone
    hit = idx.search("weather forecast in Paris", k=1)[0]
    assert hit.tool.name == "get_weather" and not math.isnan(hit.dense_score)

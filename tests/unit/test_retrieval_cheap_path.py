"""The cheap path of retrieval: what is embedded, and when, on the scripted model.

- With no more tools than ``k`` and a strategy that reads no retrieval score (native, plain),
  every tool is offered, ordered by keywords, and nothing is embedded.
- The staged strategy reads the scores (its relevance gate, its selection), so it keeps the
  whole hybrid search: keyword-only scores flipped its gate on 20-56 % of BFCL questions with
  at most ``k`` functions (irrelevance, live_irrelevance, simple_python, multiple,
  live_simple; 80 sampled each).
- A query seen again is not embedded again (``QueryCache``, bounded, shared by threads).
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Literal

import numpy as np
import pytest

from toolwire import Registry
from toolwire.engine import Engine
from toolwire.messages import Completion, JsonSchemaConstraint, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.pipeline import EngineConfig, Pipeline
from toolwire.retrieval import ToolIndex, tool_document
from toolwire.retrieval.embeddings import QueryCache
from toolwire.strategies import Turn
from toolwire.text.words import terms


class CountingEmbedder:
    """A deterministic bag-of-words embedder that records every text it is asked to embed."""

    model_id = "test-counting-bow"
    dim = 32

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.texts.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in terms(text) or [text]:
                seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
                out[i] += np.random.default_rng(seed).standard_normal(self.dim)
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-9)
        return out


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first term
        b: second term
    """
    return a + b


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather in a city.

    Args:
        city: the city
        unit: celsius or fahrenheit
    """
    return f"sunny in {city}"


def get_time(timezone: str) -> str:
    """The current time in a timezone.

    Args:
        timezone: an IANA timezone name
    """
    return "12:00"


QUESTION = "what is the weather in Paris"


def make_registry(embedder: CountingEmbedder, **index: int) -> Registry:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=embedder, **index))
    registry.register(add)
    registry.register(get_weather)
    registry.register(get_time)
    return registry


def native_model() -> ScriptedModel:
    def respond(request: Request) -> Completion:
        if request.tools:
            return Completion(tool_calls=[
                ToolCallRequest(id="", name="get_weather", arguments={"city": "Paris"})])
        return Completion(text="It is sunny in Paris.")

    return ScriptedModel(respond)


# -- no more tools than k -------------------------------------------------------------------
async def test_native_offers_every_tool_without_embedding_anything() -> None:
    embedder = CountingEmbedder()
    model = native_model()
    run = await Engine(make_registry(embedder), model=model).arun(QUESTION)

    assert embedder.texts == []  # neither the query nor a tool document
    assert [c.status for c in run.calls] == ["ok"]
    offered = model.requests[0].tools
    assert offered is not None
    assert sorted(t.name for t in offered) == ["add", "get_time", "get_weather"]
    assert run.candidates[0] == "get_weather"  # still best first, by keywords


async def test_plain_offers_every_tool_without_embedding_anything() -> None:
    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, JsonSchemaConstraint):
            return Completion(text=json.dumps([{"name": "add", "arguments": {"a": 1, "b": 2}}]))
        return Completion(text="3")

    embedder = CountingEmbedder()
    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    engine = Engine(make_registry(embedder), model=model,
                    config=EngineConfig(strategy="plain"))
    run = await engine.arun("add 1 and 2")

    assert embedder.texts == []
    assert [(c.name, c.result) for c in run.calls] == [("add", 3)]
    assert sorted(run.candidates) == ["add", "get_time", "get_weather"]


async def test_keywords_offer_the_same_tools_as_the_hybrid_search() -> None:
    registry = make_registry(CountingEmbedder())
    pipeline = Pipeline(registry, native_model(), config=EngineConfig(strategy="native"))

    offered = await pipeline.retrieve(Turn(question=QUESTION, history=[]))

    hybrid = registry.index.search(QUESTION, k=5)
    assert sorted(h.tool.name for h in offered) == sorted(h.tool.name for h in hybrid)
    assert all(np.isnan(h.dense_score) for h in offered)


async def test_staged_keeps_the_hybrid_scores_its_gate_reads() -> None:
    embedder = CountingEmbedder()
    registry = make_registry(embedder)
    model = ScriptedModel(supports_tools=False, supports_grammar=True)
    pipeline = Pipeline(registry, model, config=EngineConfig(strategy="staged"))

    offered = await pipeline.retrieve(Turn(question=QUESTION, history=[]))

    assert QUESTION in embedder.texts
    hybrid = registry.index.search(QUESTION, k=5)
    assert [(h.tool.name, h.score) for h in offered] == [(h.tool.name, h.score) for h in hybrid]
    assert not any(np.isnan(h.dense_score) for h in offered)


async def test_more_tools_than_k_embed_the_query() -> None:
    embedder = CountingEmbedder()
    registry = make_registry(embedder)
    pipeline = Pipeline(registry, native_model(), config=EngineConfig(strategy="native", k=2))

    offered = await pipeline.retrieve(Turn(question=QUESTION, history=[]))

    assert QUESTION in embedder.texts  # the dense score decides which 2 of the 3
    assert [h.tool.name for h in offered] == [h.tool.name for h in registry.search(QUESTION, 2)]


def test_a_keyword_search_embeds_neither_tools_nor_the_query() -> None:
    embedder = CountingEmbedder()
    index = ToolIndex(embedder=embedder)
    index.add(list(make_registry(CountingEmbedder())))

    hits = index.search(QUESTION, k=2, dense=False)

    assert embedder.texts == []
    assert hits[0].tool.name == "get_weather" and np.isnan(hits[0].dense_score)
    index.search(QUESTION, k=2)  # the tools added meanwhile are embedded at the next dense one
    docs = [tool_document(t) for t in make_registry(CountingEmbedder())]
    assert len(embedder.texts) == len({t for d in docs for t in (d.text, *d.queries)}) + 1
    assert embedder.texts[-1] == QUESTION


# -- the query cache --------------------------------------------------------------------------
def test_a_repeated_query_is_embedded_once() -> None:
    embedder = CountingEmbedder()
    index = make_registry(embedder).index

    first = index.search(QUESTION, k=2)
    again = index.search(QUESTION, k=2)

    assert embedder.texts.count(QUESTION) == 1
    assert (index.queries.hits, index.queries.misses) == (1, 1)
    assert [(h.tool.name, h.score, h.dense_score) for h in again] == [
        (h.tool.name, h.score, h.dense_score) for h in first
    ]


async def test_a_repeated_sentence_is_embedded_once_by_the_pipeline() -> None:
    embedder = CountingEmbedder()
    engine = Engine(make_registry(embedder), model=native_model(), config=EngineConfig(k=2))

    runs = [await engine.arun(QUESTION) for _ in range(3)]

    assert embedder.texts.count(QUESTION) == 1
    assert len({tuple(r.candidates) for r in runs}) == 1


def test_cached_vectors_equal_fresh_ones() -> None:
    cached, fresh = CountingEmbedder(), CountingEmbedder()
    with_cache = make_registry(cached).index
    without = make_registry(fresh, query_cache_size=0).index
    for _ in range(2):
        a, b = with_cache.search(QUESTION, k=3), without.search(QUESTION, k=3)
        assert [(h.tool.name, h.score) for h in a] == [(h.tool.name, h.score) for h in b]
    assert fresh.texts.count(QUESTION) == 2 and cached.texts.count(QUESTION) == 1


def test_the_cache_drops_the_least_recently_used_text() -> None:
    embedder = CountingEmbedder()
    cache = QueryCache(size=2)
    for text in ["a b", "c d", "a b", "e f"]:  # "c d" is the least recently used
        cache.encode(embedder, [text])
    embedder.texts.clear()

    cache.encode(embedder, ["a b", "e f", "c d"])

    assert embedder.texts == ["c d"]
    assert len(cache) == 2


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    embedder = CountingEmbedder()
    cache = QueryCache(size=0)
    cache.encode(embedder, ["a b"])
    cache.encode(embedder, ["a b"])
    assert embedder.texts == ["a b", "a b"] and len(cache) == 0


def test_cached_vectors_cannot_be_changed_by_a_caller() -> None:
    embedder = CountingEmbedder()
    cache = QueryCache()
    first = cache.encode(embedder, ["a b"])
    first[0, :] = 0.0
    assert np.allclose(cache.encode(embedder, ["a b"]), embedder.encode(["a b"]))
    assert cache.encode(embedder, []).shape == (0, embedder.dim)


def test_the_cache_is_shared_safely_by_threads() -> None:
    embedder = CountingEmbedder()
    cache = QueryCache(size=8)
    texts = [f"word{i} other{i}" for i in range(20)]
    expected = embedder.encode(texts)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for n in range(200):
                i = (offset + n * 7) % len(texts)
                np.testing.assert_array_equal(cache.encode(embedder, [texts[i]])[0], expected[i])
        except BaseException as e:  # the main thread reports it
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert cache.hits + cache.misses == 8 * 200
    assert len(cache) <= 8


@pytest.mark.parametrize("size", [1, 3])
def test_the_cache_never_holds_more_than_its_size(size: int) -> None:
    cache = QueryCache(size=size)
    cache.encode(CountingEmbedder(), [f"text {i}" for i in range(10)])
    assert len(cache) == size


# -- batches of texts for the model -----------------------------------------------------------
def test_batches_keep_short_texts_apart_from_long_ones() -> None:
    from toolwire.retrieval.embeddings import BATCH_SIZE, BATCH_TOKENS, _batches

    lengths = [4] * 40 + [200, 300, 600]
    batches = _batches(list(range(len(lengths))), lengths)
    assert [r for b in batches for r in b] == list(range(len(lengths)))  # order kept, none lost
    assert all(len(b) <= BATCH_SIZE for b in batches)
    assert all(len(b) * max(lengths[r] for r in b) <= BATCH_TOKENS or len(b) == 1
               for b in batches)
    assert [len(b) for b in batches] == [32, 8, 1, 1, 1]  # no short text padded to a long one
    assert _batches([], []) == []

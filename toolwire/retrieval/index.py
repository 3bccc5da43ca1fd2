"""Tool retrieval: BM25 over words plus dense embeddings, fused into one relevance score.

    index = ToolIndex(cache_dir=settings.home / "index")
    index.add(tools)                      # incremental; embeddings computed lazily, in batches
    hits = index.search("what's 20 dollars in euros", k=5)
    hits[0].tool.name, hits[0].score, hits[0].dense_score

Each tool becomes a document (:func:`tool_document`): its name split into words, description,
parameter names and descriptions, enum values and keywords, plus the synonyms of its action
verbs, and a few requests written for it from its schema (``expansion.py``). The keyword side
is BM25 (see ``bm25.py``) normalised to [0, 1] by the best score the query could reach, so it
reads as "how much of the query's weight the tool's words cover". The dense side is the cosine
similarity of query and tool embeddings; the query side the cosine to the mean of the tool's
written requests' embeddings (Tool2Vec's idea: find a tool where the questions about it lie).

Two scores come of them. The fused score (``Hit.score``: dense and keyword) is absolute (not
rescaled per query), so it means the same thing for six tools or for 100k, and can gate
irrelevant requests with one threshold: the staged strategy's calibrated models read it. The
order of the hits is the ranking score's (:class:`Ranking`: the three sides, weighed on the
tuning sets), which finds tools whose descriptions are written unlike the question.

A tool in the top k brings in, right behind it, the tools it needs first that a request
never names (``prerequisites.py``: ``send_message`` takes a user id that ``get_user_id``
gives), when the question ranks them near (``Ranking.prerequisites``).

With ``Ranking(split_clauses=True)``, questions that ask for several things ("convert 5 USD to
EUR and then tell me the weather") are also searched clause by clause, and each clause's best
tool is moved up behind the overall best, so every intent gets a place in the top k.

Tool vectors are cached on disk (keyed by the model id and a hash of the embedded text), so a
restart or a registry of 100k tools is embedded once. Query vectors are kept in memory
(a :class:`~toolwire.retrieval.embeddings.QueryCache`), so a sentence seen again is not
embedded again. ``search(..., dense=False)`` ranks by keywords alone and embeds nothing: for a
caller that offers every tool anyway and reads no score.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from toolwire.retrieval.bm25 import KeywordIndex
from toolwire.retrieval.embeddings import (
    QUERY_CACHE_SIZE,
    Embedder,
    QueryCache,
    default_embedder,
)
from toolwire.retrieval.expansion import expanded_terms, parameters, synthetic_queries
from toolwire.retrieval.prerequisites import Prerequisites
from toolwire.text.clauses import split as split_into_clauses
from toolwire.text.words import split_identifier, terms

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Indexable(Protocol):
    """What the index ranks: a tool spec with retrieval keywords (``toolwire.tools.Tool`` is
    one). The index imports no registry."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def parameters(self) -> dict[str, Any]: ...
    @property
    def keywords(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=Indexable)

log = logging.getLogger(__name__)

DENSE_TEXT_CHARS = 1200
"""Characters of a tool document that get embedded (the model reads 256 tokens at most)."""
EMBED_BATCH = 2048
"""Tools embedded (and written to the disk cache as one shard) at a time."""


@dataclass(kw_only=True)
class Hit(Generic[T]):
    """One retrieved tool and why it ranked where it did."""

    tool: T
    score: float
    """Fused relevance: ``dense_weight × dense + (1 − dense_weight) × keyword`` (what relevance
    gates read; hits are ordered by :meth:`Ranking.rank`, which also reads ``query_score``)."""
    keyword_score: float
    """BM25 divided by the best BM25 the query could reach: 0 (no shared word) to ~1."""
    dense_score: float
    """Cosine similarity of query and tool embeddings; NaN when the index has no embedder."""
    query_score: float = math.nan
    """Cosine similarity of the query and the mean of the tool's written requests'
    embeddings (:func:`~toolwire.retrieval.expansion.synthetic_queries`); NaN without them."""


@dataclass(kw_only=True, frozen=True)
class Ranking:
    """How the signals are weighed. The ranking weights were chosen on BFCL's tuning split
    (``toolwire.eval.bfcl.in_split(id, "tune")``) and the BFCL multi-turn set together, never
    on BFCL's report split or on LiveMCPBench."""

    dense_weight: float = 0.4
    """Share of the dense cosine in the fused score (``Hit.score``); the keyword score gets
    the rest. The staged strategy's calibrated relevance and selection read this score."""
    rank_dense_weight: float = 0.125
    """Share of the dense cosine in the ranking score (:meth:`rank`)."""
    rank_query_weight: float = 0.125
    """Share of the query-side cosine (the tool's written requests) in the ranking score; the
    keyword score gets what the two leave. With 0.4 and 0 the order is the fused score's, as
    before issue 24 (R@5 then → now, with the synonyms below: BFCL's tuning split .853 → .867,
    multi-turn .737 → .776; BFCL's report split .865 → .858, LiveMCPBench .189 → .200)."""
    synthetic_queries: bool = True
    """Embed requests written from each tool's schema (about 3 short texts per tool beside its
    document; their vectors are cached on disk like the document's)."""
    synonym_weight: float = 1.0
    """Term-count weight, relative to the verb's own, of the synonyms of a tool's action
    verbs in BM25 (:data:`~toolwire.retrieval.expansion.ACTION_SYNONYMS`); 0 adds none."""
    name_weight: float = 2.0
    """Term-count weight of the tool-name words in BM25 (description words count 1)."""
    parameter_weight: float = 1.0
    """Term-count weight of parameter names, descriptions and enum values in BM25."""
    keyword_weight: float = 2.0
    """Term-count weight of a tool's extra ``keywords`` in BM25."""
    split_clauses: bool = False
    """Also search each clause of a multi-part question (see :meth:`ToolIndex.search`). Off by
    default: on BFCL it lifted parallel_multiple R@5 (.55 → .58) but not the total, and it
    embeds each clause (~2.7 texts per question instead of one)."""
    clause_min_score: float = 0.4
    """A clause's best tool is promoted only when its fused score reaches this."""
    prerequisites: bool = True
    """Bring in, right behind a tool of the top k, the tools it needs first that its
    request never names (:func:`~toolwire.retrieval.prerequisites.prerequisites`: the getter
    of a value its parameter takes, the setter of the "current" state it works in), last hits
    dropping out. On BFCL's multi-turn set R@5 .780 → .811; on BFCL's tuning split R@5
    unchanged (.867), R@10 .909 → .907."""
    prerequisite_depth: int = 4
    """A prerequisite comes in only when it ranks in the top ``prerequisite_depth × k`` for
    the question itself (a getter of dates is no use to every question with a date). Chosen
    on the multi-turn set and the tuning split: 2 gave .803, 4 .811, unbounded .810 (and
    cost the tuning split .867 → .859)."""

    def rank(
        self,
        keyword: NDArray[np.float64],
        dense: NDArray[np.float64] | None,
        query: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        """The ranking score of each tool: the weighed sum of the sides there are (a missing
        side's share goes to the keyword score; NaN counts 0)."""
        out = keyword.copy()
        for weight, side in ((self.rank_dense_weight, dense), (self.rank_query_weight, query)):
            if side is not None and weight:
                out += weight * (np.nan_to_num(side, nan=0.0) - keyword)
        return out


@dataclass(kw_only=True)
class ToolDocument:
    """What retrieval knows about a tool: weighted BM25 terms, the text to embed and the
    requests written for it (empty with ``Ranking(synthetic_queries=False)``)."""

    terms: Counter[str]
    text: str
    queries: list[str]


_UNSET: Any = object()


def tool_document(tool: Indexable, ranking: Ranking | None = None) -> ToolDocument:
    """The searchable document of ``tool`` (see the module docstring for its parts)."""
    ranking = ranking or Ranking()
    name_words = " ".join(split_identifier(tool.name))
    params = list(parameters(tool.parameters))
    counts: Counter[str] = Counter()
    _count(counts, terms(name_words), ranking.name_weight)
    _count(counts, terms(tool.description), 1.0)
    _count(counts, terms(" ".join(tool.keywords)), ranking.keyword_weight)
    for pname, pdesc, enums in params:
        _count(counts, terms(f"{pname} {pdesc} {' '.join(enums)}"), ranking.parameter_weight)
    return ToolDocument(
        terms=expanded_terms(counts, ranking.synonym_weight),
        text=_dense_text(name_words, tool, params),
        queries=synthetic_queries(tool) if ranking.synthetic_queries else [],
    )


def _count(counts: Counter[str], words: list[str], weight: float) -> None:
    for w in words:
        counts[w] += weight  # type: ignore[assignment]


def _dense_text(name_words: str, tool: Indexable, params: list[tuple[str, str, list[str]]]) -> str:
    parts = [f"{name_words}: {tool.description.strip()}"]
    if tool.keywords:
        parts.append(" ".join(tool.keywords))
    if params:
        parts.append("Parameters: " + "; ".join(_param_text(*p) for p in params))
    return " ".join(parts)[:DENSE_TEXT_CHARS]


def _param_text(name: str, description: str, enums: list[str]) -> str:
    text = " ".join(split_identifier(name))
    if description:
        text += f" ({description.strip()})"
    if enums:
        text += " one of " + ", ".join(enums[:8])
    return text


_OPERATORS = (
    (re.compile(r"(?<=[\d)])\s*(?:\*\*|\^)\s*(?=[\d(])"), " power "),
    (re.compile(r"(?<=[\d)])\s*[*×]\s*(?=[\d(])"), " multiply "),
    (re.compile(r"(?<=[\d)])\s*\+\s*(?=[\d(])"), " plus "),
    (re.compile(r"(?<=[\d)])\s+[-−]\s+(?=[\d(])"), " minus "),
    (re.compile(r"(?<=[\d)])\s*÷\s*(?=[\d(])|(?<=[\d)])\s+/\s+(?=[\d(])"), " divided "),
)
"""Arithmetic operators between numbers, read as the words people also write ("17 * 23" is
"17 multiply 23"); a minus or slash only with spaces around it, as "2023-05-02" and "4/5" are not
sums."""


def query_terms(text: str) -> list[str]:
    """BM25 terms of a question: numbers left out (they are arguments, not what a tool does),
    operators read as words."""
    for pattern, word in _OPERATORS:
        text = pattern.sub(word, text)
    return [t for t in terms(text) if not t.isdigit()]


_MIN_CLAUSE_WORDS = 3


def clauses(query: str) -> list[str]:
    """The parts of a question that may each ask for a different tool (only when 2+): its
    clauses (``text.clauses.split``, the splitter the staged strategy reads too) of three
    words or more."""
    parts = [c.text.strip(" ,.;") for c in split_into_clauses(query)]
    parts = [p for p in parts if len(p.split()) >= _MIN_CLAUSE_WORDS]
    return parts if len(parts) > 1 else []


class EmbeddingCache:
    """Tool vectors on disk: ``<dir>/<model id>/shard-*.npz`` of (text hash, vector) rows."""

    MAX_SHARDS = 32

    def __init__(self, directory: Path, model_id: str) -> None:
        self.directory = directory / re.sub(r"[^A-Za-z0-9_.-]", "_", model_id)
        self.model_id = model_id
        self._vectors: dict[bytes, NDArray[np.float32]] | None = None

    def key(self, text: str) -> bytes:
        return hashlib.sha256(f"{self.model_id}\0{text}".encode()).digest()[:16]

    def get(self, keys: list[bytes]) -> list[NDArray[np.float32] | None]:
        vectors = self._load()
        return [vectors.get(k) for k in keys]

    def put(self, keys: list[bytes], vectors: NDArray[np.float32]) -> None:
        """Store new vectors (one shard per call; shards are merged when there are many)."""
        if not keys:
            return
        loaded = self._load()
        loaded.update(zip(keys, vectors, strict=True))
        shards = sorted(self.directory.glob("shard-*.npz"))
        try:
            if len(shards) >= self.MAX_SHARDS:
                self._write(list(loaded), np.stack(list(loaded.values())))
                for old in shards:
                    old.unlink(missing_ok=True)
            else:
                self._write(keys, vectors)
        except OSError as e:  # a read-only or full disk costs speed, never results
            log.warning("could not write the embedding cache in %s: %s", self.directory, e)

    def _write(self, keys: list[bytes], vectors: NDArray[np.float32]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(b"".join(keys)).hexdigest()[:16]
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, keys=np.array(keys, dtype="S16"), vectors=vectors.astype(np.float32))
        os.replace(tmp, self.directory / f"shard-{name}.npz")

    def _load(self) -> dict[bytes, NDArray[np.float32]]:
        if self._vectors is None:
            self._vectors = {}
            for shard in sorted(self.directory.glob("shard-*.npz")):
                try:
                    with np.load(shard) as data:
                        self._vectors.update(
                            zip(data["keys"].tolist(), data["vectors"], strict=True)
                        )
                except (OSError, ValueError, KeyError) as e:
                    log.warning("ignoring unreadable embedding cache shard %s: %s", shard, e)
        return self._vectors


class ToolIndex(Generic[T]):
    """Hybrid (BM25 + embeddings) search over tools; add and remove tools at any time."""

    def __init__(
        self,
        *,
        embedder: Embedder | None = _UNSET,
        cache_dir: Path | None = None,
        ranking: Ranking | None = None,
        query_cache_size: int = QUERY_CACHE_SIZE,
    ) -> None:
        """``embedder=None`` searches keywords only; the default loads the shipped MiniLM on the
        first search. ``cache_dir`` keeps tool vectors across processes; the vectors of the
        last ``query_cache_size`` distinct queries are kept in memory."""
        self.ranking = ranking or Ranking()
        self._embedder: Embedder | None = embedder
        self._cache_dir = cache_dir
        self._cache: EmbeddingCache | None = None
        self.queries = QueryCache(query_cache_size)
        """Recent query vectors (its ``hits`` and ``misses`` say how well it serves)."""
        self._lock = threading.RLock()
        self._tools: list[T | None] = []
        self._row: dict[str, int] = {}
        self._keywords = KeywordIndex()
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        """Row → the tool document's embedding."""
        self._asked = np.zeros((0, 0), dtype=np.float32)
        """Row → the mean of the tool's written requests' embeddings, unit length (zero for a
        tool without requests)."""
        self._has_vector = np.zeros(0, dtype=bool)
        self._pending: dict[int, ToolDocument] = {}
        self._live = np.zeros(0, dtype=bool)
        self._prerequisites = Prerequisites()

    # -- contents -------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._row

    def __len__(self) -> int:
        return len(self._row)

    def get(self, name: str) -> T | None:
        """The indexed tool called ``name`` (``None`` when there is none)."""
        row = self._row.get(name)
        return None if row is None else self._tools[row]

    @property
    def dense(self) -> bool:
        """Whether searches use embeddings (``dense_score`` is NaN otherwise)."""
        return self._embedder is not None

    def add(self, tools: list[T]) -> None:
        """Index ``tools``; a name already indexed is replaced by the new tool."""
        with self._lock:
            for tool in tools:
                if tool.name in self._row:
                    self._drop(tool.name)
                row = len(self._tools)
                doc = tool_document(tool, self.ranking)
                self._tools.append(tool)
                self._row[tool.name] = row
                self._keywords.add(row, doc.terms)
                self._prerequisites.add(tool)
                self._mark_live(row)
                if self.dense:
                    self._pending[row] = doc

    def remove(self, names: list[str]) -> None:
        """Forget the tools called ``names`` (unknown names are ignored)."""
        with self._lock:
            for name in names:
                if name in self._row:
                    self._drop(name)
            if len(self._tools) > 1000 and len(self._row) < len(self._tools) // 2:
                self._compact()

    def _mark_live(self, row: int) -> None:
        if row >= len(self._live):
            grown = np.zeros(max(row + 1, 2 * len(self._live), 64), dtype=bool)
            grown[: len(self._live)] = self._live
            self._live = grown
        self._live[row] = True

    def _drop(self, name: str) -> None:
        row = self._row.pop(name)
        self._tools[row] = None
        self._live[row] = False
        self._pending.pop(row, None)
        self._keywords.remove(row)
        self._prerequisites.remove(name)

    def _compact(self) -> None:
        """Rebuild over the live tools only (after many removals)."""
        live = [(t, row) for row, t in enumerate(self._tools) if t is not None]
        kept = [row for _, row in live if self._has_vector[row]]
        vectors, asked = self._vectors[kept], self._asked[kept]
        had_vector = [t.name for t, row in live if self._has_vector[row]]
        self._tools, self._row, self._keywords = [], {}, KeywordIndex()
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._asked = np.zeros((0, 0), dtype=np.float32)
        self._has_vector = np.zeros(0, dtype=bool)
        self._pending = {}
        self._live = np.zeros(0, dtype=bool)
        self.add([t for t, _ in live])
        rows = [self._row[name] for name in had_vector]
        for name in had_vector:
            self._pending.pop(self._row[name], None)
        self._store_vectors(rows, vectors, asked)

    # -- embeddings -----------------------------------------------------------------------
    def embed_pending(self) -> None:
        """Embed the tools added since the last search (cache first, then the model)."""
        with self._lock:
            if not self._pending:
                return
            embedder = self._get_embedder()
            if embedder is None:
                self._pending.clear()
                return
            rows, docs = list(self._pending), list(self._pending.values())
            for start in range(0, len(rows), EMBED_BATCH):
                end = start + EMBED_BATCH
                self._embed_rows(embedder, rows[start:end], docs[start:end])
            self._pending.clear()

    def _embed_rows(self, embedder: Embedder, rows: list[int], docs: list[ToolDocument]) -> None:
        """Embed the documents and written requests of ``rows`` (one batch of texts)."""
        texts = [d.text for d in docs] + [q for d in docs for q in d.queries]
        vectors = self._embed_texts(embedder, texts)
        asked = np.zeros((len(rows), embedder.dim), dtype=np.float32)
        start = len(docs)
        for i, doc in enumerate(docs):
            if doc.queries:
                mean = vectors[start : start + len(doc.queries)].mean(axis=0)
                asked[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
                start += len(doc.queries)
        self._store_vectors(rows, vectors[: len(docs)], asked)

    def _embed_texts(self, embedder: Embedder, texts: list[str]) -> NDArray[np.float32]:
        """One vector per text: from the disk cache where it has it, else from the model."""
        cache = self._get_cache(embedder)
        keys = [cache.key(t) for t in texts] if cache else []
        cached = cache.get(keys) if cache else [None] * len(texts)
        vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, v in enumerate(cached):
            if v is None:
                missing.setdefault(texts[i], []).append(i)
            else:
                vectors[i] = v
        if missing:
            fresh = embedder.encode(list(missing))
            for text_rows, vector in zip(missing.values(), fresh, strict=True):
                vectors[text_rows] = vector
            if cache:
                cache.put([keys[rows[0]] for rows in missing.values()], fresh)
        return vectors

    def _store_vectors(
        self, rows: list[int], vectors: NDArray[np.float32], asked: NDArray[np.float32]
    ) -> None:
        if not rows:
            return
        size, dim = len(self._tools), vectors.shape[1]
        if self._vectors.shape[0] < size or self._vectors.shape[1] != dim:
            capacity = max(size, 2 * self._vectors.shape[0], 64)
            self._vectors = _grown(self._vectors, capacity, dim)
            self._asked = _grown(self._asked, capacity, dim)
            has = np.zeros(capacity, dtype=bool)
            has[: len(self._has_vector)] = self._has_vector
            self._has_vector = has
        self._vectors[rows] = vectors
        self._asked[rows] = asked
        self._has_vector[rows] = True

    def _get_embedder(self) -> Embedder | None:
        if self._embedder is _UNSET:
            self._embedder = default_embedder()
        return self._embedder

    def _get_cache(self, embedder: Embedder) -> EmbeddingCache | None:
        if self._cache_dir is None:
            return None
        if self._cache is None or self._cache.model_id != embedder.model_id:
            self._cache = EmbeddingCache(self._cache_dir, embedder.model_id)
        return self._cache

    def embed_query(self, query: str) -> NDArray[np.float32] | None:
        """The query's vector (``None`` without an embedder)."""
        vectors = self._query_vectors([query])
        return None if vectors is None else vectors[0]

    # -- search ---------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, *, dense: bool = True) -> list[Hit[T]]:
        """The ``k`` tools most relevant to ``query``, best first.

        The order is the whole question's ranking score (:meth:`Ranking.rank`), except that
        when the question has several clauses (``split_clauses``), each clause's best tool (if
        its fused score reaches ``clause_min_score``) is moved up to just after the overall
        best; such a hit carries its clause's scores.
        ``dense=False`` ranks by keywords alone (as an index without embedder does) and embeds
        neither the query nor tools added since the last search.
        With ``prerequisites``, the tools a hit needs first follow it (see ``Ranking``).
        """
        if k <= 0 or not query.strip():
            return []
        with self._lock:
            if not self._row:
                return []
            parts = [query, *(clauses(query) if self.ranking.split_clauses else [])]
            vectors = None
            if dense:
                self.embed_pending()
                vectors = self._query_vectors(parts)
            scored = [
                self._scores(p, None if vectors is None else vectors[i])
                for i, p in enumerate(parts)
            ]
            rows = self._merge(scored, k)
            if self.ranking.prerequisites:
                rows = self._with_prerequisites(rows, scored[0], k)
            return [self._hit(row, source) for row, source in rows]

    def relevance(self, query: str, k: int = 5) -> float:
        """The best fused score among the top ``k`` tools for ``query`` (0 when the index is
        empty)."""
        return max((h.score for h in self.search(query, k=k)), default=0.0)

    def _scores(self, text: str, vector: NDArray[np.float32] | None) -> _Scores:
        keyword = self._keyword_scores(text)
        dense = query = np.full(len(keyword), np.nan)
        fused, rank = keyword, self.ranking.rank(keyword, None, None)
        if vector is not None:
            dense = self._dense_scores(vector, self._vectors)
            if self.ranking.synthetic_queries:
                query = self._dense_scores(vector, self._asked)
            w = self.ranking.dense_weight
            fused = w * np.nan_to_num(dense, nan=0.0) + (1 - w) * keyword
            asked = query if self.ranking.synthetic_queries else None
            rank = self.ranking.rank(keyword, dense, asked)
        live = self._live[: len(keyword)]
        return _Scores(
            fused=np.where(live, fused, -np.inf), rank=np.where(live, rank, -np.inf),
            keyword=keyword, dense=dense, query=query,
        )

    def _merge(self, scored: list[_Scores], k: int) -> list[tuple[int, _Scores]]:
        """The whole question's top ``k``, with each clause's best tool promoted behind its #1."""
        whole, *parts = scored
        order = _top_rows(whole.rank, k)
        ranked: list[tuple[int, _Scores]] = [(row, whole) for row in order[:1]]
        for part in parts:
            row = int(np.argmax(part.rank))
            fresh = all(row != r for r, _ in ranked)
            if fresh and part.fused[row] >= self.ranking.clause_min_score:
                ranked.append((row, part))
        seen = {r for r, _ in ranked}
        ranked += [(row, whole) for row in order[1:] if row not in seen]
        return ranked[:k]

    def _with_prerequisites(
        self, ranked: list[tuple[int, _Scores]], whole: _Scores, k: int
    ) -> list[tuple[int, _Scores]]:
        """``ranked`` with the prerequisites of each hit right behind it (those ranking in the
        top ``prerequisite_depth × k`` for the whole question), cut to ``k``."""
        wanted = [[self._row[n] for n in self._prerequisites.of(tool.name) if n in self._row]
                  if (tool := self._tools[row]) else [] for row, _ in ranked]
        if not any(wanted):
            return ranked  # no floor to find (a partition of every score) for no prerequisite
        floor = _kth_best(whole.rank, self.ranking.prerequisite_depth * k)
        out: list[tuple[int, _Scores]] = []
        seen: set[int] = set()
        for (row, source), extra in zip(ranked, wanted, strict=True):
            for r, s in [(row, source), *((n, whole) for n in extra if whole.rank[n] >= floor)]:
                if r not in seen:
                    seen.add(r)
                    out.append((r, s))
        return out[:k]

    def _hit(self, row: int, s: _Scores) -> Hit[T]:
        dense, query = float(s.dense[row]), float(s.query[row])
        return Hit(
            tool=self._tools[row],  # type: ignore[arg-type]
            score=float(s.fused[row]),
            keyword_score=float(s.keyword[row]),
            dense_score=math.nan if math.isnan(dense) else dense,
            query_score=math.nan if math.isnan(query) else query,
        )

    def _query_vectors(self, parts: list[str]) -> NDArray[np.float32] | None:
        embedder = self._get_embedder()
        return None if embedder is None else self.queries.encode(embedder, parts)

    def _keyword_scores(self, text: str) -> NDArray[np.float64]:
        raw, ceiling = self._keywords.scores(query_terms(text))
        out = np.zeros(len(self._tools))
        if ceiling > 0:
            out[: len(raw)] = raw[: len(out)] / ceiling
        return out

    def _dense_scores(
        self, vector: NDArray[np.float32], matrix: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        """Cosine of ``vector`` with each row of ``matrix`` (NaN for tools not embedded).

        ``einsum`` rather than ``@``: BLAS woke its thread pool for each product, which cost
        ~10 ms at 2,000 tools right after the embedder ran (~0.3 ms this way)."""
        out = np.full(len(self._tools), np.nan)
        n = min(len(self._tools), matrix.shape[0])
        if n:
            out[:n] = np.einsum("ij,j->i", matrix[:n], vector)
            out[:n][~self._has_vector[:n]] = np.nan
        return out


@dataclass(kw_only=True)
class _Scores:
    """Per-row scores of one query text (dead rows fused and ranked at -inf)."""

    fused: NDArray[np.float64]
    rank: NDArray[np.float64]
    keyword: NDArray[np.float64]
    dense: NDArray[np.float64]
    query: NDArray[np.float64]


def _grown(matrix: NDArray[np.float32], rows: int, dim: int) -> NDArray[np.float32]:
    """``matrix`` copied into a zeroed ``rows`` × ``dim`` array (a new width starts empty)."""
    grown = np.zeros((rows, dim), dtype=np.float32)
    if matrix.size and matrix.shape[1] == dim:
        grown[: matrix.shape[0]] = matrix
    return grown


def _kth_best(scores: NDArray[np.float64], k: int) -> float:
    """The ``k``-th highest finite score (-inf when there are no more than ``k``)."""
    finite = scores[np.isfinite(scores)]
    if k <= 0 or k >= len(finite):
        return -math.inf
    return float(-np.partition(-finite, k - 1)[k - 1])


def _top_rows(scores: NDArray[np.float64], k: int) -> list[int]:
    """Rows of the ``k`` highest finite scores, best first (ties by row)."""
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [int(r) for r in top[:k]]

"""BM25 over an inverted index that grows incrementally and scales to 100k documents.

Postings live in two parts: a compiled, term-sorted CSR block (``indptr``/``rows``/``tfs`` numpy
arrays) and a small append-only delta. Adding a document only appends to the delta; when the delta
grows past a quarter of the compiled part the two are merged (one argsort). Removing a document
marks its row dead; dead postings are filtered at query time and dropped at the next merge.
Scores are exact BM25 at all times: document frequencies count live documents only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

_MIN_MERGE = 20_000


class KeywordIndex:
    """Okapi BM25 over weighted term counts, one document per integer row."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._vocab: dict[str, int] = {}
        self._lengths = np.zeros(0, dtype=np.float64)
        self._alive = np.zeros(0, dtype=bool)
        self._live_count = 0
        self._total_length = 0.0
        self._indptr = np.zeros(1, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int64)
        self._tfs = np.zeros(0, dtype=np.float32)
        self._delta: tuple[list[int], list[int], list[float]] = ([], [], [])
        self._delta_arrays: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]] | None
        self._delta_arrays = None

    def __len__(self) -> int:
        return self._live_count

    @property
    def size(self) -> int:
        """Rows allocated (live or dead): score arrays have this length."""
        return len(self._alive)

    def add(self, row: int, counts: Mapping[str, float]) -> None:
        """Index document ``row`` (a fresh row id) with its weighted term counts."""
        self._grow(row + 1)
        if self._alive[row]:
            raise ValueError(f"row {row} is already indexed")
        terms, rows, tfs = self._delta
        for term, tf in counts.items():
            if tf > 0:
                terms.append(self._vocab.setdefault(term, len(self._vocab)))
                rows.append(row)
                tfs.append(float(tf))
        length = float(sum(counts.values()))
        self._lengths[row] = length
        self._alive[row] = True
        self._live_count += 1
        self._total_length += length
        self._delta_arrays = None

    def remove(self, row: int) -> None:
        """Forget document ``row``; its postings are dropped at the next merge."""
        if row >= len(self._alive) or not self._alive[row]:
            return
        self._alive[row] = False
        self._live_count -= 1
        self._total_length -= float(self._lengths[row])
        self._lengths[row] = 0.0

    def scores(self, query_terms: list[str]) -> tuple[NDArray[np.float64], float]:
        """BM25 of every row for ``query_terms`` (unique terms count once), and the best score a
        document could get for them (the sum of their idf × (k1 + 1)), for normalising."""
        self._maybe_merge()
        out = np.zeros(len(self._alive), dtype=np.float64)
        ceiling = 0.0
        if self._live_count == 0:
            return out, ceiling
        avg_length = max(self._total_length / self._live_count, 1e-9)
        for term in dict.fromkeys(query_terms):
            rows, tfs = self._postings(self._vocab.get(term))
            idf = self._idf(len(rows))
            ceiling += idf * (self.k1 + 1)
            if len(rows):
                norm = self.k1 * (1 - self.b + self.b * self._lengths[rows] / avg_length)
                out[rows] += idf * tfs * (self.k1 + 1) / (tfs + norm)
        return out, ceiling

    def _idf(self, df: int) -> float:
        n = self._live_count
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _postings(self, term_id: int | None) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        if term_id is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        rows, tfs = self._compiled_postings(term_id)
        d_terms, d_rows, d_tfs = self._delta_as_arrays()
        if len(d_terms):
            hit = d_terms == term_id
            rows, tfs = np.concatenate([rows, d_rows[hit]]), np.concatenate([tfs, d_tfs[hit]])
        live = self._alive[rows]
        return rows[live], tfs[live].astype(np.float64)

    def _compiled_postings(self, term_id: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        if term_id + 1 >= len(self._indptr):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        start, end = self._indptr[term_id], self._indptr[term_id + 1]
        return self._rows[start:end], self._tfs[start:end]

    def _delta_as_arrays(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
        if self._delta_arrays is None:
            terms, rows, tfs = self._delta
            self._delta_arrays = (
                np.asarray(terms, dtype=np.int64),
                np.asarray(rows, dtype=np.int64),
                np.asarray(tfs, dtype=np.float32),
            )
        return self._delta_arrays

    def _maybe_merge(self) -> None:
        if len(self._delta[0]) > max(_MIN_MERGE, len(self._rows) // 4):
            self.merge()

    def merge(self) -> None:
        """Fold the delta into the compiled postings and drop dead rows' postings."""
        d_terms, d_rows, d_tfs = self._delta_as_arrays()
        counts = np.diff(self._indptr)
        terms = np.concatenate([np.repeat(np.arange(len(counts)), counts), d_terms])
        rows = np.concatenate([self._rows, d_rows])
        tfs = np.concatenate([self._tfs, d_tfs])
        live = self._alive[rows]
        terms, rows, tfs = terms[live], rows[live], tfs[live]
        order = np.argsort(terms, kind="stable")
        self._rows, self._tfs = rows[order], tfs[order]
        per_term = np.bincount(terms, minlength=len(self._vocab))
        self._indptr = np.concatenate([[0], np.cumsum(per_term)]).astype(np.int64)
        self._delta = ([], [], [])
        self._delta_arrays = None

    def _grow(self, size: int) -> None:
        if size <= len(self._alive):
            return
        capacity = max(size, 2 * len(self._alive), 64)
        self._lengths = np.concatenate([self._lengths, np.zeros(capacity - len(self._lengths))])
        self._alive = np.concatenate([self._alive, np.zeros(capacity - len(self._alive), bool)])

"""Nearest-neighbour search over the document vectors held in memory.

The dense and ``similar`` channels search the ``docs`` vectors here rather than through
ChromaDB: Chroma's HNSW query costs ~2.3 ms whatever the catalog size (a fixed cost per
call), grows with the neighbours asked for (4 ms for 300 at 100,000 items), and its
filtered search scans the collection (~160 ms at 100,000 items, whatever the filter).
Measured on the 100,000-item benchmark catalog (``python -m eval bench search``), its
100 neighbours held 0.76 of the true 100 nearest.

- Up to :data:`FULL_SCAN_ROWS` rows: one exact product over every row (~0.5 ms at 10,000),
  a filter applied as a mask.
- Larger: a filter leaving at most :data:`GATHER_ROWS` rows is searched exactly over
  those rows; otherwise two stages: every row's score in a :data:`PROJECTED_DIMS`-dim
  PCA projection of the vectors (a sixth of the memory traffic of the full product), the
  best :func:`pool_size` rows passing the filter (:func:`largest`) re-scored exactly. At
  100,000 items: ~2 ms, any filter, 0.83 of the true 100 nearest (0.91 with a pool of
  2,000; Chroma's 100 neighbours: 0.76).

Scores are cosine similarities; ties go to the earlier row (Chroma's storage order).
"""

from __future__ import annotations

import threading

import numpy as np

# catalogs up to this size are scanned exactly, whole
FULL_SCAN_ROWS = 20_000
# a filter leaving at most this many rows of a larger catalog is searched exactly over them
GATHER_ROWS = 5_000
PROJECTED_DIMS = 64
# rows the projection is fitted on (a fixed-seed sample: the same projection every open)
PROJECTION_SAMPLE = 20_000
# rows gathered per block for an exact search over some rows (gathering costs more than
# the products that follow; small blocks stay in cache)
_BLOCK = 1024


def pool_size(depth: int) -> int:
    """Rows the second stage re-scores exactly for ``depth`` neighbours."""
    return max(1000, 10 * depth)


class VectorTable:
    """The ``(n, dim)`` document vectors of an index, row ``r`` the ``r``-th item of the
    table. Rows are L2-normalised once (so products are cosine similarities)."""

    def __init__(self, vectors: np.ndarray):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors):
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            # encoders write unit vectors: normalise in place only where one is not
            off = np.abs(norms[:, 0] - 1.0) > 1e-4
            if off.any():
                vectors[off] /= np.maximum(norms[off], 1e-12)
        self.vectors = vectors
        self._projected: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.vectors)

    def prepare(self) -> None:
        """Fit the projection now (a large catalog's first search would otherwise)."""
        if len(self) > FULL_SCAN_ROWS:
            self._projection()

    def mean_of(self, rows: list[int]) -> np.ndarray:
        """The normalised mean of some rows' vectors."""
        vector = np.mean(self.vectors[rows], axis=0)
        return vector / (float(np.linalg.norm(vector)) or 1.0)

    def nearest(self, query: np.ndarray, depth: int, allowed: np.ndarray | None = None,
                drop=()) -> list[tuple[int, float]]:
        """The ``depth`` rows most cosine-similar to ``query`` as ``(row, similarity)``,
        best first; only rows ``allowed`` (a boolean mask over the rows; None: all) and
        not in ``drop``."""
        n = len(self)
        if n == 0 or depth <= 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        if len(drop):
            allowed = (np.ones(n, dtype=bool) if allowed is None else allowed.copy())
            allowed[np.asarray(list(drop), dtype=np.int64)] = False
        if n <= FULL_SCAN_ROWS:
            return _top(self.vectors @ q, depth, allowed)
        passing = n if allowed is None else int(np.count_nonzero(allowed))
        if passing == 0:
            return []
        if allowed is not None and passing <= GATHER_ROWS:
            rows = np.flatnonzero(allowed)
            sims = np.concatenate([self.vectors[rows[s:s + _BLOCK]] @ q for s in range(0, len(rows), _BLOCK)])
            return [(int(rows[t]), s) for t, s in _top(sims, depth, None, order=rows)]
        projection, projected = self._projection()
        approx = projected @ (q @ projection)
        if allowed is not None:
            approx = np.where(allowed, approx, -np.inf)
        rows = largest(approx, min(pool_size(depth), passing))
        rows.sort()  # ascending rows: ties in storage order, and a cache-friendlier gather
        sims = self.vectors[rows] @ q
        return [(int(rows[t]), s) for t, s in _top(sims, depth, None, order=rows)]

    def _projection(self) -> tuple[np.ndarray, np.ndarray]:
        """``(projection (dim, k), projected rows (n, k))``: the top principal directions of
        a sample of the rows. Ranking by the projected product ranks by the part of each
        vector in those directions (the mean's part is the same for every row)."""
        with self._lock:
            if self._projected is None:
                rng = np.random.default_rng(0)
                n, dim = self.vectors.shape
                sample = self.vectors[np.sort(rng.choice(n, min(n, PROJECTION_SAMPLE), replace=False))]
                _, _, directions = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)
                projection = np.ascontiguousarray(directions[:min(PROJECTED_DIMS, dim)].T, dtype=np.float32)
                self._projected = (projection, np.ascontiguousarray(self.vectors @ projection))
            return self._projected


def largest(scores: np.ndarray, k: int) -> np.ndarray:
    """The positions of the ``k`` largest ``scores`` (in no order; ties at the boundary
    taken arbitrarily, as ``argpartition``'s).

    A partial sort of 100,000 scores costs ~1 ms; a threshold read from a strided sample
    (set to pass ~1.5 k of them) and one comparison over all of them leaves ~1.5 k to
    sort (~0.3 ms in all). Whenever at least ``k`` pass, the ``k`` largest are among them
    (the ``k``-th largest is at least the threshold), so the result is exact; when fewer
    pass, the full partial sort runs."""
    n = len(scores)
    if k >= n:
        return np.arange(n)
    if n > 16 * k:
        step = n // (8 * k)
        sample = scores[::step]
        # -inf marks rows filtered out: many equal values slow the partition, and they
        # never make the threshold
        sample = sample[sample > -np.inf]
        m = int(1.5 * k / step) + 1
        threshold = np.partition(sample, len(sample) - m)[len(sample) - m] if len(sample) >= m else -np.inf
        passing = np.flatnonzero(scores >= threshold) if threshold > -np.inf else ()
        if len(passing) >= k:
            return passing[np.argpartition(scores[passing], len(passing) - k)[len(passing) - k:]]
    return np.argpartition(scores, n - k)[n - k:]


def _top(sims: np.ndarray, depth: int, allowed: np.ndarray | None,
         order: np.ndarray | None = None) -> list[tuple[int, float]]:
    """``(position, score)`` of the ``depth`` best scores among ``allowed``, best first, ties
    by ``order`` (the rows the positions stand for; default: the positions)."""
    if allowed is not None:
        candidates = np.flatnonzero(allowed)
        sims_allowed = sims[candidates]
    else:
        candidates, sims_allowed = None, sims
    m = len(sims_allowed)
    if m == 0:
        return []
    if m > depth:
        top = np.argpartition(-sims_allowed, depth - 1)[:depth]
    else:
        top = np.arange(m)
    positions = top if candidates is None else candidates[top]
    keys = positions if order is None else order[positions]
    ranked = positions[np.lexsort((keys, -sims_allowed[top]))]
    return [(int(p), float(sims[p])) for p in ranked]

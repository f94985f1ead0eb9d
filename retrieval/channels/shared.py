"""The ``shared`` channel: items that share rare attribute values with the liked items.

"More from the same director", "with the same actor", "same brand": an item sharing a
value with something the user liked is a good guess, and the rarer the value, the more it
says. Every text field (or list of texts) of the metadata is used, except values with
digits (sizes, volumes: measures, not traits). A value held by one item only names
nothing to share, and a value held by more than ``max_share`` of the catalog (a common
genre, a big category) says too little and is left to the ``attribute`` and ``similar``
channels. An item's score is the sum, over the liked items and the values it
shares with each, of the value's inverse document frequency ``log(n / items having it)``.
Detail ``{"liked": id, "values": ["director=..."]}``.
"""

from __future__ import annotations

import math
from typing import Any

from .base import Channel, Hit, Search
from .registry import register
from .values import PopularityTieBreak, text_values

# a value more items than this share of the catalog have is too common to say anything
MAX_SHARE = 0.05


class SharedValuesIndex(PopularityTieBreak):
    """Which items share which rare attribute values. Built once from the metadata table
    (``{id: metadata}``, the index's row order)."""

    def __init__(self, table: dict[str, dict], max_share: float = MAX_SHARE):
        import numpy as np

        self.ids = list(table)
        n = len(self.ids)
        postings: dict[tuple[str, str], list[int]] = {}
        for row, meta in enumerate(table.values()):
            for key, v in text_values(meta):
                # a value with digits is a measure ("ca 180g", "500 ml"), not a trait
                if not any(c.isdigit() for c in v):
                    postings.setdefault((key, v), []).append(row)
        limit = max(2, int(max_share * n))
        # value -> (field=value label, rows having it, idf); only values 2..limit items share
        self._values: list[tuple[str, Any, float]] = []
        self._values_of_row: list[list[int]] = [[] for _ in range(n)]
        for (key, v), rows in postings.items():
            if not 2 <= len(rows) <= limit:
                continue
            j = len(self._values)
            self._values.append((f"{key}={v}", np.asarray(rows, dtype=np.int64), math.log(n / len(rows))))
            for r in rows:
                self._values_of_row[r].append(j)
        self._init_prior()

    def __len__(self) -> int:
        """The number of values items can share."""
        return len(self._values)

    def find(self, liked: list[str], n: int, allowed=None) -> list[Hit]:
        """Up to ``n`` items sharing values with ``liked``, best first, as ``(id, score,
        {"liked": seed sharing most, "values": ["field=value", ...]})``. The liked items
        themselves are left out; ``allowed`` (a boolean array over the rows) filters."""
        import numpy as np

        row = self._row_of()
        seeds = [row[i] for i in dict.fromkeys(str(i) for i in liked) if i in row]
        if not seeds or n <= 0 or not self._values:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float64)
        for s in seeds:
            for j in self._values_of_row[s]:
                _, rows, idf = self._values[j]
                scores[rows] += idf
        scores[seeds] = 0.0
        if allowed is not None:
            scores[~allowed] = 0.0
        rows = np.flatnonzero(scores > 0)
        if not len(rows):
            return []
        # best score first, then the prior, then the row (np.lexsort: last key is primary)
        order = rows[np.lexsort((rows, self._prior[rows], -scores[rows]))][:n]
        seed_values = {s: set(self._values_of_row[s]) for s in seeds}
        out: list[Hit] = []
        for r in order:
            mine = set(self._values_of_row[r])
            # the liked item it shares most with, and what they share (rarest first)
            best = max(seeds, key=lambda s: sum(self._values[j][2] for j in mine & seed_values[s]))
            shared = sorted(mine & seed_values[best], key=lambda j: -self._values[j][2])
            out.append((self.ids[r], float(scores[r]),
                        {"liked": self.ids[best], "values": [self._values[j][0] for j in shared[:3]]}))
        return out


class Shared(Channel):
    name = "shared"
    position = 100

    def runs(self, search: Search) -> bool:
        return bool(search.query.liked)

    def find(self, search: Search) -> list[Hit]:
        return self.structure(search.index).find(search.query.liked, search.depth, allowed=search.allowed)

    def structure(self, index) -> SharedValuesIndex:
        """Which items share which rare attribute values (built on first use)."""
        return index.built(self.name, SharedValuesIndex, popularity_ties=True)

    def prepare(self, index) -> None:
        self.structure(index)


register(Shared())

"""``similar``: the documents nearest the mean vector of the liked items' ("more like
these"); the liked items themselves are left out. Detail ``{"liked": id}``."""

from __future__ import annotations

from .base import Channel, Hit, Search
from .registry import register


class Similar(Channel):
    name = "similar"
    position = 80

    def runs(self, search: Search) -> bool:
        return bool(search.query.liked)

    def find(self, search: Search) -> list[Hit]:
        seeds = list(dict.fromkeys(str(i) for i in search.query.liked))
        if not seeds:
            return []
        columns, vectors = search.index.columns(), search.index.vectors()
        row_of = columns.row
        # the seeds' vectors from memory, in storage order (the order Chroma's get by ids
        # returns, which decides the mean's rounding and the detail's seed)
        rows = sorted(row_of[s] for s in seeds if s in row_of)
        if not rows:
            return []
        first = columns.ids[rows[0]]
        found = vectors.nearest(vectors.mean_of(rows), search.depth, search.allowed, drop=rows)
        return [(columns.ids[r], sc, {"liked": first}) for r, sc in found]


register(Similar())

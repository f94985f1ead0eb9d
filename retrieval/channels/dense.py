"""``dense``: the query text's vector from the text encoder, against the document vectors
(in memory: :class:`retrieval.vectors.VectorTable`)."""

from __future__ import annotations

from .base import Channel, Hit, Search
from .registry import register


class Dense(Channel):
    name = "dense"
    position = 10
    needs_vector = True

    def runs(self, search: Search) -> bool:
        return bool(search.text)

    def find(self, search: Search) -> list[Hit]:
        return [(i, sc, {}) for i, sc in search.index.nearest("docs", search.vector, search)]


register(Dense())

"""``popularity``: the collaborative model's most interacted items, whatever the query."""

from __future__ import annotations

from .base import Channel, Hit, Search
from .registry import register


class Popularity(Channel):
    name = "popularity"
    position = 50

    def runs(self, search: Search) -> bool:
        return search.index.collab_model() is not None

    def find(self, search: Search) -> list[Hit]:
        # filtered here: fetch more to fill the depth
        extra = search.fetch * (5 if search.where else 1)
        popular = search.index.collab_model().popular(extra)
        return [(i, s, {}) for i, s in popular if search.keep(i)][:search.depth]

    def available(self, index) -> bool:
        return index.collab_model() is not None


register(Popularity())

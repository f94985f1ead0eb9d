"""``collab`` and ``collab_log``: neighbours of the liked items in a collaborative model,
the catalog's own (``collab.npz``) and an outside log's (``collab_log.npz``, kept apart)."""

from __future__ import annotations

from .base import Channel, Hit, Search
from .registry import register


def neighbours(model, search: Search) -> list[Hit]:
    # the lists are filtered here, not in the model: fetch more to fill the depth
    extra = search.fetch * (5 if search.where else 1)
    return [(i, s, {"liked": seed}) for i, s, seed in model.neighbours(search.query.liked, extra)
            if search.keep(i)][:search.depth]


class Collab(Channel):
    name = "collab"
    position = 40

    def runs(self, search: Search) -> bool:
        return bool(search.query.liked) and search.index.collab_model() is not None

    def find(self, search: Search) -> list[Hit]:
        return neighbours(search.index.collab_model(), search)

    def available(self, index) -> bool:
        return index.collab_model() is not None


class CollabLog(Channel):
    name = "collab_log"
    position = 70

    def runs(self, search: Search) -> bool:
        return bool(search.query.liked) and search.index.collab_log_model() is not None

    def find(self, search: Search) -> list[Hit]:
        return neighbours(search.index.collab_log_model(), search)

    def available(self, index) -> bool:
        return index.collab_log_model() is not None


register(Collab())
register(CollabLog())

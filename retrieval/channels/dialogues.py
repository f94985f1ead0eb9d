"""``dialogues``: the logged conversation contexts nearest the query's conversation
(``Query.context``, else its text) vote for what their recommender suggested and what
their user brought up (``retrieval.dialogues.DialogueIndex``)."""

from __future__ import annotations

from ..dialogues import voting
from .base import Channel, Hit, Search
from .registry import register


class Dialogues(Channel):
    name = "dialogues"
    position = 120
    needs_vector = True

    def runs(self, search: Search) -> bool:
        return bool(search.text) and search.index.dialogue_index() is not None

    def find(self, search: Search) -> list[Hit]:
        return search.index.dialogue_index().find(search.context_vector(), search.depth, search.keep,
                                                  **voting(search.index.settings))

    def available(self, index) -> bool:
        return index.dialogue_index() is not None

    def prepare(self, index) -> None:
        index.dialogue_index()


register(Dialogues())

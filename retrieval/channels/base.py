"""The base of every search channel, and what the channels of one search share.

A channel turns a :class:`retrieval.types.Query` into a ranked list of ``(id, score,
detail)`` hits. ``CatalogIndex.channel_hits`` runs every registered channel
(``retrieval.channels.registry``) the query gives something to search with: the channels
that encode the query (the query text's dense vector, CLIP) on the calling thread, the
others meanwhile on a second thread, then the channels that read other channels' hits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..types import Query

Hit = tuple[str, float, dict]


@dataclass
class Search:
    """One ``channel_hits`` call, as its channels see it."""

    index: Any  # the CatalogIndex searched
    query: Query
    text: str  # the query text, stripped ("" without one)
    where: dict | None  # the filter, normalised (list fields: membership)
    allowed: Any  # boolean mask over the table's rows (the filter and the exclusions), None: all pass
    keep: Callable[[str], bool]  # the same test for one id
    depth: int  # hits per channel (settings.channel_depth)
    fetch: int  # depth plus the excluded ids: what a channel filtering afterwards fetches
    enough: int  # filtered hits that fill the fused candidates well
    running: frozenset[str]  # the channels run this time
    vector: Any = None  # the query text's dense vector, for the channels that need it
    hits: dict[str, list[Hit]] = field(default_factory=dict)  # hits found so far
    _context_vector: Any = field(default=None, init=False, repr=False)  # context_vector(), once

    def runs(self, channel: str) -> bool:
        return channel in self.running

    def context_vector(self):
        """The dense vector of ``query.context`` (encoded once), or the text's when the
        query has no other context. Called on the encoding thread, after ``vector``."""
        context = (self.query.context or "").strip()
        if not context or context == self.text:
            return self.vector
        if self._context_vector is None:
            self._context_vector = self.index.encode_query("text", lambda encoder: encoder.encode([context])[0])
        return self._context_vector


class Channel:
    """One search channel. Subclass it in a module of ``retrieval/channels/`` and register
    an instance (``registry.register``): ``channel_hits``, the settings' channel names,
    ``stats``, ``prepare``, the fusion and its fitting all read the registry."""

    # the name in fusion weights, evidence and reports
    name: str = ""
    # its place in the registry's order: channel_hits lists the hits in it (the fusion sums
    # the channels' shares in it) and fusion fitting tries the channels' weights in it
    # (coordinate ascent: another order can fit other weights). Built-in channels hold
    # 10, 20, ... 120; others come after them
    position: int = 1000
    # searches with the query text's dense vector (encoded once per search, shared)
    needs_vector: bool = False
    # encodes the query itself with another model: runs on the calling thread with the
    # other encoders, not on the side thread
    encodes: bool = False

    def runs(self, search: Search) -> bool:
        """Whether the query gives this channel something to search with (a text, liked
        items, a photo) and the index has what it needs; a channel that does not run is
        left out of the result."""
        return True

    def after(self, search: Search) -> tuple[str, ...]:
        """Channels whose hits this one reads (``search.hits``): it runs once they ran."""
        return ()

    def find(self, search: Search) -> list[Hit]:
        """The ranked hits, best first, at most ``search.depth``, passing ``search.keep``."""
        raise NotImplementedError

    def available(self, index) -> bool:
        """Whether the index can give this channel's hits at all (``stats``)."""
        return True

    def prepare(self, index) -> None:
        """Build what ``find`` would build on first use (``CatalogIndex.prepare``)."""

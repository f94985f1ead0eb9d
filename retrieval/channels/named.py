"""The ``named`` channel: items having a name the message mentions ("anything with Tom Hanks?").

The ``attribute`` channel matches fields with few distinct values (genres, categories);
fields with many (cast, directors, writers, brands) are left to this one. Only values of
two words or more are matched, as whole words, accents and case ignored ("Penelope Cruz"
names "Penélope Cruz"): a single word ("Will", "Stone") names too many things in a chat.
Items having more of the named values come first, then by popularity. Detail
``{"values": ["star=..."]}``.
"""

from __future__ import annotations

from ..text import words as text_words
from .base import Channel, Hit, Search
from .registry import register
from .values import ATTRIBUTE_MAX_VALUES, PopularityTieBreak, text_values

# the longest name matched, in words
MAX_WORDS = 5


class NamedValuesIndex(PopularityTieBreak):
    """Multi-word values of the catalog's many-valued text fields, and the items having
    each. Built once from the metadata table (``{id: metadata}``, the index's row order)."""

    def __init__(self, table: dict[str, dict], min_values: int = ATTRIBUTE_MAX_VALUES):
        import numpy as np

        self.ids = list(table)
        by_field: dict[str, dict[str, list[int]]] = {}
        for row, meta in enumerate(table.values()):
            for key, v in text_values(meta):
                by_field.setdefault(key, {}).setdefault(v, []).append(row)
        # phrase -> ([field=value labels], rows); fields with few values are attributes
        phrases: dict[tuple[str, ...], tuple[list[str], set[int]]] = {}
        for key, values in by_field.items():
            if len(values) <= min_values:
                continue
            for v, rows in values.items():
                phrase = tuple(text_words(v))
                if not 2 <= len(phrase) <= MAX_WORDS:
                    continue
                labels, found = phrases.setdefault(phrase, ([], set()))
                labels.append(f"{key}={v}")
                found.update(rows)
        self._phrases = {p: (labels, np.fromiter(sorted(rows), np.int64, len(rows)))
                         for p, (labels, rows) in phrases.items()}
        self._metas = list(table.values())
        self._init_prior()

    def __len__(self) -> int:
        """The number of distinct names."""
        return len(self._phrases)

    def named(self, text: str) -> list[tuple[str, ...]]:
        """The names ``text`` mentions, longest first where two overlap, in text order."""
        w = tuple(text_words(text))
        found: dict[tuple[str, ...], None] = {}
        covered: set[int] = set()
        for size in range(min(MAX_WORDS, len(w)), 1, -1):
            for i in range(len(w) - size + 1):
                phrase = w[i:i + size]
                if phrase in self._phrases and not covered.issuperset(range(i, i + size)):
                    found[phrase] = None
                    covered.update(range(i, i + size))
        return list(found)

    def find(self, text: str, n: int, allowed=None) -> list[Hit]:
        """Up to ``n`` items having names ``text`` mentions, best first, as ``(id, number of
        names, {"values": ["field=value", ...]})``; ``allowed`` (a boolean array over the
        rows) filters."""
        import numpy as np

        named = self.named(text) if n > 0 else []
        if not named:
            return []
        counts = np.zeros(len(self.ids), dtype=np.int64)
        for phrase in named:
            counts[self._phrases[phrase][1]] += 1
        if allowed is not None:
            counts[~allowed] = 0
        rows = np.flatnonzero(counts)
        order = rows[np.lexsort((rows, self._prior[rows], -counts[rows]))][:n]
        out: list[Hit] = []
        for r in order:
            labels = [label for phrase in named if _has(self._phrases[phrase][1], r)
                      for label in self._phrases[phrase][0] if _holds(self._metas[r], label)]
            out.append((self.ids[r], float(counts[r]), {"values": labels[:3]}))
        return out


def _has(rows, row: int) -> bool:
    """Whether sorted ``rows`` hold ``row``."""
    import numpy as np

    i = int(np.searchsorted(rows, row))
    return i < len(rows) and int(rows[i]) == row


def _holds(meta: dict, label: str) -> bool:
    """Whether ``meta`` has the value of ``field=value`` (a name two fields share names
    only the field the item has it in)."""
    key, _, value = label.partition("=")
    held = meta.get(key)
    return value in held if isinstance(held, list) else held == value


class Named(Channel):
    name = "named"
    position = 110

    def runs(self, search: Search) -> bool:
        return bool(search.text)

    def find(self, search: Search) -> list[Hit]:
        return self.structure(search.index).find(search.text, search.depth, allowed=search.allowed)

    def structure(self, index) -> NamedValuesIndex:
        """The multi-word names of the catalog's many-valued fields (built on first use)."""
        return index.built(self.name, NamedValuesIndex, popularity_ties=True)

    def prepare(self, index) -> None:
        self.structure(index)


register(Named())

"""``attribute``: the query names a value of a text field with at most 64 distinct values
(a genre, a category, a brand), whole words, plural tolerant: the items having the most
named values, then by popularity. Detail ``{"values": ["genre=horror"]}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..text import tokens
from .base import Channel, Hit, Search
from .registry import register
from .values import ATTRIBUTE_MAX_VALUES, PopularityTieBreak, in_sorted, text_values


def _stem(token: str) -> str:
    """``tokens()``'s plural stripping plus ``-ies`` -> ``-y`` (comedies -> comedy)."""
    if len(token) > 4 and token.endswith("ie"):
        return token[:-2] + "y"
    return token


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(_stem(t) for t in tokens(text))


class AttributeIndex(PopularityTieBreak):
    """Which items have the attribute values a query names.

    Built once from the metadata table: every text field (or list of texts) with at most
    ``max_values`` distinct values is an attribute; each value is matched in the query as
    whole words (plural tolerant: "comedies" names "comedy", "sci-fi movies" names
    "Sci-Fi"). Items having more of the named values rank first, then by ``prior`` (e.g.
    the popularity order), then in catalog order: a query "funny horror" lists the horror
    comedies most people chose first.
    """

    def __init__(self, table: dict[str, dict], max_values: int = ATTRIBUTE_MAX_VALUES):
        import numpy as np

        self.ids = list(table)
        values: dict[str, dict[str, set[int]]] = {}
        for row, meta in enumerate(table.values()):
            for key, v in text_values(meta):
                values.setdefault(key, {}).setdefault(v, set()).add(row)
        # phrase -> (field, value, rows); a phrase two fields share keeps both fields' rows
        self._phrases: dict[tuple[str, ...], tuple[list[tuple[str, str]], Any]] = {}
        for key, by_value in values.items():
            if len(by_value) > max_values:
                continue
            for v, rows in by_value.items():
                phrase = _phrase(v)
                if not phrase or len(rows) == len(self.ids):
                    continue  # stop words only, or every item has it: names nothing
                names, old = self._phrases.get(phrase, ([], np.zeros(0, np.int32)))
                merged = np.union1d(old, np.fromiter(rows, np.int32, len(rows))).astype(np.int32)
                self._phrases[phrase] = (names + [(key, v)], merged)
        self._longest = max((len(p) for p in self._phrases), default=0)
        self._init_prior()

    def __len__(self) -> int:
        return len(self._phrases)

    def named(self, text: str) -> list[tuple[tuple[str, ...], list[tuple[str, str]]]]:
        """The attribute values ``text`` names, in order: ``(phrase, [(field, value)])``."""
        words = _phrase(text)
        found = {}
        for size in range(min(self._longest, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                phrase = words[i:i + size]
                if phrase in self._phrases and phrase not in found:
                    found[phrase] = self._phrases[phrase][0]
        return list(found.items())

    def find(self, text: str, n: int, keep: Callable[[str], bool] | None = None,
             tiebreak: list[str] | None = None, allowed=None) -> list[Hit]:
        """Up to ``n`` items having the values ``text`` names, best first, as ``(id, number
        of values matched, {"values": ["field=value", ...]})``; ``keep`` filters ids,
        ``allowed`` (a boolean array over the table's rows) filters rows at once.
        Without a popularity prior, items with as many values follow ``tiebreak`` (ids in
        order, e.g. the dense channel's hits for the same text) instead of catalog order."""
        import numpy as np

        named = self.named(text)
        if n <= 0 or not named:
            return []
        size = len(self.ids)
        counts = np.zeros(size, dtype=np.int64)
        for phrase, _ in named:
            counts[self._phrases[phrase][1]] += 1
        if allowed is not None:
            counts[~allowed] = 0
        rows = np.flatnonzero(counts)
        # most values matched first, then the tiebreak (when used), then the prior, then
        # the row: one distinct integer per row, so a partial sort gives the full order
        span = int(self._prior.max()) + 1 if size else 1
        key = self._prior[rows] * size + rows
        if tiebreak and not self._has_prior:
            second = np.full(size, len(tiebreak), dtype=np.int64)
            row = self._row_of()
            for rank, item_id in enumerate(tiebreak):
                r = row.get(item_id)
                if r is not None:
                    second[r] = min(second[r], rank)
            key = key + second[rows] * (span * size)
            span *= len(tiebreak) + 1
        key = key + (len(named) - counts[rows]) * (span * size)
        if keep is None and len(rows) > n:
            top = np.argpartition(key, n - 1)[:n]
            order = rows[top[np.argsort(key[top])]]
        else:
            order = rows[np.argsort(key)]
        labels = [(phrase, [f"{k}={v}" for k, v in names]) for phrase, names in named]
        out: list[Hit] = []
        for start in range(0, len(order), max(n, 64)):
            block = order[start:start + max(n, 64)]
            member = [in_sorted(self._phrases[phrase][1], block) for phrase, _ in labels]
            for k, row in enumerate(block):
                item_id = self.ids[row]
                if keep is not None and not keep(item_id):
                    continue
                values = [lab for (_, labs), m in zip(labels, member, strict=True) if m[k] for lab in labs]
                out.append((item_id, float(counts[row]), {"values": values}))
                if len(out) >= n:
                    return out
        return out


class Attribute(Channel):
    name = "attribute"
    position = 90

    def runs(self, search: Search) -> bool:
        return bool(search.text)

    def after(self, search: Search) -> tuple[str, ...]:
        # without a popularity order, ties follow the dense hits for the same text
        if not self.structure(search.index).has_prior and search.runs("dense"):
            return ("dense",)
        return ()

    def find(self, search: Search) -> list[Hit]:
        attributes = self.structure(search.index)
        if self.after(search):
            return attributes.find(search.text, search.depth,
                                   tiebreak=[h[0] for h in search.hits.get("dense", [])], allowed=search.allowed)
        return attributes.find(search.text, search.depth, allowed=search.allowed)

    def structure(self, index) -> AttributeIndex:
        """Which items have the attribute values a query names (built on first use)."""
        return index.built(self.name, AttributeIndex, popularity_ties=True)

    def prepare(self, index) -> None:
        self.structure(index)


register(Attribute())

"""What the attribute, shared and named channels build on: the items' text values, ties
broken by popularity, and a sorted-membership test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..catalog import RESERVED_KEYS

# a field is an attribute a user names ("a horror movie", "something from Apple") when it
# has at most this many distinct text values: genres, categories, brands; not titles or
# casts (those many-valued fields are the named channel's)
ATTRIBUTE_MAX_VALUES = 64



def text_values(meta: dict) -> Iterator[tuple[str, str]]:
    """``(field, value)`` for every text value of an item's attributes (lists flattened,
    each value once): what the attribute, shared and named channels match on."""
    for key, value in meta.items():
        if key in RESERVED_KEYS or isinstance(value, bool):
            continue
        for v in dict.fromkeys(value if isinstance(value, list) else [value]):
            if isinstance(v, str) and v.strip():
                yield key, v


class PopularityTieBreak:
    """Ties among an index's rows broken by an outside order (the collaborative models'
    popularity; ``CatalogIndex.built(..., popularity_ties=True)`` sets it), set with
    :meth:`set_prior`: ``self._prior[row]`` is the row's rank there,
    rows it does not rank come after every ranked one, in catalog order. Subclasses set
    ``self.ids`` (the rows' ids) and call :meth:`_init_prior`."""

    ids: list[str]

    def _init_prior(self) -> None:
        import numpy as np

        n = len(self.ids)
        self._prior = np.arange(n, 2 * n, dtype=np.int64)
        self._prior_key: Any = None
        self._has_prior = False
        self._rows_by_id: dict[str, int] | None = None

    @property
    def has_prior(self) -> bool:
        """Whether an order was set (else ties stay in catalog order)."""
        return self._has_prior

    def set_prior(self, ranked_ids: list[str] | None, key: Any = None) -> None:
        """Order tied rows by ``ranked_ids`` (best first; the others after them, in
        catalog order). ``key`` skips the work while it stays the same."""
        import numpy as np

        if key is not None and key == self._prior_key:
            return
        n = len(self.ids)
        prior = np.arange(n, 2 * n, dtype=np.int64)  # unranked: after every ranked item
        row = self._row_of()
        for rank, item_id in enumerate(ranked_ids or []):
            r = row.get(item_id)
            if r is not None and prior[r] >= n:
                prior[r] = rank
        self._prior, self._prior_key = prior, key
        self._has_prior = bool(ranked_ids)

    def _row_of(self) -> dict[str, int]:
        if self._rows_by_id is None:
            self._rows_by_id = {item_id: r for r, item_id in enumerate(self.ids)}
        return self._rows_by_id


def in_sorted(sorted_rows, rows):
    """Boolean array: which of ``rows`` occur in ``sorted_rows``."""
    import numpy as np

    if len(sorted_rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    i = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return sorted_rows[i] == rows

"""The metadata table as columns, so a ``where`` filter becomes one boolean mask.

Filtering hit lists record by record (:func:`retrieval.filters.where_matches`) costs a few
microseconds per record, and the channels of one search test hundreds of them. Here each
field is indexed once (value -> rows, the numeric range of each row), a filter is
evaluated for every row at once with numpy set operations, and the masks of recent
filters are kept. The semantics are exactly ``where_matches``' (tests compare the two on
real catalogs); a filter this module cannot evaluate exactly (an unhashable value in it)
falls back to ``where_matches`` row by row.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import InputError
from .filters import OPERATORS, where_matches

# masks of this many distinct filters are kept (one byte per item each)
MASK_CACHE = 64
# ints beyond this lose precision as float64: a field holding one is filtered row by row
_EXACT_INT = 2 ** 53


class _Unsupported(Exception):
    """A filter (or field) the column evaluation cannot reproduce exactly."""


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class _Field:
    __slots__ = ("present", "scalar", "element", "lo", "hi", "exact")

    def __init__(self, n: int):
        self.present: list[int] = []
        self.scalar: dict[Any, list[int]] = {}   # scalar value -> rows (Python == semantics)
        self.element: dict[Any, list[int]] = {}  # list element -> rows holding it
        self.lo = np.full(n, np.nan)  # smallest / largest number (not bool) of each row
        self.hi = np.full(n, np.nan)
        self.exact = True


class Columns:
    """Columns of ``metas`` (one metadata dict per row, rows in ``ids`` order)."""

    def __init__(self, ids: Sequence[str], metas: Sequence[dict]):
        self.ids = list(ids)
        self.metas = list(metas)
        self.n = len(self.ids)
        self.row = {item_id: r for r, item_id in enumerate(self.ids)}
        fields: dict[str, _Field] = {}
        n = self.n
        for r, meta in enumerate(self.metas):
            for key, value in meta.items():
                f = fields.get(key)
                if f is None:
                    f = fields[key] = _Field(n)
                f.present.append(r)
                if isinstance(value, list):
                    nums = []
                    for v in value:
                        try:
                            f.element.setdefault(v, []).append(r)
                        except TypeError:  # an unhashable element: filter row by row
                            f.exact = False
                        if _num(v):
                            nums.append(v)
                    if nums:
                        f.lo[r], f.hi[r] = min(nums), max(nums)
                        f.exact &= all(abs(v) < _EXACT_INT for v in nums if isinstance(v, int))
                else:
                    try:
                        f.scalar.setdefault(value, []).append(r)
                    except TypeError:
                        f.exact = False
                    if _num(value):
                        f.lo[r] = f.hi[r] = value
                        if isinstance(value, int) and abs(value) >= _EXACT_INT:
                            f.exact = False
        self._fields = fields
        self._postings: dict[tuple[str, str, Any], np.ndarray] = {}
        self._masks: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    # ---- masks ----------------------------------------------------------------------------

    def mask(self, where: dict | None) -> np.ndarray:
        """Boolean array over the rows: which pass ``where`` (read-only; cached)."""
        if not where:
            out = np.ones(self.n, dtype=bool)
            out.flags.writeable = False
            return out
        try:
            key = json.dumps(where, sort_keys=True)
        except (TypeError, ValueError):
            key = None
        if key is not None:
            with self._lock:
                hit = self._masks.get(key)
                if hit is not None:
                    self._masks.move_to_end(key)
                    return hit
        try:
            out = self._eval(where)
        except _Unsupported:
            out = np.fromiter((where_matches(where, m) for m in self.metas), dtype=bool, count=self.n)
        out.flags.writeable = False
        if key is not None:
            with self._lock:
                self._masks[key] = out
                while len(self._masks) > MASK_CACHE:
                    self._masks.popitem(last=False)
        return out

    def _eval(self, where: dict) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        for key, cond in where.items():
            if key == "$and":
                for c in cond:
                    out &= self._eval(c)
            elif key == "$or":
                part = np.zeros(self.n, dtype=bool)
                for c in cond:
                    part |= self._eval(c)
                out &= part
            else:
                out &= self._field(key, cond)
        return out

    def _field(self, key: str, cond: Any) -> np.ndarray:
        f = self._fields.get(key)
        if f is not None and not f.exact:
            raise _Unsupported(key)
        if not isinstance(cond, dict):
            cond = {"$eq": cond}
        out = np.ones(self.n, dtype=bool)
        for op, target in cond.items():
            if op not in OPERATORS:
                raise InputError(f"unknown filter operator {op!r} (known: {' '.join(OPERATORS)})")
            if f is None:
                # nobody has the field: only the negative operators hold (value is None)
                if op not in ("$ne", "$nin", "$not_contains"):
                    out[:] = False
                continue
            if op == "$eq":
                out &= self._equal(key, f, target)
            elif op == "$ne":
                out &= ~self._equal(key, f, target)
            elif op in ("$in", "$nin"):
                if not isinstance(target, list):
                    raise _Unsupported(key)  # `in` a text would test substrings
                part = np.zeros(self.n, dtype=bool)
                for t in target:
                    part |= self._equal(key, f, t)
                out &= part if op == "$in" else ~part
            elif op in ("$gt", "$gte", "$lt", "$lte"):
                if not _num(target):
                    out[:] = False
                    continue
                if isinstance(target, int) and abs(target) >= _EXACT_INT:
                    raise _Unsupported(key)
                with np.errstate(invalid="ignore"):  # NaN (no number) compares False
                    out &= (f.hi > target if op == "$gt" else f.hi >= target if op == "$gte"
                            else f.lo < target if op == "$lt" else f.lo <= target)
            elif op in ("$contains", "$not_contains"):
                part = self._contains(key, f, target)
                out &= part if op == "$contains" else ~part
        return out

    def _rows(self, key: str, kind: str, value: Any, source: dict) -> np.ndarray:
        try:
            cache_key = (key, kind, value)
            got = self._postings.get(cache_key)
        except TypeError:
            raise _Unsupported(key) from None
        if got is None:
            got = np.unique(np.asarray(source.get(value, ()), dtype=np.int64))
            self._postings[cache_key] = got
        return got

    def _equal(self, key: str, f: _Field, target: Any) -> np.ndarray:
        """Rows having ``target`` as their value or one of their list's elements."""
        out = np.zeros(self.n, dtype=bool)
        out[self._rows(key, "scalar", target, f.scalar)] = True
        out[self._rows(key, "element", target, f.element)] = True
        return out

    def _contains(self, key: str, f: _Field, target: Any) -> np.ndarray:
        """Lists holding ``target``, and texts holding ``str(target)``."""
        out = np.zeros(self.n, dtype=bool)
        out[self._rows(key, "element", target, f.element)] = True
        needle = str(target)
        # one test per distinct text, not per row (the mask itself is cached)
        hits = [r for value, rs in f.scalar.items() if isinstance(value, str) and needle in value for r in rs]
        out[np.asarray(hits, dtype=np.int64)] = True
        return out

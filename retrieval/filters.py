"""Metadata filters: the ``where`` grammar (Chroma's), checked and normalised, and the one
evaluator of it.

A filter is a dict in ChromaDB's ``where`` syntax (``{"price": {"$lte": 3}}``, ``$and`` /
``$or``). :func:`normalise_where` checks one and gives the form Chroma accepts;
:func:`adapt_to_lists` makes equality on a list field mean membership; :func:`where_matches`
evaluates it on one metadata record, with Chroma's semantics. Every filter of the
project is evaluated by it: :class:`retrieval.columns.Columns` evaluates the same
semantics for every row at once (tests compare the two on real catalogs), the chat's
hard conditions (``assistant.constraints``) and the tests' fake index call it.
"""

from __future__ import annotations

from typing import Any

from .errors import InputError

OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$not_contains")
_COMPARE = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: _num(a) and _num(b) and a > b,
    "$gte": lambda a, b: _num(a) and _num(b) and a >= b,
    "$lt": lambda a, b: _num(a) and _num(b) and a < b,
    "$lte": lambda a, b: _num(a) and _num(b) and a <= b,
}


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def normalise_where(where: dict | None) -> dict | None:
    """A filter Chroma accepts: several top-level fields become an explicit ``$and``
    (Chroma refuses the implicit form, LLM-written filters often use it). Raises
    :class:`InputError` for a filter that is not a dict of the right shape."""
    if not where:
        return None
    if not isinstance(where, dict):
        raise InputError(f"a filter must be a JSON object, not {type(where).__name__}")
    if len(where) > 1:
        return {"$and": [normalise_where({k: v}) for k, v in where.items()]}
    (key, value), = where.items()
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise InputError(f"{key} needs a non-empty list of filters, got {value!r}")
        parts = [normalise_where(v) for v in value]
        return parts[0] if len(parts) == 1 else {key: parts}
    if key.startswith("$"):
        raise InputError(f"unknown filter operator {key!r} at the top level (use $and / $or or a field name)")
    if isinstance(value, dict):
        for op, target in value.items():
            if op not in OPERATORS:
                raise InputError(f"unknown filter operator {op!r} on {key!r} (known: {' '.join(OPERATORS)})")
            if op in ("$in", "$nin") and (not isinstance(target, list) or not target):
                raise InputError(f"{op} on {key!r} needs a non-empty list, got {target!r}")
        if len(value) > 1:
            return {"$and": [{key: {op: v}} for op, v in value.items()]}
    elif isinstance(value, (list, tuple)):
        raise InputError(f"filter on {key!r}: use {{'$in': [...]}} to match one of several values")
    return where


def adapt_to_lists(where: dict | None, list_fields: set[str]) -> dict | None:
    """Rewrite a normalised filter so equality on a list field means membership, as a
    reader expects (``{"genre": "drama"}`` matches ``["drama", "romance"]``): Chroma's
    ``$eq`` / ``$in`` never match lists, ``$contains`` does."""
    if not where or not list_fields:
        return where
    (key, value), = where.items()
    if key in ("$and", "$or"):
        return {key: [adapt_to_lists(w, list_fields) for w in value]}
    if key not in list_fields:
        return where
    op, target = next(iter(value.items())) if isinstance(value, dict) else ("$eq", value)
    if op == "$eq":
        return {key: {"$contains": target}}
    if op == "$ne":
        return {key: {"$not_contains": target}}
    if op in ("$in", "$nin"):
        inner, join = ("$contains", "$or") if op == "$in" else ("$not_contains", "$and")
        parts = [{key: {inner: t}} for t in target]
        return parts[0] if len(parts) == 1 else {join: parts}
    return where


def where_matches(where: dict | None, meta: dict[str, Any]) -> bool:
    """Whether a metadata record passes a Chroma ``where`` filter (normalised or not).
    A list field matches ``$eq`` / ``$in`` / ``$contains`` when any element does."""
    if not where:
        return True
    for key, cond in where.items():
        if key == "$and":
            if not all(where_matches(c, meta) for c in cond):
                return False
        elif key == "$or":
            if not any(where_matches(c, meta) for c in cond):
                return False
        elif not _field_matches(meta.get(key), cond):
            return False
    return True


def _field_matches(value: Any, cond: Any) -> bool:
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    for op, target in cond.items():
        values = value if isinstance(value, list) else [value]
        if op in ("$eq", "$gt", "$gte", "$lt", "$lte"):
            ok = value is not None and any(_COMPARE[op](v, target) for v in values)
        elif op == "$ne":
            ok = value is None or all(v != target for v in values)
        elif op == "$in":
            ok = value is not None and any(v in target for v in values)
        elif op == "$nin":
            ok = value is None or all(v not in target for v in values)
        elif op == "$contains":
            ok = value is not None and (target in values if isinstance(value, list)
                                        else isinstance(value, str) and str(target) in value)
        elif op == "$not_contains":
            ok = value is None or (target not in values if isinstance(value, list)
                                   else not (isinstance(value, str) and str(target) in value))
        else:
            raise InputError(f"unknown filter operator {op!r} (known: {' '.join(OPERATORS)})")
        if not ok:
            return False
    return True

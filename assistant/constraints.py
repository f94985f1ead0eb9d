"""Constraints on catalog metadata (price, category, year ...): parse the LLM's JSON,
validate it against the index's ``fields()``, merge into the session, and turn the result
into a ChromaDB ``where`` filter.

A constraint is ``{"field": name, "op": one of OPS, "value": ...}``. Anything the catalog
cannot honour is dropped with a reason: unknown fields, operators that do not fit the
field's type, values of the wrong type, text values the catalog does not contain.
"""

from __future__ import annotations

import json
import re
from typing import Any

OPS = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte",
       "in": "$in", "contains": "$contains"}
_ALIASES = {"==": "=", "eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "le": "<=", "gt": ">",
            "gte": ">=", "ge": ">=", "max": "<=", "min": ">=", "has": "contains", "includes": "contains"}
# metadata the index keeps for itself, never a user constraint
RESERVED = {"title", "image", "content_hash", "document", "id"}
# ChromaDB keeps only up to 50 distinct values per text field in FieldInfo: when it is
# full the list may be incomplete, so unknown values cannot be ruled out
VALUES_CAP = 50


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in an LLM answer (which may wrap it in prose or a code fence)."""
    start = text.find("{")
    while start != -1:
        depth = 0
        for end in range(start, len(text)):
            c = text[end]
            depth += c == "{"
            depth -= c == "}"
            if depth == 0:
                try:
                    obj = json.loads(text[start: end + 1])
                    return obj if isinstance(obj, dict) else None
                except ValueError:
                    break
        start = text.find("{", start + 1)
    return None


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*[$€£]?\s*(-?\d+(?:\.\d+)?)\s*[$€£]?\s*", value)
        if m:
            f = float(m.group(1))
            return int(f) if f.is_integer() else f
    return None


def _canonical(value: Any, info) -> tuple[Any, str | None]:
    """The catalog's own spelling of a text value, or a reason to drop it."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None, f"value {value!r} is not text"
    values = [str(v) for v in (info.values or [])]
    by_lower = {v.lower(): v for v in values}
    if str(value).lower() in by_lower:
        return by_lower[str(value).lower()], None
    if len(values) >= VALUES_CAP:
        return str(value), None
    return None, f"{value!r} is not a value of {info.name} in the catalog"


def validate(raw: Any, fields: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Valid constraints from the LLM's ``{"constraints": [...]}`` (or a bare list), and
    the reasons the others were dropped."""
    items = raw.get("constraints", []) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        return [], [f"constraints must be a list, not {type(items).__name__}"]
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for c in items:
        if not isinstance(c, dict) or "field" not in c or "value" not in c:
            dropped.append(f"{c!r}: needs field, op and value")
            continue
        name, value = str(c["field"]), c["value"]
        op = str(c.get("op", "=")).strip().lower()
        op = _ALIASES.get(op, op)
        info = fields.get(name)
        if info is None or name in RESERVED or name.startswith("_"):
            dropped.append(f"unknown field {name!r}")
            continue
        if op not in OPS:
            dropped.append(f"{name}: unknown operator {op!r}")
            continue
        kind = info.type
        if kind in ("int", "float"):
            if op == "in" and isinstance(value, list):
                nums = [_number(v) for v in value]
                ok = nums and all(n is not None for n in nums)
                value = nums
            else:
                value = _number(value)
                ok = value is not None and op not in ("contains", "in")
            if not ok:
                dropped.append(f"{name}: needs a number and a comparison, got {op} {c['value']!r}")
                continue
            if kind == "int" and op != "in" and isinstance(value, float) and op in ("=", "!="):
                dropped.append(f"{name}: {value} is not a whole number")
                continue
            if op == "=" and info.min is not None and info.max is not None and not info.min <= value <= info.max:
                dropped.append(f"{name}: no item has {name} = {value}")
                continue
        elif kind == "bool":
            if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
                value = value.lower() in ("true", "yes")
            if not isinstance(value, bool) or op not in ("=", "!="):
                dropped.append(f"{name}: needs = or != with true/false, got {op} {c['value']!r}")
                continue
        elif kind == "list":
            if op in ("=", "in"):
                op = "contains"
            if op != "contains":
                dropped.append(f"{name}: list fields take 'contains', not {op!r}")
                continue
            value, why = _canonical(value, info)
            if why:
                dropped.append(why)
                continue
        else:  # text
            if op == "in":
                if not isinstance(value, list):
                    value = [value]
                canon = [_canonical(v, info) for v in value]
                value = [v for v, why in canon if not why]
                if not value:
                    dropped.append(f"{name}: none of {c['value']!r} is in the catalog")
                    continue
            elif op in ("=", "!="):
                value, why = _canonical(value, info)
                if why:
                    dropped.append(why)
                    continue
            else:
                dropped.append(f"{name}: text fields take = , != or in, not {op!r}")
                continue
        kept.append({"field": name, "op": op, "value": value})
    return kept, dropped


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``new`` replaces an old constraint on the same field and the same direction
    (a new maximum price replaces the old maximum, a new category the old one)."""
    def key(c):
        op = c["op"]
        side = "upper" if op in ("<", "<=") else "lower" if op in (">", ">=") else "eq"
        return c["field"], side
    newkeys = {key(c) for c in new}
    return [c for c in old if key(c) not in newkeys] + list(new)


def to_where(constraints: list[dict[str, Any]]) -> dict[str, Any] | None:
    """ChromaDB's where syntax for a list of validated constraints (None when empty)."""
    parts = [{c["field"]: {OPS[c["op"]]: c["value"]}} for c in constraints]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def describe(c: dict[str, Any]) -> str:
    """A constraint as words, for reasons and notices: "price <= 3"."""
    value = ", ".join(map(str, c["value"])) if isinstance(c["value"], list) else c["value"]
    return f"{c['field']} {c['op']} {value}"


def satisfied(c: dict[str, Any], metadata: dict[str, Any]) -> bool:
    """Whether an item's metadata meets the constraint (for reasons and as a safety net)."""
    v, ref, op = metadata.get(c["field"]), c["value"], c["op"]
    if v is None:
        return False
    try:
        return {
            "=": lambda: v == ref, "!=": lambda: v != ref, "<": lambda: v < ref, "<=": lambda: v <= ref,
            ">": lambda: v > ref, ">=": lambda: v >= ref, "in": lambda: v in ref,
            "contains": lambda: isinstance(v, list) and ref in v,
        }[op]()
    except TypeError:
        return False

"""The conditions in force in a session, and how they become a search filter.

Every condition is a plain dict in ``SessionState.constraints`` with an ``id``, a
``kind``, a ``label`` for the chips ("not: Apple", "diet: vegan", "year: 1990–1999") and
the ``source`` that set it ("user": the tracker read it in the user's words; "llm";
"page": the web page's filters):

- ``filter``: ``{"field", "op" (one of OPS or "between"), "value"}`` on catalog metadata:
  numeric ranges, the page's filters, the LLM's constraints;
- ``want``: a value the user asked for ("from Sweden"), as a ``where`` filter; it belongs
  to the current topic and goes when the topic changes;
- ``exclude``: what the user ruled out ("no apples"): a ``where`` keeping the items
  without the values it names, and the ``items`` whose own words assert it;
- ``diet``: the ``items`` a diet rules out;
- ``prefer``: ``items`` moved up the ranking ("without pulp": those saying so); topic-bound.

Exclusions and diets are hard: never relaxed when nothing matches, never dropped by the
LLM; no item they rule out is recommended (:func:`violation`). A dict without ``kind`` is
a ``filter`` (states saved by earlier versions).

The LLM's JSON is parsed and validated against the index's ``fields()`` here too: anything
the catalog cannot honour is dropped with a reason: unknown fields, operators that do not
fit the field's type, values of the wrong type, text values the catalog does not contain.
"""

from __future__ import annotations

import json
import re
from typing import Any

from retrieval.catalog import RESERVED_KEYS
from retrieval.index import FIELD_VALUES_CAP

OPS = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte",
       "in": "$in", "contains": "$contains"}
_ALIASES = {"==": "=", "eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "le": "<=", "gt": ">",
            "gte": ">=", "ge": ">=", "max": "<=", "min": ">=", "has": "contains", "includes": "contains"}
# FieldInfo lists only up to this many distinct values of a text field (the index's
# cap): when it is full the list may be incomplete, so unknown values cannot be ruled out
VALUES_CAP = FIELD_VALUES_CAP


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in an LLM answer (which may wrap it in prose or a code fence).

    Each ``{`` is tried in turn with the JSON decoder itself, so braces inside strings
    (``{"label": "a } b"}``) are read as text, not counted."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        return obj if isinstance(obj, dict) else None
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
        if info is None or name in RESERVED_KEYS or name.startswith("_"):
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


def _key(c: dict[str, Any]) -> tuple:
    kind = kind_of(c)
    if kind == "want":
        # "the same director", then "its lead actor": the second reference replaces the first
        return kind, "same" if str(c.get("phrase", "")).startswith("same ") else c.get("field")
    if kind != "filter":
        return kind, (c.get("name") or c.get("phrase", "")).lower()
    op = c["op"]
    side = "upper" if op in ("<", "<=") else "lower" if op in (">", ">=") else "range" if op == "between" else "eq"
    return c["field"], side


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``new`` replaces an old constraint on the same field and the same direction
    (a new maximum price replaces the old maximum, a new category the old one); a range
    "between" replaces both bounds. What the LLM proposes never replaces what the user's
    own words or the page set, and never removes an exclusion or a diet."""
    out = list(old)
    for c in new:
        k = _key(c)
        clash = [o for o in out if _key(o) == k or (kind_of(c) == kind_of(o) == "filter" and o["field"] == c["field"]
                                                    and "range" in (k[1], _key(o)[1]) and "eq" not in (k[1], _key(o)[1]))]
        if c.get("source") == "llm" and any(o.get("source", "user") != "llm" or kind_of(o) in HARD for o in clash):
            continue
        out = [o for o in out if o not in clash] + [c]
    return out


def constraint_id(c: dict[str, Any]) -> str:
    """A stable id for a constraint, from what it says (nothing is stored): the chips and
    :meth:`Chat.remove_constraint` name constraints by it."""
    import hashlib
    import json

    what = {k: c.get(k) for k in ("kind", "field", "op", "value", "phrase", "name", "where")}
    what["kind"] = kind_of(c)
    return "c" + hashlib.sha1(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:8]


KINDS = ("filter", "want", "exclude", "diet", "prefer")
# never relaxed, never dropped by the LLM
HARD = ("exclude", "diet")
# go when the conversation moves to another topic
TOPIC_BOUND = ("want", "prefer")


def kind_of(c: dict[str, Any]) -> str:
    return c.get("kind", "filter")


def _filter_where(c: dict[str, Any]) -> dict[str, Any]:
    if c["op"] == "between":
        lo, hi = c["value"]
        return {"$and": [{c["field"]: {"$gte": lo}}, {c["field"]: {"$lte": hi}}]}
    return {c["field"]: {OPS[c["op"]]: c["value"]}}


def to_where(constraints: list[dict[str, Any]], kinds: tuple[str, ...] = ("filter", "want", "exclude")
             ) -> dict[str, Any] | None:
    """ChromaDB's where syntax for the constraints of ``kinds`` (None when there are none)."""
    parts = []
    for c in constraints:
        kind = kind_of(c)
        if kind not in kinds:
            continue
        if kind == "filter":
            parts.append(_filter_where(c))
        elif c.get("where"):
            parts.append(c["where"])
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def excluded_items(constraints: list[dict[str, Any]]) -> set[str]:
    """The item ids the exclusions and diets rule out by name."""
    out: set[str] = set()
    for c in constraints:
        if kind_of(c) in HARD:
            out.update(c.get("items") or ())
    return out


def allowed_items(constraints: list[dict[str, Any]]) -> set[str] | None:
    """The items "only ..." conditions leave (their intersection), or None when none."""
    allowed: set[str] | None = None
    for c in constraints:
        if c.get("only") is not None:
            allowed = set(c["only"]) if allowed is None else allowed & set(c["only"])
    return allowed


def preferred_items(constraints: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for c in constraints:
        if kind_of(c) == "prefer":
            out.update(c.get("items") or ())
    return out


def violation(item_id: str, metadata: dict[str, Any], constraints: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first exclusion or diet the item breaks, or None: the guarantee's last check."""
    from retrieval.filters import where_matches

    for c in constraints:
        if kind_of(c) not in HARD:
            continue
        if item_id in (c.get("items") or ()):
            return c
        if c.get("where") and not where_matches(c["where"], metadata or {}):
            return c
    return None


def filter_label(field: str, op: str, value: Any) -> str:
    """ "year: 1990–1999", "year ≥ 2000", "price < 20", "category: Juice"."""
    signs = {"<=": "≤", ">=": "≥", "!=": "≠"}
    if op == "between":
        return f"{field}: {value[0]}–{value[1]}"
    if op in ("=", "contains", "in"):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        return f"{field}: {shown}"
    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
    return f"{field} {signs.get(op, op)} {shown}"


def describe(c: dict[str, Any]) -> str:
    """A constraint as words, for reasons, notices and chips: "price ≤ 3", "not: Apple"."""
    if c.get("label"):
        return c["label"]
    return filter_label(c["field"], c["op"], c["value"])


def satisfied(c: dict[str, Any], metadata: dict[str, Any]) -> bool:
    """Whether an item's metadata meets a filter (for reasons), as the search filtered it
    (``retrieval.filters.where_matches``); other kinds, or an item without the field: False."""
    from retrieval.filters import where_matches

    if kind_of(c) != "filter" or metadata.get(c["field"]) is None:
        return False
    return where_matches(_filter_where(c), metadata)

"""The dialogue-state tracker: each user message (text, voice transcript) updates the
session state, with no model beyond the text encoder the index already loads.

:mod:`assistant.reading` finds the phrases (English only), :mod:`assistant.catalog_terms`
resolves them against the catalog, and this module applies them to the
:class:`~assistant.state.SessionState`:

- exclusions, diets and numeric ranges hold for the whole session, until taken back;
- wanted values ("from Sweden") and preferences ("without pulp") belong to the topic;
- a topic shift ("actually, a drink instead", or a new request of its own: "any drink?")
  starts the search text anew and drops the earlier topic's wanted values;
- retractions ("apples are fine after all") undo an exclusion, or carve the item out of a
  wider one ("I'd love a lemon now" after "no citrus");
- references to the items just shown ("the second one", "more like the first") like,
  reject or seed them.

What it understood is returned as short notes for the reply's first line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import constraints as cons
from .catalog_terms import CatalogTerms, terms
from .diets import Diet, excluded_items, triggers
from .reading import Range, Reading, content_words, read
from .state import SessionState


@dataclass
class Understanding:
    """What one message changed."""

    reading: Reading
    # short phrases for the reply: "no apples", "vegan", "year: 1990–1999", "new topic: drink"
    notes: list[str] = field(default_factory=list)
    shifted: bool = False
    # phrases that name nothing in the catalog (nothing to rule out or ask for)
    unresolved: list[str] = field(default_factory=list)
    # the message only narrowed the request ("no vanilla", "not the green ones", "from the
    # 90s"): the items shown before that still fit may be shown again
    narrowing: bool = False


class Tracker:
    """Turns messages into state updates for one catalog. ``terms`` builds the catalog's
    :class:`CatalogTerms` on first use; ``is_title`` says whether a phrase is exactly an
    item's title (those are liked / rejected as items by the mention reader)."""

    def __init__(self, terms: Callable[[], CatalogTerms], diets: dict[str, Diet],
                 is_title: Callable[[str], bool] | None = None):
        self._terms = terms
        self.diets = diets
        self._triggers = triggers(diets)
        self._is_title = is_title or (lambda phrase: False)

    @property
    def terms(self) -> CatalogTerms:
        return self._terms()

    def update(self, state: SessionState, text: str) -> Understanding:
        """Read ``text`` (a user message) and apply it to ``state``."""
        r = read(text, diets=self._triggers)
        u = Understanding(r)
        self._references(state, r, u)
        self._retractions(state, r, u)

        words = content_words(r.topic_text) or list(r.instead_of)
        if words:
            # the catalog's own words: typos of kinds mended, near-kinds named ("veggies")
            topic = self.terms.expand(self.terms.correct(" ".join([r.topic_text] + r.instead_of)))
            u.shifted = bool(state.topic) and (r.shift_cue or (not r.refine_cue and (
                r.request or self._names_another_kind(state, topic))))
            if u.shifted:
                state.topic = []
                state.constraints = [c for c in state.constraints if cons.kind_of(c) not in cons.TOPIC_BOUND]
                u.notes.append(f"new topic: {' '.join(words[:4])[:40]}")
            state.topic.append(topic)
        # what is taken back is wanted again: "apples are fine after all" asks for apples
        for p in r.retract:
            if p.text.lower() not in r.topic_text.lower():
                state.topic.append(p.text)

        new: list[dict[str, Any]] = []
        new += self._exclusions(state, r, u)
        new += self._diets(r, u)
        new += self._ranges(state, r, u)
        new += self._wants(r, u)
        new += self._countries(r, u)
        new += self._same(state, r, u)
        new += self._preferences(r, u)
        if new:
            state.constraints = cons.merge(state.constraints, new)
        u.narrowing = (bool(new) or any(x.feeling == "rejected" for x in r.references)) and not words \
            and not r.more_cue and not r.retract
        return u

    # ---- each kind -------------------------------------------------------------------------
    def _references(self, state: SessionState, r: Reading, u: Understanding) -> None:
        shown = state.shown
        for ref in r.references:
            pos = len(shown) + ref.position if ref.position < 0 else ref.position
            if not 0 <= pos < len(shown):
                continue
            item = shown[pos]
            state.mention(item)
            if ref.feeling in ("liked", "seed"):
                state.like(item)
                u.notes.append("more like it" if ref.feeling == "seed" else "noted you like it")
                if ref.feeling == "seed":
                    # "more like the first one": the request is now that item's kind
                    state.topic.append(self._item_words(item))
            elif ref.feeling == "rejected":
                state.reject(item)
                u.notes.append("won't show it again")

    def _names_another_kind(self, state: SessionState, text: str) -> bool:
        """ "and vegetables?" after fruit: a kind the current topic did not name."""
        kinds = self.terms.kinds_in(text)
        return bool(kinds) and not kinds & self.terms.kinds_in(" ".join(state.topic))

    def _item_words(self, item: str) -> str:
        """An item as a request: its title and its kinds ("Toy Story animation comedy")."""
        t = self.terms
        meta = t.meta.get(item, {})
        kinds = [v for f in sorted(t.few) for v in (meta.get(f) if isinstance(meta.get(f), list) else [meta.get(f)])
                 if isinstance(v, str)]
        title = re.sub(r"\s*\(\d{4}\)\s*$", "", str(meta.get("title") or item))
        return " ".join([title] + kinds)

    def _retractions(self, state: SessionState, r: Reading, u: Understanding) -> None:
        for p in r.retract:
            field_rx = next((rx for words, rx in _FIELD_WORDS + [(("year", "years", "decade", "date"), _YEAR_RX)]
                             if p.text.lower() in words), None)
            if field_rx is not None:
                # "forget the year thing": every condition on that field goes
                kept = [c for c in state.constraints if not _on_field(c, field_rx)]
                if len(kept) < len(state.constraints):
                    state.constraints = kept
                    u.notes.append(f"no more conditions on {p.text}")
                continue
            reached = self.terms.reach(p.text)
            if not reached:
                continue
            kept = []
            undone = False
            for c in state.constraints:
                kind = cons.kind_of(c)
                if kind not in cons.HARD:
                    kept.append(c)
                    continue
                covered = set(c.get("items") or ()) | self.terms.items_with([tuple(v) for v in c.get("values") or ()])
                if not covered & reached:
                    kept.append(c)
                    continue
                undone = True
                if kind == "exclude" and covered <= reached:
                    continue  # "apples are fine after all": the whole exclusion goes
                # a wider one keeps the rest: "I'd love a lemon now" after "no citrus"
                narrowed = dict(c, items=sorted(set(c.get("items") or ()) - reached))
                if c.get("values"):
                    values = [v for v in c["values"] if not (self.terms.items_with([tuple(v)]) & reached)]
                    narrowed["values"] = values
                    narrowed["where"] = _where_not(values)
                    if not values and not narrowed["items"]:
                        continue
                kept.append(narrowed)
            state.constraints = kept
            for item in reached & set(state.rejected):
                state.rejected.remove(item)
                undone = True
            if undone:
                u.notes.append(f"{p.text} allowed again")

    def _exclusions(self, state: SessionState, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        out = []
        for p in r.exclude:
            if self._is_title(p.text):
                continue  # an item by name: the mention reader rejects it
            if p.text.lower() in _PRONOUNS:
                # "without him": the person last named ("too much Johnny Depp ... without him")
                person = self._last_person(state, r.text)
                if person is None:
                    continue
                p = type(p)(person, p.start, p.end)
            res = self.terms.resolve(p.text)
            if not res.found:
                u.unresolved.append(p.text)
                continue
            names = list(dict.fromkeys(v for _, v in res.values))
            shown = names[0] if len(names) == 1 else p.text
            out.append({"kind": "exclude", "phrase": p.text.lower(), "values": [list(v) for v in res.values],
                        "where": res.where_not(), "items": sorted(res.items), "label": f"not: {shown}",
                        "source": "user"})
            u.notes.append(f"no {p.text}")
        return out

    def _last_person(self, state: SessionState, text: str) -> str | None:
        """The name of the person last talked about: in this message, else the ones before."""
        for said in [text] + [m["content"] for m in reversed(state.messages) if m.get("role") == "user"][:4]:
            people = self.terms.people_in(said)
            if people:
                return people[-1][1]
        return None

    def _countries(self, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        """ "swedish veggies": the request's country adjectives as wanted origins."""
        out = []
        for word in content_words(r.topic_text):
            values = self.terms.country(word)
            if values:
                label = f"{values[0][0]}: {values[0][1]}"
                out.append({"kind": "want", "field": values[0][0], "phrase": word, "values": [list(v) for v in values],
                            "where": _where_any(values), "label": label, "source": "user"})
                u.notes.append(label)
        return out

    def _diets(self, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        out = []
        for name in r.diets:
            diet = self.diets.get(name)
            if diet is None:
                continue
            out.append({"kind": "diet", "name": name, "items": sorted(excluded_items(diet, self.terms)),
                        "label": f"diet: {name}", "source": "user"})
            u.notes.append(name)
        return out

    def _ranges(self, state: SessionState, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        out = []
        grouped: dict[str, list[Range]] = {}
        explicit_year = any(rg.field == "year" for rg in r.ranges)
        for rg in r.ranges:
            if rg.field == "relative" and rg.field_hint == "year" and explicit_year:
                continue  # "more recent, after 2010": the year says how much
            if rg.field == "recent":
                if explicit_year or ("recent", 0) in grouped:
                    continue
                grouped[("recent", 0)] = [rg]
                continue
            grouped.setdefault((rg.label, rg.start), []).append(rg)
        for group in grouped.values():
            first = group[0]
            name = self._range_field(first)
            if name is None:
                u.unresolved.append(first.label)
                continue
            if first.negated:
                c = _outside(name, group)
                out.append(c)
                u.notes.append(c["label"])
                continue
            if first.field == "recent":
                years = self.terms.numeric.get(name) or []
                if not years:
                    continue
                # the catalog's last few years, by its own newest item
                c = {"field": name, "op": ">=", "value": int(max(years)) - RECENT_YEARS}
            elif first.field == "relative":
                value = self._relative_value(state, first, name)
                if value is None:
                    u.unresolved.append(first.label)
                    continue
                c = {"field": name, "op": first.op, "value": value}
            elif len(group) == 2:
                lo = next(g.value for g in group if g.op == ">=")
                hi = next(g.value for g in group if g.op == "<=")
                c = {"field": name, "op": "between", "value": [lo, hi]}
            else:
                c = {"field": name, "op": first.op, "value": first.value}
            c.update(kind="filter", source="user", label=cons.filter_label(c["field"], c["op"], c["value"]))
            out.append(c)
            u.notes.append(c["label"])
        return out

    def _range_field(self, rg: Range) -> str | None:
        if rg.field in ("year", "recent") or (rg.field == "relative" and rg.field_hint == "year"):
            return self.terms.year_field()
        return self.terms.amount_field()

    def _relative_value(self, state: SessionState, rg: Range, name: str) -> float | None:
        shown = state.shown
        if rg.ref is not None:
            pos = len(shown) + rg.ref if rg.ref < 0 else rg.ref
            refs = [shown[pos]] if 0 <= pos < len(shown) else []
        else:
            refs = list(shown)
        values = [self.terms.meta.get(i, {}).get(name) for i in refs]
        values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not values:
            return None
        # "cheaper" than what was shown: below the cheapest of them
        return min(values) if rg.op in ("<", "<=") else max(values)

    def _wants(self, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        out = []
        for p in r.want:
            words = terms(p.text)
            if not words:
                continue
            values, how = self.terms.values_named(words)
            if how not in ("value", "part", "modifier", "fuzzy") or not values:
                continue  # words the search reads, not a value to insist on
            values = self._fitting(values, p.cue, how)
            if p.cue == "with" and not any(_PERFORMER.search(f) for f, _ in values):
                # "a juice with grapefruit in it": an ingredient, preferred, not a kind to insist on
                items = self.terms.reach(p.text)
                if items:
                    out.append({"kind": "prefer", "phrase": f"with {p.text.lower()}", "items": sorted(items),
                                "label": f"prefer: with {p.text}", "source": "user"})
                continue
            fields = list(dict.fromkeys(f for f, _ in values))
            names = list(dict.fromkeys(v for _, v in values))
            label = f"{fields[0]}: {names[0]}" if len(names) == 1 else f"{fields[0]}: {p.text}"
            out.append({"kind": "want", "field": fields[0], "phrase": p.text.lower(),
                        "values": [list(v) for v in values], "where": _where_any(values),
                        "label": label, "source": "user"})
            u.notes.append(label)
        return out

    def _same(self, state: SessionState, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        """ "more from the same director": the referenced item's values of that field, as
        a wanted value (the item last liked or named when no position is said)."""
        out = []
        for word, position in r.same:
            item = self._item_at(state, position)
            if item is not None and word in ("year", "decade"):
                name = self.terms.year_field()
                year = self.terms.meta.get(item, {}).get(name) if name else None
                if isinstance(year, (int, float)):
                    lo, hi = (int(year), int(year)) if word == "year" else (int(year) // 10 * 10, int(year) // 10 * 10 + 9)
                    c = {"kind": "filter", "field": name, "op": "between", "value": [lo, hi], "source": "user"}
                    c["label"] = cons.filter_label(name, "between", [lo, hi]) if lo != hi else f"{name}: {lo}"
                    out.append(c)
                    u.notes.append(c["label"])
                    continue
            rx = next((rx for words, rx in _FIELD_WORDS if word.split()[0] in words), None)
            if item is None or rx is None:
                u.unresolved.append(f"the same {word}")
                continue
            meta = self.terms.meta.get(item, {})
            name = next((f for f in meta if rx.search(f) and f in self.terms.value_counts), None)
            values = meta.get(name) if name else None
            values = [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str) and v]
            if not values:
                u.unresolved.append(f"the same {word}")
                continue
            if word.startswith("lead"):
                values = values[:1]  # the first billed
            pairs = [(name, v) for v in values]
            label = f"{name}: {', '.join(values[:2])}"
            out.append({"kind": "want", "field": name, "phrase": f"same {word}", "values": [list(p) for p in pairs],
                        "where": _where_any(pairs), "label": label, "source": "user"})
            u.notes.append(label)
        return out

    def _item_at(self, state: SessionState, position: int | None) -> str | None:
        if position is not None:
            pos = len(state.shown) + position if position < 0 else position
            return state.shown[pos] if 0 <= pos < len(state.shown) else None
        for items in (state.liked, state.mentioned, state.shown[:1]):
            if items:
                return items[-1]
        return None

    def _fitting(self, values: list[tuple[str, str]], cue: str, how: str) -> list[tuple[str, str]]:
        """The values a "by" / "with" / "from" phrase most likely means: "by" a maker
        (director, writer, brand), "with" a performer, "from" a place (when the catalog
        has such fields); a surname shared by several people means the one with the most
        items in the catalog ("by Allen": Woody Allen)."""
        kinds = next((rx for cues, rx in _CUE_FIELDS if cue in cues), None)
        if kinds is not None:
            fitting = [v for v in values if kinds.search(v[0])]
            values = fitting or values
        if how == "part":
            best: dict[str, tuple[str, str]] = {}
            counts = self.terms.value_counts
            for f, v in values:
                if f not in best or counts[f][v] > counts[f][best[f][1]]:
                    best[f] = (f, v)
            values = list(best.values())
        return values

    def _preferences(self, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        out = []
        for word in dict.fromkeys(r.lacking):
            items = self.terms.items_lacking(terms(word))
            if items:
                out.append({"kind": "prefer", "phrase": f"without {word}", "items": sorted(items),
                            "label": f"prefer: without {word}", "source": "user"})
        return out


# what people call a field -> the field names it may have in a catalog
_FIELD_WORDS = [
    (("director", "directors"), re.compile(r"direct", re.I)),
    (("actor", "actors", "actress", "star", "stars", "cast", "lead"), re.compile(r"star|cast|actor|perform", re.I)),
    (("brand", "maker", "manufacturer", "company", "studio", "producer"), re.compile(r"brand|maker|manufactur|company|studio|produc", re.I)),
    (("writer", "author"), re.compile(r"writ|author", re.I)),
    (("genre",), re.compile(r"genre|category|kind|type", re.I)),
    (("country", "origin"), re.compile(r"origin|country|region", re.I)),
]
_PERFORMER = re.compile(r"star|cast|actor|actress|perform|feat|voice", re.I)
_YEAR_RX = re.compile(r"year|date|decade", re.I)
_PRONOUNS = ("him", "her", "them", "his", "hers", "their", "his stuff", "her stuff", "his movies", "her movies")
# "recent": the catalog's newest year minus this many
RECENT_YEARS = 5


def _on_field(c: dict[str, Any], rx: re.Pattern) -> bool:
    fields = [c.get("field") or ""] + [v[0] for v in c.get("values") or []]
    where = str(c.get("where") or "")
    return any(rx.search(f) for f in fields if f) or bool(rx.search(where))


_CUE_FIELDS = [
    (("directed by",), re.compile(r"direct", re.I)),
    (("written by",), re.compile(r"writ|author", re.I)),
    (("produced by",), re.compile(r"produc", re.I)),
    (("by", "made by"), re.compile(r"direct|writ|author|creat|maker|manufactur|brand|produc|compos|design|artist|studio|label", re.I)),
    (("with", "starring", "featuring"), re.compile(r"star|cast|actor|actress|perform|feat|voice", re.I)),
    (("from", "made in", "grown in"), re.compile(r"origin|country|region|place|made|grown|from", re.I)),
]


def _outside(name: str, group: list[Range]) -> dict[str, Any]:
    """An exclusion of a range: "not from the 80s" keeps the items outside 1980–1989."""
    flip = {"<": "$gte", "<=": "$gt", ">": "$lte", ">=": "$lt", "=": "$ne"}
    if len(group) == 2:
        lo = next(g.value for g in group if g.op == ">=")
        hi = next(g.value for g in group if g.op == "<=")
        where = {"$or": [{name: {"$lt": lo}}, {name: {"$gt": hi}}]}
        label = f"not: {name} {lo}–{hi}"
    else:
        g = group[0]
        where = {name: {flip[g.op]: g.value}}
        label = f"not: {cons.filter_label(name, g.op, g.value)}"
    return {"kind": "exclude", "phrase": label, "where": where, "items": [], "label": label, "source": "user"}


def _where_not(values) -> dict | None:
    from .catalog_terms import Resolved

    return Resolved("", [tuple(v) for v in values]).where_not()


def _where_any(values) -> dict | None:
    from .catalog_terms import Resolved

    return Resolved("", [tuple(v) for v in values]).where_any()

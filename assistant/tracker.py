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
from .catalog_terms import CatalogTerms, terms, values_where
from .diets import Diet, excluded_items, triggers
from .mentions import COMMON
from .reading import FILLER, Range, Reading, content_words, names_a_person, read, the_other_gender
from .references import is_reference
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
    # the message asks for items not shown yet ("anything else?", "more like that",
    # "another one"); otherwise the items shown before that still fit may come back
    wants_new: bool = True
    # the person a pronoun of this message rules out ("I can't stand him"), found once
    person: str | None = None
    # the people talked about, the last one first (found once, when a pronoun points at one)
    people: list[str] | None = None


class Tracker:
    """Turns messages into state updates for one catalog. ``terms`` builds the catalog's
    :class:`CatalogTerms` on first use; ``is_title`` gives the items a phrase names by
    their whole title (ruled out as items, not as words)."""

    def __init__(self, terms: Callable[[], CatalogTerms], diets: dict[str, Diet],
                 is_title: Callable[[str], list[str]] | None = None,
                 title_spans: Callable[[str], list[tuple[int, int]]] | None = None):
        self._terms = terms
        self.diets = diets
        self._triggers = triggers(diets)
        # the items a phrase names by their whole title (empty when it names none)
        self._is_title = is_title or (lambda phrase: [])
        # where a text names titles ("grease and the sound of music": no kind "music")
        self._title_spans = title_spans or (lambda text: [])

    @property
    def terms(self) -> CatalogTerms:
        return self._terms()

    def update(self, state: SessionState, text: str) -> Understanding:
        """Read ``text`` (a user message) and apply it to ``state``."""
        r = read(text, diets=self._triggers)
        u = Understanding(r)
        self._references(state, r, u)
        self._retractions(state, r, u)

        pointed = [p.text for p in r.exclude + r.seen_all if names_a_person(p.text)]
        if pointed or any(names_a_person(p.text) for p in r.want):
            u.people = self._last_people(state, r.text)
        if pointed:
            # "any of hers without him?": the other pronoun is the one named last, so the
            # one ruled out is the one before
            other = the_other_gender(pointed[0])
            outside = _without_phrases(r.text, pointed, count=1)
            skip = 1 if other is not None and other.search(outside) and len(u.people) > 1 else 0
            u.person = u.people[skip] if len(u.people) > skip else None
        topic_text = _without_person(r.topic_text, u.person)
        words = content_words(topic_text) or list(r.instead_of)
        picked = self._picked_by_description(state, r.text)
        if picked:
            # "the apple one" after a list of juices: that one of the list, within the
            # request; the list may be shown again
            state.topic.append(picked)
            u.narrowing, words = True, []
        if words:
            # the catalog's own words: typos of kinds mended, near-kinds named ("veggies")
            topic = self.terms.expand(self.terms.correct(" ".join([topic_text] + r.instead_of)))
            # "denzel. action. go": the person a first name alone names, in full
            named = {v for _, v in self.terms.people_in(topic_text)}
            people = [p for p in map(self._first_name_person, re.findall(r"[\w'’-]{4,}", topic_text)) if p]
            topic += "".join(f" ({p})" for p in dict.fromkeys(people) if p not in named)
            strong_cue = r.shift_cue and not r.shift_weak
            # "what about Kate Winslet": a weak cue with a person named is a new request
            weak_with_person = r.shift_weak and bool(self.terms.people_in(r.text))
            u.shifted = bool(state.topic) and (strong_cue or weak_with_person or ((r.shift_weak or not r.refine_cue) and (
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

        if r.request and topic_text:
            self._asked_again(state, topic_text, u)
        new: list[dict[str, Any]] = []
        new += self._exclusions(state, r, u)
        new += self._diets(state, r, u)
        new += self._ranges(state, r, u)
        new += self._wants(state, r, u)
        new += self._countries(r, u)
        new += self._same(state, r, u)
        new += self._different(state, r, u)
        new += self._only(r, u)
        new += self._preferences(r, u)
        if new:
            state.constraints = cons.merge(_without_contradicted(state.constraints, new), new)
        u.narrowing = u.narrowing or (bool(new) or any(x.feeling == "rejected" for x in r.references)) and not words \
            and not r.more_cue and not r.retract
        u.wants_new = r.more_cue and not _AMONG_SHOWN.search(r.text)
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

    def _picked_by_description(self, state: SessionState, text: str) -> str:
        """ "the apple one", "I'll take the organic one": the words of a message that picks
        items of the list just shown by what they are (some of them, not all); else ""."""
        m = _DESCRIBED_ONE.fullmatch(text.strip())
        if not m or not state.shown or is_reference(m.group(0).strip()) or not content_words(m.group("x")):
            return ""
        reached = self.terms.reach(m.group("x")) & set(state.shown)
        return m.group("x") if reached and len(reached) < len(state.shown) else ""

    def _names_another_kind(self, state: SessionState, text: str) -> bool:
        """ "and vegetables?" after fruit: a kind the current topic did not name (a word of a
        title it names is none: "she's done the sound of music" after musicals)."""
        for s, e in sorted(self._title_spans(text), reverse=True):
            kinds = self.terms.kinds_in(text[s:e])
            kind_words = {w for _, v in kinds for w in terms(v)}
            if not kinds or set(terms(text[s:e])) - kind_words - COMMON - FILLER:
                # a title saying more than a kind ("the sound of music"); "sour cream",
                # also a title's start, stays the kind it names
                text = text[:s] + " " + text[e:]
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
            field_rx = next((rx for words, rx in _FIELD_WORDS + [(_YEAR_WORDS, _YEAR_RX)]
                             if p.text.lower() in words), None)
            if field_rx is not None:
                # "forget the year thing": every condition on that field goes
                kept = [c for c in state.constraints if not _on_field(c, field_rx)]
                if len(kept) < len(state.constraints):
                    state.constraints = kept
                    u.notes.append(f"no more conditions on {p.text}")
                continue
            diets = [c for c in state.constraints if cons.kind_of(c) == "diet" and c.get("name") == p.text.lower()]
            if diets:
                # "never mind the dairy-free thing"
                state.constraints = [c for c in state.constraints if c not in diets]
                u.notes.append(f"no diet: {p.text}")
                continue
            if p.cue == "giving in":
                # only the exclusion that said it goes, nothing is carved out of a wider one
                kept = [c for c in state.constraints if not (cons.kind_of(c) == "exclude"
                                                             and c.get("phrase", "").lower() == p.text.lower())]
                if len(kept) < len(state.constraints):
                    state.constraints = kept
                    u.notes.append(f"{p.text} allowed again")
                continue
            if self._part_of_name_retracted(state, p.text):
                u.notes.append(f"{p.text} allowed again")
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
                if not covered & reached or (kind == "exclude" and not reached <= covered
                                              and not set(terms(p.text)) & set(terms(c.get("phrase") or ""))):
                    # "going with yoghurt after all" after "not the sweet vanilla stuff": a
                    # wider thing wanted again, not this exclusion taken back
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

    def _part_of_name_retracted(self, state: SessionState, said: str) -> bool:
        """ "julia's allowed" after "anything but julia roberts": the words said are part of
        a longer name an exclusion rules out (a value of a field of names: a first name or
        surname of its person), which then goes. Whether anything went."""
        words = set(terms(said))
        changed = False
        kept = []
        for c in state.constraints:
            values = c.get("values") or []
            if cons.kind_of(c) != "exclude" or not words or not values:
                kept.append(c)
                continue
            rest = [v for v in values if v[0] in self.terms.few or not words < set(terms(str(v[-1])))]
            if len(rest) == len(values):
                kept.append(c)
                continue
            changed = True
            if rest or c.get("items"):
                kept.append(dict(c, values=rest, where=_where_not(rest)))
        state.constraints = kept
        return changed

    def _exclusions(self, state: SessionState, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        out = []
        for p in r.seen_all:
            if p.text.lower() in ("those", "these"):
                # "fantasy like harry potter, but I've seen every one of those": the series
                name, items = self._series_named(r.text)
                for item in items:
                    state.reject(item)
                if items:
                    out.append({"kind": "exclude", "phrase": name, "items": sorted(items),
                                "label": f"not: {name}", "source": "user"})
                    u.notes.append(f"no {name}")
            elif not self._names_person(p.text) and not self.terms.kinds_in(p.text):
                # "seen every toy story", "both kill bills", "the dollars trilogy": a series
                items = self._series(p.text, "series")
                if len(items) > MAX_SERIES:
                    continue  # a word many titles say is no series' name
                for item in items:
                    state.reject(item)
                if items:
                    out.append({"kind": "exclude", "phrase": p.text.lower(), "items": sorted(items),
                                "label": f"not: {p.text}", "source": "user"})
                    u.notes.append(f"no {p.text}")
        # "I've seen every clint eastwood movie": a person's items, all known already
        for p in self._titles_joined(r) + [p for p in r.seen_all if self._names_person(p.text)]:
            titled = self._is_title(p.text)
            if titled:
                # an item by name ("skip The Shining"): rejected as an item
                for item in titled:
                    state.reject(item)
                u.notes.append(f"no {p.text}")
                series = self._series(p.text, r.text[p.start:p.end + 12]) - set(titled)
                if series:
                    # "not the Indiana Jones ones", "no Harry Potter": every title saying it
                    out.append({"kind": "exclude", "phrase": p.text.lower(), "items": sorted(series),
                                "label": f"not: {p.text}", "source": "user"})
                continue
            if names_a_person(p.text):
                # "without him": the person last named ("too much Johnny Depp ... without him")
                if u.person is None:
                    continue
                p = type(p)(u.person, p.start, p.end)
            res = self.terms.resolve_ruled_out(p.text)
            if not res.found:
                u.unresolved.append(p.text)
                continue
            names = list(dict.fromkeys(v for _, v in res.values))
            shown = names[0] if len(names) == 1 else p.text
            if any(c.get("label") == f"not: {shown}" for c in out):
                continue  # "Scorsese films are way too long, skip him": one exclusion
            out.append({"kind": "exclude", "phrase": p.text.lower(), "values": [list(v) for v in res.values],
                        "where": res.where_not(), "items": sorted(res.items), "label": f"not: {shown}",
                        "source": "user"})
            u.notes.append(f"no {p.text}")
        return out

    def _titles_joined(self, r: Reading) -> list:
        """The exclusions, two joined by "and" read as one where together they are a
        title: "no fast and furious" is the franchise, not "fast" and "furious"."""
        out = list(r.exclude)
        k = 0
        while k + 1 < len(out):
            p, q = out[k], out[k + 1]
            if re.fullmatch(r"(?i)\s+(?:and|&)\s+(?:the\s+)?", r.text[p.end:q.start]) \
                    and self._is_title(r.text[p.start:q.end]):
                out[k:k + 2] = [type(p)(r.text[p.start:q.end], p.start, q.end, p.cue)]
            else:
                k += 1
        return out

    def _asked_again(self, state: SessionState, asked: str, u: Understanding) -> None:
        """A request for a kind an earlier exclusion ruled out by name ("no yoghurt" ... "I
        just want a really good vanilla yoghurt"): the newest word wins, the exclusion goes.
        An exclusion of something else ("no Arla", then "yoghurt then") stays."""
        named = self.terms.kinds_in(asked)
        if not named:
            return
        kept = []
        for c in state.constraints:
            values = {tuple(v) for v in c.get("values") or ()}
            if cons.kind_of(c) == "exclude" and values and values <= named:
                u.notes.append(f"{c.get('phrase', '')} allowed again")
                continue
            kept.append(c)
        state.constraints = kept

    def _series_named(self, text: str) -> tuple[str, set[str]]:
        """The longest run of two to four words of ``text`` that several titles say and
        that is not everyday words ("harry potter"), and those titles' items."""
        words = terms(text)
        for size in (4, 3, 2):
            for i in range(len(words) - size + 1):
                run = words[i:i + size]
                if sum(w not in COMMON and w not in FILLER for w in run) < 2:
                    continue
                items = self.terms.items_saying(run, where="title")
                if len(items) >= 2:
                    return " ".join(run), items
        return "", set()

    def _series(self, phrase: str, said: str) -> set[str]:
        """The items whose titles say a title ruled out, when it reads as a series: a name
        of two words or more ("Harry Potter"), or one said of several ("the Alien movies");
        "skip Up" stays the one film."""
        words = terms(phrase)
        if len(words) < 2 and not _SERIES_HEAD.search(said):
            return set()
        items = self.terms.items_saying(words, where="title")
        named = [w for w in words if w not in ("and", "the", "of", "a")]
        if "and" in words and len(named) >= 2:
            # "fast and furious": every title saying its words, "2 Fast 2 Furious" too
            items |= set.intersection(*(self.terms.items_saying((w,), where="title") for w in named))
        return items

    def _last_people(self, state: SessionState, text: str) -> list[str]:
        """The names of the people talked about, the last one first: in this message, then
        the ones before."""
        out: list[str] = []
        for said in [text] + [m["content"] for m in reversed(state.messages) if m.get("role") == "user"][:4]:
            found = [v for _, v in self.terms.people_in(said)]
            if not found:
                # a surname alone ("Spielberg movies are overrated, skip him", "tarantino
                # movies"), when it names one person
                found = [v for v in map(self._surname_person, re.findall(r"[\w'’-]{3,}", said)) if v]
            for name in reversed(found):
                if name not in out:
                    out.append(name)
        return out

    def _surname_person(self, word: str) -> str | None:
        """The one person a surname names ("Nolan", "tarantino"), or the one far better
        known; None when it names nobody. In lower case only a word of five letters or
        more that is no everyday word."""
        if not word[0].isupper() and (len(word) < 5 or word.lower() in COMMON or word.lower() in FILLER):
            return None
        values, how = self.terms.values_named((word.lower(),), fuzzy=False)
        counts: dict[str, int] = {}
        for f, v in values:
            if f not in self.terms.few:
                counts[v] = counts.get(v, 0) + self.terms.value_counts.get(f, {}).get(v, 0)
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        if how in ("value", "part") and ranked and (len(ranked) == 1 or ranked[0][1] > 2 * ranked[1][1]):
            return ranked[0][0]
        return None

    def _first_name_person(self, word: str) -> str | None:
        """The one well-known person a first name alone names ("denzel" -> Denzel
        Washington): someone with at least FIRST_NAME_ITEMS items, far more than anyone
        else of that first name, and a word the items' own texts hardly use ("rose",
        "hope" stay words). None otherwise."""
        w = word.lower()
        if len(w) < 4 or w in COMMON or w in FILLER:
            return None
        ranked = self.terms.people_by_first_name(w)
        if not ranked or ranked[0][1] < FIRST_NAME_ITEMS or (len(ranked) > 1 and ranked[0][1] <= 2 * ranked[1][1]):
            return None
        return ranked[0][0] if len(self.terms.items_saying((w,), where="text")) < ranked[0][1] else None

    def _names_person(self, phrase: str) -> bool:
        """Whether ``phrase`` names a person: a pronoun, a full name, or a surname."""
        return names_a_person(phrase) or bool(self.terms.people_in(phrase)) or (
            len(phrase.split()) == 1 and self._surname_person(phrase) is not None)

    def _different(self, state: SessionState, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        """ "a different brand": rule out the brands of the items just shown."""
        out = []
        for word in r.different:
            c = self._their_values_out(state.shown or state.mentioned[-1:], word, f"different {word}")
            if c is None:
                u.unresolved.append(f"a different {word}")
                continue
            out.append(c)
            u.notes.append(c["label"])
        return out

    def _their_values_out(self, items: list[str], word: str, phrase: str) -> dict[str, Any] | None:
        """An exclusion of the values ``items`` hold in the field ``word`` names ("brand":
        manufacturer), or None when they hold none."""
        rx = next((rx for words, rx in _FIELD_WORDS if word.split()[0] in words), None)
        name = next((f for i in items for f in self.terms.meta.get(i, {})
                     if rx is not None and rx.search(f) and f in self.terms.value_counts), None)
        values = sorted({v for i in items for v in _text_values(self.terms.meta.get(i, {}).get(name))}) if name else []
        if not values:
            return None
        pairs = [(name, v) for v in values]
        label = f"not: {', '.join(values[:2])}" + (" …" if len(values) > 2 else "")
        return {"kind": "exclude", "phrase": phrase, "values": [list(p) for p in pairs],
                "where": _where_not(pairs), "items": [], "label": label, "source": "user"}

    def _only(self, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        """ "only the organic ones": a wanted word; its items alone (kept as a filter of
        the ids, as no field holds it)."""
        out = []
        for phrase in r.only:
            if self.terms.country(phrase):
                continue  # "only Swedish ones": a wanted origin, read with the countries
            res = self.terms.resolve(phrase)
            # a kind by name ("just the fruit"): its items, not every text saying the word
            items = self.terms.items_with(res.values) | (res.items if res.how != "value" else set())
            for kind in [] if items else self.terms.near_kinds(phrase):
                # "just the veggies": the kind it is close to
                near = self.terms.resolve(kind)
                items |= self.terms.items_with(near.values) | near.items
            if not items:
                u.unresolved.append(phrase)
                continue
            out.append({"kind": "want", "field": "", "phrase": f"only {phrase.lower()}", "only": sorted(items),
                        "label": f"only: {phrase}", "source": "user"})
            u.notes.append(f"only: {phrase}")
        return out

    def _countries(self, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        """ "swedish veggies": the request's country adjectives as wanted origins (not those
        the same message rules out: "that Italian one? no Italian produce for me")."""
        out = []
        # "avoiding italian produce this week": a country said in what is ruled out is not wanted
        ruled_out = {w for p in r.exclude for w in [p.text.lower()] + content_words(p.text)}
        # "isn't the ginger chinese? we don't buy produce from china": by the values too
        ruled_values = {tuple(v) for p in r.exclude for v in self.terms.resolve(p.text).values}
        words = content_words(r.topic_text)
        # two-word names first: "south american" is no "american"
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if self.terms.country(f"{a} {b}")]
        paired = {w for p in pairs for w in p.split()}
        for word in pairs + [w for w in words if w not in paired] + [w for w in r.only if self.terms.country(w)]:
            values = self.terms.country(word)
            if values and word.lower() not in ruled_out and not {tuple(v) for v in values} & ruled_values:
                label = f"{values[0][0]}: {values[0][1] if len(values) == 1 else word}"
                out.append({"kind": "want", "field": values[0][0], "phrase": word, "values": [list(v) for v in values],
                            "where": _where_any(values), "label": label, "source": "user"})
                u.notes.append(label)
        return out

    def _diets(self, state: SessionState, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        if r.diets_off:
            kept = [c for c in state.constraints if not (cons.kind_of(c) == "diet" and c.get("name") in r.diets_off)]
            if len(kept) < len(state.constraints):
                state.constraints = kept
                u.notes.append("no diet: " + ", ".join(r.diets_off))
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
            if any(p.start < first.end and first.start < p.end for p in r.retract):
                # "the 80s are fine": the exclusion it clashes with goes, nothing is asked for
                kept = _without_contradicted(state.constraints, [c])
                if len(kept) < len(state.constraints):
                    state.constraints = kept
                    u.notes.append(f"{first.label} allowed again")
                continue
            out.append(c)
            u.notes.append(c["label"])
        return out

    def _range_field(self, rg: Range) -> str | None:
        if rg.field in ("year", "recent") or (rg.field == "relative" and rg.field_hint == "year"):
            return self.terms.year_field()
        return self.terms.amount_field()

    def _relative_value(self, state: SessionState, rg: Range, name: str) -> float | None:
        shown = state.shown
        if rg.talked_about:
            # the item last liked or named that says its value ("Groundhog Day" may be
            # two rows, one without a year), else the first shown
            talked = [i for i in state.liked[::-1] + state.mentioned[::-1] + shown[:1]
                      if _is_number(self.terms.meta.get(i, {}).get(name))]
            refs = talked[:1]
        elif rg.ref is not None:
            pos = len(shown) + rg.ref if rg.ref < 0 else rg.ref
            refs = [shown[pos]] if 0 <= pos < len(shown) else []
        else:
            refs = list(shown)
        values = [self.terms.meta.get(i, {}).get(name) for i in refs]
        values = [v for v in values if _is_number(v)]
        if not values:
            return None
        # "cheaper" than what was shown: below the cheapest of them
        return min(values) if rg.op in ("<", "<=") else max(values)

    def _wants(self, state: SessionState, r: Reading, u: Understanding) -> list[dict[str, Any]]:
        out = []
        for p in r.want:
            if names_a_person(p.text):
                # "what do you have with him?", "any of hers": the person last named (not
                # the one this message rules out)
                people = [n for n in u.people or () if n != u.person]
                if not people:
                    continue
                p = type(p)(people[0], p.start, p.end, p.cue)
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
        for word, position in r.not_same:
            # "not a fan of that brand": its values ruled out
            item = self._item_at(state, position)
            c = self._their_values_out([item] if item is not None else [], word, f"not same {word}")
            if c is None:
                u.unresolved.append(f"not that {word}")
                continue
            out.append(c)
            u.notes.append(c["label"])
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
                # the first billed; "the lead actress", "the two leads": the first two (the
                # catalog does not say who is an actress)
                values = values[:2] if word == "leads" or "actress" in word else values[:1]
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
        else:
            # no cue says which field: the one the name holds most items in first ("any of
            # his" for Adam Sandler: star, then writer)
            values = sorted(values, key=lambda v: -self.terms.value_counts.get(v[0], {}).get(v[1], 0))
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
            if names_a_person(word):
                continue
            items = self.terms.items_lacking(terms(word))
            if items:
                out.append({"kind": "prefer", "phrase": f"without {word}", "items": sorted(items),
                            "label": f"prefer: without {word}", "source": "user"})
        return out


# what people call a field -> the field names it may have in a catalog
_FIELD_WORDS = [
    (("director", "directors"), re.compile(r"direct", re.I)),
    (("actor", "actors", "actress", "star", "stars", "cast", "lead", "leads"), re.compile(r"star|cast|actor|perform", re.I)),
    (("brand", "maker", "manufacturer", "company", "studio", "producer"), re.compile(r"brand|maker|manufactur|company|studio|produc", re.I)),
    (("writer", "author"), re.compile(r"writ|author", re.I)),
    (("genre",), re.compile(r"genre|category|kind|type", re.I)),
    (("country", "origin"), re.compile(r"origin|country|region", re.I)),
]
_PERFORMER = re.compile(r"star|cast|actor|actress|perform|feat|voice", re.I)
_YEAR_RX = re.compile(r"year|date|decade", re.I)
# "forget the year thing", "old is fine", "older ones are ok too": every year condition goes
_YEAR_WORDS = ("year", "years", "decade", "decades", "date", "old", "older", "new", "newer", "recent", "age")
# a question about the list shown: "which of the others isn't from concentrate?"
# "the apple one", "ok the italian one please": items of the list picked by what they are
_DESCRIBED_ONE = re.compile(r"(?i)(?:(?:ok(?:ay)?|yes|yeah|yep|hmm+|oh|ooh|so|and)[,!.\s]+)*"
                            r"(?:(?:i['’]ll\s+(?:take|have|go\s+with)|i\s+(?:want|like|prefer)|give\s+me|what\s+about|how\s+about)\s+)?"
                            r"the\s+(?P<x>[\w'’ -]{2,25}?)\s+ones?(?:\s+(?:please|pls|then|maybe))?\s*[.!?]*")
_AMONG_SHOWN = re.compile(r"(?i)\b(?:which|any|one|either|both|all)\s+of\s+(?:the\s+)?(?:others|those|these|them)\b")
_SERIES_HEAD = re.compile(r"(?i)\b(?:ones|movies|films|series|franchise|sequels|saga|trilogy|stuff)\b")
# a first name alone names a person with at least this many items ("denzel")
FIRST_NAME_ITEMS = 8
# the most titles a series said by name may have ("every toy story": 6)
MAX_SERIES = 30
# "recent": the catalog's newest year minus this many
RECENT_YEARS = 5


def _without_phrases(text: str, phrases: list[str], count: int = 0) -> str:
    """``text`` with each phrase (and its possessive "'s") cut out: every occurrence, or
    the first ``count``."""
    for phrase in phrases:
        text = re.sub(rf"(?i)\b{re.escape(phrase)}(?:['’]s)?\b", " ", text, count=count)
    return " ".join(text.split())


def _without_person(text: str, person: str | None) -> str:
    """The topic text without the person a pronoun rules out: "half of these have Johnny
    Depp, I can't stand him" asks for nothing with Johnny Depp in it; nor does "Spielberg
    movies are overrated, skip him" (the surname alone)."""
    return _without_phrases(text, [person, person.split()[-1]]) if person else text


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text_values(value: Any) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v]


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
    return {"kind": "exclude", "field": name, "phrase": label, "where": where, "items": [], "label": label,
            "source": "user"}


def _range_values(c: dict[str, Any]) -> list[float]:
    """Values a range condition allows, sampled: enough to tell whether two conditions on
    a field of years or amounts still share one."""
    op, v = c.get("op"), c.get("value")
    if op == "between":
        lo, hi = v
        return [lo + (hi - lo) * i / 20 for i in range(21)]
    if op in ("<", "<="):
        return [v - d for d in (0, 0.5, 1, 2, 5, 10, 20, 50, 100)]
    if op in (">", ">="):
        return [v + d for d in (0, 0.5, 1, 2, 5, 10, 20, 50, 100)]
    return [v] if op == "=" else []


def _range_exclusion(c: dict[str, Any]) -> bool:
    return cons.kind_of(c) == "exclude" and bool(c.get("field")) and bool(c.get("where")) and not c.get("values")


def _without_contradicted(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The user's newest word on a numeric field wins: "westerns from the 60s" after
    "nothing before 2000" drops the exclusion no 60s film passes, and "not from the 80s"
    after "from the 80s" drops the range it rules out whole (keeping both would leave
    nothing to show)."""
    from retrieval.filters import where_matches

    def clash(o: dict[str, Any], c: dict[str, Any]) -> bool:
        if cons.kind_of(o) == "want" and cons.kind_of(c) == "exclude" and o.get("values") and \
                {tuple(v) for v in o["values"]} <= {tuple(v) for v in c.get("values") or ()}:
            return True  # "films by Tarantino", then "nothing by him": he is no longer wanted
        if cons.kind_of(c) == "filter" and _range_exclusion(o) and o["field"] == c["field"]:
            return not any(where_matches(o["where"], {c["field"]: x}) for x in _range_values(c))
        if _range_exclusion(c) and cons.kind_of(o) == "filter" and o.get("field") == c["field"]:
            return not any(where_matches(c["where"], {o["field"]: x}) for x in _range_values(o))
        return False

    return [o for o in old if not any(clash(o, c) for c in new)]


def _where_not(values) -> dict | None:
    return values_where([tuple(v) for v in values], "$nin", "$and")


def _where_any(values) -> dict | None:
    return values_where([tuple(v) for v in values], "$in", "$or")

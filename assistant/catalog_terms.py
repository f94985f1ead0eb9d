"""Resolve the user's words against the catalog: which field values a phrase names
("apples" -> category Apple, "Nolan" -> director Christopher Nolan) and which items
assert it in their own text ("vanilla" -> the items that say vanilla, not those that say
"without vanilla" or "vanilla-free").

A phrase is matched against every text field's values, exactly (plural tolerant, accents
and case ignored), then as a part of a value ("cream" in "Sour-Cream", a surname in a
name), then with a small edit distance ("appels"), then by the text encoder's similarity
to the values of fields with few values ("citrus" -> Lemon, Lime ...). A phrase that names
a value reaches, besides the value, the items whose *title* says it ("no apples" also
rules out "Äpple Juice"); a phrase that names no value reaches the items whose title,
description, caption or transcript asserts it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from retrieval.catalog import RESERVED_KEYS
from retrieval.channels.values import ATTRIBUTE_MAX_VALUES

from .glossary import glossed

# a field with at most this many distinct text values is a kind of thing (category,
# genre, brand; the attribute channel's fields): its values may also be reached by
# meaning; others are names (casts)
FEW_VALUES = ATTRIBUTE_MAX_VALUES
# the text encoder's cosine between a phrase and a value from which the phrase names it;
# measured on the development scenarios (eval/scenarios): 0.65 let groups in, 0.75-0.85 and
# off scored alike; the lowest of those keeps the most synonyms
SIMILARITY = 0.75
# once one kind is that close, the kinds within SIMILARITY_SPREAD of it (and above the
# floor) come too: "citrus" Lemon 0.81, Orange 0.72, Red-Grapefruit 0.62
SIMILARITY_SPREAD = 0.2
SIMILARITY_FLOOR = 0.6
# a phrase more items than this say in their own words is not reached by meaning
MEANING_MAX_ITEMS = 3
# values held by more of the catalog than this are groups, never reached by meaning alone
MAX_SHARE = 0.25
# a word of a request is read as a kind when this close to it ("veggies" -> Vegetables 0.81,
# "animated" -> animation 0.85; "berries" -> Fruit 0.73 stays a word)
EXPANSION_SIMILARITY = 0.8
# short forms people type for a kind, which a sentence encoder does not place near it
# ("veg" is 0.6 from "vegetables"); read as the words they stand for (English only)
SHORT_FOR = {"veg": "vegetables", "veggie": "vegetables", "doc": "documentary", "docs": "documentary",
             "docu": "documentary", "docus": "documentary", "eco": "organic", "scifi": "sci-fi", "romcom": "romance comedy",
             "romcoms": "romance comedy", "rom-com": "romance comedy", "rom-coms": "romance comedy",
             "toon": "animation", "toons": "animation", "flick": "movie", "flicks": "movies",
             "rom com": "romance comedy", "rom coms": "romance comedy"}
# everyday words that describe a kind, read as that kind when the catalog has it ("something
# funny": comedy; the encoder puts "funny" only 0.48 from "comedy", below any safe threshold)
DESCRIBES = {"funny": "comedy", "hilarious": "comedy", "comedic": "comedy", "laugh": "comedy",
             "scary": "horror", "scarry": "horror", "spooky": "horror", "creepy": "horror",
             "frightening": "horror", "terrifying": "horror", "romantic": "romance",
             "adventurous": "adventure", "dramatic": "drama", "suspenseful": "thriller",
             "thrilling": "thriller", "animated": "animation", "cartoon": "animation",
             "cartoons": "animation", "mysterious": "mystery", "historical": "history",
             "biographical": "biography", "musicals": "musical", "documentaries": "documentary"}
# words of taste, colour and feel a user puts before a thing no item describes so ("the
# sweet vanilla stuff"): the thing is what is meant
_DESCRIPTIVE = frozenset("""sweet sour bitter tart acidic mild strong spicy hot salty creamy thick thin light dark
plain fresh ripe green red yellow orange purple white black brown pink crunchy soft hard juicy""".split())
# sizes and the like a user puts before a thing ("NOT a giant watermelon")
_SIZES = frozenset("giant huge big large massive enormous small tiny little mini whole entire".split())
# everyday words that hint at a kind when the message names none ("kids movie for saturday":
# family; "an animated movie for my kids" is animation alone)
HINT_OF = {"kids": "family", "kid": "family", "children's": "family", "childrens": "family"}
# single-word vectors kept for expand (a few MB); the cache starts over past this many
WORD_VECTORS_KEPT = 20_000
# a phrase stands for a kind when at least this many items say it, this share of them
# has the kind, this many times the kind's share of the catalog, and the phrase is this
# close to it in meaning ("cartoon" -> animation, not "zombie" -> horror)
ASSOCIATION_SUPPORT = 3
ASSOCIATION_SHARE = 0.8
ASSOCIATION_LIFT = 5.0
ASSOCIATION_SIMILARITY = 0.5
# words that mean "lacking" before a word: "without pulp", "no added sugar", "not from concentrate"
_LACKING_BEFORE = re.compile(r"\b(?:without|no|not|non|zero|free\s+(?:of|from)|minus|less|nor|never)\s+(?:[a-z]+\s+)?$")
_LACKING_AFTER = re.compile(r"^[\s-]?(?:free|less)\b")


def normalise(text: str) -> str:
    """Lower case, accents stripped ("Äpple" -> "apple"), apostrophes dropped."""
    text = unicodedata.normalize("NFKD", str(text).lower())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("'", "").replace("’", "")


def stem(word: str) -> str:
    """A plural-tolerant form: apples -> apple, berries -> berry, tomatoes -> tomato."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("oes", "ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> tuple[str, ...]:
    """The stemmed words of ``text`` (hyphens and punctuation split words)."""
    return tuple(stem(w) for w in re.findall(r"[a-z0-9]+", normalise(text)))


def _word_pattern(word: str) -> str:
    if word.endswith("y") and len(word) > 3:
        return re.escape(word[:-1]) + "(?:y|ies)"
    return re.escape(word) + "(?:s|es)?"


def phrase_pattern(phrase_terms: tuple[str, ...]) -> re.Pattern:
    """A regex finding the phrase in normalised text, plural tolerant, any separator."""
    return re.compile(r"\b" + r"[\s\-/&,]+".join(_word_pattern(t) for t in phrase_terms) + r"\b")


@dataclass
class Resolved:
    """What a phrase names in the catalog."""

    phrase: str
    # (field, value) pairs the phrase names
    values: list[tuple[str, str]] = field(default_factory=list)
    # items that assert the phrase in their own words (see the module docstring)
    items: set[str] = field(default_factory=set)
    # how the values were found: "value", "part" (the head of a value), "modifier" (another
    # word of one), "fuzzy", "similar", "text" (none: the items' own words)
    how: str = ""

    @property
    def found(self) -> bool:
        return bool(self.values or self.items)

    def where_not(self) -> dict | None:
        """A filter keeping the items without any of the values."""
        return values_where(self.values, "$nin", "$and")

    def where_any(self) -> dict | None:
        """A filter keeping the items having one of the values."""
        return values_where(self.values, "$in", "$or")


def values_where(values, op: str, join: str) -> dict | None:
    """``{field: {op: [values]}}`` per field of ``(field, value)`` pairs, joined by ``join``."""
    by_field: dict[str, list[str]] = {}
    for f, v in values:
        by_field.setdefault(f, []).append(v)
    parts = [{f: {op: vs}} for f, vs in by_field.items()]
    return None if not parts else parts[0] if len(parts) == 1 else {join: parts}


class CatalogTerms:
    """The catalog's text values and item texts, for resolving phrases.

    ``records`` maps an item id to ``(title, metadata, document)``; ``encoder`` (optional)
    is the index's text encoder, used to reach values by meaning."""

    def __init__(self, records: dict[str, tuple[str, dict[str, Any], str]], encoder: Any = None,
                 similarity: float | None = None):
        self.ids = list(records)
        self.encoder = encoder
        self.similarity = SIMILARITY if similarity is None else similarity
        self.meta = {i: m for i, (_, m, _) in records.items()}
        # Swedish label words glossed in English ("blodgrape" -> "blood grapefruit")
        self.titles = {i: glossed(normalise(t)) for i, (t, _, _) in records.items()}
        self.texts: dict[str, str] = {}
        self.documents: dict[str, str] = {}
        counts: dict[str, Counter] = {}
        numeric: dict[str, list[float]] = {}
        for i, (title, meta, doc) in records.items():
            for key, value in (meta or {}).items():
                if key in RESERVED_KEYS or key.startswith("_"):
                    continue
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, str) and v.strip():
                        counts.setdefault(key, Counter())[v] += 1
                    elif isinstance(v, (int, float)) and not isinstance(v, bool):
                        numeric.setdefault(key, []).append(float(v))
            self.texts[i] = glossed(normalise(_own_words(title, doc or "", counts.keys() | set(meta or {}))))
            self.documents[i] = normalise(doc or title)
        self.value_counts = counts
        self.few = {f for f, c in counts.items() if len(c) <= FEW_VALUES}
        self.numeric = numeric
        # (field, value) by their stemmed words; by their heads (the last words of a longer
        # value: "cream" of "Sour-Cream", a surname); by their other parts (kinds only:
        # "red" of "Red-Grapefruit"); and their spellings for typos, grouped by length
        Pair = tuple[str, str]
        self._values: dict[tuple[str, ...], list[Pair]] = {}
        self._heads: dict[tuple[str, ...], list[Pair]] = {}
        self._parts: dict[tuple[str, ...], list[Pair]] = {}
        for f, c in counts.items():
            for v in c:
                vw = terms(v)
                self._values.setdefault(vw, []).append((f, v))
                for k in range(1, len(vw)):
                    self._heads.setdefault(vw[k:], []).append((f, v))
                if f in self.few:
                    for n in range(1, len(vw)):
                        for i in range(len(vw) - n):  # parts that do not end the value
                            self._parts.setdefault(vw[i:i + n], []).append((f, v))
        self._spellings: dict[int, tuple[list[str], list[tuple[str, ...]]]] = {}
        for vw in self._values:
            joined = " ".join(vw)
            group = self._spellings.setdefault(len(joined), ([], []))
            group[0].append(joined)
            group[1].append(vw)
        self._cache: dict[tuple[str, str], Any] = {}
        # re-entrant: the lazily built views build on one another (vocabulary -> words by length)
        self._lock = threading.RLock()
        # the phrases this thread is resolving now (a family's member may name the family)
        self._resolving = threading.local()
        self._value_vectors: Any = None
        self._word_vectors: dict[str, Any] = {}

    # ---- numeric fields --------------------------------------------------------------------
    def year_field(self) -> str | None:
        """The numeric field holding years (named like one, or all values 1800-2100)."""
        for name in self.numeric:
            if "year" in name.lower():
                return name
        for name, values in self.numeric.items():
            if values and all(v.is_integer() and 1800 <= v <= 2100 for v in values):
                return name
        return None

    def amount_field(self) -> str | None:
        """The numeric field a bare amount ("under 20") is about: one named like a price,
        else the only numeric field that is not the year."""
        names = [n for n in self.numeric if n != self.year_field()]
        for n in names:
            if re.search(r"price|cost|eur|usd|dollar|sek|amount|fee", n, re.I):
                return n
        return names[0] if len(names) == 1 else None

    # ---- phrases -----------------------------------------------------------------------------
    def resolve(self, phrase: str) -> Resolved:
        """The values ``phrase`` names and the items asserting it (cached)."""
        key = ("resolve", phrase.lower())
        if key not in self._cache:
            busy = self._resolving.__dict__.setdefault("keys", set())
            if key in busy:
                # a family's member whose head word names the family again ("blueberry" ->
                # "berry" -> berries) names nothing on the way round
                return Resolved(phrase)
            busy.add(key)
            try:
                self._cache[key] = self._resolve(phrase)
            finally:
                busy.discard(key)
        r = self._cache[key]
        return Resolved(r.phrase, list(r.values), set(r.items), r.how)

    def _resolve(self, phrase: str, families: bool = True) -> Resolved:
        from .families import family

        members = family(phrase) if families else ()
        if members:
            # "no citrus": every member the catalog names, by value or in an item's own words
            # ("Blodgrape Juice": "as refreshing as only red grapefruit can be"); ruling out
            # too much is the safe side of an allergy
            out = Resolved(phrase, how="family")
            for m in members:
                r = self._resolve(m, families=False)
                out.values += [v for v in r.values if v not in out.values and r.how in ("value", "part")]
                out.items |= self.items_saying(terms(m), where="text")
            if out.values or out.items:
                return out
        said = re.sub(r"(?i)\s+(?:movies?|films?|stuff|ones?)$", "", phrase.lower().strip())
        full = SHORT_FOR.get(said) or DESCRIBES.get(said) or HINT_OF.get(said)
        if full and " " not in full:
            r = self._resolve(full)  # "no veg": vegetables; "nothing scary": horror
            if r.values or r.items:
                return Resolved(phrase, r.values, r.items, r.how)
        words = terms(phrase)
        out = Resolved(phrase)
        if not words or all(len(w) < 2 for w in words):
            return out
        # "stuff flown in from south america": where from is what it says
        place = re.search(r"(?i)^.*\b(?:from|in)\s+(?P<p>[a-z][a-z ]+)$", phrase.strip())
        country = self.country(phrase) or (self.country(place.group("p")) if place else [])
        if country:
            out.values, out.how = country, "value"
            return out
        known = self.vocabulary()
        while len(words) > 1 and words[0] in _SIZES and words[0] not in known and (words[0],) not in self._values:
            # "a giant watermelon": a size no item states says nothing to look up
            words = words[1:]
        words = self.spelled(words)
        if len(words[-1]) > 4 and words[-1].endswith("y") and words not in self._values \
                and words[-1] not in self.vocabulary():
            # "nothing oniony": an adjective made of a word the catalog knows
            base = words[:-1] + (words[-1][:-1],)
            if base[-1] in self.vocabulary():
                words = base
        values, how = self.values_named(words)
        if how in ("value", "part"):
            # a kind of thing: its values, and the items that say they are made of it: in
            # their title ("Äpple Juice"), as a plural ("pressed on oranges") or before
            # another kind ("orange juice"); not "orange pulp", a colour
            out.values, out.how = values, how
            out.items = self.items_saying(words, where="title") | self.items_saying(words, where="made of")
            return out
        if how == "modifier":
            # a word that qualifies values ("red" in "Red-Grapefruit", "Arla" in "Arla Ko"):
            # those values, and every item whose own words say it ("a red yellow peel")
            out.values, out.how = values, how
            out.items = self.items_saying(words, where="text")
            return out
        # a word of the items' own texts ("vanilla"), and the kinds close to it in meaning
        # ("citrus": Lemon); a word no item uses may be a typo of a value ("appels")
        out.items = self.items_saying(words, where="text")
        # by meaning only a word the items hardly use: "citrus" (one item says it) stands
        # for lemons; "football" (said in many plots) is its own thing, not all of sport
        out.values = self._similar(" ".join(words)) if len(out.items) < MEANING_MAX_ITEMS else []
        for _, v in out.values:
            # and what is made of those kinds ("orange juice" for "citrus")
            out.items |= self.items_saying(terms(v), where="made of") | self.items_saying(terms(v), where="title")
        out.values += [v for v in self._associated(words, out.items) if v not in out.values]
        out.how = "+".join(h for h, found in (("text", out.items), ("similar", out.values)) if found)
        if not out.how:
            out.values = self._fuzzy(words)
            out.how = "fuzzy" if out.values else ""
        if not out.how and len(words) > 1:
            # "cow's milk": nothing says it whole, and its head word is a kind (Milk)
            head = self.resolve(words[-1])
            if head.how in ("value", "part"):
                out.values, out.items, out.how = head.values, head.items, "head"
        return out

    def resolve_ruled_out(self, phrase: str) -> Resolved:
        """What a phrase ruling something out names: as :meth:`resolve`, and when nothing
        says it whole, the items its words reach (see :meth:`_by_each_word`; only here:
        "dairy-free" or "rice drink" in a diet's table must not reach word by word)."""
        r = self.resolve(phrase)
        words = terms(phrase)
        if not r.found and len(words) > 1:
            r.items = self._by_each_word(phrase, self.spelled(words))
            r.how = "words" if r.items else ""
        return r

    def _by_each_word(self, phrase: str, words: tuple[str, ...]) -> set[str]:
        """The items a phrase no item says whole reaches word by word: those every word
        reaches ("light low fat"); else those titled with its percentage ("the full fat 3%
        one"); else, after a word of taste, colour or feel, those the thing reaches ("the
        sweet vanilla stuff", "the sour green one"); else the country it names."""
        reached = [r for r in (self.reach(w) for w in words if len(w) > 2) if r]
        if len(reached) > 1 and set.intersection(*reached):
            return set.intersection(*reached)
        percents = re.findall(r"\d+(?:[.,]\d+)?(?=\s*%)", phrase)
        if percents:
            said = [re.compile(rf"(?<![\d.,]){re.escape(p)}\s*%") for p in percents]
            return {i for i, title in self.titles.items() if any(rx.search(str(title)) for rx in said)}
        if len(words) == 2 and words[0] in _DESCRIPTIVE and self.reach(words[1]):
            # a word of taste, colour or feel before the thing ("rice drink" is no drink)
            return self.reach(words[1])
        if len(reached) == 1 and not [w for w in words if len(w) > 2 and w in self.vocabulary()
                                      and not self.reach(w)] and any(self.country(w) for w in words):
            return reached[0]  # "dutch greenhouses": the country, what else it says no item knows
        return set()

    def country(self, phrase: str) -> list[tuple[str, str]]:
        """The values naming the country of a demonym ("Dutch" -> origin The Netherlands), or
        the countries of a region ("europe" -> origin Italy, Spain, ...)."""
        from .demonyms import DEMONYMS, REGIONS

        said = " ".join(normalise(phrase).split())
        names = DEMONYMS.get(said) or REGIONS.get(said)
        if not names:
            return []
        return [p for name in names for p in self._values.get(terms(name), [])]

    def spelled(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """``words`` as the catalog writes them: a word no item uses is split into two it
        does ("watermelon" -> "water melon") or taken for a typo of the nearest word the
        items use ("vanila" -> "vanilla"); values and known words stay."""
        if words in self._values:
            return words
        known = self.vocabulary()
        out: list[str] = []
        for w in words:
            if w in known or len(w) < 5:
                out.append(w)
                continue
            split = next(((w[:i], w[i:]) for i in range(3, len(w) - 2)
                          if w[:i] in known and stem(w[i:]) in known), None)
            if split:
                out.extend((split[0], stem(split[1])))
                continue
            out.append(self._nearest_word(w) or w)
        return tuple(out)

    def _nearest_word(self, word: str) -> str | None:
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        # one slip: "vanila" is vanilla; "tropical" is not Tropicana
        limit = 1
        with self._lock:
            if "_by_length" not in self._cache:
                by_length: dict[int, list[str]] = {}
                for w in sorted(self.vocabulary()):
                    by_length.setdefault(len(w), []).append(w)
                self._cache["_by_length"] = by_length
            by_length = self._cache["_by_length"]
        counts = self.word_counts()
        best = None
        for n in range(len(word) - limit, len(word) + limit + 1):
            for cand, d, _ in process.extract(word, by_length.get(n, []), scorer=OSA.distance, score_cutoff=limit,
                                              limit=None):
                # the closest, then the word more items use ("vanilla", not Swedish "vanilj")
                key = (d, -counts.get(cand, 0))
                if cand[:1] == word[:1] and (best is None or key < best[1]):
                    best = (cand, key)
        return best[0] if best else None

    def values_named(self, words: tuple[str, ...], fuzzy: bool = True) -> tuple[list[tuple[str, str]], str]:
        """Field values named by ``words`` exactly ("value") or as a part ("part"), else
        (``fuzzy``) within a small edit distance, and how they were found."""
        exact = list(self._values.get(words, []))
        head, modifier = [], []
        if max(map(len, words), default=0) >= 3:
            # the head of a compound is its last word: "cream" names "Sour-Cream" (a kind of
            # cream), a surname names a person ("Nolan"); a first word only qualifies
            # ("red" in "Red-Grapefruit", a brand's first name)
            head = [p for p in self._heads.get(words, ()) if p[0] in self.few or self._names_someone(words, p)]
            modifier = [p for p in self._parts.get(words, ()) if p not in head]
        found = exact + [p for p in head if p not in exact]
        if found:
            return found + [p for p in modifier if p not in found], "value" if exact else "part"
        if modifier:
            return modifier, "modifier"
        if fuzzy and not self.items_saying(words, where="text"):
            found = self._fuzzy(words)
            if found:
                return found, "fuzzy"
        return [], ""

    def _names_someone(self, words: tuple[str, ...], pair: tuple[str, str]) -> bool:
        """Whether a surname alone ("Nolan") names the person of ``pair`` in a field of
        names: a word of four letters or more, said in fewer of the items' own texts than
        the person has items ("zombie" is a plot word before it is Rob Zombie's name)."""
        if max(map(len, words)) < 4:
            return False
        return len(self.items_saying(words, where="text")) < self.value_counts[pair[0]][pair[1]]

    def _associated(self, words: tuple[str, ...], items: set[str]) -> list[tuple[str, str]]:
        """Kinds the phrase stands for in the catalog's own words: a value most of the items
        saying the phrase have, far more often than the catalog at large ("cartoon" in a
        plot -> genre animation), and close to the phrase in meaning."""
        if len(items) < ASSOCIATION_SUPPORT or self.encoder is None:
            return []  # without meaning, "vanilla" would name the category most vanilla items have
        found = []
        for f in self.few:
            counts = Counter(v for i in items for v in _values_of(self.meta[i].get(f)))
            for v, n in counts.items():
                share, base = n / len(items), self.value_counts[f][v] / len(self.ids)
                named = {stem(w) for w in terms(v)}
                if named < {stem(w) for w in words}:
                    continue  # "orange juice" is one kind of juice, not every juice
                if share >= ASSOCIATION_SHARE and share >= ASSOCIATION_LIFT * base:
                    found.append((f, v))
        if found:
            sims = dict(((f, v), x) for x, f, v in self.similarities(" ".join(words)))
            found = [p for p in found if sims.get(p, 0.0) >= ASSOCIATION_SIMILARITY]
        return found

    def _fuzzy(self, words: tuple[str, ...]) -> list[tuple[str, str]]:
        from rapidfuzz.distance import OSA

        joined = " ".join(words)
        if len(joined) < 4:
            return []
        # one slip in a word, two in a long name; the first letter is rarely mistyped
        limit = 1 if len(joined) < 10 else 2
        from rapidfuzz import process

        out = []
        for n in range(len(joined) - limit, len(joined) + limit + 1):
            spellings, keys = self._spellings.get(n, ((), ()))
            for target, _, k in process.extract(joined, spellings, scorer=OSA.distance, score_cutoff=limit,
                                                limit=None):
                if target[:1] == joined[:1]:
                    out.extend(self._values[keys[k]])
        return out

    def _similar(self, text: str) -> list[tuple[str, str]]:
        """Kinds (values of few-valued fields held by at most MAX_SHARE of the catalog)
        whose meaning is close to ``text``; groups ("Fruit") are close to everything in
        them, and "citrus" rules out lemons, not every fruit."""
        most = MAX_SHARE * len(self.ids)
        words = set(terms(text))
        # not the phrase's own head kind: "orange juice" is a kind of juice, not all juice
        scored = [(x, f, v) for x, f, v in self.similarities(text)
                  if self.value_counts[f][v] <= most and not set(terms(v)) <= words]
        if not scored or scored[0][0] < self.similarity:
            return []
        # the kinds as close as the closest, nearly: "citrus" -> Lemon, Orange, Grapefruit
        floor = max(SIMILARITY_FLOOR, scored[0][0] - SIMILARITY_SPREAD)
        return [(f, v) for x, f, v in scored if x >= floor]

    def similarities(self, text: str) -> list[tuple[float, str, str]]:
        """``(cosine, field, value)`` for every value of a few-valued field, closest
        first; empty without an encoder. The values are encoded once."""
        if self.encoder is None:
            return []
        import numpy as np

        pairs, vectors = self._kind_vectors()
        if not pairs:
            return []
        q = np.asarray(self.encoder.encode([text]), dtype=np.float32)[0]
        sims = vectors @ (q / max(float(np.linalg.norm(q)), 1e-9))
        return [(float(sims[i]), *pairs[i]) for i in np.argsort(-sims)]

    def _kind_vectors(self) -> tuple[list[tuple[str, str]], Any]:
        """The values of the few-valued fields and their unit vectors, encoded once."""
        import numpy as np

        with self._lock:
            if self._value_vectors is None:
                pairs = [(f, v) for f in sorted(self.few) for v in self.value_counts[f]]
                vectors = np.asarray(self.encoder.encode([v.replace("-", " ") for _, v in pairs]) if pairs
                                     else np.zeros((0, 1)), dtype=np.float32)
                norms = np.linalg.norm(vectors, axis=1, keepdims=True) if len(pairs) else 1.0
                self._value_vectors = (pairs, vectors / np.maximum(norms, 1e-9))
            return self._value_vectors

    def _unit_word_vectors(self, words: list[str]) -> Any:
        """Unit vectors of single words, each encoded once per catalog (a conversation
        repeats its words turn after turn); the ones not seen yet in one call."""
        import numpy as np

        missing = [w for w in words if w not in self._word_vectors]
        if missing:
            q = np.asarray(self.encoder.encode(missing), dtype=np.float32)
            q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-9)
            with self._lock:
                if len(self._word_vectors) > WORD_VECTORS_KEPT:
                    self._word_vectors.clear()
                self._word_vectors.update(zip(missing, q, strict=True))
        return np.stack([self._word_vectors[w] for w in words])

    def items_saying(self, words: tuple[str, ...], where: str = "text") -> set[str]:
        """Items whose title (``where="title"``), own text (title, description, caption,
        transcript: ``"text"``), whole document with its attributes (``"document"``) or
        own text as a thing it is made of (``"made of"``) asserts ``words``: at least one
        occurrence not negated ("without X", "X-free")."""
        rx = self._made_of_pattern(words) if where == "made of" else phrase_pattern(words)
        return self._occurrences(("saying", where, " ".join(words)), rx, where, negated=False)

    def items_lacking(self, words: tuple[str, ...]) -> set[str]:
        """Items whose own text says they lack ``words`` ("without pulp", "lactose-free")."""
        return self._occurrences(("lacking", " ".join(words)), phrase_pattern(words), "text", negated=True)

    def _occurrences(self, key: tuple, rx: re.Pattern, where: str, negated: bool) -> set[str]:
        """Items with an occurrence of ``rx`` that is (``negated``) or is not lacking-marked;
        one scan of all the texts joined (a per-item loop costs ~10x more at 7,000 items)."""
        if key in self._cache:
            return set(self._cache[key])
        text, starts, ids = self._joined("text" if where == "made of" else where)
        out: set[str] = set()
        for m in rx.finditer(text):
            k = bisect_right(starts, m.start()) - 1
            if ids[k] in out:
                continue
            lo = max(starts[k], m.start() - 30)
            lacking = bool(_LACKING_BEFORE.search(text[lo: m.start()]) or _LACKING_AFTER.match(text[m.end(): m.end() + 6]))
            if lacking == negated:
                out.add(ids[k])
        self._cache[key] = out
        return set(out)

    def _joined(self, where: str) -> tuple[str, list[int], list[str]]:
        """The texts of ``where`` joined by blank lines, each one's start, and its item."""
        with self._lock:
            cached = self._cache.get(("joined", where))
            if cached is None:
                source = {"title": self.titles, "text": self.texts, "document": self.documents}[where]
                starts, ids, parts, pos = [], [], [], 0
                for i, t in source.items():
                    starts.append(pos)
                    ids.append(i)
                    parts.append(t)
                    pos += len(t) + 2
                cached = self._cache[("joined", where)] = ("\n\n".join(parts), starts, ids)
            return cached

    def _made_of_pattern(self, words: tuple[str, ...]) -> re.Pattern | None:
        """The phrase as a plural, or followed by a kind word of the catalog."""
        *head, last = [re.escape(w) for w in words]
        plural = (last[:-1] + "ies") if last.endswith("y") else last + "(?:s|es)"
        kinds = sorted({w for f in self.few for v in self.value_counts[f] for w in terms(v) if len(w) >= 3}
                       - set(words), key=len, reverse=True)
        sep = r"[\s\-/&,]+"
        prefix = sep.join(head) + sep if head else ""
        options = [prefix + plural]
        if kinds:
            options.append(prefix + last + r"[\s-]+(?:" + "|".join(_word_pattern(k) for k in kinds) + ")")
        return re.compile(r"\b(?:" + "|".join(options) + r")\b")

    def expand(self, text: str) -> str:
        """``text`` with the kind each of its words means appended, when a word is not a
        kind itself but close to one ("veggies" -> "Vegetables", "animated" -> "animation"),
        so the search and the topic tracker read the catalog's own word."""
        added = self.near_kinds(text)
        return text if not added else f"{text} ({' '.join(added)})"

    def near_kinds(self, text: str) -> list[str]:
        """The kinds the words of ``text`` that are no kind themselves are close to in
        meaning ("veggies" -> "Vegetables"; needs the text encoder) or stand for
        (:data:`SHORT_FOR`: "veg", "doc"); a word of :data:`HINT_OF` ("kids") only when
        the text names no kind otherwise."""
        from .reading import content_words

        words = [w for w in dict.fromkeys(content_words(text)) if len(w) >= 3 and not self.kinds_in(w)]
        said = " ".join(text.lower().replace("-", " ").split())
        short = [w for w in words if w in SHORT_FOR or w in DESCRIBES] + [
            k for k in SHORT_FOR if " " in k and re.search(rf"\b{k}\b", said)]
        hints = [w for w in words if w in HINT_OF]
        words = [w for w in words if w not in hints and not any(w in k.split() for k in short)]
        added: list[str] = []

        def add(full: str) -> None:
            for kind in sorted(v for _, v in self.kinds_in(full)) + self.near_kinds(full):
                if kind not in added:
                    added.append(kind)

        for w in short:
            add(SHORT_FOR.get(w) or DESCRIBES[w])
        pairs, vectors = self._kind_vectors() if self.encoder is not None and words else ([], None)
        if pairs:
            import numpy as np

            sims = self._unit_word_vectors(words) @ vectors.T
            for row in sims:
                k = int(np.argmax(row))
                if row[k] >= EXPANSION_SIMILARITY and pairs[k][1] not in added:
                    added.append(pairs[k][1])
        if hints and not added and not self.kinds_in(text):
            for w in hints:
                add(HINT_OF[w])
        return added

    def people_in(self, text: str) -> list[tuple[str, str]]:
        """Values of fields of names (casts, directors: many values) that ``text`` names
        in full, in the order they appear."""
        words = terms(text)
        found = []
        for i in range(len(words)):
            for size in (4, 3, 2):
                pairs = [p for p in self._values.get(words[i:i + size], []) if p[0] not in self.few]
                if pairs:
                    found.append(pairs[0])
                    break
        return found

    def people_by_first_name(self, word: str) -> list[tuple[str, int]]:
        """The names (values of the fields of names) whose first word is ``word``, with
        their item counts, most items first."""
        with self._lock:
            if "_first_names" not in self._cache:
                index: dict[str, Counter] = {}
                for f, counts in self.value_counts.items():
                    if f in self.few:
                        continue
                    for v, n in counts.items():
                        words = terms(v)
                        if len(words) >= 2:
                            index.setdefault(words[0], Counter())[v] += n
                self._cache["_first_names"] = index
        return self._cache["_first_names"].get(stem(normalise(word)), Counter()).most_common()

    def kinds_in(self, text: str) -> set[tuple[str, str]]:
        """The kinds (values of few-valued fields) ``text`` names by their words or their
        head ("vegetables", "a comedy", "some cream"), longest phrases first."""
        words = terms(text)
        found: set[tuple[str, str]] = set()
        used: set[int] = set()
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                if used & set(range(i, i + size)):
                    continue
                values, how = self.values_named(words[i:i + size], fuzzy=False)
                kinds = {v for v in values if v[0] in self.few}
                if how in ("value", "part") and kinds:
                    found |= kinds
                    used |= set(range(i, i + size))
        return found

    def word_counts(self) -> Counter:
        """How many items use each word (lower case, accents stripped, unstemmed) in their
        own texts."""
        from retrieval.text import words as text_words

        with self._lock:
            if "_word_counts" not in self._cache:
                self._cache["_word_counts"] = Counter(w for text in self.texts.values() for w in set(text_words(text, join_apostrophes=True)))
            return self._cache["_word_counts"]

    def vocabulary(self) -> set[str]:
        """Every stemmed word the catalog's documents use."""
        with self._lock:
            if "_vocabulary" not in self._cache:
                self._cache["_vocabulary"] = {w for text in self.documents.values() for w in terms(text)}
            return self._cache["_vocabulary"]

    def correct(self, text: str) -> str:
        """``text`` with its words that no item uses and that are one slip away from a
        kind (a value of a few-valued field) replaced by it: "thriler" -> "thriller"."""
        known = self.vocabulary()
        out = []
        for word in text.split():
            w = terms(word)
            if len(w) == 1 and len(w[0]) >= 4 and w[0] not in known:
                # a slip keeps the word's last letter: "thriler" is thriller, "miles" no milk
                fixed = [v for f, v in self._fuzzy(w) if f in self.few and normalise(v)[-1:] == w[0][-1:]]
                if fixed:
                    word = fixed[0]
                elif len(w[0]) >= 5:
                    # a one-slip typo of a word the items use ("strawbery")
                    word = self._nearest_word(w[0]) or word
            out.append(word)
        return " ".join(out)

    def items_with(self, values: list[tuple[str, str]]) -> set[str]:
        """Items having any of the ``(field, value)`` pairs."""
        want: dict[str, set[str]] = {}
        for f, v in values:
            want.setdefault(f, set()).add(v)
        out = set()
        for i, meta in self.meta.items():
            for f, vs in want.items():
                value = meta.get(f)
                got = value if isinstance(value, list) else [value]
                if any(g in vs for g in got):
                    out.add(i)
                    break
        return out

    def reach(self, phrase: str, strict: bool = False) -> set[str]:
        """Every item ``phrase`` reaches: those having a value it names, and those whose
        words assert it (see :meth:`resolve`). ``strict``: of a kind, only the items of
        that kind and those titled so, not those made of it ("fruit yoghurt" is no fruit)."""
        r = self.resolve(phrase)
        if strict and r.how in ("value", "part"):
            return self.items_with(r.values) | self.items_saying(terms(phrase), where="title")
        return self.items_with(r.values) | r.items


def _values_of(value: Any) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _own_words(title: str, document: str, fields: set[str]) -> str:
    """The item's own words: its title and the document's lines that are not the
    attribute line ("category: Apple; group: Fruit.")."""
    lines = [title]
    names = tuple(f"{f.lower()}: " for f in fields)
    for line in document.splitlines()[1:]:
        if names and line.lower().startswith(names):
            continue
        lines.append(line)
    return "\n".join(lines)

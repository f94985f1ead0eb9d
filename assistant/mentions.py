"""Find catalog titles in free text, tolerant of case, punctuation and small typos.

Titles and text are reduced to lowercase word tokens (``retrieval.text.words`` with
``join_apostrophes``: punctuation and accents dropped; and a trailing "(1995)" year).
Exact matches are normalised n-grams (longest first, leading
"the/a/an" optional); a part of a title that belongs to that title alone also counts
("Granny Smith" for "Apple Granny Smith Class 1"); longer titles also match with a small
edit distance on the text without spaces (1 for 8-15 characters, 2 from 16; rapidfuzz's
Levenshtein distance), wherever the typos are, so "godfater" finds "The Godfather",
"spiderman" finds "Spider-Man" and "owling for columbin" "Bowling for Columbine". One-word titles must be at least 3 letters and not a
common word, so "it" or "up" in a sentence is not taken for a movie.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from retrieval.text import word_spans
from retrieval.text import words as text_words

_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
ARTICLES = ("the", "a", "an")
# words that are real titles somewhere but far more often just words
COMMON = frozenset("""
a an the and or but not no yes it its i me my you your he she we they them this that these those
is are was were be been am do does did have has had can could will would should may might must
of in on at to for from by with about as into like love liked loved want need some any more most
very really just so too also one two all new old good great best bad big small up out over here there
what which who how when where why well much many movie movies film films show item items thing things
something anything please thanks thank hello hi ok okay sure maybe think know see seen watch watched
""".split())
# words after which the next words name something the user knows ("seen frozen and moana",
# "just finished gone girl", "stuff like superbad"): there a lower-case one-word title, or a
# title of words the catalog uses often, is taken for the title it is
KNOWN_CUES = frozenset("""seen saw watched rewatched finished loved liked like enjoyed adored
done owns obsessed""".split())
# what may stand between a cue and the title, or between two titles of one list
_CUE_GAP = re.compile(r"(?i)^[\s,]*(?:(?:and|or|&|the|all|both|already|also|of|with)\b[\s,]*)*$")
MAX_TOKENS = 12
# texts whose mentions are remembered (per matcher); cleared when full
MEMO_SIZE = 4096


def normalise_title(title: str) -> tuple[list[str], int | None]:
    """Tokens of ``title`` without a trailing ``(year)``, and that year."""
    year = None
    m = _YEAR.search(title)
    if m:
        year = int(m.group(1))
        title = title[: m.start()]
    return text_words(title, join_apostrophes=True), year


def typo_budget(n_chars: int) -> int:
    """How many typos a title or a stretch of text of ``n_chars`` letters (spaces left
    out) may hold and still match."""
    return 0 if n_chars < 8 else 1 if n_chars < 16 else 2


@dataclass
class Mention:
    """Catalog ids matched at ``text[start:end]`` (several when titles coincide)."""

    ids: list[str]
    start: int
    end: int
    exact: bool = True


def _shared_words(documents: dict[str, str]) -> dict[str, set[str]]:
    """word -> ids of the documents using it (lower-cased word tokens)."""
    users: dict[str, set[str]] = defaultdict(set)
    for item_id, text in documents.items():
        for w in set(text_words(text, ascii_only=True)):
            users[w].add(item_id)
    return users


def _year_after(words: list[str]) -> str:
    """The year just after a title ("heat 1995"), or said of it ("the one from 1997", "the
    1997 one"); else the next word."""
    if words and words[0].isdigit():
        return words[0]
    m = re.match(r"(?:the (?:one|version|film|movie) )?(?:from |of |in )?(?:the )?(1[89]\d\d|20\d\d)\b", " ".join(words))
    return m.group(1) if m else (words[0] if words else "")


class TitleMatcher:
    """Matches catalog titles (``{id: title}``) in free text."""

    def __init__(self, titles: dict[str, str], partial_words: bool | None = None,
                 documents: dict[str, str] | None = None, common: frozenset[str] = frozenset(),
                 words: frozenset[str] = frozenset(), frequent: frozenset[str] = frozenset()):
        """``partial_words``: also match a single distinctive word of a title ("mango" for
        "Mango Class 1"); by default only for catalogs of up to 2,000 items, where such
        a word rarely collides with ordinary language. ``documents`` (``{id: text}``), when
        given, makes "distinctive" strict: a single word counts only if no other item's
        document uses it ("sweet" in "Sweet Potato" is said of many fruits, so "a sweet
        fruit" must not mention the potato). ``common``: more words that are not a title
        on their own, such as the catalog's genres ("a comedy" is no mention of "The
        Comedy (2012)"), words its items use often ("no aliens" is no mention of "Aliens"),
        people's surnames ("Hitchcock"); a single word of ``common`` is not taken for a
        typo of a title either. ``words``: the words the catalog's texts use; such a word
        is spelled right, never a typo of a one-word title ("watching" is not "The
        Hatching", "adventure" not "The Adventurer"). ``frequent``: words the items' own
        texts use often; as a one-word title one names the item only written as a name
        inside a sentence ("I loved Jaws", "Titanic (1997)"), not "no aliens" nor
        "Aliens are scary" nor "Titanic Brad"."""
        from .reading import FILLER

        self._frequent = frozenset(frequent) - COMMON - FILLER - frozenset(common)
        self._everyday = COMMON | FILLER
        self._common = self._everyday | frozenset(common) | self._frequent
        self._words = frozenset(words)
        # in a large catalog a one-word title in lower case is a word ("an action flick"),
        # a capitalised one may be a title ("I loved Flick")
        self._capital_single = len(titles) > 2000
        if partial_words is None:
            partial_words = len(titles) <= 2000
        self._shared_words = _shared_words(documents) if documents and partial_words else None
        self.exact: dict[tuple[str, ...], list[str]] = defaultdict(list)
        # titles of words the catalog uses often ("Gone Girl"): mentions only after a cue
        self.cued: dict[tuple[str, ...], list[str]] = defaultdict(list)
        # parts of a title that name one item only: "granny smith" for "Apple Granny Smith Class 1"
        self.partial: dict[tuple[str, ...], list[str]] = {}
        self.years: dict[str, int | None] = {}
        # one-word titles written in capitals ("JFK", "MASH"): "OBSESSED with moana" is
        # emphasis, not a mention of Obsessed
        self._capital_titles = frozenset(str(t).split()[0].lower() for t in titles.values()
                                         if (len(str(t).split()) == 1 or re.fullmatch(r"\S+\s+\(\d{4}\)", str(t)))
                                         and str(t).split()[0].isupper())
        # titles long enough to match with a typo, spaces left out: (joined, id) in order
        fuzzy: list[tuple[str, str]] = []
        for item_id, title in titles.items():
            toks, year = normalise_title(str(title))
            self.years[item_id] = year
            if not toks:
                continue
            forms = [tuple(toks)]
            if len(toks) > 1 and toks[0] in ARTICLES:
                forms.append(tuple(toks[1:]))
            for form in forms:
                if self._matchable(form) and item_id not in self.exact[form]:
                    self.exact[form].append(item_id)
                elif len(form) > 1 and not all(w in COMMON or w in FILLER for w in form) \
                        and item_id not in self.cued[form]:
                    self.cued[form].append(item_id)
                joined = "".join(form)
                if typo_budget(len(joined)) and len(form) <= MAX_TOKENS:
                    fuzzy.append((joined, item_id))
        self._build_partial(titles, partial_words)
        # ordered by length, so a stretch of text meets only the titles within its typo
        # budget in length; each keeps its order number, which decides ties
        ranked = sorted((len(joined), k, joined, item_id) for k, (joined, item_id) in enumerate(fuzzy))
        self._fuzzy_lengths = [r[0] for r in ranked]
        self._fuzzy_order = [r[1] for r in ranked]
        self._fuzzy_titles = [r[2] for r in ranked]
        self._fuzzy_ids = [r[3] for r in ranked]
        # text -> its mentions: every turn matches the recent user messages again (state
        # update, fallback query), and the fuzzy search is the costly part of a turn
        self._memo: dict[str, tuple[Mention, ...]] = {}

    def _build_partial(self, titles: dict[str, str], single_words: bool) -> None:
        owners: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for item_id, title in titles.items():
            # "ferris bueller" is part of "Ferris Bueller's Day Off" too
            bare = re.sub(r"(?<=\w)['’]s\b", "", str(title))
            for toks in {tuple(normalise_title(t)[0]) for t in (str(title), bare)}:
                for n in range(1, min(len(toks), 7)):
                    for i in range(len(toks) - n + 1):
                        owners[tuple(toks[i: i + n])].add(item_id)
        for part, ids in owners.items():
            if len(ids) != 1 or part in self.exact:
                continue
            if len(part) == 1:
                w = part[0]
                if not single_words or len(w) < 5 or w in COMMON or any(c.isdigit() for c in w):
                    continue
                if self._shared_words is not None and self._shared_words.get(w, set()) - ids:
                    continue
            elif sum(w not in self._common and not w.isdigit() for w in part) < 2 or not self._matchable(part):
                # a part names its title by two words of its own ("granny smith"), not by
                # "in the mood" or "i get"
                continue
            self.partial[part] = sorted(ids)

    @staticmethod
    def _shouted(text: str, spans, i: int) -> bool:
        """Word ``i`` written in capitals for emphasis: three letters or more, in a text
        mostly in lower case."""
        word = text[spans[i][1]:spans[i][2]]
        if len(word) < 3 or not word.isupper():
            return False
        letters = [c for c in text if c.isalpha()]
        return sum(c.islower() for c in letters) > len(letters) / 2

    @staticmethod
    def _written_as_name(text: str, spans, i: int) -> bool:
        """A word written as a one-word title: followed by its year, or capitalised inside
        a sentence and not followed by another capitalised word (a person's name)."""
        if i + 1 < len(spans) and spans[i + 1][0].isdigit():
            return True
        start = spans[i][1]
        if not text[start].isupper():
            return False
        sentence_start = i == 0 or re.search(r"[.!?:;\n]", text[spans[i - 1][2]:start]) is not None
        next_capital = i + 1 < len(spans) and text[spans[i + 1][1]].isupper() \
            and not re.search(r"[.!?,:;]", text[spans[i][2]:spans[i + 1][1]])
        return not sentence_start and not next_capital

    def _matchable(self, form: tuple[str, ...]) -> bool:
        if len(form) > 1:
            return not all(w in self._common for w in form)
        return len(form[0]) >= 3 and (form[0] not in self._common or form[0] in self._frequent) \
            and not form[0].isdigit()

    def find_mentions(self, text: str) -> list[Mention]:
        """Non-overlapping mentions in reading order; exact matches win over typos."""
        found = self._memo.get(text)
        if found is None:
            found = tuple(self._find_mentions(text))
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[text] = found
        # fresh objects: a caller may change what it was given
        return [Mention(list(m.ids), m.start, m.end, m.exact) for m in found]

    def _find_mentions(self, text: str) -> list[Mention]:
        spans = word_spans(text, join_apostrophes=True)
        words = [w for w, _, _ in spans]
        out: list[Mention] = []
        i = 0
        cued_end = -1  # where the last mention after a cue ended (a list goes on after it)
        any_cue = not KNOWN_CUES.isdisjoint(words)
        while i < len(words):
            cued = any_cue and self._cued(text, spans, i, cued_end)
            hit = self._exact_at(words, i) or self._partial_at(words, i) or self._fuzzy_at(words, i)
            if hit is not None and not hit[2] and self._exact_within(words, i, hit[0]):
                hit = None  # "seen wolf of wall street": not Teen Wolf, one letter off
            if cued:
                longer = self._cued_at(words, i)  # "finished gone girl": Gone Girl, not Gone
                if longer is not None and (hit is None or longer[0] > hit[0]):
                    hit = longer
            if (hit is not None and hit[0] == 1 and hit[2] and self._capital_single and not cued
                    and not text[spans[i][1]].isupper() and not (i + 1 < len(words) and words[i + 1].isdigit())):
                hit = None  # "an action flick" is no mention of "Flick"; "titanic (1997)" is one
            if hit is not None and hit[0] == 1 and self._shouted(text, spans, i) \
                    and words[i] not in self._capital_titles and not (i + 1 < len(words) and words[i + 1].isdigit()):
                hit = None
            if hit is not None and hit[0] == 1 and words[i] in self._frequent and not cued \
                    and not self._written_as_name(text, spans, i):
                hit = None
            if hit is None:
                i += 1
                continue
            if cued:
                cued_end = spans[i + hit[0] - 1][2]
            n, ids, exact = hit
            ids = self._by_year(ids, _year_after(words[i + n: i + n + 4]))
            out.append(Mention(ids, spans[i][1], spans[i + n - 1][2], exact))
            i += n
        return out

    @staticmethod
    def _cued(text: str, spans, i: int, cued_end: int) -> bool:
        """Whether word ``i`` follows a :data:`KNOWN_CUES` word, or a mention after one
        with only list words between ("seen frozen and moana")."""
        start = spans[i][1]
        if cued_end >= 0 and _CUE_GAP.match(text[cued_end:start]):
            return True
        for k in range(i - 1, max(i - 4, -1), -1):
            if spans[k][0] in KNOWN_CUES:
                return bool(_CUE_GAP.match(text[spans[k][2]:start]))
        return False

    def find(self, text: str) -> list[str]:
        """Catalog ids mentioned in ``text``, in order of first mention, without repeats."""
        seen: list[str] = []
        for m in self.find_mentions(text):
            seen.extend(i for i in m.ids if i not in seen)
        return seen

    @staticmethod
    def _longest_at(table, words, i, longest: int, shortest: int = 1, exact: bool = True):
        """``(words, ids, exact)`` of the longest run of words from ``i`` that ``table`` holds."""
        for n in range(min(longest, len(words) - i), shortest - 1, -1):
            ids = table.get(tuple(words[i: i + n]))
            if ids:
                return n, list(ids), exact
        return None

    def _exact_within(self, words, i: int, n: int) -> bool:
        """Whether a title (exact, or of everyday words) starts inside words ``i+1 .. i+n-1``
        and reaches past them."""
        for j in range(i + 1, i + n):
            exact = self._exact_at(words, j) or self._cued_at(words, j)
            if exact is not None and j + exact[0] > i + n:
                return True
        return False

    def _exact_at(self, words, i):
        return self._longest_at(self.exact, words, i, MAX_TOKENS)

    def _partial_at(self, words, i):
        return self._longest_at(self.partial, words, i, 6, exact=False)

    def _cued_at(self, words, i):
        return self._longest_at(self.cued, words, i, MAX_TOKENS, shortest=2)

    def _fuzzy_at(self, words, i):
        """The longest stretch of text from word ``i`` within its typo budget of some
        titles, and those titles at the smallest distance."""
        best = None
        for n in range(min(MAX_TOKENS, len(words) - i), 0, -1):
            window = "".join(words[i: i + n])
            limit = typo_budget(len(window))
            if not limit or n == 1 and (words[i] in self._common or words[i] in self._words):
                continue
            if all(w in self._everyday for w in words[i: i + n]):
                continue  # "the others?" asks for other items; it is no typo of The Others
            last = words[i + n - 1]
            # "scary movies" asks for a kind of film, not for Scary Movie (nor Scary Movie 3,
            # one letter away); "red onions" still names Red Onion
            kind = last.endswith("s") and last[:-1] in self._common
            for d, item_id in self._near(window, limit, kind):
                if best is None or (d, -n) < best[0]:
                    best = ((d, -n), n, [item_id])
                elif d == best[0][0] and n == best[1] and item_id not in best[2]:
                    best[2].append(item_id)
        return (best[1], best[2], False) if best else None

    def _near(self, window: str, limit: int, kind: bool = False) -> list[tuple[int, str]]:
        """``(distance, id)`` of the titles within ``limit`` edits of ``window`` and within
        their own typo budget, wherever the typos are. Ties keep a fixed order: titles that
        start like the window first, then those that end like it, then the rest, each in
        catalog order. ``kind``: the window ends in the plural of a common word, which is
        no typo of a title without it."""
        lo = bisect_left(self._fuzzy_lengths, len(window) - limit)
        hi = bisect_right(self._fuzzy_lengths, len(window) + limit)
        if lo == hi:
            return []
        # one call in C over every title of a near length
        distances = process.cdist([window], self._fuzzy_titles[lo:hi], scorer=Levenshtein.distance,
                                  score_cutoff=limit, dtype=np.int32, workers=1)[0]
        found = []
        for k in np.flatnonzero(distances <= limit).tolist():
            title, d = self._fuzzy_titles[lo + k], int(distances[k])
            if kind and not title.endswith("s") and window[:-1] in (title, title[:-1]):
                continue
            if d <= typo_budget(len(title)):
                ends = 0 if title[:3] == window[:3] else 1 if title[-3:] == window[-3:] else 2
                found.append((ends, self._fuzzy_order[lo + k], d, self._fuzzy_ids[lo + k]))
        return [(d, item_id) for _, _, d, item_id in sorted(found)]

    def _by_year(self, ids: list[str], next_word: str) -> list[str]:
        # "Heat 1995", "Titanic, the one from 1997": the film of that year when titles coincide
        if len(ids) > 1 and next_word.isdigit():
            same = [i for i in ids if self.years.get(i) == int(next_word)]
            return same or ids
        return ids

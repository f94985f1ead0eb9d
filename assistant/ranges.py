"""Numeric conditions in words: decades ("the 90s", "late seventies"), years ("before
1980", "between '95 and 2005", "from 2015 on"), recent items, amounts ("under 20 euros",
"3 or less") and comparisons with an item shown ("cheaper than that one", "newer")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .references import read_references


@dataclass
class Range:
    """A numeric condition. ``field`` is "year", "number" (the catalog's price-like field),
    "recent" (the catalog's latest years) or "relative" (compared with a referenced item:
    ``ref`` is its position or None for the items just shown, ``field_hint`` "price" or
    "year")."""

    field: str
    op: str  # "<", "<=", ">", ">=", "="
    value: float | None
    label: str
    start: int
    end: int
    ref: int | None = None
    field_hint: str = ""
    # "not from the 80s": the items outside the range
    negated: bool = False
    # "newer than that one": compared with the item talked about (named, liked), not a
    # position in the list shown
    talked_about: bool = False


_DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
                 "seventies": 70, "eighties": 80, "nineties": 90}


_YEAR = r"(?:1[89]\d\d|20\d\d|['’‘]\d\d(?![\d'’]?s\b)(?!\d))"
# "older than like 2000", "after about 2010": the hedge before a year
_ROUGHLY = r"(?:(?:like|about|around|roughly|say|approx(?:imately)?|circa|ca\.?)[\s,]+)?"
_DECADE = r"(?:(?P<d1>(?:19|20)\d)0['’]?s|['’]?(?P<d2>\d)0['’]?s|(?P<word>twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties))"
# "the 70s or 80s", "the 60s to the 80s": a second decade ends the range
_DECADE_SPAN = re.compile(rf"(?i)\s*(?:or|and|to|through|till|until|-|–)\s*(?:the\s+)?{_DECADE}\b")
# "the 80s or earlier", "the 90s and later", "2000s onwards": one side of the decade open
_OR_BEYOND = re.compile(r"(?i)\s+(?:(?:or|and)\s+(?:even\s+)?(earlier|older|before|later|newer|after|up|since|beyond)"
                        r"|(onwards?|forwards?))\b")
# "newer than the 90s", "before the 80s": the years past one side of the decade
_PAST_DECADE = re.compile(r"(?i)\b(?:(?P<after>(?:newer|later|more\s+recent)\s+than|after|post)"
                          r"|(?P<before>(?:older|earlier)\s+than|before|pre))[\s-]*(?:the\s+)?(?:(?:early|mid|late)[\s-]*)?['’]?$")


def _decade_start(first_digits: str | None, digit: str | None, word: str | None) -> int:
    """First year of a decade written "199" (of "1990s"), "9" (of "90s") or "nineties";
    "the 00s" / "10s" / "20s" are this century's."""
    if word:
        return 1900 + _DECADE_WORDS[word.lower()]
    if first_digits:
        return int(first_digits) * 10
    d = int(digit)
    return 2000 + d * 10 if d <= 2 else 1900 + d * 10


def _to_year(text: str) -> int:
    """ "1995" -> 1995, "'95" -> 1995, "'05" -> 2005."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 2:
        n = int(digits)
        return 2000 + n if n <= 30 else 1900 + n
    return int(digits)
_NUM = r"(?:[$€£]\s*)?\d+(?:[.,]\d+)?(?:\s*(?:[$€£]|euros?|dollars?|bucks|kr|sek|usd|eur|gbp|pounds?))?"
_RANGE_PATTERNS = [
    # decades: "the 90s", "1990s", "'80s", "the nineties"
    ("decade", re.compile(rf"(?i)\b(?:from|in|of|during)?\s*(?:the\s+)?(?P<part>early|mid|late)?[\s-]*{_DECADE}\b")),
    ("recent", re.compile(r"(?i)\b(?:(?:something|anything|one|ones|movies?|films?|stuff)\s+)?(?:recent(?:ly)?|latest|newest|brand[\s-]new"
                          r"|from\s+the\s+(?:last|past)\s+(?:few|couple\s+of|\d+)\s+years|in\s+(?:the\s+)?(?:last|past|recent)\s+(?:few\s+)?years)\b")),
    ("between", re.compile(rf"(?i)\b(?:between|from)\s+(?P<a>{_YEAR})\s+(?:and|to|till|until|-)\s+(?P<b>{_YEAR})\b|\b(?P<a2>{_YEAR})\s*[-–]\s*(?P<b2>{_YEAR})\b")),
    ("after", re.compile(rf"(?i)\b(?:(?P<strict>after|newer\s+than|later\s+than|post)|(?P<incl>since|starting(?:\s+from|\s+in)?|not\s+before|no\s+earlier\s+than|from(?=\s+\S+\s+(?:on\b|onwards?\b|or\s+later|and\s+later|and\s+up|to\s+(?:now|today)))))[\s-]+{_ROUGHLY}(?P<y>{_YEAR})(?!\s*(?:and|to|-)\s*{_YEAR})(?P<onwards>\s+(?:on(?:wards?)?|or\s+(?:later|newer|after)|and\s+(?:later|newer|up)|to\s+(?:now|today)))?\b")),
    ("after2", re.compile(rf"(?i)\b(?P<y>{_YEAR})\s+(?:or|and)\s+(?:later|newer|after|up)\b|\b(?P<y2>{_YEAR})\s+onwards?\b")),
    ("before", re.compile(rf"(?i)\b(?:(?P<strict>before|older\s+than|earlier\s+than|pre)|(?P<incl>until|till|up\s+to|not\s+after|no\s+later\s+than))[\s-]+{_ROUGHLY}(?P<y>{_YEAR})\b")),
    ("before2", re.compile(rf"(?i)\b(?P<y>{_YEAR})\s+(?:or|and)\s+(?:earlier|older|before)\b")),
    ("year", re.compile(rf"(?i)\b(?:from|in|released\s+in|made\s+in|of)\s+(?P<y>{_YEAR})\b")),
    ("under", re.compile(rf"(?i)\b(?:(?P<strict>under|below|less\s+than|cheaper\s+than|lower\s+than|beneath)|(?P<incl>at\s+most|max(?:imum)?|up\s+to|no\s+more\s+than|not\s+more\s+than|within|tops))\s+(?P<n>{_NUM})")),
    ("over", re.compile(rf"(?i)\b(?:(?P<strict>over|above|more\s+than|higher\s+than|pricier\s+than)|(?P<incl>at\s+least|min(?:imum)?|no\s+less\s+than|not\s+less\s+than))\s+(?P<n>{_NUM})")),
    ("or_less", re.compile(rf"(?i)\b(?P<n>{_NUM})\s+or\s+(?:less|under|cheaper|below)\b")),
    ("or_more", re.compile(rf"(?i)\b(?P<n>{_NUM})\s+or\s+(?:more|over|above)\b")),
    ("relative", re.compile(r"(?i)\b(?P<word>cheaper|less\s+expensive|more\s+affordable|more\s+expensive|pricier|newer|more\s+recent|older|earlier)"
                            r"(?:\s+(?:ones?|options?|movies?|films?|items?|products?))?(?:\s+than\s+(?P<than>[\w\s]{1,30}?))?(?=[.,;:!?]|$|\s+(?:please|but|and|with|from)\b)")),
]


# a range ruled out: "not from the 80s", "excluding anything from before 2000"
_NEGATED = re.compile(r"(?i)\b(?:not|no|nothing|except|excluding|exclude|without|anything\s+but|skip|avoid(?:ing)?|none)\s+"
                      r"(?:anything\s+|any\s+|movies?\s+|films?\s+|stuff\s+|ones?\s+|of\s+the\s+)?"
                      r"(?:from\s+|in\s+|of\s+|made\s+|released\s+)?$")


# a year told as a fact about a film or the user, not asked for: "that movie came out in
# 1979", "I saw it in 2005", "it was released in the 90s" (ReDial users say such things
# mid-conversation; read as a condition, it filtered every later answer)
_PAST_FACT = re.compile(r"(?i)\b(?:it|(?:that|this)\s+(?:movie|film|one|show|book|song|game)|they|he|she|i|we)"
                        r"(?:\s+(?:just|first|only|actually|originally|probably))?"
                        r"\s+(?:came\s+out|was\s+(?:released|made|out|filmed|shot)|were\s+(?:released|made)"
                        r"|(?:saw|watched|seen)\s+(?:it|that|this)(?:\s+one)?)\s*$"
                        # "Do you have Titanic, the one from 1997?": which film, not a condition
                        r"|\bthe\s+(?:one|version|original|remake)\s*$")


def _number(text: str) -> float:
    digits = re.search(r"\d+(?:[.,]\d+)?", text).group(0).replace(",", ".")
    value = float(digits)
    return int(value) if value.is_integer() else value


def read_ranges(text: str, taken: list[tuple[int, int]]) -> list[Range]:
    """The numeric conditions in ``text`` outside the ``taken`` spans (which it extends)."""
    out: list[Range] = []

    def free(s, e):
        return all(e <= a or s >= b for a, b in taken)

    for kind, rx in _RANGE_PATTERNS:
        for m in rx.finditer(text):
            s, e = m.start(), m.end()
            if not free(s, e):
                continue
            g = m.groupdict()
            new: list[Range] = []
            if kind == "decade":
                lo = _decade_start(g["d1"], g["d2"], g["word"])
                hi = lo + 9
                decade = lo
                part = (g.get("part") or "").lower()
                if part == "early":
                    hi = lo + 4
                elif part == "mid":
                    lo, hi = lo + 3, lo + 7
                elif part == "late":
                    lo = lo + 5
                label = f"{part} {decade}s" if part else f"{decade}s"
                span = _DECADE_SPAN.match(text, e)
                if span:  # "70s or 80s classics": one range over both
                    hi = _decade_start(span.group("d1"), span.group("d2"), span.group("word")) + 9
                    label, e = f"{label}–{hi - 9}s", span.end()
                side = _OR_BEYOND.match(text, e)
                past = _PAST_DECADE.search(text[:m.start("d1" if g["d1"] else "d2" if g["d2"] else "word")])
                if past:  # "newer than the 90s": from 2000
                    s = min(s, past.start())
                    new = ([Range("year", ">", hi, f"year > {hi}", s, e)] if past.group("after")
                           else [Range("year", "<", lo, f"year < {lo}", s, e)])
                elif side:  # "the 80s or earlier": up to the decade's end
                    e = side.end()
                    if (side.group(1) or "").lower() in ("earlier", "older", "before"):
                        new = [Range("year", "<=", hi, f"year <= {hi}", s, e)]
                    else:
                        new = [Range("year", ">=", lo, f"year >= {lo}", s, e)]
                else:
                    new = [Range("year", ">=", lo, label, s, e), Range("year", "<=", hi, label, s, e)]
            elif kind == "recent":
                # the catalog's latest years: the tracker reads "recent" against them
                new = [Range("recent", ">=", None, "recent", s, e)]
            elif kind == "between":
                a, b = _to_year(g["a"] or g["a2"]), _to_year(g["b"] or g["b2"])
                a, b = min(a, b), max(a, b)
                new = [Range("year", ">=", a, f"{a}–{b}", s, e), Range("year", "<=", b, f"{a}–{b}", s, e)]
            elif kind in ("after", "after2"):
                y = _to_year(g.get("y") or g.get("y2"))
                op = ">" if g.get("strict") and not g.get("onwards") else ">="
                new = [Range("year", op, y, f"year {op} {y}", s, e)]
            elif kind in ("before", "before2"):
                y = _to_year(g["y"])
                op = "<" if g.get("strict") else "<="
                new = [Range("year", op, y, f"year {op} {y}", s, e)]
            elif kind == "year":
                y = _to_year(g["y"])
                new = [Range("year", "=", y, f"year {y}", s, e)]
            elif kind in ("under", "over", "or_less", "or_more"):
                n = _number(g["n"])
                if re.fullmatch(_YEAR, str(n)) and kind in ("under", "over"):
                    # "under 1990" reads as a year only through before/after; leave it alone
                    continue
                if kind in ("under", "or_less"):
                    op = "<" if g.get("strict") else "<="
                else:
                    op = ">" if g.get("strict") else ">="
                new = [Range("number", op, n, f"{op} {n}", s, e)]
            elif kind == "relative":
                word = g["word"].lower()
                hint = "price" if word in ("cheaper", "less expensive", "more affordable", "more expensive", "pricier") else "year"
                op = "<" if word in ("cheaper", "less expensive", "more affordable", "older", "earlier") else ">"
                ref = None
                than = (g.get("than") or "").strip()
                talked_about = bool(re.fullmatch(r"(?i)(?:that|this)(?:\s+(?:one|movie|film|item))?|it", than))
                if than and not talked_about:
                    refs = read_references(than)
                    ref = refs[0].position if refs else None
                    if ref is None:
                        continue  # "cheaper than 20" is a number, read above
                new = [Range("relative", op, None, word, s, e, ref=ref, field_hint=hint, talked_about=talked_about)]
            before = text[max(0, s - 40):s]
            verb = re.match(r"(?i)(?:released|made)\s+", m.group(0))  # "was [released in 1999]"
            if kind != "relative" and new and new[0].field == "year" and \
                    _PAST_FACT.search(before + (verb.group(0) if verb else "")):
                taken.append((s, e))  # read, and no condition
                continue
            cue = _NEGATED.search(before)
            if cue or re.match(r"(?i)(?:not|no)\s", m.group(0)):
                for rg in new:
                    rg.negated = True
                if cue:
                    s = max(0, s - 40) + cue.start()
                    for rg in new:
                        rg.start = s
            out.extend(new)
            taken.append((s, e))
    return out

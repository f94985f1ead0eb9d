"""References to the items just shown: "the second one", "the last one", "that one",
"number 3", and what the user feels about the item ("I like the second one", "not the
first one", "more like the last one")."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Reference:
    """A reference to an item just shown: ``position`` 0-based (-1 = the last one) and what
    the user feels about it: "liked", "rejected", "seed" (more like it) or "neutral"."""

    position: int
    feeling: str
    start: int
    end: int


_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3,
             "4th": 3, "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6,
             "eighth": 7, "8th": 7, "ninth": 8, "9th": 8, "tenth": 9, "10th": 9, "last": -1,
             "final": -1, "top": 0, "latter": -1, "former": 0}
_POSITIVE_REF = re.compile(r"(?i)\b(?:like|love|liked|loved|want|take|prefer|choose|pick|go\s+with|sounds?\s+(?:good|great|nice|perfect)|"
                           r"looks?\s+(?:good|great|nice|perfect|tasty|interesting)|is\s+(?:good|great|perfect|nice)|perfect|great|nice|yes|yum)\b")
_NEGATIVE_REF = re.compile(r"(?i)\b(?:not|no|don['’]?t|didn['’]?t|hate|hated|dislike|disliked|can['’]?t\s+stand|nope|"
                           r"(?:looks?|sounds?|is)\s+(?:bad|boring|awful|terrible|meh|gross)|bad|boring|awful|yuck)\b")
_SEED_REF = re.compile(r"(?i)\b(?:more\s+like|similar\s+to|something\s+like|anything\s+like|others?\s+like|stuff\s+like|ones?\s+like|in\s+the\s+style\s+of|along\s+the\s+lines\s+of)\s*$")


_REFERENCE = re.compile(r"""(?ix)\b(?:
    (?:the\s+)?(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|1st|2nd|3rd|4th|5th|6th|7th|8th|9th|10th)
        (?:\s+(?:one|item|option|suggestion|movie|film|product|pick|choice|recommendation))?
  | the\s+(?P<ord2>last|final|top|latter|former)(?:\s+(?:one|item|option|suggestion|movie|film|product|pick|choice|recommendation))?
  | (?:number|no\.|\#)\s*(?P<num>\d{1,2})
  | (?P<that>(?:that|this)\s+(?:one|last\s+one|movie|film|item|product))
)\b""")


def read_references(text: str) -> list[Reference]:
    """Every reference in ``text`` with its position and feeling."""
    out = []
    for m in _REFERENCE.finditer(text):
        if m.group("ord"):
            word = m.group("ord").lower()
            # "first" needs "the" or "one": "at first", "first time" are not references
            if not re.match(r"(?i)the\s", m.group(0)) and not re.search(r"\s\w+$", m.group(0)):
                continue
            pos = _ORDINALS[word]
        elif m.group("ord2"):
            pos = _ORDINALS[m.group("ord2").lower()]
        elif m.group("num"):
            pos = int(m.group("num")) - 1
            if pos < 0:
                continue
        else:
            pos = 0
        before = text[max(0, m.start() - 40): m.start()]
        clause_start = max(before.rfind(c) for c in ".!?;,") + 1
        before = before[clause_start:]
        after = text[m.end(): m.end() + 30]
        after = re.split(r"[.!?;,]|\bbut\b", after)[0]
        if _SEED_REF.search(before):
            feeling = "seed"
        elif _NEGATIVE_REF.search(before) or _NEGATIVE_REF.search(after):
            feeling = "rejected"
        elif _POSITIVE_REF.search(before) or _POSITIVE_REF.search(after):
            feeling = "liked"
        else:
            feeling = "neutral"
        out.append(Reference(pos, feeling, m.start(), m.end()))
    return out


def is_reference(phrase: str) -> bool:
    """Whether ``phrase`` is only a reference ("the first one", "that", "those ones")."""
    phrase = phrase.strip()
    return bool(_REFERENCE.fullmatch(phrase) or re.fullmatch(r"(?i)(?:that|this|it|them|those|these)(?:\s+ones?)?", phrase))

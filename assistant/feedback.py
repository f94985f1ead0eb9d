"""Read likes and dislikes of named items from the user's own words.

"I didn't like X", "not X", "X was boring" -> rejected; "I loved X", "something like X",
"X was great" -> liked; otherwise neutral. The cue is looked for in the words between
the previous clause break (or mention) and the title, then right after the title; items
joined by "and"/"or"/"," share the sentiment of the one before ("I hated A and B").
"""

from __future__ import annotations

import re

from retrieval.text import words as text_words

from .mentions import Mention

_NEG_BEFORE = [
    "didnt like", "did not like", "dont like", "do not like", "didnt enjoy", "did not enjoy",
    "dont want", "do not want", "dont recommend", "not a fan of", "not a big fan of", "not into",
    "hate", "hated", "dislike", "disliked", "cant stand", "no more", "not", "no", "never", "except",
    "instead of", "rather than", "other than", "besides", "without", "already have", "already seen",
    "already watched", "already tried", "tired of", "sick of", "avoid",
]
_POS_BEFORE = [
    "loved", "love", "liked", "like", "enjoyed", "enjoy", "adore", "adored", "favorite", "favourite",
    "fan of", "similar to", "such as", "reminds me of", "into", "more of", "want", "recommend",
]
_NEG_AFTER = ["was boring", "is boring", "was bad", "is bad", "was awful", "was terrible", "sucked",
              "sucks", "was not good", "wasnt good", "was meh", "was disappointing", "not for me",
              "is not for me", "was too", "is too"]
_POS_AFTER = ["was great", "is great", "was good", "is good", "was amazing", "is amazing", "was awesome",
              "was fun", "is my favorite", "is my favourite", "was excellent", "rocks"]
# "I have not seen X", "never heard of X": the user does not know X yet, which says nothing
# against it (often the opposite: "... I need to see that"); the "not" is not a rejection
_UNSEEN_BEFORE = [f"{n} {v}" for n in ("not", "never", "not yet", "havent", "hadnt", "hasnt")
                  for v in ("seen", "watched", "heard of", "heard about", "tried", "read", "had", "tasted",
                            "eaten", "played", "bought", "listened to")]
_BREAK = re.compile(r"[.!?;:\n]|\bbut\b|\bhowever\b|\balthough\b|\bthough\b|\bwhereas\b", re.I)
_JOIN = {"and", "or", "nor", "", "also", "plus"}


def _has(words: list[str], phrases: list[str]) -> bool:
    text = " " + " ".join(words) + " "
    return any(f" {p} " in text for p in phrases)


def classify_mentions(text: str, mentions: list[Mention]) -> list[str]:
    """One of "liked", "rejected", "neutral" per mention, in order. Idioms with a
    negation ("without a doubt X is the best") are no rejection."""
    from .reading import _IDIOMS

    # the same length, so the mentions' spans still hold
    text = _IDIOMS.sub(lambda m: " " * len(m.group(0)), text)
    out: list[str] = []
    prev_end = 0
    for k, m in enumerate(mentions):
        before_text = text[prev_end: m.start]
        cut = None
        for b in _BREAK.finditer(before_text):
            cut = b.end()
        joined_to_prev = cut is None and k > 0
        window = text_words(before_text[cut:] if cut is not None else before_text, join_apostrophes=True)[-7:]
        nxt = mentions[k + 1].start if k + 1 < len(mentions) else len(text)
        after_text = text[m.end: nxt]
        b = _BREAK.search(after_text)
        after = text_words(after_text[: b.start()] if b else after_text, join_apostrophes=True)[:5]
        unseen = _has(window, _UNSEEN_BEFORE)
        if (_has(window, _NEG_BEFORE) and not unseen) or _has(after, _NEG_AFTER):
            label = "rejected"
        elif _has(window, _POS_BEFORE) or _has(after, _POS_AFTER):
            label = "liked"
        elif joined_to_prev and set(window) <= _JOIN:
            label = out[-1]  # "I loved A, B and C"
        else:
            label = "neutral"
        out.append(label)
        prev_end = m.end
    return out


# words saying the user already knows a named item ("I loved X", "I like X", "we watched X",
# "X was great") or wants others like it ("something like X"): such an item is not
# recommended back. Without them a name is a request ("I want X", "do you have X?", "I'd
# like X": a wish, not a taste) and the item stays searchable.
_KNOWN_BEFORE = re.compile(r"\b(love|loved|loves|like|liked|likes|enjoy|enjoyed|adore|adored|"
                           r"favou?rite|saw|seen|watched|tried|bought|had|read|played|finished|obsessed\s+with|"
                           r"already\s+(?:got|have|has|owns?|bought)|(?:i|we|they|he|she|you)\s*(?:['’]ve|['’]s|\s+have|\s+has)\s+(?:already\s+)?done)\b"
                           r"[^.!?;:]*$", re.I)
_WISH = re.compile(r"(?i)\b(?:would|['’]d|wanna|want\s+to|to)\s+(?:really\s+)?(?:love|like|enjoy|try|have)\b")
_KNOWN_AFTER = re.compile(r"^[^.!?;:]*?\b(was|were)\b|^\s*(?:already\s+)?at\s+home\b|^\s*already\b"
                          # "a back to the future vibe? (seen that one obviously)"
                          r"|^[^.!;:]{0,20}?[?(]\s*\(?\s*(?:i['’]ve\s+|already\s+)?(?:seen|watched|had)\s+(?:it|that(?:\s+one)?|this(?:\s+one)?)\b",
                          re.I)
_ASKS_FOR_IT = re.compile(r"(?i)^\W{0,3}(?:so\s+|and\s+)?(?:is\s+it\s+(?:in\s+(?:there|here|the\s+catalog)|available|there)"
                          r"|do\s+you\s+(?:have|sell|carry)\s+it|have\s+you\s+got\s+it|got\s+it|can\s+i\s+(?:get|have|find)\s+it)\b")


_NOT_YET = re.compile(r"(?i)(?:\bnot|\bnever|n['’]t|\b(?:have|has|had)nt)\s+(?:yet\s+|even\s+|really\s+)?$")


def knows_item(before: str, after: str) -> bool:
    """Whether the words around a named item say the user knows it already (``before``:
    the text up to the name, ``after``: the text just after it). "I have not seen X" does
    not: X is new to them."""
    if _ASKS_FOR_IT.search(after):
        return False  # "I loved Forrest Gump, is it in there?" asks for it
    m = _KNOWN_BEFORE.search(before)
    if m and not _WISH.search(before[max(0, m.start() - 12): m.end()]) \
            and not _NOT_YET.search(before[max(0, m.start() - 16): m.start()]):
        return True
    return bool(_KNOWN_AFTER.search(after))

"""Word tokens: the one home of the project's tokenizers.

Two ways of cutting text into words, because two jobs need them:

- :func:`tokens`: what the keyword and attribute channels index and match: lower case,
  stop words and single letters dropped, plural ``s`` stripped (so "comedies" and
  "horror movies" meet the catalog's "comedy" and "horror").
- :func:`words` / :func:`word_spans`: the words a message names things with (titles,
  names, values): lower case, accents removed, underscores dropped, nothing else lost
  (an "a" or "the" may be part of a title). ``join_apostrophes``: a word keeps its
  apostrophes, dropped ("Schindler's" -> "schindlers", "didn't" -> "didnt": titles are
  typed both ways); else an apostrophe splits ("O'Brien" -> "o", "brien": a name's parts).
  ``ascii_only``: the runs of ASCII letters and digits of the lower-cased text, nothing
  folded ("Äpple" -> "pple"): the words of the fake text encoder and of the documents the
  title matcher checks a title's words against, kept so (folding them would change the
  fakes' vectors the tests rest on, and which title words the matcher takes as shared).
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_WORD_APOSTROPHES = re.compile(r"[\w']+")
_ASCII = re.compile(r"[a-z0-9]+")
_STOP = frozenset("""a an and are as at be but by for from has have i in is it its me my
of on or our so that the their this to was we what with you your new""".split())
# the words of asking, not of what is asked for: in a chat message they match titles by
# accident ("something funny" -> "Something Wicked This Way Comes", "any good 90s action" ->
# "Any Given Sunday", "Good Will Hunting"), and a title that holds one still matches on
# its other words. "movie" and "film" name the catalog's own kind of item, not one item.
_ASKING = frozenset("""something anything any some good great best pls please plz thanks
thank want wanna need looking recommend suggest maybe really just like tonight tonite
movie movies film films flick flicks""".split())


def _normalise(word: str) -> str | None:
    if word in _STOP or word in _ASKING or (len(word) < 2 and not word.isdigit()):
        return None
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class _TokenCache(dict):
    """word -> token (or None), filled on first sight. A catalog's vocabulary is far
    smaller than its text, so tokenising mostly runs as C-level dict look-ups."""

    def __missing__(self, word: str) -> str | None:
        token = _normalise(word)
        if len(self) < 2_000_000:
            self[word] = token
        return token


_TOKENS = _TokenCache()


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words, plural ``s`` stripped."""
    return [t for t in map(_TOKENS.__getitem__, _WORD.findall(text.lower())) if t is not None]


def fold(text: str) -> str:
    """``text`` in lower case without accents ("Penélope" -> "penelope")."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in plain if not unicodedata.combining(c))


def word_spans(text: str, join_apostrophes: bool = False) -> list[tuple[str, int, int]]:
    """The words of ``text`` (see the module doc) with their character span in it."""
    out = []
    for m in (_WORD_APOSTROPHES if join_apostrophes else _WORD).finditer(text):
        w = fold(m.group(0)).replace("'", "").replace("_", "")
        if w:
            out.append((w, m.start(), m.end()))
    return out


def words(text: str, join_apostrophes: bool = False, ascii_only: bool = False) -> list[str]:
    """The words of ``text`` (see the module doc)."""
    if ascii_only:
        return _ASCII.findall(str(text).lower())
    return [w for w, _, _ in word_spans(text, join_apostrophes)]

"""Word tokens: the one home of the project's tokenizers.

:func:`tokens` is what the keyword and attribute channels index and match (stop words and
single letters dropped, plural ``s`` stripped).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset("""a an and are as at be but by for from has have i in is it its me my
of on or our so that the their this to was we what with you your new""".split())


def _normalise(word: str) -> str | None:
    if word in _STOP or (len(word) < 2 and not word.isdigit()):
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

"""The retrieval channels of one query, each a ranked list of ``(id, score, detail)``.

- ``dense``: the query text through the text encoder, against ``docs``;
- ``clip_text``: the query text through CLIP's text tower, against ``images`` and ``docs_clip``;
- ``clip_image``: the query photo through CLIP's image tower, against the same two;
- ``collab``: neighbours of the liked items in the collaborative model;
- ``popularity``: the collaborative model's popularity prior;
- ``keyword``: BM25 over titles (boosted: a title word in the query names the item) and
  documents, from an inverted index built once.

Vector channels filter inside ChromaDB (``where``); the others filter their (short) hit
lists against the in-memory metadata table with :func:`where_matches`, which follows
Chroma's filter semantics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import InputError

Hit = tuple[str, float, dict]

# ---- filters ------------------------------------------------------------------------------

OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$not_contains")
_COMPARE = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: _num(a) and _num(b) and a > b,
    "$gte": lambda a, b: _num(a) and _num(b) and a >= b,
    "$lt": lambda a, b: _num(a) and _num(b) and a < b,
    "$lte": lambda a, b: _num(a) and _num(b) and a <= b,
}


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def normalise_where(where: dict | None) -> dict | None:
    """A filter Chroma accepts: several top-level fields become an explicit ``$and``
    (Chroma refuses the implicit form, LLM-written filters often use it). Raises
    :class:`InputError` for a filter that is not a dict of the right shape."""
    if not where:
        return None
    if not isinstance(where, dict):
        raise InputError(f"a filter must be a JSON object, not {type(where).__name__}")
    if len(where) > 1:
        return {"$and": [normalise_where({k: v}) for k, v in where.items()]}
    (key, value), = where.items()
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise InputError(f"{key} needs a non-empty list of filters, got {value!r}")
        parts = [normalise_where(v) for v in value]
        return parts[0] if len(parts) == 1 else {key: parts}
    if key.startswith("$"):
        raise InputError(f"unknown filter operator {key!r} at the top level (use $and / $or or a field name)")
    if isinstance(value, dict):
        for op, target in value.items():
            if op not in OPERATORS:
                raise InputError(f"unknown filter operator {op!r} on {key!r} (known: {' '.join(OPERATORS)})")
            if op in ("$in", "$nin") and (not isinstance(target, list) or not target):
                raise InputError(f"{op} on {key!r} needs a non-empty list, got {target!r}")
        if len(value) > 1:
            return {"$and": [{key: {op: v}} for op, v in value.items()]}
    elif isinstance(value, (list, tuple)):
        raise InputError(f"filter on {key!r}: use {{'$in': [...]}} to match one of several values")
    return where


def adapt_to_lists(where: dict | None, list_fields: set[str]) -> dict | None:
    """Rewrite a normalised filter so equality on a list field means membership, as a
    reader expects (``{"genre": "drama"}`` matches ``["drama", "romance"]``): Chroma's
    ``$eq`` / ``$in`` never match lists, ``$contains`` does."""
    if not where or not list_fields:
        return where
    (key, value), = where.items()
    if key in ("$and", "$or"):
        return {key: [adapt_to_lists(w, list_fields) for w in value]}
    if key not in list_fields:
        return where
    op, target = next(iter(value.items())) if isinstance(value, dict) else ("$eq", value)
    if op == "$eq":
        return {key: {"$contains": target}}
    if op == "$ne":
        return {key: {"$not_contains": target}}
    if op in ("$in", "$nin"):
        inner, join = ("$contains", "$or") if op == "$in" else ("$not_contains", "$and")
        parts = [{key: {inner: t}} for t in target]
        return parts[0] if len(parts) == 1 else {join: parts}
    return where


def where_matches(where: dict | None, meta: dict[str, Any]) -> bool:
    """Whether a metadata record passes a Chroma ``where`` filter (normalised or not).
    A list field matches ``$eq`` / ``$in`` / ``$contains`` when any element does."""
    if not where:
        return True
    for key, cond in where.items():
        if key == "$and":
            if not all(where_matches(c, meta) for c in cond):
                return False
        elif key == "$or":
            if not any(where_matches(c, meta) for c in cond):
                return False
        elif not _field_matches(meta.get(key), cond):
            return False
    return True


def _field_matches(value: Any, cond: Any) -> bool:
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    for op, target in cond.items():
        values = value if isinstance(value, list) else [value]
        if op in ("$eq", "$gt", "$gte", "$lt", "$lte"):
            ok = value is not None and any(_COMPARE[op](v, target) for v in values)
        elif op == "$ne":
            ok = value is None or all(v != target for v in values)
        elif op == "$in":
            ok = value is not None and any(v in target for v in values)
        elif op == "$nin":
            ok = value is None or all(v not in target for v in values)
        elif op == "$contains":
            ok = value is not None and (target in values if isinstance(value, list)
                                        else isinstance(value, str) and str(target) in value)
        elif op == "$not_contains":
            ok = value is None or (target not in values if isinstance(value, list)
                                   else not (isinstance(value, str) and str(target) in value))
        else:
            raise InputError(f"unknown filter operator {op!r} (known: {' '.join(OPERATORS)})")
        if not ok:
            return False
    return True


# ---- keyword channel ----------------------------------------------------------------------

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


class _Vocabulary(dict):
    """token -> id, a new id on first sight."""

    def __missing__(self, token: str) -> int:
        self[token] = n = len(self)
        return n


_TOKENS = _TokenCache()


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words, plural ``s`` stripped."""
    return [t for t in map(_TOKENS.__getitem__, _WORD.findall(text.lower())) if t is not None]


# ---- vector channels ------------------------------------------------------------------------


def merge_by_rank(lists: dict[str, list[tuple[str, float]]], n: int) -> list[Hit]:
    """One list from several of the same channel (e.g. CLIP against pictures and against
    documents, whose similarity scales differ): each id at its best rank, ties in the
    order the lists are given; detail says which list (``via``) found it."""
    best: dict[str, tuple[int, int, float, str]] = {}
    for order, (via, hits) in enumerate(lists.items()):
        for rank, (item_id, score) in enumerate(hits):
            key = (rank, order, score, via)
            if item_id not in best or key[:2] < best[item_id][:2]:
                best[item_id] = key
    ranked = sorted(best.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
    return [(item_id, score, {"via": via}) for item_id, (_, _, score, via) in ranked[:n]]


class KeywordIndex:
    """BM25 over each item's title (words counted ``title_boost`` times) and document.

    A title word in the query is the strongest lexical evidence (the user named the item),
    the document's words the next. Postings are kept as one CSR structure (token ->
    rows, precomputed BM25 weights), so a query costs a few vector additions whatever
    the catalog size. Tokens found in more than ``max_df`` of the items (and over 1,000
    of them) carry almost no information and are skipped at query time.
    """

    def __init__(self, records: Iterable[tuple[str, str, str]], title_boost: float = 3.0,
                 k1: float = 1.2, b: float = 0.75, max_df: float = 0.5):
        from collections import Counter

        import numpy as np

        self.ids: list[str] = []
        self._titles: list[str] = []
        vocab = _Vocabulary()
        tok_ids: list[int] = []
        tfs: list[float] = []
        per_row: list[int] = []
        lengths: list[float] = []
        for item_id, title, document in records:
            self.ids.append(item_id)
            self._titles.append(title or "")
            counts = Counter(tokens(document or ""))
            length = sum(counts.values())
            for t in tokens(title or ""):
                counts[t] += title_boost
                length += title_boost
            lengths.append(length)
            per_row.append(len(counts))
            tok_ids.extend(map(vocab.__getitem__, counts))
            tfs.extend(counts.values())
        self._n = len(self.ids)
        self._max_df = max_df
        self._vocab = dict(vocab)
        rows = np.repeat(np.arange(self._n, dtype=np.int32), np.asarray(per_row, dtype=np.int64))
        tok = np.asarray(tok_ids, dtype=np.int32)
        tf = np.asarray(tfs, dtype=np.float32)
        order = np.argsort(tok, kind="stable")  # stable: rows stay sorted within a token
        self._rows = rows[order]
        df = np.bincount(tok, minlength=len(vocab))
        self._offsets = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        length = np.asarray(lengths or [0.0], dtype=np.float32)
        avg = float(length.mean()) or 1.0
        n = max(self._n, 1)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf = tf[order]
        norm = k1 * (1 - b + b * length[self._rows] / avg) if self._n else np.zeros(0, np.float32)
        self._weights = (idf[tok[order]] * tf * (k1 + 1) / (tf + norm)).astype(np.float32)
        # which rows hold each token in their title (the evidence's "title" flag), same CSR form
        title_rows: list[int] = []
        title_tok: list[int] = []
        vocab_get = self._vocab.get
        for row, title in enumerate(self._titles):
            for t in dict.fromkeys(tokens(title)):
                title_rows.append(row)
                title_tok.append(vocab_get(t))
        t_tok = np.asarray(title_tok, dtype=np.int64)
        t_order = np.argsort(t_tok, kind="stable")
        self._title_rows = np.asarray(title_rows, dtype=np.int32)[t_order]
        self._title_offsets = np.concatenate(
            [[0], np.cumsum(np.bincount(t_tok, minlength=len(vocab)))]).astype(np.int64)

    def __len__(self) -> int:
        return self._n

    def _postings(self, token: str):
        j = self._vocab.get(token)
        if j is None:
            return None
        lo, hi = self._offsets[j], self._offsets[j + 1]
        return self._rows[lo:hi], self._weights[lo:hi]

    def find(self, text: str, n: int, keep: Callable[[str], bool] | None = None,
             allowed=None) -> list[Hit]:
        """The best ``n`` items for the words of ``text``, best first (ties in row order),
        as ``(id, BM25 score, {"words": matched words, "title": True when a title word
        matched})``; ``keep`` filters ids, ``allowed`` (a boolean array over the rows, in
        the order of ``records``) filters rows at once."""
        import numpy as np

        if n <= 0 or not self._n:
            return []
        limit = max(1000, self._max_df * self._n)
        query = {}
        for t in dict.fromkeys(tokens(text)):
            post = self._postings(t)
            if post is not None and len(post[0]) <= limit:
                query[t] = post
        if not query:
            return []
        scores = np.zeros(self._n, dtype=np.float32)
        for rows, weights in query.values():
            scores[rows] += weights
        if allowed is not None:
            scores[~allowed] = 0
        hit_rows = np.flatnonzero(scores)
        if keep is None and len(hit_rows) > n:
            # only the best n are wanted: partition, then sort those (all ties at the
            # n-th score kept, so the stable order by row is the full sort's)
            s = scores[hit_rows]
            nth = np.partition(-s, n - 1)[n - 1]
            hit_rows = hit_rows[-s <= nth]
        order = hit_rows[np.argsort(-scores[hit_rows], kind="stable")]
        out: list[Hit] = []
        block = max(2 * n, 64)
        for start in range(0, len(order), block):
            rows_block = order[start:start + block]
            # which query words each row holds, for the evidence: one vectorised
            # membership test per word instead of one lookup per (row, word)
            member = {t: _member(rows, rows_block) for t, (rows, _) in query.items()}
            in_title = np.zeros(len(rows_block), dtype=bool)
            for t in query:
                j = self._vocab[t]
                in_title |= _member(self._title_rows[self._title_offsets[j]:self._title_offsets[j + 1]],
                                    rows_block)
            for k, row in enumerate(rows_block):
                item_id = self.ids[row]
                if keep is not None and not keep(item_id):
                    continue
                words = [t for t in query if member[t][k]]
                detail: dict[str, Any] = {"words": words}
                if in_title[k]:
                    detail["title"] = True
                out.append((item_id, float(scores[row]), detail))
                if len(out) >= n:
                    return out
        return out


def _member(sorted_rows, rows):
    """Boolean array: which of ``rows`` occur in ``sorted_rows``."""
    import numpy as np

    if len(sorted_rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    i = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return sorted_rows[i] == rows


# ---- attribute channel --------------------------------------------------------------------

# a field is an attribute a user names ("a horror movie", "something from Apple") when it
# has at most this many distinct text values: genres, categories, brands; not titles or casts
ATTRIBUTE_MAX_VALUES = 64


def _stem(token: str) -> str:
    """``tokens()``'s plural stripping plus ``-ies`` -> ``-y`` (comedies -> comedy)."""
    if len(token) > 4 and token.endswith("ie"):
        return token[:-2] + "y"
    return token


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(_stem(t) for t in tokens(text))


# metadata keys that are not attributes of the item
_NOT_ATTRIBUTES = ("title", "image", "content_hash", "description")


def text_values(meta: dict) -> Iterator[tuple[str, str]]:
    """``(field, value)`` for every text value of an item's attributes (lists flattened,
    each value once): what the attribute, shared and named channels match on."""
    for key, value in meta.items():
        if key in _NOT_ATTRIBUTES or isinstance(value, bool):
            continue
        for v in dict.fromkeys(value if isinstance(value, list) else [value]):
            if isinstance(v, str) and v.strip():
                yield key, v


class PopularityPrior:
    """Ties among an index's rows broken by an outside order (the collaborative models'
    popularity), set with :meth:`set_prior`: ``self._prior[row]`` is the row's rank there,
    rows it does not rank come after every ranked one, in catalog order. Subclasses set
    ``self.ids`` (the rows' ids) and call :meth:`_init_prior`."""

    ids: list[str]

    def _init_prior(self) -> None:
        import numpy as np

        n = len(self.ids)
        self._prior = np.arange(n, 2 * n, dtype=np.int64)
        self._prior_key: Any = None
        self._has_prior = False
        self._rows_by_id: dict[str, int] | None = None

    @property
    def has_prior(self) -> bool:
        """Whether an order was set (else ties stay in catalog order)."""
        return self._has_prior

    def set_prior(self, ranked_ids: list[str] | None, key: Any = None) -> None:
        """Order tied rows by ``ranked_ids`` (best first; the others after them, in
        catalog order). ``key`` skips the work while it stays the same."""
        import numpy as np

        if key is not None and key == self._prior_key:
            return
        n = len(self.ids)
        prior = np.arange(n, 2 * n, dtype=np.int64)  # unranked: after every ranked item
        row = self._row_of()
        for rank, item_id in enumerate(ranked_ids or []):
            r = row.get(item_id)
            if r is not None and prior[r] >= n:
                prior[r] = rank
        self._prior, self._prior_key = prior, key
        self._has_prior = bool(ranked_ids)

    def _row_of(self) -> dict[str, int]:
        if self._rows_by_id is None:
            self._rows_by_id = {item_id: r for r, item_id in enumerate(self.ids)}
        return self._rows_by_id


class AttributeIndex(PopularityPrior):
    """Which items have the attribute values a query names.

    Built once from the metadata table: every text field (or list of texts) with at most
    ``max_values`` distinct values is an attribute; each value is matched in the query as
    whole words (plural tolerant: "comedies" names "comedy", "sci-fi movies" names
    "Sci-Fi"). Items having more of the named values rank first, then by ``prior`` (e.g.
    the popularity order), then in catalog order: a query "funny horror" lists the horror
    comedies most people chose first.
    """

    def __init__(self, table: dict[str, dict], max_values: int = ATTRIBUTE_MAX_VALUES):
        import numpy as np

        self.ids = list(table)
        values: dict[str, dict[str, set[int]]] = {}
        for row, meta in enumerate(table.values()):
            for key, v in text_values(meta):
                values.setdefault(key, {}).setdefault(v, set()).add(row)
        # phrase -> (field, value, rows); a phrase two fields share keeps both fields' rows
        self._phrases: dict[tuple[str, ...], tuple[list[tuple[str, str]], Any]] = {}
        for key, by_value in values.items():
            if len(by_value) > max_values:
                continue
            for v, rows in by_value.items():
                phrase = _phrase(v)
                if not phrase or len(rows) == len(self.ids):
                    continue  # stop words only, or every item has it: names nothing
                names, old = self._phrases.get(phrase, ([], np.zeros(0, np.int32)))
                merged = np.union1d(old, np.fromiter(rows, np.int32, len(rows))).astype(np.int32)
                self._phrases[phrase] = (names + [(key, v)], merged)
        self._longest = max((len(p) for p in self._phrases), default=0)
        self._init_prior()

    def __len__(self) -> int:
        return len(self._phrases)

    def named(self, text: str) -> list[tuple[tuple[str, ...], list[tuple[str, str]]]]:
        """The attribute values ``text`` names, in order: ``(phrase, [(field, value)])``."""
        words = _phrase(text)
        found = {}
        for size in range(min(self._longest, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                phrase = words[i:i + size]
                if phrase in self._phrases and phrase not in found:
                    found[phrase] = self._phrases[phrase][0]
        return list(found.items())

    def find(self, text: str, n: int, keep: Callable[[str], bool] | None = None,
             tiebreak: list[str] | None = None, allowed=None) -> list[Hit]:
        """Up to ``n`` items having the values ``text`` names, best first, as ``(id, number
        of values matched, {"values": ["field=value", ...]})``; ``keep`` filters ids,
        ``allowed`` (a boolean array over the table's rows) filters rows at once.
        Without a popularity prior, items with as many values follow ``tiebreak`` (ids in
        order, e.g. the dense channel's hits for the same text) instead of catalog order."""
        import numpy as np

        named = self.named(text)
        if n <= 0 or not named:
            return []
        size = len(self.ids)
        counts = np.zeros(size, dtype=np.int64)
        for phrase, _ in named:
            counts[self._phrases[phrase][1]] += 1
        if allowed is not None:
            counts[~allowed] = 0
        rows = np.flatnonzero(counts)
        # most values matched first, then the tiebreak (when used), then the prior, then
        # the row: one distinct integer per row, so a partial sort gives the full order
        span = int(self._prior.max()) + 1 if size else 1
        key = self._prior[rows] * size + rows
        if tiebreak and not self._has_prior:
            second = np.full(size, len(tiebreak), dtype=np.int64)
            row = self._row_of()
            for rank, item_id in enumerate(tiebreak):
                r = row.get(item_id)
                if r is not None:
                    second[r] = min(second[r], rank)
            key = key + second[rows] * (span * size)
            span *= len(tiebreak) + 1
        key = key + (len(named) - counts[rows]) * (span * size)
        if keep is None and len(rows) > n:
            top = np.argpartition(key, n - 1)[:n]
            order = rows[top[np.argsort(key[top])]]
        else:
            order = rows[np.argsort(key)]
        labels = [(phrase, [f"{k}={v}" for k, v in names]) for phrase, names in named]
        out: list[Hit] = []
        for start in range(0, len(order), max(n, 64)):
            block = order[start:start + max(n, 64)]
            member = [_member(self._phrases[phrase][1], block) for phrase, _ in labels]
            for k, row in enumerate(block):
                item_id = self.ids[row]
                if keep is not None and not keep(item_id):
                    continue
                values = [lab for (_, labs), m in zip(labels, member, strict=True) if m[k] for lab in labs]
                out.append((item_id, float(counts[row]), {"values": values}))
                if len(out) >= n:
                    return out
        return out

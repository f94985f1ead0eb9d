"""``keyword``: BM25 over documents (their titles included, not boosted), from an inverted
index built once. Detail ``{"words": [...], "title": true}``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from scipy import sparse

from ..text import tokens
from .base import Channel, Hit, Search
from .registry import register
from .values import in_sorted


class _Vocabulary(dict):
    """token -> id, a new id on first sight."""

    def __missing__(self, token: str) -> int:
        self[token] = n = len(self)
        return n


class KeywordIndex:
    """BM25 over each item's document (which holds its title), title words counted
    ``title_boost`` more times.

    No boost by default: naming an item is the title matcher's job (``assistant.mentions``),
    which tells a title from a word that happens to be one ("every single weekend" names
    no film *Weekend*). A boosted title word pulled such films to the top of a chat's
    results (independent scenario sets 1-6, movies: precision 0.01-0.03 higher in five
    sets without the boost, grocery unchanged: its titles are descriptions).

    Postings are kept as one items x tokens scipy.sparse matrix by token (CSC: a token's
    column holds its rows and precomputed BM25 weights), so a query costs a few vector
    additions whatever the catalog size. Tokens found in more than ``max_df`` of the items
    (and over 1,000 of them) carry almost no information and are skipped at query time.
    """

    def __init__(self, records: Iterable[tuple[str, str, str]], title_boost: float = 0.0,
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
        # items x tokens, by token (CSC): a token's postings are one column, its rows sorted
        tf = sparse.csc_array((np.asarray(tfs, dtype=np.float32), (rows, tok)), shape=(self._n, len(vocab)))
        df = np.diff(tf.indptr)
        length = np.asarray(lengths or [0.0], dtype=np.float32)
        avg = float(length.mean()) or 1.0
        n = max(self._n, 1)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1 - b + b * length[tf.indices] / avg) if self._n else np.zeros(0, np.float32)
        weights = idf[np.repeat(np.arange(len(vocab)), df)] * tf.data * (k1 + 1) / (tf.data + norm)
        self._postings_by_token = sparse.csc_array((weights.astype(np.float32), tf.indices, tf.indptr),
                                                   shape=tf.shape)
        # which rows hold each token in their title (the evidence's "title" flag), same form
        title_rows: list[int] = []
        title_tok: list[int] = []
        vocab_get = self._vocab.get
        for row, title in enumerate(self._titles):
            for t in dict.fromkeys(tokens(title)):
                title_rows.append(row)
                title_tok.append(vocab_get(t))
        self._in_title = sparse.csc_array(
            (np.ones(len(title_rows), dtype=bool), (np.asarray(title_rows, dtype=np.int32),
                                                    np.asarray(title_tok, dtype=np.int64))),
            shape=(self._n, len(vocab)))

    def __len__(self) -> int:
        return self._n

    def _postings(self, token: str):
        """``(rows, BM25 weights)`` of the items holding ``token``, rows ascending."""
        j = self._vocab.get(token)
        if j is None:
            return None
        m = self._postings_by_token
        lo, hi = m.indptr[j], m.indptr[j + 1]
        return m.indices[lo:hi], m.data[lo:hi]

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
            member = {t: in_sorted(rows, rows_block) for t, (rows, _) in query.items()}
            in_title = np.zeros(len(rows_block), dtype=bool)
            titles = self._in_title
            for t in query:
                j = self._vocab[t]
                in_title |= in_sorted(titles.indices[titles.indptr[j]:titles.indptr[j + 1]], rows_block)
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


class Keyword(Channel):
    name = "keyword"
    position = 60

    def runs(self, search: Search) -> bool:
        return bool(search.text)

    def find(self, search: Search) -> list[Hit]:
        # the keyword index shares the table's rows: it takes the mask
        return self.structure(search.index).find(search.text, search.depth, allowed=search.allowed)

    def structure(self, index) -> KeywordIndex:
        """The index's keyword index (built from its table and documents on first use)."""
        def build(table):
            documents = index.documents()
            return KeywordIndex((i, m.get("title", ""), documents[i]) for i, m in table.items())
        return index.built(self.name, build)

    def prepare(self, index) -> None:
        self.structure(index)


register(Keyword())

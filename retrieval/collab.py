"""Item-to-item collaborative signal and a popularity prior, learned from an interaction log.

The model is EASE (Steck, 2019): a closed-form ridge regression of every item's column of
the user-item matrix on all the other items', ``B = I - P / diag(P)`` with
``P = (X'X + lambda I)^-1`` and a zero diagonal. It is restricted to catalog items with at
least ``min_count`` interactions, which keeps the Gram matrix small (a few thousand items
invert in seconds on two cores) and drops items whose neighbours would be noise.

Only each item's ``keep`` strongest neighbours are stored (``collab.npz`` + ``collab.json``
beside the index), so the saved model stays small whatever the catalog size.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CatalogError
from .types import Problem, ReadCount

MODEL_FILE = "collab.npz"
META_FILE = "collab.json"
FORMAT_VERSION = 1
# the model of the catalog's own interaction log (channel ``collab``) and the one of an
# outside log (channel ``collab_log``, e.g. MovieLens for a movie catalog): kept apart,
# because one log's users swamping the other's co-occurrences costs accuracy
NAMES = ("collab", "collab_log")
# on a 1-5 star scale, ratings below this are not likes (an outside log's default filter)
LIKE_RATING = 4.0


class CollabModel:
    """Neighbours of liked items and a popularity prior. Build with :meth:`fit` or :meth:`load`."""

    def __init__(self, item_ids: list[str], nbr_idx: np.ndarray, nbr_score: np.ndarray,
                 pop_ids: list[str], pop_counts: np.ndarray, meta: dict):
        # item_ids[i] is the item of row i of nbr_idx / nbr_score
        self.item_ids = list(item_ids)
        self._row = {item: i for i, item in enumerate(self.item_ids)}
        # (n_items, keep) neighbour rows (-1 = none) and their EASE weights
        self.nbr_idx = nbr_idx
        self.nbr_score = nbr_score
        # every catalog item seen in the log, most interacted first
        self.pop_ids = list(pop_ids)
        self.pop_counts = np.asarray(pop_counts, dtype=np.float32)
        self.meta = dict(meta)

    # ---- fitting --------------------------------------------------------------------------

    @classmethod
    def fit(cls, interactions: Iterable[tuple], item_ids: Iterable[str], *, lam: float = 200.0,
            min_count: int = 2, keep: int = 100, min_rating: float | None = None,
            max_items: int = 8000) -> CollabModel:
        """Fit EASE on ``interactions`` restricted to ``item_ids`` (the catalog).

        interactions: ``(user, item, rating)`` tuples; ``rating`` may be None (implicit
        feedback). Rows with ``rating < min_rating`` are dropped when ``min_rating`` is set.
        Items outside ``item_ids`` are ignored; a user counts each item once.
        lam: ridge strength; larger favours popular, well-supported neighbours.
        min_count: items with fewer interacting users get no neighbours (but still count
        for popularity). keep: neighbours stored per item. max_items caps the Gram size,
        keeping the most interacted items.
        Raises :class:`CatalogError` when no interaction names a catalog item.
        """
        catalog = {str(i) for i in item_ids}
        baskets: dict[str, set[str]] = defaultdict(set)
        n_rows = 0
        for row in interactions:
            user, item = str(row[0]), str(row[1])
            rating = row[2] if len(row) > 2 else None
            n_rows += 1
            if item not in catalog:
                continue
            if min_rating is not None and rating is not None and float(rating) < min_rating:
                continue
            baskets[user].add(item)
        counts = Counter(item for basket in baskets.values() for item in basket)
        if not counts:
            raise CatalogError(
                f"the interaction log ({n_rows} rows) names none of the {len(catalog)} catalog "
                "items: check that its item column uses the catalog's ids")
        pop = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        modelled = [item for item, c in pop if c >= min_count][:max_items]
        col = {item: j for j, item in enumerate(modelled)}
        n = len(modelled)
        nbr_idx = np.full((n, min(keep, max(n - 1, 0))), -1, dtype=np.int32)
        nbr_score = np.zeros(nbr_idx.shape, dtype=np.float32)
        if n >= 2:
            users = [b for b in baskets.values() if sum(i in col for i in b) >= 1]
            x = np.zeros((len(users), n), dtype=np.float32)
            for u, basket in enumerate(users):
                for item in basket:
                    j = col.get(item)
                    if j is not None:
                        x[u, j] = 1.0
            gram = (x.T @ x).astype(np.float64)
            gram[np.diag_indices(n)] += lam
            p = np.linalg.inv(gram)
            b = -p / np.diag(p)[None, :]
            np.fill_diagonal(b, -np.inf)
            k = nbr_idx.shape[1]
            # row i of b.T = how much item i predicts each other item: the neighbours of i
            w = b.T
            top = np.argpartition(-w, k - 1, axis=1)[:, :k] if k < n else np.argsort(-w, axis=1)[:, :k]
            top_scores = np.take_along_axis(w, top, axis=1)
            order = np.argsort(-top_scores, axis=1)
            top = np.take_along_axis(top, order, axis=1)
            top_scores = np.take_along_axis(top_scores, order, axis=1)
            positive = top_scores > 0
            nbr_idx[:] = np.where(positive, top, -1)
            nbr_score[:] = np.where(positive, top_scores, 0.0)
        meta = {
            "format": FORMAT_VERSION, "method": "ease", "lambda": lam, "min_count": min_count,
            "keep": int(nbr_idx.shape[1]), "min_rating": min_rating, "rows": n_rows,
            "users": len(baskets), "items_seen": len(counts), "items_modelled": n,
        }
        return cls(modelled, nbr_idx, nbr_score, [i for i, _ in pop],
                   np.array([c for _, c in pop], dtype=np.float32), meta)

    # ---- queries --------------------------------------------------------------------------

    def neighbours(self, seed_ids: Iterable[str], n: int) -> list[tuple[str, float, str]]:
        """Up to ``n`` items most predicted by the seeds, best first: ``(id, score, seed)``
        where ``seed`` is the seed that contributed most. Seeds themselves and seeds
        unknown to the model are left out; no known seed gives an empty list."""
        seeds = [s for s in dict.fromkeys(str(s) for s in seed_ids) if s in self._row]
        if not seeds or n <= 0:
            return []
        total: dict[int, float] = defaultdict(float)
        best: dict[int, tuple[float, str]] = {}
        for seed in seeds:
            r = self._row[seed]
            for j, s in zip(self.nbr_idx[r], self.nbr_score[r], strict=False):
                if j < 0:
                    break
                total[int(j)] += float(s)
                if s > best.get(int(j), (-1.0, ""))[0]:
                    best[int(j)] = (float(s), seed)
        seed_rows = {self._row[s] for s in seeds}
        ranked = sorted((j for j in total if j not in seed_rows), key=lambda j: (-total[j], j))
        return [(self.item_ids[j], total[j], best[j][1]) for j in ranked[:n]]

    def popular(self, n: int) -> list[tuple[str, float]]:
        """The ``n`` items with most interactions in the log, as ``(id, share of users)``."""
        users = max(int(self.meta.get("users", 0)), 1)
        return [(i, float(c) / users) for i, c in zip(self.pop_ids[:n], self.pop_counts[:n], strict=False)]

    # ---- storage --------------------------------------------------------------------------

    def save(self, index_dir: str | Path, name: str = "collab") -> Path:
        """Write ``<name>.npz`` and ``<name>.json`` into ``index_dir`` (``name`` one of
        :data:`NAMES`); returns the npz path."""
        model_file, meta_file = _files(name)
        index_dir = Path(index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        path = index_dir / model_file
        tmp = index_dir / (model_file + ".tmp.npz")
        np.savez_compressed(tmp, item_ids=np.array(self.item_ids, dtype=str), nbr_idx=self.nbr_idx,
                            nbr_score=self.nbr_score, pop_ids=np.array(self.pop_ids, dtype=str),
                            pop_counts=self.pop_counts)
        tmp.replace(path)  # atomic: a reader never sees half a model
        (index_dir / meta_file).write_text(json.dumps(self.meta, indent=2), encoding="utf-8")
        return path

    @staticmethod
    def saved_meta(index_dir: str | Path, name: str = "collab") -> dict:
        """The ``meta`` of the model ``name`` saved in ``index_dir`` without reading the
        model ({} when there is none or it is unreadable)."""
        try:
            return dict(json.loads((Path(index_dir) / _files(name)[1]).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    @classmethod
    def load(cls, index_dir: str | Path, name: str = "collab") -> CollabModel | None:
        """The model ``name`` saved in ``index_dir``, or None when there is none.
        Raises :class:`CatalogError` naming the file when it is unreadable."""
        model_file, meta_file = _files(name)
        index_dir = Path(index_dir)
        path = index_dir / model_file
        if not path.is_file():
            return None
        try:
            meta_path = index_dir / meta_file
            meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
            with np.load(path, allow_pickle=False) as z:
                return cls([str(i) for i in z["item_ids"]], z["nbr_idx"], z["nbr_score"],
                           [str(i) for i in z["pop_ids"]], z["pop_counts"], meta)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
            raise CatalogError(f"collaborative model {path} is unreadable ({e}); rebuild it with "
                               "python -m retrieval ingest CATALOG --interactions LOG") from None

    def __len__(self) -> int:
        return len(self.item_ids)

    def __repr__(self) -> str:
        return f"CollabModel(items={len(self.item_ids)}, users={self.meta.get('users')})"


def _files(name: str) -> tuple[str, str]:
    if name not in NAMES:
        raise ValueError(f"unknown collaborative model name {name!r} (known: {', '.join(NAMES)})")
    return f"{name}.npz", f"{name}.json"


@dataclass
class InteractionLog:
    """What :func:`read_interaction_log` found: the rows, every problem, and the count
    (``count.records == count.accepted + count.reported``)."""

    rows: list[tuple[str, str, float | None]]
    problems: list[Problem]
    count: ReadCount


def read_interaction_log(path: str | Path) -> InteractionLog:
    """Read an interaction log CSV (``user,item[,rating]``, header optional).

    A bad line (fewer than two values, an empty user or item, a rating that is not a
    number, bytes that are not UTF-8, quotes that swallow later lines) is a
    :class:`Problem` naming the file and line, and the rest is read. Raises
    :class:`CatalogError` only when the file is missing or unreadable."""
    import csv

    from .csv_records import physical_lines, read_records

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"interaction log {path} does not exist") from None
    except OSError as e:
        raise CatalogError(f"interaction log {path} cannot be read: {e.strerror or e}") from None
    text = data.decode("utf-8-sig", errors="surrogateescape")
    rows: list[tuple[str, str, float | None]] = []
    problems: list[Problem] = []
    count = ReadCount(str(path), unit="interaction")
    lines = physical_lines(text)
    # the first record's number of values: lets a quote that swallowed later lines be told
    # from one holding a line break (see csv_records)
    head = next((r for r in read_records(lines, ",") if not r.blank), None)
    width = len(head.cells) if head is not None and not head.broken else None
    first = True
    try:
        for record in read_records(lines, ",", width=width):
            cells = record.cells
            if record.blank:
                continue
            if first and not record.broken and _is_header(cells):
                first = False
                continue
            first = False
            count.seen(record.lines)

            def refuse(reason: str, fld: str | None = None, line: int = record.start) -> None:
                count.refuse(Problem(str(path), line, fld, reason), problems)

            if record.broken or record.suspect:
                refuse(record.broken or record.suspect)
            elif any("\udc80" <= ch <= "\udcff" for cell in cells for ch in cell):
                refuse("line is not valid UTF-8 (probably Latin-1 / Windows-1252); line skipped: "
                       "re-save the file as UTF-8")
            elif len(cells) < 2:
                refuse(f"expected user,item[,rating], got {cells!r}; line skipped")
            elif not cells[0].strip() or not cells[1].strip():
                refuse(f"empty {'user' if not cells[0].strip() else 'item'}; line skipped",
                       "user" if not cells[0].strip() else "item")
            else:
                rating = None
                if len(cells) > 2 and cells[2].strip():
                    try:
                        rating = float(cells[2])
                    except ValueError:
                        refuse(f"rating {cells[2]!r} is not a number; line skipped", "rating")
                        continue
                    if not math.isfinite(rating):
                        refuse(f"rating {cells[2]!r} is not a finite number; line skipped", "rating")
                        continue
                rows.append((cells[0].strip(), cells[1].strip(), rating))
                count.accept()
    except csv.Error as e:  # a cell over the csv module's size limit
        problems.append(Problem(str(path), None, None, f"not readable as CSV: {e}; the lines after it are left out"))
    return InteractionLog(rows, problems, count)


def _is_header(cells: list[str]) -> bool:
    """Whether the first row names the columns (``user,item[,rating]``, ``userId,...``):
    its first value is a user column's name and its third, if any, is no number."""
    if cells[0].strip().lower() not in ("user", "user_id", "userid"):
        return False
    try:
        float(cells[2])
    except (IndexError, ValueError):
        return True
    return False


def read_interactions(path: str | Path) -> list[tuple[str, str, float | None]]:
    """Read an interaction log CSV (``user,item[,rating]``, header optional) into tuples.
    Raises :class:`CatalogError` naming the file and line of the first malformed row
    (:func:`read_interaction_log` reports them all and keeps the rest)."""
    log = read_interaction_log(path)
    if log.problems:
        more = f" (and {len(log.problems) - 1} more problems)" if len(log.problems) > 1 else ""
        raise CatalogError(f"{log.problems[0]}{more}")
    return log.rows

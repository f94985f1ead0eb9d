"""The ``dialogues`` channel: what recommenders suggested in logged conversations like this one.

A log of conversations (ReDial's raw dialogues, or a JSONL of ``{"context": [...],
"targets": [...]}``) is indexed as one row per recommending turn: the conversation so far
as text (:func:`context_text`, the same text a search sends), its vector from the index's
text encoder, and the items the recommender then suggested (those not already mentioned
in that conversation). At query time the ``neighbours`` logged contexts most similar to
the query vote for their items, each vote weighing ``similarity ** sharpness``, with
``conversation_weight`` times that for what the same recommender suggested elsewhere in
that conversation (a conversation like this one led there too), and ``seeker_weight``
times that for what the user of that conversation brought up themselves (people asking
alike name films they like, and those are what such requests are answered with: on
ReDial dev, 5-fold CV, this lifts the fused R@50 in every fold); the items with the most
weight come first. The evidence names the neighbour conversations, so a
reason can say "people who asked for something like this were recommended X".

The query vector is the one the dense channel already computed, so the channel costs one
product over the logged vectors and a few hundred votes (~1 ms over 10,000 logged turns).

Stored beside the index (``dialogues.npz``): vectors, texts and targets, with the text
model's id. Ingest is idempotent: an unchanged log writes nothing; a turn whose text is
unchanged keeps its vector; a new text model re-encodes the stored texts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CatalogError

DIALOGUES_FILE = "dialogues.npz"
# bump when the stored layout or the context text changes (every turn is re-encoded)
FORMAT_VERSION = 2
# the conversation a search (and a logged turn) is represented by: its last messages,
# newest kept whole. MiniLM reads 256 word pieces, so the newest come first in what it keeps
CONTEXT_MESSAGES = 6
CONTEXT_CHARS = 1000
# conversations named in one hit's evidence
EVIDENCE_CONVERSATIONS = 3
# the neighbour's request quoted in the evidence, at most this many characters
REQUEST_CHARS = 120

Hit = tuple[str, float, dict]


def voting(settings) -> dict[str, float]:
    """The keyword arguments of :meth:`DialogueIndex.find` that ``settings`` decide (the
    one list of them: the channel, the benchmark and the evaluation's cache key use it)."""
    return {"neighbours": settings.dialogue_neighbours, "sharpness": settings.dialogue_sharpness,
            "conversation_weight": settings.dialogue_conversation_weight,
            "seeker_weight": settings.dialogue_seeker_weight}

# the kinds of vote a logged turn casts (the share of each is a setting)
_TARGET, _ELSEWHERE, _SEEKER = 0, 1, 2


def _voted(turn: LoggedTurn) -> tuple[str, ...]:
    """What a logged turn votes for, in the order of the kinds."""
    return turn.targets + turn.elsewhere + turn.seeker


def context_text(messages: Iterable[str], n: int = CONTEXT_MESSAGES, chars: int = CONTEXT_CHARS) -> str:
    """The text a conversation searches with: its last ``n`` messages joined, at most
    ``chars`` characters (the oldest part cut). Logged contexts and live queries are
    written the same way, so their vectors are comparable."""
    parts = [m.strip() for m in list(messages)[-n:] if m and m.strip()]
    text = " ".join(parts)
    return text[-chars:] if len(text) > chars else text


@dataclass(frozen=True)
class LoggedTurn:
    """One recommending turn of a logged conversation."""

    conversation: str
    # context_text of the messages before the recommendation
    text: str
    # what the recommender then suggested (catalog ids not mentioned earlier in the conversation)
    targets: tuple[str, ...]
    # the last thing the user said before it, shortened (quoted in explanations)
    request: str = ""
    # what the recommender suggested in the conversation's other turns (not in ``targets``)
    elsewhere: tuple[str, ...] = ()
    # what the user of the conversation brought up (not suggested by its recommender, not
    # in ``targets`` or ``elsewhere``)
    seeker: tuple[str, ...] = ()


def read_conversations(path: str | Path, titles: dict[str, str] | None = None) -> list[LoggedTurn]:
    """The recommending turns of a conversation log: ReDial raw dialogues or a JSONL of
    ``{"context": [...], "targets": [...]}`` (format detected from the file; see
    :mod:`eval.datasets`, the one reader of both). Turns whose targets were all
    mentioned before are left out (they suggest nothing new). Raises
    :class:`CatalogError` naming the file and line of a bad row."""
    # the dataset adapters live with the evaluation, which reads the same files
    from eval.datasets import load_turns

    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"conversation log {path} does not exist")
    out = []
    # per conversation: every item mentioned, and those its recommender brought up
    mentioned: dict[str, list[str]] = {}
    recommended: dict[str, set[str]] = {}
    for turn in load_turns(path, titles=titles):
        items = mentioned.setdefault(turn.dialogue, [])
        items.extend(i for i in turn.mentioned if i not in items)
        recommended.setdefault(turn.dialogue, set()).update(turn.recommended)
        targets = tuple(turn.new_targets)
        if targets:
            out.append(logged_turn(turn.dialogue, [m.text for m in turn.context], targets,
                                   [m.text for m in turn.context if m.role == "user"]))
    if not out:
        raise CatalogError(f"conversation log {path} has no turn recommending anything new")
    said = {c: [i for i in items if i not in recommended[c]] for c, items in mentioned.items()}
    return with_elsewhere(out, said)


def with_elsewhere(turns: Sequence[LoggedTurn], said: dict[str, Sequence[str]] | None = None) -> list[LoggedTurn]:
    """The turns with ``elsewhere`` set (what each conversation's other turns suggested)
    and ``seeker`` (``said``: what each conversation's user brought up, less those)."""
    suggested: dict[str, list[str]] = {}
    for t in turns:
        items = suggested.setdefault(t.conversation, [])
        items.extend(i for i in t.targets if i not in items)
    said = said or {}
    return [dataclasses.replace(t, elsewhere=tuple(i for i in suggested[t.conversation] if i not in t.targets),
                                seeker=tuple(i for i in said.get(t.conversation, ())
                                             if i not in suggested[t.conversation]))
            for t in turns]


def logged_turn(conversation: str, messages: Sequence[str], targets: Sequence[str],
                user_messages: Sequence[str] = ()) -> LoggedTurn:
    """A :class:`LoggedTurn` from a conversation's messages before a recommendation."""
    request = " ".join((user_messages[-1] if user_messages else "").split())
    if len(request) > REQUEST_CHARS:
        request = request[: REQUEST_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return LoggedTurn(str(conversation), context_text(messages), tuple(str(t) for t in targets), request)


def _text_key(text: str, model_id: str) -> str:
    return hashlib.sha1(json.dumps([FORMAT_VERSION, model_id, text]).encode("utf-8")).hexdigest()


class DialogueIndex:
    """Logged turns and their context vectors. Build with :meth:`build`, :meth:`load`, or
    take a view without some conversations with :meth:`without` (cross-validation)."""

    def __init__(self, turns: Sequence[LoggedTurn], vectors: np.ndarray, model_id: str,
                 source: str = ""):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(turns) != len(vectors):
            raise ValueError(f"{len(turns)} turns but vectors of shape {vectors.shape}")
        self.turns = list(turns)
        self.vectors = vectors
        self.model_id = model_id
        self.source = source
        # each turn's votes as a sparse row over the items: its targets, what its
        # conversation suggested elsewhere, what its user brought up (each kind's share is
        # given at search)
        self.items: list[str] = list(dict.fromkeys(t for turn in self.turns for t in _voted(turn)))
        column = {item: j for j, item in enumerate(self.items)}
        self._indptr = np.zeros(len(self.turns) + 1, dtype=np.int64)
        np.cumsum([len(_voted(t)) for t in self.turns], out=self._indptr[1:])
        self._columns = np.fromiter((column[t] for turn in self.turns for t in _voted(turn)),
                                    dtype=np.int64, count=int(self._indptr[-1]))
        # the kind of each vote: _TARGET, _ELSEWHERE or _SEEKER
        self._kind = np.fromiter((k for turn in self.turns
                                  for k in [_TARGET] * len(turn.targets) + [_ELSEWHERE] * len(turn.elsewhere)
                                  + [_SEEKER] * len(turn.seeker)),
                                 dtype=np.int64, count=int(self._indptr[-1]))
        self.conversations = {t.conversation for t in self.turns}
        # how many texts build() encoded (the rest were reused)
        self.encoded = 0

    def __len__(self) -> int:
        return len(self.turns)

    def __repr__(self) -> str:
        return (f"DialogueIndex({len(self)} turns of {len(self.conversations)} conversations, "
                f"{len(self.items)} items, model={self.model_id!r})")

    # ---- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, turns: Sequence[LoggedTurn], encoder, source: str = "", progress: bool = False,
              reuse: DialogueIndex | None = None) -> DialogueIndex:
        """Encode the turns' texts with ``encoder`` (a ``TextEncoder``). Vectors of
        ``reuse`` (an earlier index) are kept for texts it encoded with the same model."""
        from tqdm.auto import tqdm

        model_id = encoder.model_id
        known: dict[str, np.ndarray] = {}
        if reuse is not None and reuse.model_id == model_id:
            known = {_text_key(t.text, model_id): v for t, v in zip(reuse.turns, reuse.vectors, strict=True)}
        keys = [_text_key(t.text, model_id) for t in turns]
        todo = list(dict.fromkeys(k for k in keys if k not in known))
        text_of = {k: t.text for k, t in zip(keys, turns, strict=True)}
        batch = 256
        with tqdm(total=len(todo), desc="conversation vectors", unit="turn",
                  disable=not progress or not todo) as bar:
            for start in range(0, len(todo), batch):
                chunk = todo[start:start + batch]
                for key, vector in zip(chunk, encoder.encode([text_of[k] or "." for k in chunk]), strict=True):
                    known[key] = vector
                bar.update(len(chunk))
        dim = int(getattr(encoder, "dim", 0) or (len(next(iter(known.values()))) if known else 0))
        vectors = np.stack([known[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
        index = cls(turns, vectors, model_id, source)
        index.encoded = len(todo)
        return index

    def without(self, conversations: Iterable[str]) -> DialogueIndex:
        """The same index without the turns of ``conversations`` (sharing nothing with
        them): exactly what :meth:`build` would make from the remaining turns with the
        same encoder, without encoding again."""
        drop = set(conversations)
        rows = [r for r, t in enumerate(self.turns) if t.conversation not in drop]
        return DialogueIndex([self.turns[r] for r in rows], self.vectors[rows], self.model_id, self.source)

    # ---- storage ----------------------------------------------------------------------------

    def save(self, index_dir: str | Path) -> Path:
        """Write ``dialogues.npz`` into ``index_dir`` (atomically)."""
        folder = Path(index_dir)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT_VERSION, "model": self.model_id, "source": self.source,
                "turns": [[t.conversation, list(t.targets), t.request, list(t.elsewhere), list(t.seeker)]
                          for t in self.turns]}
        path = folder / DIALOGUES_FILE
        tmp = folder / (DIALOGUES_FILE + ".tmp.npz")
        meta["texts"] = [t.text for t in self.turns]
        # the metadata as UTF-8 bytes: no pickled objects in the file
        np.savez_compressed(tmp, vectors=self.vectors,
                            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, index_dir: str | Path) -> DialogueIndex | None:
        """The index saved in ``index_dir``, or None when there is none (or it is of an
        older format: ingest with ``--conversations`` again)."""
        path = Path(index_dir) / DIALOGUES_FILE
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(data["meta"].tobytes().decode("utf-8"))
                vectors = data["vectors"]
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
            raise CatalogError(f"{path} cannot be read ({e}): ingest with --conversations again") from None
        if meta.get("format") != FORMAT_VERSION:
            return None
        # a log saved before seeker votes has four fields a turn: it votes as before
        turns = [LoggedTurn(str(row[0]), text, tuple(row[1]), row[2], tuple(row[3]),
                            tuple(row[4]) if len(row) > 4 else ())
                 for row, text in zip(meta["turns"], meta["texts"], strict=True)]
        return cls(turns, vectors, meta["model"], meta.get("source", ""))

    def same_as(self, other: DialogueIndex | None) -> bool:
        """Whether ``other`` holds the same turns encoded by the same model."""
        return (other is not None and other.model_id == self.model_id and other.turns == self.turns)

    # ---- search -----------------------------------------------------------------------------

    def find(self, vector: np.ndarray, n: int, keep: Callable[[str], bool] | None = None,
             neighbours: int = 200, sharpness: float = 2.0, conversation_weight: float = 0.5,
             seeker_weight: float = 0.5) -> list[Hit]:
        """Up to ``n`` items the ``neighbours`` logged contexts most similar to ``vector``
        voted for, best first, as ``(id, votes, {"dialogues": [conversation ids, most
        similar first], "request": the nearest such conversation's request, "similarity":
        its cosine, "recommended": whether a recommender suggested it there, rather than
        only its user bringing it up})``. A vote for a turn's target weighs
        ``max(similarity, 0) ** sharpness``, one for an item its conversation suggested
        elsewhere ``conversation_weight`` times that, one for an item its user brought up
        ``seeker_weight`` times that; ``keep`` drops items (not in the catalog, filtered,
        excluded)."""
        if not len(self) or n <= 0:
            return []
        sims = _similarities(self.vectors, np.asarray(vector, dtype=np.float32))
        k = min(neighbours, len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        weights = np.maximum(sims[top], 0.0) ** sharpness
        counts = self._indptr[top + 1] - self._indptr[top]
        # the neighbours' votes, gathered once: positions in _columns / _kind, row by row
        at = np.repeat(self._indptr[top] - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        cols, kinds = self._columns[at], self._kind[at]
        share = np.array([1.0, conversation_weight, seeker_weight])[kinds]
        votes = np.zeros(len(self.items), dtype=np.float64)
        np.add.at(votes, cols, np.repeat(weights, counts) * share)
        # items some neighbour's recommender suggested (the rest only its user named)
        suggested = np.zeros(len(self.items), dtype=bool)
        suggested[cols[kinds != _SEEKER]] = True
        voters = np.repeat(np.arange(len(top)), counts)  # position in `top` of each vote
        order = np.flatnonzero(votes > 0)
        order = order[np.lexsort((order, -votes[order]))]
        # each item's voters, most similar first (top is sorted, so first seen = nearest)
        by_item: dict[int, list[int]] = {}
        for c, v in zip(cols.tolist(), voters.tolist(), strict=True):
            by_item.setdefault(c, []).append(v)
        out: list[Hit] = []
        for j in order.tolist():
            item = self.items[j]
            if keep is not None and not keep(item):
                continue
            rows = [int(top[v]) for v in by_item[j]]
            names = list(dict.fromkeys(self.turns[r].conversation for r in rows))[:EVIDENCE_CONVERSATIONS]
            nearest = rows[0]
            out.append((item, float(votes[j]), {"dialogues": names, "request": self.turns[nearest].request,
                                                 "similarity": round(float(sims[nearest]), 4),
                                                 "recommended": bool(suggested[j])}))
            if len(out) >= n:
                break
        return out


# rows per matrix-vector product: OpenBLAS runs a larger one on several threads, and on a
# busy two-core machine it then waits for a core (2,849 x 384: 7-20 ms instead of ~0.1 ms)
_BLOCK = 1024


def _similarities(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vectors @ query`` in blocks small enough to stay on the calling thread."""
    if len(vectors) <= _BLOCK:
        return vectors @ query
    return np.concatenate([vectors[s:s + _BLOCK] @ query for s in range(0, len(vectors), _BLOCK)])


@dataclass
class IngestedConversations:
    """What :func:`ingest_conversations` did."""

    path: str
    turns: int
    conversations: int
    encoded: int
    unchanged: bool

    def summary(self) -> str:
        state = "unchanged" if self.unchanged else f"{self.encoded} contexts encoded"
        return (f"{self.turns} logged turns of {self.conversations} conversations from {self.path} "
                f"({state})")


def ingest_conversations(index_dir: str | Path, path: str | Path, encoder, titles: dict[str, str] | None = None,
                         progress: bool = True) -> IngestedConversations:
    """Index the conversation log ``path`` beside the index in ``index_dir`` (replacing
    the log indexed before), encoding only texts not encoded before with this model."""
    turns = read_conversations(path, titles)
    old = DialogueIndex.load(index_dir)
    index = DialogueIndex.build(turns, encoder, source=str(Path(path).resolve()), progress=progress, reuse=old)
    unchanged = index.same_as(old)
    if not unchanged:
        index.save(index_dir)
    return IngestedConversations(str(path), len(index), len(index.conversations), index.encoded, unchanged)


def reencode(index_dir: str | Path, encoder, progress: bool = True) -> IngestedConversations | None:
    """Re-encode the saved log's texts when the index's text model changed (after
    ``--reindex`` with another model); None when there is no log or it is current."""
    old = DialogueIndex.load(index_dir)
    if old is None or old.model_id == encoder.model_id:
        return None
    index = DialogueIndex.build(old.turns, encoder, source=old.source, progress=progress)
    index.save(index_dir)
    return IngestedConversations(old.source, len(index), len(index.conversations), index.encoded, False)

"""The systems compared in one run, all over the same turns and the same catalog index.

Retrieval systems share one search per turn: :func:`collect_hits` runs the index's own
channels (``CatalogIndex.channel_hits``, the code ``search`` runs) once, and each system
fuses them with its weights through ``retrieval.fusion.fuse`` exactly as ``search`` does.
So "dense only", "hybrid" and "hybrid + learned fusion" differ only in their weights, and
the comparison is not blurred by repeated encoding noise or timing.

What a turn's query holds is what the product would know at that moment: the recent
conversation as text, the items mentioned so far as liked seeds (the collaborative
channel), and those same items excluded (the product does not recommend back what the
user already talked about). Targets are never looked at.

The assistant system runs ``assistant.Recommender`` turn by turn (retrieval-only when no
LLM is configured).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from retrieval.channels import names as channel_names
from retrieval.dialogues import CONTEXT_CHARS, CONTEXT_MESSAGES, context_text
from retrieval.fusion import fuse
from retrieval.types import Query

from .datasets import Turn

# the recent conversation the dense / keyword / dialogues channels see (the dialogues
# channel's logged contexts are written the same way: retrieval.dialogues.context_text)
QUERY_MESSAGES = CONTEXT_MESSAGES
QUERY_CHARS = CONTEXT_CHARS


def query_text(turn: Turn, messages: int = QUERY_MESSAGES, chars: int = QUERY_CHARS) -> str:
    """The text a turn searches with: its last ``messages`` messages, newest kept whole."""
    return context_text([m.text for m in turn.context], messages, chars)


def turn_query(turn: Turn, exclude_mentioned: bool = True, k: int | None = None) -> Query:
    """The :class:`Query` the product would send for ``turn`` (never built from targets)."""
    return Query(text=query_text(turn), image=turn.image, liked=list(turn.mentioned),
                 exclude=set(turn.mentioned) if exclude_mentioned else set(), k=k)


@dataclass
class TurnHits:
    """One turn's channel hits as ranked id lists, plus how long retrieval took."""

    channels: dict[str, list[str]]
    seconds: float
    error: str | None = None
    # the query's share of the batched query encoding done ahead (not in ``seconds``)
    encode_seconds: float = 0.0


def collect_hits(index, turns: list[Turn], *, exclude_mentioned: bool = True,
                 collab_for: Callable[[Turn], object] | None = None,
                 log_model: object = False,
                 dialogues_for: Callable[[Turn], object] | None = None,
                 progress: bool = True, desc: str = "search") -> list[TurnHits]:
    """Run every channel of the index once per turn.

    collab_for: the collaborative model to use for a turn (cross-validation: one fitted
    without the turn's own conversation); None keeps the index's own model.
    log_model: the outside log's model (channel ``collab_log``) to use for every turn;
    False keeps the index's own.
    dialogues_for: the conversation log of the ``dialogues`` channel for a turn (a
    ``DialogueIndex`` without the turn's own conversation, or None: no such channel); None
    keeps the index's own. It is first called after the query texts are encoded, so a log
    made of the same turns' contexts reuses their vectors.
    A turn whose search fails is recorded with its error and empty hits (a miss)."""
    from tqdm import tqdm

    out = []
    current = current_log = object()
    started = time.perf_counter()
    restore, n_encoded = _precompute_queries(index, [turn_query(t, exclude_mentioned).text for t in turns], progress)
    encode = (time.perf_counter() - started) / max(n_encoded, 1)
    if log_model is not False:
        index.use_collab_model(log_model, channel="collab_log")
    # every channel, whatever fusion.json says: each system fuses for itself
    every = channel_names()
    try:
        for turn in tqdm(turns, desc=desc, disable=not progress, unit="turn"):
            if collab_for is not None:
                model = collab_for(turn)
                if model is not current:
                    index.use_collab_model(model)
                    current = model
            if dialogues_for is not None:
                log = dialogues_for(turn)
                if log is not current_log:
                    index.use_dialogues(log)
                    current_log = log
            start = time.perf_counter()
            try:
                hits = index.channel_hits(turn_query(turn, exclude_mentioned), channels=every)
                out.append(TurnHits({c: [h[0] for h in hs] for c, hs in hits.items()},
                                    time.perf_counter() - start, None, encode if turn_query(turn).text else 0.0))
            except Exception as e:  # noqa: BLE001 - one bad turn must not end a long run
                out.append(TurnHits({}, time.perf_counter() - start, f"{type(e).__name__}: {e}"))
    finally:
        restore()
    return out


class _PrecomputedEncoder:
    """The index's own text encoder, with the turns' query vectors computed ahead in
    batches (several times faster on CPU than one text at a time). Vectors are the
    encoder's own; a text not seen ahead is encoded as usual."""

    def __init__(self, inner, table: dict):
        self.inner, self.table = inner, table
        self.model_id, self.dim = inner.model_id, inner.dim

    def encode(self, texts):
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self.table))
        extra = dict(zip(missing, self.inner.encode(missing), strict=True)) if missing else {}
        if not texts:
            return self.inner.encode([])
        return np.stack([self.table[t] if t in self.table else extra[t] for t in texts])

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _precompute_queries(index, texts: list[str], progress: bool):
    """Encode the distinct query texts in batches and let the index use them; returns the
    function that puts the plain encoder back. Indexes without a text encoder are left alone."""
    from tqdm import tqdm

    if not hasattr(index, "use_query_encoder"):
        return (lambda: None), 0
    inner = index.text_encoder()
    unique = [t for t in dict.fromkeys(t.strip() for t in texts) if t]
    table = {}
    batch = max(int(getattr(index.settings, "text_batch_size", 64)), 1)
    for i in tqdm(range(0, len(unique), batch), desc="encode queries", disable=not progress, unit="batch"):
        chunk = unique[i:i + batch]
        for text, vector in zip(chunk, inner.encode(chunk), strict=True):
            table[text] = vector
    index.use_query_encoder(_PrecomputedEncoder(inner, table))

    def restore():
        index.use_query_encoder(inner)
    return restore, len(unique)


def fused_ranking(hits: TurnHits, weights: dict[str, float], rrf_k: int, k: int) -> list[str]:
    """The top ``k`` ids of ``hits`` fused with ``weights`` (channels not named weigh 0)."""
    lists = {c: [(i, 0.0, {}) for i in ids] for c, ids in hits.channels.items()
             if weights.get(c, 0.0) > 0}
    return [i for i, _, _ in fuse(lists, weights, rrf_k)[:k]]


@dataclass
class FusionSystem:
    """A retrieval system: the shared channel hits fused with fixed weights, or with
    weights chosen per turn (``weights_for``, e.g. fitted on the other folds)."""

    name: str
    description: str
    weights: dict[str, float] = field(default_factory=dict)
    weights_for: Callable[[Turn], dict[str, float]] | None = None
    # the rrf_k fitted with the weights (per turn's fold); None: the one rank() is given
    rrf_for: Callable[[Turn], int] | None = None

    def rank(self, turn: Turn, hits: TurnHits, rrf_k: int, k: int) -> tuple[list[str], dict[str, float]]:
        w = self.weights_for(turn) if self.weights_for else self.weights
        if self.rrf_for is not None:
            rrf_k = self.rrf_for(turn)
        start = time.perf_counter()
        ranked = fused_ranking(hits, w, rrf_k, k)
        return ranked, {"encode": hits.encode_seconds, "retrieve": hits.seconds,
                        "fuse": time.perf_counter() - start}


def baseline_systems(weights_hybrid: dict[str, float] | None = None) -> list[FusionSystem]:
    """popularity, dense only, hybrid (every channel, weights of the settings or 1.0)."""
    hybrid = {c: 1.0 for c in channel_names()}
    hybrid.update(weights_hybrid or {})
    return [
        FusionSystem("popularity", "most interacted items of the training log (collab model prior)",
                     {"popularity": 1.0}),
        FusionSystem("dense", "text encoder over the recent conversation only", {"dense": 1.0}),
        FusionSystem("hybrid", "every channel, reciprocal-rank fusion with "
                     + ("the settings' weights" if weights_hybrid else "equal weights"), hybrid),
    ]


def turn_state(turn: Turn):
    """``(SessionState, text)``: the session before the turn's last user message (the
    context up to it, the items mentioned so far, what the recommender showed earlier) and
    that message, as the assistant receives them."""
    from assistant.state import SessionState

    messages = [{"role": m.role, "content": m.text} for m in turn.context]
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
    if last_user is None:
        prior, text = messages, ""
    else:
        prior, text = messages[:last_user], messages[last_user]["content"]
    state = SessionState(messages=prior)
    for item_id in turn.mentioned:
        # the product learns these from the titles in earlier messages; ReDial gives them
        state.mention(item_id)
    # what the recommender suggested earlier is what this assistant would have shown
    state.mark_recommended(turn.recommended)
    return state, text


class AssistantSystem:
    """The full assistant (``assistant.Recommender``), one fresh chat per turn: the
    context up to the last user message is loaded as session state, the last user message
    is sent, and the reply's items are the ranking."""

    name = "assistant"

    def __init__(self, recommender, mode_label: str = "retrieval only", explain: bool = False):
        self.recommender = recommender
        self.description = self.describe(mode_label)
        # the ranking is what is scored: reasons come from the evidence unless asked for
        # (an LLM writing k reasons a turn would cost more than everything else)
        self.explain = explain
        # each reply's checks of the LLM's answers (assistant.answer_checks)
        self.llm_checks: list[dict] = []

    @staticmethod
    def describe(mode_label: str) -> str:
        return f"the assistant ({mode_label}): session state, query, fused search, ranking"

    def rank(self, turn: Turn, k: int) -> tuple[list[str], dict[str, float], str]:
        """The reply's item ids (top ``k``), its stage timings and its mode."""
        from assistant.chat import Chat

        state, text = turn_state(turn)
        if not text.strip() and turn.image is None:
            # nothing the user said yet (the recommender opened): the chat has no input
            return [], {}, "none"
        chat = Chat.from_state(self.recommender, state)
        start = time.perf_counter()
        reply = chat.send(text, image=turn.image, explain=self.explain)
        self.llm_checks.append(reply.llm_checks)
        timings = dict(reply.timings or {})
        timings.setdefault("total", time.perf_counter() - start)
        return [r.id for r in reply.items][:k], timings, reply.mode

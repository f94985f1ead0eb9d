"""Fine-tune the text encoder on the catalog's own logged conversations.

``python -m retrieval train-encoder --conversations FILE`` teaches the index's text encoder
that a conversation context (the text a search sends, :func:`retrieval.dialogues.context_text`)
should lie near the documents of the items its recommender then suggested. The loss is
contrastive (InfoNCE, as sentence-transformers' ``MultipleNegativesRankingLoss``): each
context against its target's document, the other targets of the batch (in-batch
negatives) and, per pair, ``hard_negatives`` documents the current index ranks high for
that context but that were not suggested (hard negatives).

On two CPU cores the whole model is too slow to train in minutes (~0.3 s per text at 256
word pieces, forward and backward), so only the top ``layers`` transformer layers learn;
the embeddings and the layers below stay as they are (no gradient flows through them).

The model is written beside the index (``encoders/ft-<hash>/``, a sentence-transformers
folder, loadable by the normal path), and ``encoder.json`` records it. Using it means
setting ``text_model`` to that folder and re-indexing: an index keeps the id of the model
that made its vectors and refuses another one (``IndexMismatch``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .dialogues import LoggedTurn

ENCODER_RECORD = "encoder.json"
ENCODERS_DIR = "encoders"
# InfoNCE temperature as a scale on cosine similarities (sentence-transformers' default)
SCALE = 20.0
# hard negatives are drawn from the current index's best hits for a context, past the first
# HARD_SKIP (often near-duplicates of a target: another cut, a sequel) up to HARD_POOL
HARD_SKIP = 3
HARD_POOL = 30


@dataclass
class TrainOptions:
    # passes over the pairs
    epochs: int = 1
    # transformer layers trained, counted from the top (0 or more than the model has: all)
    layers: int = 2
    # contexts per step (each with its target and its hard negatives)
    batch_size: int = 32
    # hard negatives per pair (documents the current index ranks high, not suggested)
    hard_negatives: int = 1
    # AdamW learning rate
    lr: float = 5e-5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.hard_negatives < 0 or self.lr <= 0:
            raise ValueError(f"invalid training options {self}: epochs >= 1, batch_size >= 2, "
                             "hard_negatives >= 0 and lr > 0")


@dataclass
class Pair:
    """One training example: a context, the document of an item suggested after it, and
    documents of items the current index ranks high for it that were not suggested."""

    context: str
    positive: str
    # the item ids of the positive and of every item suggested after this context: no
    # document of theirs counts as a negative for it
    item: str
    suggested: tuple[str, ...]
    hard: list[tuple[str, str]] = field(default_factory=list)  # (item id, document)


@dataclass
class TrainResult:
    """A fine-tuned encoder: where it is, and how the loss went (mean per epoch)."""

    path: str
    base: str
    pairs: int
    losses: list[float]
    seconds: float
    options: dict

    def to_dict(self) -> dict:
        return asdict(self)


def training_pairs(turns: Sequence[LoggedTurn], documents: dict[str, str],
                   candidates: dict[int, list[str]] | None = None) -> list[Pair]:
    """One pair per (turn, suggested item in ``documents``). ``candidates[i]``: the
    current index's ranking for turn ``i`` (hard negatives are drawn from it)."""
    pairs = []
    for i, turn in enumerate(turns):
        suggested = tuple(turn.targets)
        ranked = [c for c in (candidates or {}).get(i, []) if c not in suggested and c in documents]
        hard = [(c, documents[c]) for c in ranked[HARD_SKIP:HARD_POOL]]
        for item in suggested:
            if item in documents:
                pairs.append(Pair(turn.text or ".", documents[item], item, suggested, hard))
    return pairs


def hard_candidates(turns: Sequence[LoggedTurn], context_vectors: np.ndarray, doc_ids: list[str],
                    doc_vectors: np.ndarray) -> dict[int, list[str]]:
    """The current index's best ``HARD_POOL`` documents for each turn's context vector."""
    from .vectors import VectorTable

    table = VectorTable(doc_vectors)
    return {i: [doc_ids[r] for r, _ in table.nearest(v, HARD_POOL)] for i, v in enumerate(context_vectors)}


def _trainable(model, layers: int) -> list:
    """The parameters of the top ``layers`` transformer layers (all when the model's
    layers cannot be found, or ``layers`` is 0 or covers them all); the rest frozen."""
    params = list(model.parameters())
    for p in params:
        p.requires_grad = False
    stack = None
    auto = getattr(model[0], "auto_model", None)
    encoder = getattr(auto, "encoder", None)
    stack = getattr(encoder, "layer", None) if encoder is not None else None
    if stack is None or layers <= 0 or layers >= len(stack):
        chosen = params
    else:
        chosen = [p for layer in list(stack)[-layers:] for p in layer.parameters()]
    for p in chosen:
        p.requires_grad = True
    return chosen


def train(model, pairs: Sequence[Pair], options: TrainOptions | None = None, progress: bool = True,
          device: str = "cpu") -> list[float]:
    """Fine-tune ``model`` (a sentence-transformers model, changed in place) on ``pairs``;
    returns the mean loss of each epoch. Deterministic for a seed on one machine."""
    import torch
    from tqdm.auto import tqdm

    options = options or TrainOptions()
    if len(pairs) < 2:
        raise ValueError(f"{len(pairs)} training pair(s): at least 2 are needed (in-batch negatives)")
    torch.manual_seed(options.seed)
    rng = random.Random(options.seed)
    model.to(device)
    params = _trainable(model, options.layers)
    optimiser = torch.optim.AdamW(params, lr=options.lr)
    preprocess = getattr(model, "preprocess", None) or model.tokenize  # sentence-transformers < 5

    def embed(texts: list[str]):
        features = {k: v.to(device) if hasattr(v, "to") else v for k, v in preprocess(texts).items()}
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    losses = []
    steps = (len(pairs) + options.batch_size - 1) // options.batch_size
    model.train()
    try:
        with tqdm(total=steps * options.epochs, desc="train encoder", unit="step", disable=not progress) as bar:
            for epoch in range(options.epochs):
                order = list(range(len(pairs)))
                rng.shuffle(order)
                total = 0.0
                for start in range(0, len(order), options.batch_size):
                    batch = [pairs[i] for i in order[start:start + options.batch_size]]
                    if len(batch) < 2:
                        continue
                    # columns: every positive of the batch, then the hard negatives
                    columns = [(p.item, p.positive) for p in batch]
                    for p in batch:
                        if p.hard:
                            columns += rng.sample(p.hard, min(options.hard_negatives, len(p.hard)))
                    queries = embed([p.context for p in batch])
                    docs = embed([text for _, text in columns])
                    logits = SCALE * queries @ docs.T
                    # an item suggested after a context is no negative for it (a batch may
                    # hold two contexts suggesting the same item)
                    mask = torch.tensor([[c != i and columns[c][0] in p.suggested for c in range(len(columns))]
                                         for i, p in enumerate(batch)])
                    logits = logits.masked_fill(mask, float("-inf"))
                    loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    value = loss.item()
                    total += value * len(batch)
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{value:.3f}")
                losses.append(total / len(pairs))
    finally:
        model.eval()
        for p in model.parameters():
            p.requires_grad = True
    return losses


def mean_loss(model, pairs: Sequence[Pair], batch_size: int = 32, device: str = "cpu") -> float:
    """The in-batch contrastive loss of ``pairs`` in their order, without training (no
    hard negatives): comparable before and after :func:`train`."""
    import torch

    preprocess = getattr(model, "preprocess", None) or model.tokenize
    total = 0.0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(pairs), batch_size):
            batch = list(pairs[start:start + batch_size])
            if len(batch) < 2:
                continue

            def embed(texts):
                features = {k: v.to(device) if hasattr(v, "to") else v for k, v in preprocess(texts).items()}
                return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

            logits = SCALE * embed([p.context for p in batch]) @ embed([p.positive for p in batch]).T
            mask = torch.tensor([[c != i and batch[c].item in p.suggested for c in range(len(batch))]
                                 for i, p in enumerate(batch)])
            loss = torch.nn.functional.cross_entropy(logits.masked_fill(mask, float("-inf")),
                                                     torch.arange(len(batch)))
            total += float(loss) * len(batch)
    return total / max(len(pairs), 1)


def fine_tune(encoder, pairs: Sequence[Pair], options: TrainOptions | None = None, progress: bool = True,
              model_id: str | None = None):
    """A copy of ``encoder`` (a :class:`~retrieval.encoders.SentenceTextEncoder`) trained on
    ``pairs``, recorded as ``model_id`` (default: the base's id + "+fine-tuned"); the
    original is left as it is. Returns ``(copy, losses)``."""
    tuned = copy.copy(encoder)
    tuned._model = copy.deepcopy(encoder._model)
    tuned.model_id = model_id or f"{encoder.model_id}+fine-tuned"
    losses = train(tuned._model, pairs, options, progress, device=encoder.device)
    return tuned, losses


def _fingerprint(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:12]


def tune_on_index(index, turns: Sequence[LoggedTurn], options: TrainOptions | None = None,
                  progress: bool = True, model_id: str | None = None):
    """A copy of ``index``'s text encoder fine-tuned on ``turns``: pairs of the documents
    the index holds, hard negatives from the index's own ranking of each context.
    Returns ``(encoder, losses, pairs)``; the index is left as it is."""
    from .dialogues import DialogueIndex
    from .errors import CatalogError

    options = options or TrainOptions()
    encoder = index.text_encoder()
    index.table()  # loads the documents and their vectors too
    documents = index.documents()
    if not any(t in documents for turn in turns for t in turn.targets):
        raise CatalogError(f"no item the conversations suggest is in the index {index.settings.index_name!r}: "
                           "check that they use the catalog's ids")
    candidates = {}
    if options.hard_negatives:
        # the contexts' vectors: those of the saved log when it holds them (same texts, same model)
        saved = DialogueIndex.load(index.settings.index_dir)
        log = DialogueIndex.build(turns, encoder, progress=progress, reuse=saved)
        candidates = hard_candidates(turns, log.vectors, index.columns().ids, index.vectors().vectors)
    pairs = training_pairs(turns, documents, candidates)
    tuned, losses = fine_tune(encoder, pairs, options, progress, model_id)
    return tuned, losses, len(pairs)


def train_encoder(index, conversations: str | Path, options: TrainOptions | None = None,
                  progress: bool = True, out: str | Path | None = None) -> TrainResult:
    """Fine-tune ``index``'s text encoder (an open :class:`~retrieval.index.CatalogIndex`) on
    the conversation log ``conversations``; hard negatives come from that index. The model
    is saved in ``out`` (default ``<index>/encoders/ft-<hash>``, the hash of the base model,
    the log's bytes and the options) and recorded in ``<index>/encoder.json``."""
    from .dialogues import read_conversations

    options = options or TrainOptions()
    started = time.perf_counter()
    conversations = Path(conversations)
    turns = read_conversations(conversations, index.titles())
    base = index.text_encoder().model_id
    digest = hashlib.sha1(conversations.read_bytes()).hexdigest()
    folder = Path(out) if out else index.settings.index_dir / ENCODERS_DIR / (
        "ft-" + _fingerprint(base, digest, index.count(), asdict(options)))
    tuned, losses, pairs = tune_on_index(index, turns, options, progress)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tuned._model.save(str(folder))
    result = TrainResult(str(folder.resolve()), base, pairs, [round(x, 4) for x in losses],
                         round(time.perf_counter() - started, 1), asdict(options))
    record = dict(result.to_dict(), conversations=str(conversations.resolve()), conversations_sha1=digest,
                  turns=len(turns), time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    (folder / "chatrec_training.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    path = index.settings.index_dir / ENCODER_RECORD
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return result

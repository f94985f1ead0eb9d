"""Learn the fusion weights of the search channels from logged conversations.

Coordinate ascent over a grid of per-channel weights, maximising Recall@10 + Recall@50 on
targets not already mentioned (or another objective). Fusion is reciprocal-rank, so each
turn's channel lists become a small matrix ``R[candidate, channel] = 1 / (rrf_k + rank)``
and any weight vector scores the turn with one product: thousands of turns are re-ranked
in a fraction of a second, so the search is exhaustive per coordinate.

Figures are reported with K-fold cross-validation over conversations (weights fitted on
k-1 folds, scored on the held-out fold); the weights saved for the product are fitted on
every turn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .datasets import Turn
from .systems import TurnHits

GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
# rrf_k candidates: a small k lets a channel's first few hits dominate (sharp channels
# such as collaborative neighbours), a large one flattens the ranks; fitted with the weights
RRF_GRID = (10, 20, 60)
OBJECTIVES = ("r10+r50", "recall@50", "recall@10", "ndcg@10")


@dataclass
class _Prepared:
    """One turn as a matrix: rows = candidates, columns = channels; and its target rows."""

    r: np.ndarray  # (n_candidates, n_channels) reciprocal-rank contributions
    targets: np.ndarray  # row index of each (new) target found by some channel
    missing: int  # targets no channel found: misses whatever the weights


def folds_by_dialogue(turns: list[Turn], k: int, seed: int = 0) -> dict[str, int]:
    """Assign each conversation to one of ``k`` folds (shuffled by ``seed``, balanced)."""
    dialogues = sorted({t.dialogue for t in turns})
    random.Random(seed).shuffle(dialogues)
    return {d: i % k for i, d in enumerate(dialogues)}


def prepare(turns: list[Turn], hits: list[TurnHits], channels: list[str], rrf_k: int,
            new_only: bool = True) -> list[_Prepared]:
    """Turn each turn's channel lists into a reciprocal-rank matrix (see module doc)."""
    out = []
    for turn, h in zip(turns, hits, strict=True):
        rows: dict[str, int] = {}
        entries = []
        for c, channel in enumerate(channels):
            for rank, item in enumerate(dict.fromkeys(h.channels.get(channel, [])), start=1):
                row = rows.setdefault(item, len(rows))
                entries.append((row, c, 1.0 / (rrf_k + rank)))
        r = np.zeros((len(rows), len(channels)), dtype=np.float64)
        for row, c, v in entries:
            r[row, c] = v
        targets = turn.new_targets if new_only else turn.targets
        found = [rows[t] for t in targets if t in rows]
        out.append(_Prepared(r, np.array(found, dtype=np.int64), len(targets) - len(found)))
    return out


def evaluate(prepared: list[_Prepared], weights: np.ndarray, objective: str = "r10+r50") -> float:
    """Mean objective over all targets of ``prepared`` for one weight vector. Ties count
    in the target's favour (the real fusion breaks them by best single rank)."""
    total = n = 0.0
    for p in prepared:
        n += len(p.targets) + p.missing
        if not len(p.targets):
            continue
        scores = p.r @ weights
        target_scores = scores[p.targets]
        ranks = 1 + (scores[None, :] > target_scores[:, None]).sum(axis=1)
        ranks = np.where(target_scores > 0, ranks, 10**9)
        if objective == "r10+r50":
            total += float((ranks <= 10).sum() + (ranks <= 50).sum())
        elif objective == "recall@50":
            total += float((ranks <= 50).sum())
        elif objective == "recall@10":
            total += float((ranks <= 10).sum())
        elif objective == "ndcg@10":
            total += float(np.where(ranks <= 10, 1.0 / np.log2(ranks + 1.0), 0.0).sum())
        else:
            raise ValueError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}")
    return total / n if n else 0.0


def fit_weights(prepared: list[_Prepared], channels: list[str], objective: str = "r10+r50",
                grid: tuple[float, ...] = GRID, rounds: int = 3) -> tuple[dict[str, float], float]:
    """Coordinate ascent from equal weights: each round tries every grid value for each
    channel in turn and keeps the best (ties keep the current value). Returns the weights
    (largest = 1) and the objective they reach on ``prepared``."""
    w = np.ones(len(channels))
    best = evaluate(prepared, w, objective)
    for _ in range(rounds):
        improved = False
        for c in range(len(channels)):
            for value in grid:
                if value == w[c]:
                    continue
                trial = w.copy()
                trial[c] = value
                if not trial.any():
                    continue
                score = evaluate(prepared, trial, objective)
                if score > best + 1e-12:
                    best, w, improved = score, trial, True
        if not improved:
            break
    w = w / w.max()
    return {ch: round(float(x), 4) for ch, x in zip(channels, w, strict=False)}, best


def fit_fusion(turns: list[Turn], hits: list[TurnHits], channels: list[str], objective: str = "r10+r50",
               rrf_ks: tuple[int, ...] = RRF_GRID, prepared: dict | None = None,
               ) -> tuple[dict[str, float], int, float]:
    """Weights and ``rrf_k`` together: the weights fitted for each ``rrf_k`` of the grid,
    the pair reaching the best objective on these turns (ties keep the smaller k).
    ``prepared`` maps rrf_k -> the prepared turns, when already built."""
    best: tuple[dict[str, float], int, float] | None = None
    for k in rrf_ks:
        p = prepared[k] if prepared is not None else prepare(turns, hits, channels, k)
        w, score = fit_weights(p, channels, objective)
        if best is None or score > best[2] + 1e-12:
            best = (w, k, score)
    return best


def cross_validated_fusion(turns: list[Turn], hits: list[TurnHits], folds: dict[str, int],
                           channels: list[str], objective: str = "r10+r50",
                           rrf_ks: tuple[int, ...] = RRF_GRID) -> dict[int, tuple[dict[str, float], int]]:
    """``(weights, rrf_k)`` for each fold, both fitted on the turns of the other folds only."""
    prepared = {k: prepare(turns, hits, channels, k) for k in rrf_ks}
    out = {}
    for f in sorted(set(folds.values())):
        train = {k: [p for p, t in zip(ps, turns, strict=True) if folds[t.dialogue] != f]
                 for k, ps in prepared.items()}
        w, k, _ = fit_fusion(turns, hits, channels, objective, rrf_ks, train)
        out[f] = (w, k)
    return out


def cross_validated_weights(turns: list[Turn], hits: list[TurnHits], folds: dict[str, int],
                            channels: list[str], rrf_k: int, objective: str = "r10+r50",
                            ) -> dict[int, dict[str, float]]:
    """Weights for each fold, fitted on the turns of the other folds only."""
    prepared = prepare(turns, hits, channels, rrf_k)
    out = {}
    for f in sorted(set(folds.values())):
        train = [p for p, t in zip(prepared, turns, strict=False) if folds[t.dialogue] != f]
        out[f], _ = fit_weights(train, channels, objective)
    return out


def active_channels(hits: list[TurnHits]) -> list[str]:
    """Channels that returned something for at least one turn, in the registry's order
    (the order coordinate ascent tries them in)."""
    from retrieval.channels import names

    seen = {c for h in hits for c, ids in h.channels.items() if ids}
    return [c for c in names() if c in seen]


def held_out_recall(turns: list[Turn], hits: list[TurnHits], weights_for, rrf_k,
                    ks: tuple[int, ...] = (10, 50)) -> dict[str, float]:
    """Recall@k over targets not already mentioned, ranking each turn with the real
    fusion and the weights ``weights_for(turn)`` gives it; ``rrf_k`` is a number or a
    function of the turn (fitted per fold)."""
    from .systems import fused_ranking

    hit = {k: 0 for k in ks}
    n = 0
    for turn, h in zip(turns, hits, strict=True):
        k_turn = rrf_k(turn) if callable(rrf_k) else rrf_k
        ranked = fused_ranking(h, weights_for(turn), k_turn, max(ks))
        for target in turn.new_targets:
            n += 1
            for k in ks:
                hit[k] += target in ranked[:k]
    return {f"recall@{k}": hit[k] / n if n else float("nan") for k in ks}

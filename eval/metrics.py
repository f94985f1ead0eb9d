"""Ranking and list metrics, CRSLab style: each is a tiny pure function of ranks or lists.

``rank`` is the 1-based position of a target in a system's ranked list, or None when the
target is not in it. A turn with several targets contributes one value per target.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence

KS = (1, 10, 50)


def rank_of(ranked: Sequence[str], target: str) -> int | None:
    """1-based position of ``target`` in ``ranked``; None when absent."""
    for i, item in enumerate(ranked, start=1):
        if item == target:
            return i
    return None


def recall_at(rank: int | None, k: int) -> float:
    """Hit at k: 1.0 when the target is within the top ``k``."""
    return 1.0 if rank is not None and rank <= k else 0.0


def ndcg_at(rank: int | None, k: int) -> float:
    """NDCG@k for one target (one relevant item, so the ideal DCG is 1)."""
    return 1.0 / math.log2(rank + 1) if rank is not None and rank <= k else 0.0


def mrr_at(rank: int | None, k: int | None = None) -> float:
    """Reciprocal rank, 0 beyond ``k`` (None: the whole list)."""
    if rank is None or (k is not None and rank > k):
        return 0.0
    return 1.0 / rank


def share_outside(recommended: Iterable[Sequence[str]], catalog: set[str]) -> float:
    """Share of all recommended items (over all turns) that are not catalog ids."""
    total = outside = 0
    for items in recommended:
        for item in items:
            total += 1
            outside += item not in catalog
    return outside / total if total else 0.0


def share_repeated(recommended: Sequence[Sequence[str]], mentioned: Sequence[Iterable[str]]) -> float:
    """Share of recommended items that were already mentioned earlier in their conversation."""
    total = repeated = 0
    for items, seen in zip(recommended, mentioned, strict=True):
        seen = set(seen)
        total += len(items)
        repeated += sum(item in seen for item in items)
    return repeated / total if total else 0.0


def top_item_share(recommended: Iterable[Sequence[str]]) -> float:
    """Share of all recommendation slots taken by the single most recommended item."""
    counts = Counter(item for items in recommended for item in items)
    total = sum(counts.values())
    return max(counts.values()) / total if total else 0.0


def gini(counts: Sequence[float]) -> float:
    """Gini coefficient of non-negative counts: 0 = all equal, -> 1 = one takes all.
    Pass zeros for catalog items never recommended, so concentration is judged against
    the whole catalog."""
    values = sorted(float(c) for c in counts)
    n, total = len(values), sum(values)
    if n == 0 or total == 0:
        return 0.0
    # G = sum_i (2i - n - 1) x_(i) / (n * sum x), i = 1..n over sorted values
    return sum((2 * i - n - 1) * x for i, x in enumerate(values, start=1)) / (n * total)


def recommendation_gini(recommended: Iterable[Sequence[str]], catalog: Iterable[str] | None = None) -> float:
    """Gini over how often each item is recommended (catalog items never shown count 0)."""
    counts = Counter(item for items in recommended for item in items)
    if catalog is not None:
        for item in catalog:
            counts.setdefault(item, 0)
    return gini(list(counts.values()))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean (sample standard deviation / sqrt(n)); 0 for n < 2."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return math.sqrt(var / n)


def bootstrap_ci(values: Sequence[float], groups: Sequence[str] | None = None, n_boot: int = 1000,
                 seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of ``values``.

    With ``groups`` (e.g. the dialogue of each target), whole groups are resampled: targets
    of one conversation are not independent, and resampling them alone would give an
    interval that is too narrow."""
    if not values:
        return (float("nan"), float("nan"))
    if groups is None:
        groups = [str(i) for i in range(len(values))]
    by_group: dict[str, list[float]] = {}
    for v, g in zip(values, groups, strict=True):
        by_group.setdefault(g, []).append(v)
    sums = [(sum(vs), len(vs)) for vs in by_group.values()]
    rng = random.Random(seed)
    means = []
    for _ in range(n_boot):
        s = n = 0.0
        for _ in range(len(sums)):
            a, b = sums[rng.randrange(len(sums))]
            s += a
            n += b
        means.append(s / n)
    alpha = (1 - level) / 2 * 100
    return (percentile(means, alpha), percentile(means, 100 - alpha))


def ranking_metrics(ranks: Sequence[int | None], groups: Sequence[str] | None = None,
                    ks: Sequence[int] = KS, n_boot: int = 1000, seed: int = 0) -> dict:
    """Recall@k (with standard error and bootstrap CI), NDCG@10 and MRR over targets."""
    out: dict = {"targets": len(ranks)}
    for k in ks:
        hits = [recall_at(r, k) for r in ranks]
        mean = sum(hits) / len(hits) if hits else float("nan")
        lo, hi = bootstrap_ci(hits, groups, n_boot=n_boot, seed=seed)
        out[f"recall@{k}"] = {"mean": mean, "se": standard_error(hits), "ci95": [lo, hi]}
    out["ndcg@10"] = _mean([ndcg_at(r, 10) for r in ranks])
    out["mrr"] = _mean([mrr_at(r) for r in ranks])
    return out


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """``(edits, reference words)``: the word-level Levenshtein distance (substitutions,
    insertions, deletions) after lower-casing and dropping punctuation."""
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1], len(ref)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER: all edits over all reference words (not a mean of per-sentence rates)."""
    edits = words = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        e, n = word_errors(ref, hyp)
        edits, words = edits + e, words + n
    return edits / words if words else 0.0

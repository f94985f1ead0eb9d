"""``python -m eval run``: every system over the same turns, scored, reported.

The turns' channel hits come from :func:`eval.hits.gather` (its module doc says where each
model comes from, fold by fold). The learned-fusion system is always cross-validated: fold
f is scored with weights fitted on the turns of the other folds. With ``train``
(``python -m eval run TEST --train DEV``) nothing is cross-validated on TEST: everything the
product learns is fitted on DEV's conversations only (the collaborative model and
popularity, the dialogues log, the fusion weights and ``rrf_k``, fitted on DEV's
cross-validated channel hits as ``eval fit`` does) and TEST is scored.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.channels import names as channel_names

from . import metrics
from .datasets import Turn
from .fit import RRF_GRID, active_channels, cross_validated_fusion, fit_fusion, folds_by_dialogue
from .hits import gather
from .systems import (
    QUERY_CHARS,
    QUERY_MESSAGES,
    AssistantSystem,
    FusionSystem,
    TurnHits,
    baseline_systems,
)

SYSTEMS = ("popularity", "dense", "hybrid", "learned", "assistant")
CURVE_KS = (1, 2, 5, 10, 20, 30, 50)


def score_system(name: str, description: str, turns: list[Turn], rankings: list[list[str]],
                 timings: list[dict[str, float]], catalog: set[str], errors: int = 0,
                 list_k: int = 10, n_boot: int = 1000, seed: int = 0) -> dict:
    """Every metric of one system from its per-turn rankings and timings."""
    out: dict = {"description": description, "turns": len(turns), "errors": errors}
    for subset in ("all", "new"):
        ranks, groups = [], []
        for turn, ranked in zip(turns, rankings, strict=True):
            for target in (turn.targets if subset == "all" else turn.new_targets):
                ranks.append(metrics.rank_of(ranked, target))
                groups.append(turn.dialogue)
        out[subset] = metrics.ranking_metrics(ranks, groups, n_boot=n_boot, seed=seed)
        out[f"curve_{subset}"] = {str(k): (sum(metrics.recall_at(r, k) for r in ranks) / len(ranks)
                                           if ranks else float("nan")) for k in CURVE_KS}
    shown = [r[:list_k] for r in rankings]
    out["outside_catalog"] = metrics.share_outside(shown, catalog)
    out["repeated"] = metrics.share_repeated(shown, [t.mentioned for t in turns])
    out["top_item_share"] = metrics.top_item_share(shown)
    out["gini"] = metrics.recommendation_gini(shown, catalog)
    stages: dict[str, list[float]] = {}
    for t in timings:
        for stage, seconds in t.items():
            stages.setdefault(stage, []).append(seconds)
        if "total" not in t:
            stages.setdefault("total", []).append(sum(t.values()))
    out["latency"] = {s: {"p50": metrics.percentile(v, 50), "p95": metrics.percentile(v, 95)}
                      for s, v in stages.items()}
    return out


@dataclass
class RunOptions:
    """What one :func:`run` evaluates and how (the defaults are ``python -m eval run``'s)."""

    systems: Iterable[str] = SYSTEMS
    fmt: str = "auto"  # the dataset's format: auto, redial, grocery, jsonl
    limit: int | None = None  # at most this many turns (whole conversations drawn by seed)
    seed: int = 0  # of the sampling, the folds and the bootstrap
    folds: int = 5  # cross-validation folds over conversations
    collab: str = "auto"  # where the collaborative model comes from (eval.hits)
    interactions: list = field(default_factory=list)  # extra interaction logs (CSV)
    exclude_mentioned: bool = True  # items mentioned earlier are not recommended back
    k: int = 50  # ranking depth scored per turn
    list_k: int = 10  # the list the diversity figures look at
    objective: str = "r10+r50"  # what the learned fusion maximises
    # a second dataset everything learned is fitted on (the collaborative model,
    # popularity, the dialogues log, the fusion weights and rrf_k of the learned system);
    # the dataset is then only scored (module doc)
    train: str | Path | None = None
    # retrieval.train_encoder.TrainOptions: the text encoder is fine-tuned too, per fold, or
    # with ``train`` once on it (eval.hits.gather; the fusion is then fitted without it)
    encoder: Any = None
    # channels every fused system leaves out (their hits are still searched and cached):
    # the figure without them, on the same turns
    without: Iterable[str] = ()
    cache: bool = True  # reuse the cached channel hits
    progress: bool = True
    command: str | None = None  # the command line, recorded in the report


def run(settings, dataset: str | Path, options: RunOptions | None = None, *, out_dir: str | Path = "eval_out",
        index=None, hub=None, llm=None) -> tuple[dict, dict]:
    """Evaluate ``options.systems`` on ``dataset`` with the index of ``settings`` (or
    ``index``; ``hub`` and ``llm`` for the assistant); write the report into ``out_dir``.
    Returns ``(result, paths)``."""
    o = options or RunOptions()
    systems, fmt, limit, seed, folds, collab = o.systems, o.fmt, o.limit, o.seed, o.folds, o.collab
    interactions, exclude_mentioned, k, list_k, objective = (o.interactions, o.exclude_mentioned, o.k,
                                                              o.list_k, o.objective)
    train, encoder, without, cache, progress, command = o.train, o.encoder, o.without, o.cache, o.progress, o.command
    from retrieval.index import CatalogIndex

    from .report import write_report

    systems = list(dict.fromkeys(systems))
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; known: {', '.join(SYSTEMS)}")
    started = time.time()
    index = index or CatalogIndex.open(settings, hub)
    rrf_ks = tuple(dict.fromkeys(RRF_GRID + (settings.rrf_k,)))
    without = set(without)
    unknown = sorted(without - set(channel_names()))
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; known: {', '.join(channel_names())}")
    trained = None
    if train is not None:
        # DEV first: its cross-validated channel hits are what the fusion is fitted on.
        # With --encoder they are searched with the plain encoder, and one encoder
        # fine-tuned on all of DEV searches TEST: a fine-tuning per DEV fold costs five more
        # (~70 min on two cores instead of ~8), and on a held-out ReDial split (700 -> 201
        # conversations) this one reached R@50 0.434, the per-fold one 0.428 (README)
        train_turns, train_hits, train_cf, train_info = gather(
            index, train, limit=None, seed=seed, folds=folds, collab="cv", interactions=interactions,
            exclude_mentioned=exclude_mentioned, progress=progress, cache=cache)
        train_hits = _leave_out(train_hits, without)
        channels = active_channels(train_hits)
        weights, fitted_k, _ = fit_fusion(train_turns, train_hits, channels, objective, rrf_ks)
        trained = {"info": train_info, "weights": weights, "rrf_k": fitted_k, "protocol": train_cf.describe()}
    turns, hits, cf, info = gather(index, dataset, fmt=fmt, limit=limit, seed=seed, folds=folds,
                                   collab=collab, interactions=interactions,
                                   exclude_mentioned=exclude_mentioned, progress=progress,
                                   cache=cache, train=train, encoder=encoder)
    hits = _leave_out(hits, without)
    catalog = set(index.titles())
    errors = sum(h.error is not None for h in hits)
    fusion_systems: list[FusionSystem] = [s for s in baseline_systems(settings.fusion_weights)
                                          if s.name in systems]
    if "learned" in systems and trained is not None:
        fusion_systems.append(FusionSystem(
            "learned", f"every channel, weights and rrf_k ({'/'.join(map(str, rrf_ks))}) fitted "
            f"({objective}, coordinate ascent) on {train_info['turns']} turns of {train} "
            f"(their channel hits cross-validated in {folds} folds)",
            trained["weights"], rrf_for=lambda t: trained["rrf_k"]))
    elif "learned" in systems:
        channels = active_channels(hits)
        turn_folds = {t.dialogue: cf.fold_of(t) if cf.mode == "cv" else 0 for t in turns}
        if cf.mode != "cv":
            turn_folds = folds_by_dialogue(turns, folds, seed)
        per_fold = cross_validated_fusion(turns, hits, turn_folds, channels, objective, rrf_ks)
        fusion_systems.append(FusionSystem(
            "learned", f"every channel, weights and rrf_k ({'/'.join(map(str, rrf_ks))}) fitted "
            f"({objective}, coordinate ascent) on the other {folds - 1} of {folds} folds",
            weights_for=lambda t: per_fold[turn_folds[t.dialogue]][0],
            rrf_for=lambda t: per_fold[turn_folds[t.dialogue]][1]))
    result: dict = {"dataset": info, "catalog": {"items": len(catalog), "index": str(settings.index_dir)},
                    "list_k": list_k, "k": k, "systems": {}, "command": command,
                    "protocol": [cf.describe(), cf.dialogue_folds.describe(),
                                 f"query: the last {QUERY_MESSAGES} messages of the conversation as text "
                                 f"(at most {QUERY_CHARS} characters); items mentioned "
                                 "earlier are the liked seeds" + (" and are excluded from the ranking"
                                                                  if exclude_mentioned else ""),
                                 "targets are never used to build a query or an exclusion"]}
    if without:
        result["protocol"].append(f"channels left out of every fused system: {', '.join(sorted(without))}")
    if trained is not None:
        result["train"] = trained["info"]
        result["protocol"].append(f"fusion weights and rrf_k fitted on {train} only; its channel hits: "
                                  + trained["protocol"])
        result["learned_weights"] = {"train": trained["weights"]}
        result["learned_rrf_k"] = {"train": trained["rrf_k"]}
    elif "learned" in systems:
        result["learned_weights"] = {str(f): w for f, (w, _) in per_fold.items()}
        result["learned_rrf_k"] = {str(f): k for f, (_, k) in per_fold.items()}
    for system in fusion_systems:
        ranked, times = [], []
        for turn, h in zip(turns, hits, strict=True):
            r, t = system.rank(turn, h, settings.rrf_k, k)
            ranked.append(r)
            times.append(t)
        result["systems"][system.name] = score_system(system.name, system.description, turns, ranked,
                                                      times, catalog, errors, list_k, seed=seed)
    if "assistant" in systems:
        from retrieval.fusion import load_fusion_meta

        fitted_on = (load_fusion_meta(settings.index_dir).get("dataset") or {}).get("path")
        if trained is None and fitted_on and Path(fitted_on).resolve() == Path(dataset).resolve():
            result["protocol"].append(
                "warning: the assistant searches with the index's fusion.json, fitted on this same "
                "dataset (the 'learned' system is the cross-validated figure)")
        scored = _run_assistant(settings, index, llm, turns, cf, k, progress,
                                ({**trained["weights"], **{c: 0.0 for c in without}}, trained["rrf_k"])
                                if trained else None)
        if scored is not None:
            ranked, times, errs, label, checks = scored
            result["systems"]["assistant"] = score_system("assistant", AssistantSystem.describe(label),
                                                          turns, ranked, times, catalog, errs, list_k,
                                                          seed=seed)
            from assistant.answer_checks import fallback_rates

            result["systems"]["assistant"]["llm_checks"] = fallback_rates(checks)
        else:
            result["protocol"].append("assistant system skipped: the assistant package is not available")
    result["seconds"] = round(time.time() - started, 1)
    paths = write_report(result, out_dir)
    return result, paths


def _leave_out(hits: list[TurnHits], channels: set[str]) -> list[TurnHits]:
    """``hits`` without the lists of ``channels``."""
    if not channels:
        return hits
    return [TurnHits({c: ids for c, ids in h.channels.items() if c not in channels}, h.seconds, h.error,
                     h.encode_seconds) for h in hits]


def _run_assistant(settings, index, llm, turns, cf, k, progress, fusion=None):
    """The assistant over ``turns``, its models per turn from ``cf`` (and its dialogues
    folds); ``fusion``: ``(weights, rrf_k)`` fitted for this run, else the product's own."""
    try:
        from assistant.recommender import Recommender
    except ImportError:
        return None
    from tqdm import tqdm

    if fusion is not None:
        index.use_weights(fusion[0], source="fitted on the training dataset", rrf_k=fusion[1])
    else:
        # the product's own weights (fusion.json or settings), not an earlier override
        index.use_weights(None)
    if cf.log_model() is not False:
        index.use_collab_model(cf.log_model(), channel="collab_log")
    # the reply lists k items (not the chat's usual handful) so Recall@k can be scored
    wide = settings.replace(candidate_count=max(settings.candidate_count, k), top_k=k)
    rec = Recommender.from_settings(wide, index=index, llm=llm, hub=index.hub)
    system = None
    ranked, times, errors = [], [], 0
    current = current_log = object()
    label = "retrieval only"
    for turn in tqdm(turns, desc="assistant", disable=not progress, unit="turn"):
        model = cf.for_turn(turn)
        if model is not current:
            index.use_collab_model(model)
            current = model
        if cf.dialogue_folds is not None and cf.dialogue_folds.mode != "index":
            log = cf.dialogue_folds.for_turn(turn)
            if log is not current_log:
                index.use_dialogues(log)
                current_log = log
        system = system or AssistantSystem(rec, label)
        try:
            r, t, mode = system.rank(turn, k)
            if mode != "none":
                label = "with its LLM" if mode == "llm" else "retrieval only"
        except Exception as e:  # noqa: BLE001 - a failed turn counts as a miss, reported
            print(f"warning: assistant failed on turn {turn.id}: {type(e).__name__}: {e}", file=sys.stderr)
            r, t = [], {}
            errors += 1
        ranked.append(r)
        times.append(t)
    return ranked, times, errors, label, (system.llm_checks if system else [])


def count_targets(turns: list[Turn]) -> Counter:
    c = Counter()
    for t in turns:
        c["turns"] += 1
        c["targets"] += len(t.targets)
        c["new_targets"] += len(t.new_targets)
    return c

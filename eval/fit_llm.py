"""Learn how much to trust the configured LLM's ranking: ``llm_rank_mix`` from logged
conversations, cross-validated, saved beside ``fusion.json`` (:mod:`assistant.rank_mix`).

The assistant ranks its retrieved candidates by ``(1 - mix) * p_llm + mix * p_retrieval``
(:func:`assistant.llm_tasks.mix_scores`). Here every logged turn goes through the product:

1. the real chat, retrieval only, gives the candidates the LLM would rank, in retrieval
   order, and the session state at ranking time (the context, the tracker's reading of the
   last message, the items mentioned and shown before);
2. the LLM scores them once (one forward pass, :func:`assistant.llm_tasks.label_probabilities`);
3. every mix of :data:`MIX_GRID` re-ranks them without another model call.

The mix is chosen on the other folds' turns (folds over conversations) and scored on the
held-out fold; the mix saved is the one that is best over every turn (ties go to the larger
mix: more weight on retrieval, less trust in the model). Reported in the same run, over the
same turns: the learned fusion (cross-validated, retrieval only, ``eval run``'s
``learned``), the assistant retrieval-only (mix 1), the assistant with the LLM at the
cross-validated mix, at 0.5 and alone (mix 0). A few turns (``check_turns``) also run the
whole chat with the LLM (constraints, rewrite, ranking, reasons) to measure how often each
task's answer fails its check and falls back (:mod:`assistant.answer_checks`).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import metrics
from .datasets import Turn

MIX_GRID = tuple(round(i / 10, 1) for i in range(11))
OBJECTIVES = ("ndcg@10", "recall@10", "mrr")


@dataclass
class ScoredTurn:
    """One turn's candidates in retrieval order and the LLM's probability of each."""

    turn: Turn
    ids: list[str]
    p_llm: list[float]
    seconds: float = 0.0
    error: str = ""


@dataclass
class MixFit:
    """What :func:`fit_mix` found: the mix to save, the held-out figures, every mix's score."""

    mix: float
    objective: str
    fold_mix: dict[int, float]
    grid: dict[float, float]
    systems: dict[str, dict[str, float]] = field(default_factory=dict)


def ranked_ids(scored: ScoredTurn, mix: float, rrf_k: int) -> list[str]:
    """The turn's candidates ranked as the assistant would rank them at ``mix``."""
    from assistant.llm_tasks import mix_scores, retrieval_prior

    if not scored.ids:
        return []
    p = scored.p_llm or retrieval_prior(len(scored.ids), rrf_k)
    scores = mix_scores(p, mix, rrf_k)
    order = sorted(range(len(scored.ids)), key=lambda i: (-scores[i], i))
    return [scored.ids[i] for i in order]


def figures(turns: list[ScoredTurn], rank_for, groups: bool = False) -> dict[str, float]:
    """R@1, R@10, NDCG@10 and MRR over the targets not already mentioned."""
    ranks = [metrics.rank_of(rank_for(s), target) for s in turns for target in s.turn.new_targets]
    n = len(ranks)
    if not n:
        return {"targets": 0}
    return {"targets": n,
            "recall@1": sum(metrics.recall_at(r, 1) for r in ranks) / n,
            "recall@10": sum(metrics.recall_at(r, 10) for r in ranks) / n,
            "ndcg@10": sum(metrics.ndcg_at(r, 10) for r in ranks) / n,
            "mrr": sum(metrics.mrr_at(r) for r in ranks) / n}


def fit_mix(scored: list[ScoredTurn], folds: dict[str, int], rrf_k: int,
            objective: str = "ndcg@10") -> MixFit:
    """The mix of :data:`MIX_GRID` that maximises ``objective``, cross-validated over
    ``folds`` (dialogue -> fold)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}")
    usable = [s for s in scored if s.ids and not s.error]

    def best(turns: list[ScoredTurn]) -> tuple[float, dict[float, float]]:
        grid = {m: figures(turns, lambda s, m=m: ranked_ids(s, m, rrf_k)).get(objective, 0.0)
                for m in MIX_GRID}
        top = max(grid.values())
        return max(m for m, v in grid.items() if v >= top - 1e-12), grid

    fold_mix = {}
    for f in sorted(set(folds.values())):
        train = [s for s in usable if folds[s.turn.dialogue] != f]
        fold_mix[f] = best(train)[0] if train else 1.0
    mix, grid = best(usable)
    return MixFit(mix, objective, fold_mix, grid)


def score_turns(rec, llm, index, turns: list[Turn], cf, candidates: int,
                progress: bool = True) -> list[ScoredTurn]:
    """Steps 1-2 of the module doc for every turn (a failed turn keeps its error)."""
    from tqdm import tqdm

    from assistant.llm_tasks import label_probabilities

    from .systems import turn_state

    titles = rec.titles()
    out, current = [], object()
    for turn in tqdm(turns, desc=f"LLM scores ({llm.model_id})", disable=not progress, unit="turn"):
        model = cf.for_turn(turn)
        if model is not current:
            index.use_collab_model(model)
            current = model
        state, text = turn_state(turn)
        if not text.strip():
            out.append(ScoredTurn(turn, [], []))
            continue
        start = time.perf_counter()
        try:
            before = copy.deepcopy(state)
            chat = rec.chat(state)
            reply = chat.send(text, explain=False)
            ids = [r.id for r in reply.items]
            # the state the LLM would have ranked with: after reading the message, before
            # the reply was written and its items marked as shown
            at_rank = copy.deepcopy(chat.state)
            at_rank.messages = at_rank.messages[:-1]
            at_rank.recommended, at_rank.shown = before.recommended, before.shown
            found = index.get(ids)
            cands = [found[i] for i in ids if i in found]
            p = label_probabilities(llm, at_rank, titles, cands) if cands else []
            out.append(ScoredTurn(turn, [c.id for c in cands], p, time.perf_counter() - start))
        except Exception as e:  # noqa: BLE001 - one failed turn is a miss, reported
            out.append(ScoredTurn(turn, [], [], time.perf_counter() - start, f"{type(e).__name__}: {e}"))
    return out


def check_rates(rec_llm, turns: list[Turn], progress: bool = True) -> dict[str, Any]:
    """The whole chat with the LLM on ``turns`` (reasons included): how often each task's
    answer failed its check, and the first reasons why."""
    from tqdm import tqdm

    from assistant.answer_checks import fallback_rates

    from .systems import turn_state

    checks, why = [], {}
    for turn in tqdm(turns, desc="LLM answers checked", disable=not progress, unit="turn"):
        state, text = turn_state(turn)
        if not text.strip():
            continue
        reply = rec_llm.chat(state).send(text)
        checks.append(reply.llm_checks)
        for task, c in reply.llm_checks.items():
            why.setdefault(task, []).extend(c["why"][:1])
    rates = fallback_rates(checks)
    for task in rates:
        rates[task]["examples"] = why.get(task, [])[:3]
    return {"turns": len(checks), "tasks": rates}


def add_arguments(parser) -> None:
    """The options of ``python -m eval fit`` for the LLM's mix."""
    parser.add_argument("--llm", default="auto", choices=["auto", "off", "only"],
                        help="also fit llm_rank_mix when an LLM is configured (auto), never (off), "
                             "or fit only it (only)")
    parser.add_argument("--llm-limit", type=int, default=60,
                        help="turns the LLM scores (whole conversations, by --seed; default 60)")
    parser.add_argument("--llm-candidates", type=int, default=None,
                        help="candidates the LLM ranks per turn (default: the setting candidates)")
    parser.add_argument("--llm-objective", default="ndcg@10", choices=list(OBJECTIVES))
    parser.add_argument("--llm-check-turns", type=int, default=8,
                        help="turns run through the whole chat with the LLM to count the answers "
                             "that fail their checks (default 8; 0: none)")
    parser.add_argument("--llm-out", default="eval_out/llm_mix", help="folder of the mix report")


def wants_llm_fit(settings, args) -> bool:
    """Whether ``python -m eval fit`` fits the mix: an LLM is configured and not ``--llm off``."""
    if args.llm == "off" or not settings.enable_llm:
        return False
    return bool(settings.llm_model or settings.llm_base_url)


def fit_llm_command(settings, index, args, command: str) -> dict[str, Any] | None:
    """``python -m eval fit`` with an LLM configured: fit, report and save ``llm_rank_mix``."""
    from assistant.rank_mix import save_mix
    from assistant.recommender import Recommender

    from .fit import folds_by_dialogue
    from .hits import gather
    from .runner import RunOptions, run

    limit = getattr(args, "llm_limit", None) or 60
    n_cand = getattr(args, "llm_candidates", None) or settings.candidate_count
    rec_llm = Recommender.from_settings(settings, index=index, hub=index.hub)
    started = time.time()
    llm = rec_llm.load_llm()
    if llm is None:
        status = rec_llm.status()["llm"]
        print(f"llm_rank_mix not fitted: no LLM is available ({status['reason']})")
        return None
    load_seconds = time.time() - started
    progress = not args.quiet
    turns, _hits, cf, info = gather(index, args.dataset, fmt=args.format, limit=limit, seed=args.seed,
                                    folds=args.folds, collab=args.collab, interactions=args.interactions,
                                    exclude_mentioned=not args.keep_mentioned, progress=progress,
                                    cache=not args.no_cache)
    # the product's own search: fusion.json (or the settings' weights), the outside log's model
    index.use_weights(None)
    if cf.log_model() is not False:
        index.use_collab_model(cf.log_model(), channel="collab_log")
    retrieval = settings.replace(candidate_count=n_cand, top_k=n_cand, enable_llm=False)
    rec = Recommender.from_settings(retrieval, index=index, hub=index.hub)
    scored = score_turns(rec, llm, index, turns, cf, n_cand, progress)
    folds = ({t.dialogue: cf.fold_of(t) for t in turns} if cf.mode == "cv"
             else folds_by_dialogue(turns, args.folds, args.seed))
    objective = getattr(args, "llm_objective", None) or "ndcg@10"
    fit = fit_mix(scored, folds, settings.rrf_k, objective)
    usable = [s for s in scored if s.ids and not s.error]
    k = settings.rrf_k
    # over every turn, as eval run scores the assistant: a turn without a user message (the
    # recommender opened) or a failed one is a miss for every mix alike
    fit.systems = {
        "assistant, retrieval only (mix 1)": figures(scored, lambda s: ranked_ids(s, 1.0, k)),
        f"assistant + LLM, mix cross-validated (fold mixes {sorted(set(fit.fold_mix.values()))})":
            figures(scored, lambda s: ranked_ids(s, fit.fold_mix[folds[s.turn.dialogue]], k)),
        "assistant + LLM, mix 0.5": figures(scored, lambda s: ranked_ids(s, 0.5, k)),
        "assistant + LLM alone (mix 0)": figures(scored, lambda s: ranked_ids(s, 0.0, k)),
    }
    # the learned fusion (cross-validated, retrieval only) on the very same turns
    options = RunOptions(systems=["learned"], fmt=args.format, limit=limit, seed=args.seed, folds=args.folds,
                         collab=args.collab, interactions=args.interactions,
                         exclude_mentioned=not args.keep_mentioned, k=50, progress=progress, command=command,
                         cache=not args.no_cache)
    learned, _ = run(settings, args.dataset, options, out_dir=Path(args.llm_out) / "learned", index=index)
    lm = learned["systems"]["learned"]["new"]
    fit.systems = {"learned fusion (retrieval only, cross-validated)": {
        "targets": lm["targets"], "recall@1": lm["recall@1"]["mean"], "recall@10": lm["recall@10"]["mean"],
        "ndcg@10": lm["ndcg@10"], "mrr": lm["mrr"]}, **fit.systems}
    check_n = getattr(args, "llm_check_turns", None)
    check_n = 8 if check_n is None else check_n
    checks = check_rates(rec_llm, [s.turn for s in usable[:check_n]], progress) if check_n else {}
    meta = {"objective": objective, "grid": {str(m): v for m, v in fit.grid.items()},
            "fold_mix": {str(f): m for f, m in fit.fold_mix.items()}, "candidates": n_cand,
            "dataset": info, "turns_scored": len(usable),
            "turns_failed": sum(bool(s.error) for s in scored), "command": command,
            "fitted": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    result = {"model": llm.model_id, "mix": fit.mix, "meta": meta, "systems": fit.systems,
              "llm_checks": checks,
              "same_turns": learned["dataset"]["turns"] == len(scored)
              and learned["dataset"]["new_targets"] == sum(len(s.turn.new_targets) for s in scored),
              "seconds": {"load": round(load_seconds, 1),
                          "score_per_turn": round(sum(s.seconds for s in usable) / max(len(usable), 1), 2)}}
    _print(result)
    out = Path(args.llm_out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "llm_mix.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    (out / "llm_mix.md").write_text(markdown(result), encoding="utf-8")
    print(f"wrote {out / 'llm_mix.json'} and {out / 'llm_mix.md'}")
    if args.dry_run:
        print("dry run: llm_rank_mix not saved")
    else:
        path = save_mix(settings.index_dir, llm.model_id, fit.mix, meta)
        print(f"saved llm_rank_mix {fit.mix} for {llm.model_id} in {path}; the assistant uses it from now on")
    return result


def _print(result: dict[str, Any]) -> None:
    meta = result["meta"]
    print(f"llm_rank_mix for {result['model']}: {result['mix']} (objective {meta['objective']}, "
          f"{meta['turns_scored']} turns, {meta['candidates']} candidates each; best mix of each fold "
          f"on the others: {meta['fold_mix']})")
    print(f"{'system (same turns, targets not already mentioned)':<72} {'R@1':>6} {'R@10':>6} "
          f"{'NDCG@10':>8} {'MRR':>6}")
    for name, m in result["systems"].items():
        if m.get("targets"):
            print(f"{name:<72} {m['recall@1']:6.3f} {m['recall@10']:6.3f} {m['ndcg@10']:8.3f} {m['mrr']:6.3f}")
    for task, c in (result.get("llm_checks") or {}).get("tasks", {}).items():
        print(f"  {task:<12} {c['failed']}/{c['asked']} answers fell back ({c['rate']:.0%})")


def markdown(result: dict[str, Any]) -> str:
    """The report of one fit, readable on its own."""
    meta = result["meta"]
    lines = [f"# llm_rank_mix for {result['model']}", "",
             f"Fitted mix **{result['mix']}** (objective {meta['objective']} over targets not already "
             f"mentioned; grid {', '.join(MIX_GRID.__str__().strip('()').split(', '))}). "
             f"{meta['turns_scored']} turns of {meta['dataset'].get('name')} "
             f"({meta['dataset'].get('dialogues')} conversations), {meta['candidates']} candidates each; "
             f"the mix of each held-out fold was chosen on the other folds: {meta['fold_mix']}. "
             f"Scoring: {result['seconds']['score_per_turn']} s a turn (one forward pass); model "
             f"loaded in {result['seconds']['load']} s.", "",
             "| system (same turns) | targets | R@1 | R@10 | NDCG@10 | MRR |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in result["systems"].items():
        if m.get("targets"):
            lines.append(f"| {name} | {m['targets']} | {m['recall@1']:.3f} | {m['recall@10']:.3f} | "
                         f"{m['ndcg@10']:.3f} | {m['mrr']:.3f} |")
    lines += ["", "Objective at each mix (all turns): "
              + ", ".join(f"{m}: {v:.4f}" for m, v in meta["grid"].items())]
    checks = result.get("llm_checks") or {}
    if checks.get("tasks"):
        lines += ["", f"## The LLM's answers, checked ({checks['turns']} turns, whole chat)", "",
                  "| task | answers | fell back | rate | for example |", "| --- | ---: | ---: | ---: | --- |"]
        for task, c in checks["tasks"].items():
            ex = "; ".join(c.get("examples", []))[:300].replace("|", "/")
            lines.append(f"| {task} | {c['asked']} | {c['failed']} | {c['rate']:.2f} | {ex} |")
    lines += ["", f"Command: `{meta['command']}`", ""]
    return "\n".join(lines)

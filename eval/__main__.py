"""Command line: ``python -m eval run|fit|bench|interactions``.

    python -m eval run DATASET [--systems popularity,dense,hybrid,learned,assistant] [--out eval_out]
    python -m eval run TEST --train DEV [--interactions CSV ...]   (everything fitted on DEV only)
    python -m eval fit DATASET [--objective r10+r50] [--dry-run]
    python -m eval bench ingest|search|turn|ranking|all [...]
    python -m eval interactions redial DIALOGUES.jsonl OUT.csv
    python -m eval dialogues SCENARIOS.jsonl [--index NAME | --catalog PATH] [--k 5] [--out DIR]

Global options pick the index as ``python -m retrieval`` does: ``--settings``,
``--data-dir``, ``--index``. ``--catalog PATH`` ingests a catalog first when the index is empty.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
from pathlib import Path

from retrieval.errors import CatalogError, ChatrecError


def _bench(name: str, argv: list[str]) -> int:
    """Run a benchmark through :mod:`eval.bench` (its table names each bench's module)."""
    from .bench import main as bench_main

    return bench_main(name, argv)


def _llm_fit_args(p: argparse.ArgumentParser) -> None:
    from .fit_llm import add_arguments

    add_arguments(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", metavar="PATH", help="TOML settings file (default: $CHATREC_SETTINGS)")
    p.add_argument("--data-dir", metavar="DIR", help="folder of the index, caches and fitted models")
    p.add_argument("--index", metavar="NAME", help="index name inside the data folder")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="ReDial dialogues (.jsonl), grocery val.txt, or a JSONL of "
                                   "{context, targets}")
    p.add_argument("--format", default="auto", choices=["auto", "redial", "grocery", "jsonl"])
    p.add_argument("--limit", type=int, help="at most this many turns (whole conversations, drawn by --seed)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling, folds and bootstrap")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds over conversations")
    p.add_argument("--collab", default="auto", choices=["auto", "cv", "log", "index", "none"],
                   help="where the collaborative model comes from (auto: cv for ReDial)")
    p.add_argument("--interactions", action="append", default=[], metavar="CSV",
                   help="extra interaction log user,item[,rating] for the collaborative model (repeatable)")
    p.add_argument("--keep-mentioned", action="store_true",
                   help="do not exclude items mentioned earlier in the conversation")
    p.add_argument("--no-cache", action="store_true",
                   help="search every turn again instead of reusing cached channel hits")
    p.add_argument("--catalog", metavar="PATH", help="ingest this catalog first if the index is empty")
    p.add_argument("--objective", default="r10+r50", choices=["r10+r50", "recall@50", "recall@10", "ndcg@10"],
                   help="what the fusion weights maximise (targets not already mentioned)")



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Offline evaluation and benchmarks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run = sub.add_parser("run", help="evaluate systems on a dataset of conversations")
    _common(run)
    _dataset_args(run)
    run.add_argument("--systems", default="popularity,dense,hybrid,learned,assistant",
                     help="comma-separated: popularity, dense, hybrid, learned, assistant")
    run.add_argument("--out", default="eval_out", help="output folder (results.json, report.md, recall.png)")
    run.add_argument("-k", type=int, default=50, help="ranking depth scored per turn")
    run.add_argument("--train", metavar="DEV",
                     help="fit everything the product learns (collaborative model, dialogues log, fusion "
                          "weights and rrf_k) on these conversations only, then score DATASET")
    run.add_argument("--without", default="", metavar="CHANNELS",
                     help="comma-separated channels every fused system leaves out (the figure without them)")
    run.add_argument("--encoder", action="store_true",
                   help="fine-tune the text encoder too: per fold, or with --train once on TRAIN (~8 min on ReDial dev, CPU)")
    run.add_argument("--encoder-epochs", type=int, default=1, help="fine-tuning epochs (with --encoder)")
    run.add_argument("--encoder-layers", type=int, default=2,
                   help="top transformer layers fine-tuned (with --encoder; 0 = all)")
    fit = sub.add_parser("fit", help="learn the fusion weights and save them beside the index")
    _common(fit)
    _dataset_args(fit)
    fit.add_argument("--dry-run", action="store_true", help="report the weights without saving them")
    _llm_fit_args(fit)
    bench = sub.add_parser("bench", help="benchmarks (bench NAME --help)")
    bench.add_argument("name", help="ingest, search, turn, ranking or all")
    bench.add_argument("args", nargs=argparse.REMAINDER)
    dia = sub.add_parser("dialogues", help="multi-turn conversation scenarios through the real chat")
    _common(dia)
    dia.add_argument("scenarios", help="JSONL: {id, tags, turns: [{user, relevant?, forbidden?}]} a line")
    dia.add_argument("--catalog", metavar="PATH", help="ingest this catalog first if the index is empty")
    dia.add_argument("--k", type=int, default=5, help="recommendations judged per turn")
    dia.add_argument("--out", default="eval_out/dialogues", help="output folder (results.json, report.md)")
    inter = sub.add_parser("interactions", help="turn conversations into an interaction log CSV")
    inter.add_argument("source", choices=["redial"])
    inter.add_argument("dialogues")
    inter.add_argument("out")
    return parser


def _settings(args):
    from retrieval.settings import Settings

    overrides = {"data_dir": args.data_dir, "index_name": args.index}
    return Settings.load(args.settings, **overrides)


def _open_index(settings, args):
    from retrieval.errors import IndexMissing
    from retrieval.index import CatalogIndex

    try:
        return CatalogIndex.open(settings)
    except IndexMissing:
        if not args.catalog:
            raise
        return CatalogIndex.build(settings, args.catalog, progress=not args.quiet)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        if args.command == "bench":
            return _bench(args.name, args.args)
        if args.command == "interactions":
            return _interactions(args)
        settings = _settings(args)
        if args.command == "dialogues":
            from .dialogues import read_scenarios

            read_scenarios(args.scenarios)  # a missing or empty file fails before any index work
            settings = settings.replace(top_k=args.k, candidate_count=max(settings.candidate_count, args.k))
        else:
            _check_inputs(args)  # a typo fails at once, before any index work
        index = _open_index(settings, args)
        if args.command == "dialogues":
            return _dialogues(settings, index, args)
        command = "python -m eval " + " ".join(shlex.quote(a) for a in argv)
        if args.command == "run":
            from .runner import RunOptions, run

            options = RunOptions(systems=[s.strip() for s in args.systems.split(",") if s.strip()],
                                 fmt=args.format, limit=args.limit, seed=args.seed, folds=args.folds,
                                 collab=args.collab, interactions=args.interactions,
                                 exclude_mentioned=not args.keep_mentioned, k=args.k, objective=args.objective,
                                 progress=not args.quiet, command=command, cache=not args.no_cache,
                                 train=args.train, encoder=_encoder_options(args),
                                 without=[c.strip() for c in args.without.split(",") if c.strip()])
            result, paths = run(settings, args.dataset, options, out_dir=args.out, index=index)
            _print_summary(result)
            print(f"wrote {', '.join(str(p) for p in paths.values())}")
            return 0
        from .fit_llm import fit_llm_command, wants_llm_fit

        if args.llm != "only":
            _fit(settings, index, args, command)
        if wants_llm_fit(settings, args):
            fit_llm_command(settings, index, args, command)
        return 0
    except (ChatrecError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return getattr(e, "exit_code", 2)


def _check_inputs(args) -> None:
    """The dataset, the --train file and each --interactions log of ``run`` / ``fit`` exist."""
    named = [("dataset", args.dataset), ("--train file", getattr(args, "train", None))]
    named += [("interaction log", path) for path in args.interactions]
    for what, value in named:
        if value is not None and not Path(value).is_file():
            raise CatalogError(f"{what} {value} does not exist")


def _fit(settings, index, args, command: str) -> dict:
    """``python -m eval fit``: fit on every turn, report K-fold figures, save the weights."""
    from retrieval.fusion import save_fusion

    from .fit import (
        RRF_GRID,
        active_channels,
        cross_validated_fusion,
        fit_fusion,
        folds_by_dialogue,
        held_out_recall,
    )
    from .hits import gather

    turns, hits, cf, info = gather(index, args.dataset, fmt=args.format, limit=args.limit,
                                   seed=args.seed, folds=args.folds, collab=args.collab,
                                   interactions=args.interactions,
                                   exclude_mentioned=not args.keep_mentioned, progress=not args.quiet,
                                   cache=not args.no_cache)
    channels = active_channels(hits)
    if cf.mode == "cv":
        folds = {t.dialogue: cf.fold_of(t) for t in turns}
    else:
        folds = folds_by_dialogue(turns, args.folds, args.seed)
    rrf_ks = tuple(dict.fromkeys(RRF_GRID + (settings.rrf_k,)))
    per_fold = cross_validated_fusion(turns, hits, folds, channels, args.objective, rrf_ks)
    equal = {c: 1.0 for c in channels}
    cv_equal = held_out_recall(turns, hits, lambda t: equal, settings.rrf_k)
    cv_learned = held_out_recall(turns, hits, lambda t: per_fold[folds[t.dialogue]][0],
                                 lambda t: per_fold[folds[t.dialogue]][1])
    weights, rrf_k, score = fit_fusion(turns, hits, channels, args.objective, rrf_ks)
    # search reads rrf_k from here: the weights only mean something with the k they were fitted for
    meta = {"objective": args.objective, "dataset": info, "channels": channels, "rrf_k": rrf_k,
            "collab": cf.describe(), "cv_folds": args.folds,
            "cv_new_targets": {"equal_weights": cv_equal, "learned": cv_learned},
            "fold_weights": {str(f): w for f, (w, _) in per_fold.items()},
            "fold_rrf_k": {str(f): k for f, (_, k) in per_fold.items()}, "command": command}
    print(f"{info['turns']} turns, {info['new_targets']} targets not already mentioned; channels: {', '.join(channels)}")
    print(f"{args.folds}-fold cross-validation (held-out folds, new targets):")
    print(f"  equal weights   R@10 {cv_equal['recall@10']:.3f}  R@50 {cv_equal['recall@50']:.3f}")
    print(f"  learned weights R@10 {cv_learned['recall@10']:.3f}  R@50 {cv_learned['recall@50']:.3f}")
    print("weights fitted on every turn: " + ", ".join(f"{c} {w:g}" for c, w in weights.items())
          + f"; rrf_k {rrf_k}")
    if args.dry_run:
        print("dry run: nothing saved")
    else:
        path = save_fusion(settings.index_dir, weights, meta)
        print(f"saved {path}; search uses these weights from now on")
        collab = cf.full_model()
        if collab is not None and {"collab", "popularity"} & set(channels):
            # the collab and popularity channels search with the model their weights were
            # fitted for (the conversations' co-mentions), not one ingest fitted from another
            # log: without it the assistant of the README's ReDial recipe reached R@10 0.171 /
            # R@50 0.347 held out, with it 0.206 / 0.378 (README, "Recommendation quality")
            print(f"saved {collab.save(settings.index_dir)} (collab channel: {collab!r})")
        log = cf.log_model()
        if log and "collab_log" in channels:
            # the collab_log channel searches with the model the weights were fitted with
            print(f"saved {log.save(settings.index_dir, 'collab_log')} (collab_log channel)")
        from retrieval.dialogues import DialogueIndex

        if "dialogues" in channels and DialogueIndex.load(settings.index_dir) is None:
            print(f"note: the index has no conversation log: the dialogues channel (weight "
                  f"{weights.get('dialogues', 0):g}) needs python -m retrieval ingest CATALOG "
                  f"--conversations {args.dataset}")
    return {"weights": weights, "meta": meta}


def _encoder_options(args):
    """``TrainOptions`` of ``--encoder`` (None without it)."""
    if not args.encoder:
        return None
    from retrieval.train_encoder import TrainOptions

    return TrainOptions(epochs=args.encoder_epochs, layers=args.encoder_layers, seed=args.seed)


def _print_summary(result: dict) -> None:
    print(f"{result['dataset']['turns']} turns, {result['dataset']['targets']} targets "
          f"({result['dataset']['new_targets']} not already mentioned)")
    print(f"{'system':<12} {'R@1':>6} {'R@10':>6} {'R@50':>6}   (targets not already mentioned)")
    for name, s in result["systems"].items():
        m = s["new"]
        if m.get("targets"):
            print(f"{name:<12} {m['recall@1']['mean']:6.3f} {m['recall@10']['mean']:6.3f} {m['recall@50']['mean']:6.3f}")


def _dialogues(settings, index, args) -> int:
    from assistant import Recommender

    from .dialogues import read_scenarios, run_scenarios, write_report

    rec = Recommender.from_settings(settings, index=index)
    scenarios = read_scenarios(args.scenarios, known_ids=set(rec.titles()))
    for problem in scenarios.problems:
        print(f"warning: {problem}", file=sys.stderr)
    result = run_scenarios(rec, scenarios, k=args.k, progress=not args.quiet)
    paths = write_report(result, args.out)

    def f(v):
        return "  –  " if v is None else f"{v:.3f}"

    print(f"{result['scenarios']} scenarios, {result['judged_turns']} judged turns "
          f"({scenarios.lines} lines read, {scenarios.skipped} skipped)")
    print(scenarios.count.summary("run", "reported"))
    print(f"{'tag':<16} {'turns':>5} {'success':>8} {'prec@' + str(args.k):>8} {'violation':>9}")
    rows = [("all", result)] + list(result["by_tag"].items())
    for tag, s in rows:
        print(f"{tag:<16} {s['judged_turns']:>5} {f(s['success']):>8} {f(s['precision']):>8} {f(s['violation_rate']):>9}")
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def _interactions(args) -> int:
    from .datasets import redial_dialogues

    rows = 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "rating"])
        for dialogue, ids in redial_dialogues(args.dialogues):
            for item in ids:
                w.writerow([f"dialogue:{dialogue}", item, ""])
                rows += 1
    print(f"wrote {rows} interactions to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

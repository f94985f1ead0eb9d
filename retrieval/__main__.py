"""Command line: ``python -m retrieval ingest|search|stats|prefetch|convert|train-encoder``.

    python -m retrieval ingest data/demo/grocery.jsonl
    python -m retrieval train-encoder --conversations dialogues.jsonl
    python -m retrieval search "something sweet for dessert" --where '{"group": "Fruit"}'
    python -m retrieval stats

Every :class:`~retrieval.errors.ChatrecError` ends the program with ``error: <message>``
on stderr and its ``exit_code`` (no traceback); Ctrl-C exits with 130; bad usage with 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from .errors import CatalogError, ChatrecError, InputError
from .settings import Settings


def build_parser() -> argparse.ArgumentParser:
    # The global options are accepted before or after the subcommand; SUPPRESS keeps a
    # subcommand's absent option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--settings", metavar="PATH", default=argparse.SUPPRESS,
                        help="TOML settings file (default: $CHATREC_SETTINGS)")
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="folder for the index, caches and fitted models")
    common.add_argument("--index", metavar="NAME", default=argparse.SUPPRESS,
                        help="index name inside the data folder (default: 'default')")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars or informational output")

    parser = argparse.ArgumentParser(
        prog="python -m retrieval", parents=[common],
        description="Index a catalog (JSONL or CSV) and search it: text, photo, filters.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("ingest", parents=[common], help="index or update a catalog file",
                       description="Validate a catalog and index it; unchanged items are skipped.")
    p.add_argument("catalog", metavar="CATALOG", help=".jsonl, .ndjson or .csv file")
    p.add_argument("--interactions", metavar="FILE",
                   help="user,item[,rating] CSV for the collaborative channel")
    p.add_argument("--conversations", metavar="FILE",
                   help="logged conversations (ReDial dialogues or JSONL {context, targets}) for the "
                        "dialogues channel")
    p.add_argument("--prune", action="store_true", help="remove indexed items no longer in the catalog")
    p.add_argument("--reindex", action="store_true",
                   help="drop the index first and embed everything again (after changing a model)")
    p.add_argument("--strict", action="store_true", help="exit with 1 when any row has an error")
    p.add_argument("--report", metavar="FILE.json", help="write the full report (every problem) as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", parents=[common], help="search the index",
                       description="Hybrid search: text, photo, metadata filters, liked items.")
    p.add_argument("text", metavar="TEXT", help="what to look for ('' with --image for a photo-only search)")
    p.add_argument("--image", metavar="PATH", help="a photo to search with")
    p.add_argument("--where", metavar="JSON", help='metadata filter, e.g. \'{"category": "Apple"}\'')
    p.add_argument("--exclude", metavar="ID", nargs="+", default=[], help="ids never to return")
    p.add_argument("--liked", metavar="ID", nargs="+", default=[], help="ids the user liked (collaborative seeds)")
    p.add_argument("-k", metavar="N", type=_positive_int, default=10, help="number of results (default 10)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_search, subparser=p)

    p = sub.add_parser("stats", parents=[common], help="what the index holds")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.set_defaults(func=cmd_stats)

    from .models import roles_table

    p = sub.add_parser("prefetch", parents=[common], help="download every configured model once",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Download every configured model once (roles switched off are "
                                   "skipped; loading never downloads). The roles:\n" + roles_table()
                                   + "\n  llm      llm_model: downloads the chat model (or its GGUF file)")
    p.set_defaults(func=cmd_prefetch)

    p = sub.add_parser("train-encoder", parents=[common],
                       help="fine-tune the text encoder on logged conversations",
                       description="Contrastive fine-tuning of the index's text encoder on (conversation "
                                   "context -> suggested item's document) pairs, with in-batch and hard "
                                   "negatives from the index. Writes the model beside the index; using it "
                                   "means setting text_model to it and re-indexing.")
    p.add_argument("--conversations", metavar="FILE", required=True,
                   help="logged conversations: ReDial dialogues or JSONL {context, targets}")
    p.add_argument("--epochs", type=_positive_int, default=1, help="passes over the pairs (default 1)")
    p.add_argument("--layers", type=int, default=2,
                   help="transformer layers trained, from the top (default 2; 0 = all, slow on CPU)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="contexts per step (default 32)")
    p.add_argument("--hard-negatives", type=int, default=1, help="hard negatives per pair (default 1)")
    p.add_argument("--lr", type=float, default=5e-5, help="learning rate (default 5e-5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", metavar="DIR", help="model folder (default: <index>/encoders/ft-<hash>)")
    p.set_defaults(func=cmd_train_encoder)

    p = sub.add_parser("convert", parents=[common], help="turn a public dataset into a catalog")
    conv = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    c = conv.add_parser("grocery", help="Grocery Store Dataset -> OUT_DIR/grocery.jsonl + images/")
    c.add_argument("src_dir", metavar="SRC_DIR", help="the dataset folder holding classes.csv")
    c.add_argument("out_dir", metavar="OUT_DIR")
    c.set_defaults(func=cmd_convert_grocery)
    c = conv.add_parser("redial-movies", help="ReDial movies_id2info.json -> a movie catalog (.jsonl)")
    c.add_argument("id2info", metavar="ID2INFO_JSON")
    c.add_argument("out", metavar="OUT.jsonl")
    c.add_argument("--mentions", metavar="CSV", help="movies_with_mentions.csv: include every ReDial movie")
    c.set_defaults(func=cmd_convert_redial)
    c = conv.add_parser("movielens", help="MovieLens ratings -> user,item,rating log with ReDial ids")
    c.add_argument("ratings", metavar="RATINGS.csv")
    c.add_argument("links", metavar="LINKS.csv")
    c.add_argument("id2info", metavar="ID2INFO_JSON")
    c.add_argument("out", metavar="OUT.csv")
    c.set_defaults(func=cmd_convert_movielens)
    c = conv.add_parser("videos-demo", help="the demo's first products as a catalog with videos (ffmpeg, "
                                            "espeak-ng) -> OUT_DIR/catalog.jsonl + videos/")
    c.add_argument("out_dir", metavar="OUT_DIR")
    c.add_argument("-n", "--items", type=int, default=6, help="products (default 6)")
    c.add_argument("--catalog", default=None, help="the catalog whose photos and descriptions are used "
                                                   "(default: the demo catalog)")
    c.set_defaults(func=cmd_convert_videos_demo)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def load_settings(args: argparse.Namespace) -> Settings:
    return Settings.load(getattr(args, "settings", None),
                         data_dir=getattr(args, "data_dir", None),
                         index_name=getattr(args, "index", None))


def _quiet(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "quiet", False))


# ---- commands --------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    # checked before the heavy imports, so a typo fails at once
    for name, what in (("catalog", "catalog file"), ("interactions", "interaction log"),
                       ("conversations", "conversation log")):
        value = getattr(args, name)
        if value is not None and not Path(value).is_file():
            raise CatalogError(f"{what} {value} does not exist")
    from .cli_output import format_ingest_report, report_to_dict
    from .ingest import ingest

    report = ingest(settings, args.catalog, prune=args.prune, progress=not _quiet(args),
                    interactions=args.interactions, reindex=args.reindex,
                    conversations=args.conversations)
    if args.report:
        target = Path(args.report)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, default=str),
                          encoding="utf-8")
    print(format_ingest_report(report))
    if report.models.get("dialogues"):
        print(f"dialogues channel: {report.models['dialogues']}")
    if args.strict and any(p.severity == "error" for p in report.problems):
        print("--strict: some rows had errors", file=sys.stderr)
        return 1
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    parser = args.subparser  # usage errors name the subcommand
    where = None
    if args.where:
        try:
            where = json.loads(args.where)
        except json.JSONDecodeError as e:
            parser.error(f"--where is not valid JSON: {e.msg} at column {e.colno}")
        if not isinstance(where, dict):
            parser.error('--where must be a JSON object, e.g. \'{"category": "Apple"}\'')
    if args.image and not Path(args.image).is_file():
        raise InputError(f"image {args.image} does not exist")
    if not args.text.strip() and not args.image and not args.liked:
        parser.error("give TEXT, --image or --liked")
    from .cli_output import candidates_to_json, format_candidates
    from .index import CatalogIndex
    from .types import Query

    settings = load_settings(args)
    index = CatalogIndex.open(settings)
    query = Query(text=args.text.strip(), image=args.image, where=where, exclude=set(args.exclude),
                  liked=list(args.liked), k=args.k)
    results = index.search(query)[: args.k]
    print(candidates_to_json(results) if args.json else format_candidates(results))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    from .cli_output import folder_size, format_stats
    from .index import CatalogIndex

    stats = CatalogIndex.open(settings).stats()
    if args.json:
        out = dict(stats)
        out.setdefault("index_dir", str(settings.index_dir))
        out.setdefault("size_bytes", folder_size(settings.index_dir))
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_stats(stats, settings.index_dir))
    return 0


def cmd_train_encoder(args: argparse.Namespace) -> int:
    if not Path(args.conversations).is_file():
        raise CatalogError(f"conversation log {args.conversations} does not exist")
    from .index import CatalogIndex
    from .train_encoder import TrainOptions, train_encoder

    try:
        options = TrainOptions(epochs=args.epochs, layers=args.layers, batch_size=args.batch_size,
                               hard_negatives=args.hard_negatives, lr=args.lr, seed=args.seed)
    except ValueError as e:
        raise InputError(str(e)) from None
    settings = load_settings(args)
    result = train_encoder(CatalogIndex.open(settings), args.conversations, options,
                           progress=not _quiet(args), out=args.out)
    print(f"trained on {result.pairs} pairs in {result.seconds:.0f} s (from {result.base}); "
          f"loss per epoch: {', '.join(f'{x:.3f}' for x in result.losses)}")
    print(f"saved {result.path}")
    print(f"to use it: set text_model = \"{result.path}\" (or CHATREC_TEXT_MODEL) and re-index:\n"
          f"  python -m retrieval ingest CATALOG --reindex  (the index refuses it until then)")
    return 0


def cmd_prefetch(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    from .cli_output import format_prefetch
    from .prefetch import prefetch

    results = prefetch(settings, progress=not _quiet(args))
    print(format_prefetch(results))
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"error: {len(failed)} of {len(results)} models could not be fetched (see above)", file=sys.stderr)
        return 4  # ModelUnavailable.exit_code
    return 0


def cmd_convert_grocery(args: argparse.Namespace) -> int:
    from .convert import convert_grocery

    return _converted(args, convert_grocery(args.src_dir, args.out_dir), "items")


def cmd_convert_redial(args: argparse.Namespace) -> int:
    from .convert import convert_redial_movies

    return _converted(args, convert_redial_movies(args.id2info, args.out, args.mentions), "movies")


def cmd_convert_movielens(args: argparse.Namespace) -> int:
    from .convert import convert_movielens

    return _converted(args, convert_movielens(args.ratings, args.links, args.id2info, args.out), "ratings")


def cmd_convert_videos_demo(args: argparse.Namespace) -> int:
    from .settings import DEMO_CATALOG
    from .video_demo import make_video_catalog

    path = make_video_catalog(args.catalog or DEMO_CATALOG, args.out_dir, args.items)
    rows = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    print(f"wrote {rows} items with videos to {path} (videos in {path.parent / 'videos'})")
    return 0


def _converted(args: argparse.Namespace, result: Any, noun: str) -> int:
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.counts.items())
    print(f"wrote {result.rows} {noun} to {result.path}" + (f" ({counts})" if counts else ""))
    for note in result.notes:
        print(f"  note: {note}")
    return 0


# ---- entry point -----------------------------------------------------------------------------


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # library warnings (a missing model, a skipped channel) are messages for the user here
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # restored on the way out: main() is also called in-process (tests, the chatrec command)
    shown_before = warnings.showwarning
    warnings.showwarning = _show_warning
    if _quiet(args) or args.func in (cmd_search, cmd_stats):
        # model-loading bars of transformers / huggingface_hub: noise around a short answer
        # (read when those libraries are first imported, which happens later)
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        return _run(args)
    finally:
        warnings.showwarning = shown_before


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except ChatrecError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into `head`: not an error; keep Python from complaining at exit
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0


if __name__ == "__main__":
    sys.exit(main())

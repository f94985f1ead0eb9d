"""Benchmarks: ``python -m eval bench ingest|search|turn|ranking|transcribe|all``.

Each bench measures the project against the bare cost of the work it cannot avoid, in the
same run, and writes ``NAME.json`` + ``NAME.md`` into ``--out`` (default ``eval_out/bench``).
Figures are printed, never asserted: a busy machine changes times, not the ratios.
"""

from __future__ import annotations

import importlib

# bench name -> module whose main(argv) -> int runs it
BENCHES = {
    "ingest": "eval.bench.ingest",
    "search": "eval.bench.search",
    "turn": "eval.bench.turn",
    "ranking": "eval.bench.ranking",
    "transcribe": "eval.bench.transcribe",
}


def main(name: str, argv: list[str] | None = None) -> int:
    """Run one bench (or ``all`` of them in turn, each with its default sizes, into the
    given ``--out``) and return the exit code."""
    argv = list(argv or [])
    if name == "all":
        return _all(argv)
    if name not in BENCHES:
        raise ValueError(f"unknown bench {name!r} (known: {', '.join(BENCHES)}, all)")
    module = importlib.import_module(BENCHES[name])
    return int(module.main(argv) or 0)


def _all(argv: list[str]) -> int:
    import argparse

    from .common import DEFAULT_OUT

    parser = argparse.ArgumentParser(prog="python -m eval bench all",
                                     description="Run every bench with its default sizes: "
                                                 + ", ".join(BENCHES) + ".")
    parser.add_argument("--out", default=DEFAULT_OUT, help="folder for every bench's JSON and Markdown")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    args = parser.parse_args(argv)
    code = 0
    for bench in BENCHES:
        extra = ["-q"] if args.quiet and bench != "ranking" else []
        code = max(code, main(bench, ["--out", args.out, *extra]))
    return code

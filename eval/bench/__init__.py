"""Benchmarks: ``python -m eval bench ingest|search|turn|ranking|all``.

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
}


def main(name: str, argv: list[str] | None = None) -> int:
    """Run one bench (or ``all`` of them in turn, each with its default sizes and the
    given ``--out``) and return the exit code."""
    argv = list(argv or [])
    if name == "all":
        out = _out_arg(argv)
        code = 0
        for bench in BENCHES:
            code = max(code, int(main(bench, out) or 0))
        return code
    if name not in BENCHES:
        raise ValueError(f"unknown bench {name!r} (known: {', '.join(BENCHES)}, all)")
    module = importlib.import_module(BENCHES[name])
    return int(module.main(argv) or 0)


def _out_arg(argv: list[str]) -> list[str]:
    for i, a in enumerate(argv):
        if a == "--out" and i + 1 < len(argv):
            return ["--out", argv[i + 1]]
        if a.startswith("--out="):
            return [a]
    return []

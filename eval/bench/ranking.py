"""``python -m eval bench ranking``: :mod:`eval.bench_ranking` (label scoring in one
forward pass against generating the ranked list as text), written as ``ranking.json`` and
``ranking.md`` into ``--out`` like the other benches. Every option of
``eval/bench_ranking.py`` passes through (``--model``, ``--turns``, ``--candidates`` ...).
"""

from __future__ import annotations

import argparse
from typing import Any

from . import common

COLUMNS = [("method", "method"), ("s_per_turn", "s per turn"), ("mrr", "MRR"),
           ("unknown_items", "unknown items"), ("incomplete_lists", "incomplete lists")]


def main(argv: list[str] | None = None) -> int:
    from eval import bench_ranking

    argv = list(argv or [])
    parser = argparse.ArgumentParser(prog="python -m eval bench ranking",
                                     description=bench_ranking.__doc__.split("\n")[0])
    bench_ranking.add_arguments(parser)
    parser.add_argument("--out", default=common.DEFAULT_OUT, help="folder for ranking.json and ranking.md")
    args = parser.parse_args(argv)
    result = common.new_result("ranking", argv, {k: v for k, v in vars(args).items() if k != "out"})
    figures = bench_ranking.run(args)
    result["figures"] = figures
    result["rows"] = rows(figures)
    result["notes"] += [
        f"model: {figures['model']} on {figures['device']} ({figures['quantization']}); "
        f"{figures['turns']} ReDial turns x {figures['candidates']} candidates",
        f"generate / score_labels time: {figures['generate_over_score_ratio']}x "
        f"(generation forced to the full list length: {figures['generation_forced_to_full_list_length']})",
    ]
    paths = common.write_results(args.out, common.finish(result), COLUMNS)
    print(f"wrote {paths['json']} and {paths['markdown']}")
    return 0


def rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The two methods of :func:`eval.bench_ranking.run` as table rows."""
    return [
        {"method": "score_labels (one forward pass)", "s_per_turn": figures["score_labels_s_per_turn"],
         "mrr": figures["mrr_score_labels"], "unknown_items": 0, "incomplete_lists": 0},
        {"method": "generate the list as text", "s_per_turn": figures["generate_s_per_turn"],
         "mrr": figures["mrr_generate"], "unknown_items": figures["unknown_items_in_generated_lists"],
         "incomplete_lists": figures["generated_lists_incomplete"]},
        {"method": "random order (expected)", "s_per_turn": None, "mrr": figures["mrr_random_order"],
         "unknown_items": 0, "incomplete_lists": 0},
    ]

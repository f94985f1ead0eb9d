"""Benchmark: rank the same candidates for the same conversations with the same model two
ways, and compare.

1. ``score_labels``: the candidates are labelled A, B, C ... in one prompt and one forward
   pass gives every label's next-token probability (what the assistant does).
2. ``generate``: the model writes the ranked list of labels as text, which is parsed;
   labels that name no candidate (and unreadable entries) are counted as unknown items.

Conversations are ReDial dev turns (context with ``@id`` replaced by titles); each turn's
candidates are its target movie plus random other movies from ``movies_id2info.json``, in a
seeded random order. Without ``--model`` a tiny random-weight chat model is built in a
temporary folder (timings then measure the machinery, not a real model's quality).

    python -m eval bench ranking [--model PATH_OR_ID] [--turns 20] [--candidates 20] [--out DIR]

``--model smollm2-135m`` runs the real SmolLM2-135M-Instruct bundled offline (GGUF); any
``llm_model`` value works (a hub id in the cache, a folder, a ``.gguf`` file). The figures
are printed and written as ``ranking.json`` and ``ranking.md`` into ``--out`` like the
other benches.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from retrieval.settings import REPO_ROOT
from retrieval.types import Candidate

from . import common

DATASETS = REPO_ROOT.parent / "shared" / "datasets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="", help="LLM hub id or local folder (default: a tiny random model)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--quantization", default="4bit", choices=["4bit", "8bit", "none"],
                        help="applied on CUDA only (default 4bit)")
    parser.add_argument("--turns", type=int, default=20, help="conversations to rank for (default 20)")
    parser.add_argument("--candidates", type=int, default=20, help="candidates per turn (default 20, at most 52)")
    parser.add_argument("--datasets", default=str(DATASETS), help="the shared datasets folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="", help="also write the figures to this JSON file")


def ranking_turns(datasets: Path, n_turns: int, n_candidates: int, seed: int):
    """``[(SessionState, candidates, target id)]`` for the first ``n_turns`` ReDial dev
    turns whose target has catalog information."""
    from assistant.state import SessionState
    from eval.datasets import load_turns

    info = json.loads((datasets / "redial" / "movies_id2info.json").read_text(encoding="utf-8"))
    catalog = {k: v for k, v in info.items() if v.get("plot")}
    ids = sorted(catalog)
    rng = random.Random(seed)
    out = []
    for turn in load_turns(datasets / "redial" / "dev_dialogues.jsonl", "redial"):
        target = next((t for t in turn.targets if t in catalog), None)
        if target is None or not turn.context:
            continue
        others = [i for i in rng.sample(ids, n_candidates + 5) if i != target][: n_candidates - 1]
        chosen = others + [target]
        rng.shuffle(chosen)
        state = SessionState(messages=[{"role": m.role, "content": m.text} for m in turn.context])
        out.append((state, [_candidate(i, catalog[i]) for i in chosen], target))
        if len(out) >= n_turns:
            break
    return out


def _candidate(movie_id: str, m: dict[str, Any]) -> Candidate:
    meta = {"genre": list(m.get("genre") or []), "director": ", ".join(m.get("director") or []),
            "star": ", ".join((m.get("star") or [])[:3])}
    return Candidate(id=movie_id, title=" ".join(m["name"].split()), score=0.0, metadata=meta,
                     document=m.get("plot", ""))


def parse_label_list(text: str, labels: list[str]) -> tuple[list[str], int]:
    """Labels named in a generated list, in order without repeats, and how many entries
    named no candidate. Entries are split at commas, spaces, semicolons and new lines."""
    valid = set(labels)
    found: list[str] = []
    unknown = 0
    for entry in re.split(r"[,;\s]+", text.strip()):
        entry = entry.strip(" .:)(-*[]\"'")
        if not entry:
            continue
        if entry in valid:
            if entry not in found:
                found.append(entry)
        else:
            unknown += 1
    return found, unknown


def _load_llm(args):
    from assistant.llm.local import TransformersLLM
    from retrieval.device import resolve_device

    device = resolve_device(args.device)
    quant = args.quantization if device.startswith("cuda") else "none"
    if args.model:
        return TransformersLLM(args.model, device, quant), None
    from assistant.llm.tiny import build_tiny_chat_model

    tmp = tempfile.TemporaryDirectory(prefix="chatrec-bench-")
    info = json.loads((Path(args.datasets) / "redial" / "movies_id2info.json").read_text(encoding="utf-8"))
    # a larger vocabulary than the tests' model keeps ReDial prompts at a realistic length
    texts = [f"{v['name']} {v.get('plot', '')}" for v in list(info.values())[:3000]]
    folder = build_tiny_chat_model(Path(tmp.name) / "tiny", texts, vocab_size=4000)
    return TransformersLLM(str(folder), device, quant), tmp


def _generate_list(llm, messages, labels, force_full_length: bool) -> str:
    """Generate the ranked list. A random-weight model stops (or loops on newlines) long
    before a real model would finish the list, which would flatter this baseline; with
    ``force_full_length`` it must write at least as many tokens as the shortest complete
    list ("A, B, C, ...") takes, which is the least any real model must spend."""
    max_new = 3 * len(labels) + 8  # about three tokens per "X, " entry, plus slack
    if not force_full_length:
        return llm.generate(messages, max_new_tokens=max_new)
    shortest = len(llm.tokenizer(", ".join(labels), add_special_tokens=False)["input_ids"])
    return llm.generate(messages, max_new_tokens=max(max_new, shortest), min_new_tokens=shortest)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; print a table and return the figures as a dict."""
    from assistant import llm_tasks

    if not 2 <= args.candidates <= len(llm_tasks.LABELS):
        raise SystemExit(f"error: --candidates must be 2..{len(llm_tasks.LABELS)}")
    turns = ranking_turns(Path(args.datasets), args.turns, args.candidates, args.seed)
    if not turns:
        raise SystemExit(f"error: no ReDial turns found under {args.datasets}")
    llm, tmp = _load_llm(args)
    try:
        # one warm-up of each path so lazy initialisation is not timed
        state, cands, _ = turns[0]
        llm_tasks.rank(llm, state, {}, cands)
        llm.generate(llm_tasks.ranking_messages(state, {}, cands, task="ranking_list")[0], max_new_tokens=4)
        score_times, gen_times, score_rr, gen_rr = [], [], [], []
        unknown = generated = incomplete = 0
        sample = ""
        for state, cands, target in turns:
            t0 = time.perf_counter()
            ranked = llm_tasks.rank(llm, state, {}, cands)
            score_times.append(time.perf_counter() - t0)
            order = [c.id for c, _ in ranked]
            score_rr.append(1.0 / (order.index(target) + 1))

            messages, labels = llm_tasks.ranking_messages(state, {}, cands, task="ranking_list")
            t0 = time.perf_counter()
            text = _generate_list(llm, messages, labels, force_full_length=not args.model)
            gen_times.append(time.perf_counter() - t0)
            sample = sample or text
            found, bad = parse_label_list(text, list(labels))
            unknown += bad
            generated += len(found) + bad
            incomplete += len(found) < len(labels)
            by_label = {lab: c.id for lab, c in zip(labels, cands, strict=True)}
            gen_order = [by_label[lab] for lab in found]
            gen_rr.append(1.0 / (gen_order.index(target) + 1) if target in gen_order else 0.0)
    finally:
        if tmp is not None:
            tmp.cleanup()
    score_t = statistics.mean(score_times)
    gen_t = statistics.mean(gen_times)
    result = {
        "model": args.model or "tiny random-weight Qwen2 (built on the fly)",
        "generation_forced_to_full_list_length": not args.model,
        "device": getattr(llm, "device", "?"), "quantization": getattr(llm, "quantization", "none"),
        "turns": len(turns), "candidates": args.candidates,
        "score_labels_s_per_turn": round(score_t, 5),
        "generate_s_per_turn": round(gen_t, 5),
        "generate_over_score_ratio": round(gen_t / score_t, 2) if score_t else None,
        "generated_entries": generated,
        "unknown_items_in_generated_lists": unknown,
        "generated_lists_incomplete": incomplete,
        "mrr_score_labels": round(statistics.mean(score_rr), 4),
        "mrr_generate": round(statistics.mean(gen_rr), 4),
        # what a shuffled list scores: the candidates are in a seeded random order
        "mrr_random_order": round(sum(1.0 / r for r in range(1, args.candidates + 1)) / args.candidates, 4),
        "example_generated_text": sample[:120],
    }
    _print(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def _print(r: dict[str, Any]) -> None:
    print(f"ranking benchmark: {r['turns']} ReDial turns x {r['candidates']} candidates, model {r['model']} "
          f"on {r['device']} ({r['quantization']})")
    print(f"  {'method':<14} {'s/turn':>9} {'MRR':>7}")
    print(f"  {'score_labels':<14} {r['score_labels_s_per_turn']:>9.4f} {r['mrr_score_labels']:>7.3f}")
    print(f"  {'generate':<14} {r['generate_s_per_turn']:>9.4f} {r['mrr_generate']:>7.3f}")
    print(f"  {'random order':<14} {'':>9} {r['mrr_random_order']:>7.3f}")
    print(f"  generate / score_labels time: {r['generate_over_score_ratio']}x")
    print(f"  unknown items in generated lists: {r['unknown_items_in_generated_lists']} of "
          f"{r['generated_entries']} entries; incomplete lists: {r['generated_lists_incomplete']}/{r['turns']}")
    print(f"  first generated list: {r['example_generated_text']!r}")


COLUMNS = [("method", "method"), ("s_per_turn", "s per turn"), ("mrr", "MRR"),
           ("unknown_items", "unknown items"), ("incomplete_lists", "incomplete lists")]


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    parser = argparse.ArgumentParser(prog="python -m eval bench ranking", description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--out", default=common.DEFAULT_OUT, help="folder for ranking.json and ranking.md")
    args = parser.parse_args(argv)
    result = common.new_result("ranking", argv, {k: v for k, v in vars(args).items() if k != "out"})
    figures = run(args)
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
    """The two methods of :func:`run` as table rows."""
    return [
        {"method": "score_labels (one forward pass)", "s_per_turn": figures["score_labels_s_per_turn"],
         "mrr": figures["mrr_score_labels"], "unknown_items": 0, "incomplete_lists": 0},
        {"method": "generate the list as text", "s_per_turn": figures["generate_s_per_turn"],
         "mrr": figures["mrr_generate"], "unknown_items": figures["unknown_items_in_generated_lists"],
         "incomplete_lists": figures["generated_lists_incomplete"]},
        {"method": "random order (expected)", "s_per_turn": None, "mrr": figures["mrr_random_order"],
         "unknown_items": 0, "incomplete_lists": 0},
    ]

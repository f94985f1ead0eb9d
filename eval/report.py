"""Write an evaluation result three ways: ``results.json``, ``report.md`` and ``recall.png``.

The result is a plain dict (built by :mod:`eval.runner`):
``{"dataset": {...}, "catalog": {...}, "protocol": [...], "systems": {name: {...}}}`` where
each system holds ``all`` and ``new`` (ranking metrics over all targets and over targets not
already mentioned), ``curve_all`` / ``curve_new`` (recall at each k), list metrics and
latency. The Markdown reads on its own: dataset, counts, systems, metrics with CIs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

JSON_FILE, MD_FILE, PNG_FILE = "results.json", "report.md", "recall.png"


def write_report(result: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write the three outputs into ``out_dir`` (created); returns their paths by kind."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / JSON_FILE, "markdown": out / MD_FILE, "png": out / PNG_FILE}
    paths["json"].write_text(json.dumps(result, indent=2, default=_jsonable), encoding="utf-8")
    paths["markdown"].write_text(markdown(result), encoding="utf-8")
    plot(result, paths["png"])
    return paths


def _jsonable(x):
    if isinstance(x, (set, tuple)):
        return list(x)
    if hasattr(x, "item"):  # numpy scalars
        return x.item()
    return str(x)


def _f(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _recall_cell(m: dict) -> str:
    lo, hi = m["ci95"]
    return f"{_f(m['mean'])} [{_f(lo)}, {_f(hi)}]"


def markdown(result: dict) -> str:
    """The report as Markdown: what was evaluated, then one table per target subset."""
    ds, cat = result.get("dataset", {}), result.get("catalog", {})
    systems = result.get("systems", {})
    lines = [f"# Evaluation: {ds.get('name', ds.get('path', 'dataset'))}", ""]
    lines.append(f"- dataset: `{ds.get('path', '?')}` (format {ds.get('format', '?')}"
                 + (f", limit {ds['limit']}, seed {ds.get('seed')}" if ds.get("limit") else "") + ")")
    lines.append(f"- turns: {ds.get('turns', '?')} in {ds.get('dialogues', '?')} conversations; "
                 f"targets: {ds.get('targets', '?')} (not already mentioned: {ds.get('new_targets', '?')}; "
                 f"outside the catalog: {ds.get('targets_outside_catalog', 0)})")
    lines.append(f"- catalog: {cat.get('items', '?')} items (`{cat.get('index', '?')}`)")
    for note in result.get("protocol", []):
        lines.append(f"- {note}")
    if result.get("command"):
        lines.append(f"- command: `{result['command']}`")
    lines.append("")
    lines.append("Systems:")
    lines.append("")
    for name, s in systems.items():
        lines.append(f"- **{name}**: {s.get('description', '')}")
    for subset, title in (("new", "Targets not already mentioned"), ("all", "All targets")):
        lines += ["", f"## {title}", "",
                  "Recall with its 95% bootstrap CI (conversations resampled); NDCG@10; MRR.", "",
                  "| system | targets | Recall@1 | Recall@10 | Recall@50 | NDCG@10 | MRR |",
                  "| --- | ---: | --- | --- | --- | ---: | ---: |"]
        for name, s in systems.items():
            m = s.get(subset)
            if not m or not m.get("targets"):
                lines.append(f"| {name} | 0 | – | – | – | – | – |")
                continue
            lines.append(f"| {name} | {m['targets']} | {_recall_cell(m['recall@1'])} | "
                         f"{_recall_cell(m['recall@10'])} | {_recall_cell(m['recall@50'])} | "
                         f"{_f(m['ndcg@10'])} | {_f(m['mrr'])} |")
    lines += ["", "## Lists and latency", "",
              f"Over the top {result.get('list_k', 10)} recommendations of each turn. "
              "Latency in milliseconds per turn (p50 / p95); the retrieval systems share one search "
              "per turn (every channel), timed as `retrieve`, and differ only in the fusion; `encode` is each query's share of "
              "the query encoding, done ahead in batches.", "",
              "| system | outside catalog | repeats mentioned | top item share | Gini | latency total | stages |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, s in systems.items():
        lat = s.get("latency", {})
        total = lat.get("total", {})
        stages = ", ".join(f"{k} {_ms(v['p50'])}/{_ms(v['p95'])}" for k, v in lat.items() if k != "total")
        lines.append(f"| {name} | {_f(s.get('outside_catalog'))} | {_f(s.get('repeated'))} | "
                     f"{_f(s.get('top_item_share'))} | {_f(s.get('gini'))} | "
                     f"{_ms(total.get('p50'))} / {_ms(total.get('p95'))} | {stages or '–'} |")
    checked = {n: s["llm_checks"] for n, s in systems.items() if s.get("llm_checks")}
    if checked:
        lines += ["", "## The LLM's answers, checked", "",
                  "Answers that failed their check fell back for that task alone "
                  "(assistant/answer_checks.py).", "",
                  "| system | task | answers | fell back | rate |", "| --- | --- | ---: | ---: | ---: |"]
        for n, tasks in checked.items():
            for task, c in tasks.items():
                lines.append(f"| {n} | {task} | {c['asked']} | {c['failed']} | {_f(c['rate'])} |")
    errors = {n: s["errors"] for n, s in systems.items() if s.get("errors")}
    if errors:
        lines += ["", "Turns that failed (counted as misses): "
                  + ", ".join(f"{n}: {c}" for n, c in errors.items())]
    return "\n".join(lines) + "\n"


def _ms(seconds) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    return f"{seconds * 1000:.0f}"


def plot(result: dict, path: str | Path) -> Path:
    """Recall at k for each system, over all targets and over new targets (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, subset, title in ((axes[0], "curve_new", "targets not already mentioned"),
                              (axes[1], "curve_all", "all targets")):
        for name, s in result.get("systems", {}).items():
            curve = s.get(subset) or {}
            if curve:
                ks = sorted(int(k) for k in curve)
                ax.plot(ks, [curve[str(k)] if str(k) in curve else curve[k] for k in ks],
                        marker="o", markersize=3, label=name)
        ax.set_xscale("log")
        ticks = sorted({int(k) for s in result.get("systems", {}).values() for k in (s.get(subset) or {})})
        if ticks:
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
        ax.set_xlabel("k")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("Recall@k")
    axes[0].legend(fontsize=8)
    ds = result.get("dataset", {})
    fig.suptitle(f"{ds.get('name', 'evaluation')}: {ds.get('turns', '?')} turns")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)

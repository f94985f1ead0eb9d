"""Plain-text rendering for ``python -m retrieval``: reports, search results, stats.

Kept apart from the argument handling so the formatting is tested without a subprocess.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from .types import Candidate, Problem

# Enough to see what is wrong; the full list goes to --report FILE.json.
MAX_PROBLEMS_SHOWN = 50
# the web catalog panel has no --report: it lists more
MAX_PROBLEMS_ONLINE = 200


def format_problem(problem: Problem) -> str:
    """``file:line [field] reason`` (the item id, when known, in parentheses)."""
    where = f"{problem.file}:{problem.line}" if problem.line is not None else problem.file
    what = f" [{problem.field}]" if problem.field else ""
    who = f" (id {problem.item_id})" if problem.item_id else ""
    return f"{where}{what}{who} {problem.severity}: {problem.reason}"


def format_problems(problems: Iterable[Problem], limit: int = MAX_PROBLEMS_SHOWN,
                    more_hint: str = "write them all with --report FILE.json") -> list[str]:
    problems = list(problems)
    lines = [format_problem(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more problems: {more_hint}")
    return lines


def format_ingest_report(report: Any, markdown: bool = False, folder: str | Path | None = None) -> str:
    """The one rendering of an ``IngestReport`` for people: what was indexed, where every
    row of each file read went (``rows: 12 = 10 ingested + 2 skipped``), then the problems.

    Plain text for the CLI and the app's start-up (problems as ``file:line [field]
    severity: reason``, up to 50: the full list goes to ``--report``); ``markdown=True``
    for the web catalog panel (up to 200, file names shown relative to ``folder``, the
    upload's folder on the server, which is not the user's business)."""
    problems = list(report.problems)
    if markdown:
        lines = [f"**Ingested** {report.items_total} items in {float(report.seconds):.1f} s: "
                 f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
                 f"{report.removed} removed, {report.skipped} skipped."]
        lines += [f"\n{line}." for line in accounting_lines(report, "Rows in the file")]
        if problems:
            prefix = f"{folder}/" if folder else None
            lines += ["", f"**{len(problems)} problem(s):**"]
            lines += [f"- {str(p).replace(prefix, '') if prefix else p}" for p in problems[:MAX_PROBLEMS_ONLINE]]
            if len(problems) > MAX_PROBLEMS_ONLINE:
                lines.append(f"- … and {len(problems) - MAX_PROBLEMS_ONLINE} more")
        return "\n".join(lines)
    errors = sum(1 for p in problems if p.severity == "error")
    lines = [
        f"{report.catalog}: {_n(report.items_total, 'item')} indexed: {report.added} added, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.removed} removed; "
        f"{_n(report.skipped, 'row')} skipped ({report.seconds:.1f} s)"
    ]
    lines += accounting_lines(report)
    if getattr(report, "videos", 0) or getattr(report, "frames_encoded", 0):
        lines.append(f"{_n(report.videos, 'video')} read, {_n(report.frames_encoded, 'frame')} encoded")
    stale = getattr(report, "stale", 0)
    if stale:
        lines.append(f"{_n(stale, 'indexed item')} no longer in the catalog: --prune removes them")
    if problems:
        lines.append(f"{_n(errors, 'error')}, {_n(len(problems) - errors, 'warning')}:")
        lines += ["  " + line for line in format_problems(problems)]
    return "\n".join(lines)


def accounting_lines(report: Any, rows: str = "rows") -> list[str]:
    """One line per file an ``IngestReport`` read (its ``reads``, the catalog first), saying
    where its records went: ``rows: 12 = 10 ingested + 2 skipped`` for the catalog
    (``rows`` names them), ``log.csv: 500 interactions = 498 read + 2 skipped`` for the
    interaction log."""
    lines = []
    for index, count in enumerate(getattr(report, "reads", None) or []):
        if index == 0:
            span = f" (on {count.lines} lines)" if count.lines and count.lines != count.records else ""
            line = f"{rows}: {count.records} = {count.accepted} ingested + {count.reported} skipped{span}"
            if count.unaccounted:
                line += f"; {count.unaccounted} unaccounted (a bug in the reader)"
            lines.append(line)
        else:
            lines.append(count.summary("read", "skipped"))
    return lines


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report_to_dict(report: Any) -> dict[str, Any]:
    if hasattr(report, "to_dict"):
        return report.to_dict()
    if is_dataclass(report):
        return asdict(report)
    return dict(vars(report))


def format_candidates(candidates: list[Candidate]) -> str:
    """One line per result: rank, id, title, fused score and the channels that found it."""
    if not candidates:
        return "no results"
    rows = []
    for rank, c in enumerate(candidates, start=1):
        channels = " ".join(f"{h.channel}#{h.rank}" for h in sorted(c.evidence, key=lambda h: h.rank))
        rows.append((f"{rank}.", c.id, c.title, f"{c.score:.4f}", channels or "-"))
    id_width = min(max(len(r[1]) for r in rows), 40)
    title_width = min(max(len(r[2]) for r in rows), 50)
    out = []
    for rank, item_id, title, score, channels in rows:
        if len(title) > title_width:
            title = title[: title_width - 1] + "…"
        out.append(f"{rank:>4} {item_id:<{id_width}}  {title:<{title_width}}  {score}  {channels}")
    return "\n".join(out)


def candidates_to_json(candidates: list[Candidate]) -> str:
    return json.dumps([c.to_dict() for c in candidates], ensure_ascii=False, indent=2, default=str)


def format_stats(stats: dict[str, Any], index_dir: Path | None = None) -> str:
    """Index statistics as indented ``key: value`` lines, plus the folder and its size.

    The manifest of the last ingest is summarised (``--json`` prints all of it)."""
    stats = dict(stats)
    manifest = stats.pop("manifest", None)
    lines = _lines(stats, 0)
    if isinstance(manifest, dict):
        last = manifest.get("last_ingest") or {}
        lines.append(f"last ingest: {manifest.get('time', '?')} from {manifest.get('catalog', '?')}"
                     + (f" ({last.get('items_total')} items, {manifest.get('problems', 0)} problems)"
                        if last else ""))
    if index_dir is not None:
        lines.append(f"index folder: {index_dir}")
        lines.append(f"size on disk: {human_size(folder_size(index_dir))}")
    return "\n".join(lines)


def _lines(value: Any, depth: int) -> list[str]:
    pad = "  " * depth
    out = []
    for key, item in value.items():
        if isinstance(item, dict) and item:
            out.append(f"{pad}{key}:")
            out += _lines(item, depth + 1)
        elif isinstance(item, (list, tuple)):
            out.append(f"{pad}{key}: {', '.join(map(str, item)) if item else '-'}")
        else:
            out.append(f"{pad}{key}: {'-' if item is None or item == {} else item}")
    return out


def folder_size(path: Path) -> int:
    """Bytes used by the files under ``path`` (0 when it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # a file removed while walking
    return total


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


def format_prefetch(results: list[Any]) -> str:
    """One line per ``PrefetchResult(role, model_id, ok, message)``."""
    return "\n".join(f"{'ok  ' if r.ok else 'FAIL'} {r.role:<8} {r.model_id}" + (f": {r.message}" if r.message else "")
                     for r in results)

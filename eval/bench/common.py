"""What every benchmark shares: timing, percentiles, memory, index size on disk, a
description of the machine, the real movie catalog and its cached vectors, and the writer
of ``NAME.json`` + ``NAME.md``.

Benchmarks print figures and never fail on time. Each one measures, in the same run, the
project and the bare cost of the work it cannot avoid (the encoder alone, one ChromaDB
query), interleaved where it can, so their ratio holds on a busy machine where absolute
times do not.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from retrieval.settings import REPO_ROOT
from retrieval.timing import stopwatch  # noqa: F401  (re-exported for the benches)

DEFAULT_OUT = "eval_out/bench"
DATASETS = REPO_ROOT.parent / "shared" / "datasets"


# ---- timing ---------------------------------------------------------------------------------




def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """``(seconds, result)`` of ``fn(*args, **kwargs)``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread (torch's, Chroma's) included. On a
    machine shared with other work, CPU time moves far less than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float, Any]:
    """``(wall seconds, CPU seconds, result)`` of ``fn(*args, **kwargs)``."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = fn(*args, **kwargs)
    return time.perf_counter() - wall, cpu_seconds() - cpu, result


def percentiles(samples: Sequence[float], points: Iterable[int] = (50, 95)) -> dict[str, float]:
    """``{"p50": ..., "p95": ..., "mean": ..., "n": ...}`` of ``samples`` (linear
    interpolation between order statistics, as numpy's default); empty -> {"n": 0}."""
    values = sorted(float(s) for s in samples)
    if not values:
        return {"n": 0}
    out: dict[str, float] = {}
    for p in points:
        pos = (len(values) - 1) * p / 100
        lo = int(pos)
        hi = min(lo + 1, len(values) - 1)
        out[f"p{p}"] = values[lo] + (values[hi] - values[lo]) * (pos - lo)
    out["mean"] = statistics.fmean(values)
    out["n"] = len(values)
    return out


def ms(seconds: float | None) -> float | None:
    """Seconds -> milliseconds, rounded for tables."""
    return None if seconds is None else round(seconds * 1000, 2)


# ---- memory and disk ------------------------------------------------------------------------


def rss_mb() -> float:
    """The process's resident memory now, in MiB (Linux ``/proc``; else the peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MiB (``getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


@contextmanager
def python_peak(into: dict[str, float], name: str = "python_peak_mb"):
    """Peak of Python allocations inside the block (``tracemalloc``), in MiB. Native
    allocations (torch, Chroma's Rust core) are not seen: pair it with :func:`rss_mb`.
    tracemalloc slows Python down, so never wrap a block that is being timed."""
    import tracemalloc

    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        if started:
            tracemalloc.stop()
        into[name] = round(peak / (1024 * 1024), 2)


def dir_size_mb(path: str | Path) -> float:
    """Total size of the files under ``path`` in MiB (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:  # a file Chroma removed meanwhile
                pass
    return round(total / (1024 * 1024), 2)


# ---- the machine ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU, cores usable, memory, load, library versions."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": _memory_gb(),
    }
    try:
        info["load_avg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    for module in ("torch", "chromadb", "sentence_transformers", "open_clip", "transformers"):
        mod = sys.modules.get(module)
        if mod is not None:
            info[module] = getattr(mod, "__version__", "?")
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = bool(torch.cuda.is_available())
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_line(m: dict[str, Any]) -> str:
    """One line describing the machine, for Markdown."""
    load = m.get("load_avg_1_5_15")
    parts = [f"{m.get('cpu')}", f"{m.get('cores_usable')} usable cores of {m.get('cores')}",
             f"{m.get('memory_gb')} GB RAM", f"Python {m.get('python')}"]
    if "torch" in m:
        parts.append(f"torch {m['torch']} ({m.get('torch_threads')} threads, "
                     f"{'CUDA' if m.get('cuda') else 'CPU only'})")
    if "chromadb" in m:
        parts.append(f"chromadb {m['chromadb']}")
    if load:
        parts.append(f"load average {load[0]} / {load[1]} / {load[2]} at the end")
    return ", ".join(parts)


# ---- output -----------------------------------------------------------------------------------


def command_line(name: str, argv: Sequence[str]) -> str:
    return "python -m eval bench " + " ".join(shlex.quote(a) for a in [name, *argv])


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A Markdown table of ``rows`` with ``columns`` = ``[(key, header), ...]``."""
    head = "| " + " | ".join(h for _, h in columns) + " |"
    rule = "| " + " | ".join("---:" if _numeric(rows, k) else "---" for k, _ in columns) + " |"
    body = ["| " + " | ".join(_cell(r.get(k)) for k, _ in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def _numeric(rows, key) -> bool:
    return any(isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool) for r in rows)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def write_results(out_dir: str | Path, result: dict[str, Any], columns: Sequence[tuple[str, str]]) -> dict[str, Path]:
    """Write ``result`` as ``<bench>.json`` and ``<bench>.md`` (title, machine, command,
    table of ``result["rows"]``, notes) into ``out_dir``; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = result["bench"]
    json_path = out / f"{name}.json"
    md_path = out / f"{name}.md"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    lines = [f"### bench {name}", "",
             f"Machine: {machine_line(result['machine'])}.", "",
             f"Command: `{result['command']}` ({result['seconds']:.0f} s, {result['finished']}).", "",
             markdown_table(result["rows"], columns), ""]
    for note in result.get("notes", []):
        lines.append(f"- {note}")
    md_path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return {"json": json_path, "markdown": md_path}


def new_result(name: str, argv: Sequence[str], params: dict[str, Any]) -> dict[str, Any]:
    """The skeleton every bench fills: ``rows`` (the table), ``notes`` (what was measured
    how), ``params``; :func:`finish` adds the machine and the time taken."""
    return {"bench": name, "command": command_line(name, argv), "params": params, "rows": [],
            "notes": [], "_started": time.perf_counter()}


def finish(result: dict[str, Any]) -> dict[str, Any]:
    result["seconds"] = round(time.perf_counter() - result.pop("_started"), 1)
    result["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result["machine"] = machine()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def say(message: str, quiet: bool = False) -> None:
    """Progress for the person running the bench (stderr, so stdout stays the table)."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


# ---- the real movie catalog -------------------------------------------------------------------


def movie_catalog(work_dir: Path, datasets: Path = DATASETS) -> Path:
    """The ReDial movie catalog (JSONL) built by :func:`retrieval.convert.convert_redial_movies`
    from ``movies_id2info.json`` and ``movies_with_mentions.csv`` (all 6,924 movies; those
    without information have a title and year only), written once into ``work_dir``."""
    from retrieval.convert import convert_redial_movies

    source = datasets / "redial" / "movies_id2info.json"
    if not source.is_file():
        from retrieval.errors import InputError

        raise InputError(f"the ReDial movie file {source} is missing: the benchmarks use the shared "
                         "datasets folder next to the repository (../shared/datasets)")
    out = Path(work_dir) / "redial_movies.jsonl"
    if not out.is_file() or out.stat().st_mtime < source.stat().st_mtime:
        work_dir.mkdir(parents=True, exist_ok=True)
        convert_redial_movies(source, out, datasets / "redial" / "movies_with_mentions.csv")
    return out


def head_catalog(catalog: Path, n: int, out: Path) -> Path:
    """The first ``n`` rows of a JSONL catalog, as a new file."""
    lines = []
    with open(catalog, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                lines.append(line if line.endswith("\n") else line + "\n")
                if len(lines) >= n:
                    break
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(lines), encoding="utf-8")
    return out


def documents_of(catalog: Path) -> tuple[list, list[str]]:
    """The catalog's items and the documents ingest embeds for them (same function)."""
    from retrieval.catalog import read_catalog
    from retrieval.ingest import build_document

    items = read_catalog(catalog).items
    return items, [build_document(item) for item in items]


def cached_vectors(encoder, texts: list[str], cache_dir: Path, quiet: bool = False):
    """``encoder.encode(texts)``, cached in ``cache_dir`` by model id and text content, so
    repeated bench runs embed the real catalog once."""
    import numpy as np

    digest = hashlib.sha1(json.dumps([encoder.model_id, texts]).encode("utf-8")).hexdigest()[:16]
    path = Path(cache_dir) / f"vectors-{digest}.npy"
    if path.is_file():
        return np.load(path)
    say(f"embedding {len(texts)} documents once with {encoder.model_id} (cached in {path})", quiet)
    vectors = encoder.encode(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors

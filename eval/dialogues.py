"""``python -m eval dialogues``: multi-turn conversation scenarios through the real
:class:`~assistant.chat.Chat`, turn by turn (with the LLM when one is configured).

Scenario file: one conversation per line::

    {"id": str, "tags": [str, ...], "turns": [{"user": str, "relevant": [ids]?, "forbidden": [ids]?}, ...]}

A turn with ``relevant`` or ``forbidden`` is judged on the reply's top ``k`` items:
success (at least one relevant item), precision@k (the relevant items in the top k over
min(k, number of relevant items)) and violation (any forbidden item). Reported overall
and by tag, with every failed turn and the titles it returned.

A malformed line, an unknown id or a turn without words is reported with its line and
the rest runs: no scenario is dropped without a word.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import InputError
from retrieval.types import Problem, ReadCount


@dataclass
class Scenario:
    id: str
    tags: list[str]
    turns: list[dict[str, Any]]
    line: int


@dataclass
class ScenarioFile:
    """The scenarios read from a file, what was reported (each naming its line), and the
    count: every non-blank line is a scenario run or a scenario reported."""

    path: Path
    scenarios: list[Scenario] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    count: ReadCount | None = None

    @property
    def lines(self) -> int:
        return self.count.records if self.count else 0

    @property
    def skipped(self) -> int:
        return self.count.reported if self.count else 0


def read_scenarios(path: str | Path, known_ids: set[str] | None = None) -> ScenarioFile:
    """Parse a scenario file. Ids not in ``known_ids`` are reported and dropped from their
    turn; a turn left with nothing to judge is run but not judged. Raises
    :class:`InputError` when the file is missing or holds no scenario at all."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot be read as UTF-8 text ({e})") from None
    out = ScenarioFile(path, count=ReadCount(str(path), unit="scenario"))
    refused: list[Problem] = []

    def refuse(n: int, reason: str) -> None:
        out.count.refuse(Problem(str(path), n, None, reason), refused)
        out.problems.append(f"{path}:{n}: {reason}")

    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        out.count.seen()
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except ValueError as e:
            refuse(n, f"not valid JSON ({e.msg} at column {e.colno}); line skipped")
            continue
        if not isinstance(obj, dict):
            refuse(n, f"a scenario must be a JSON object, not {type(obj).__name__}; line skipped")
            continue
        turns = obj.get("turns")
        if not isinstance(turns, list) or not turns:
            refuse(n, "'turns' must be a non-empty list; line skipped")
            continue
        sid = str(obj.get("id") or f"line-{n}")
        if sid in seen:
            out.problems.append(f"{where}: id {sid!r} was used before; this one is named {sid}@{n}")
            sid = f"{sid}@{n}"
        seen.add(sid)
        tags = obj.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            out.problems.append(f"{where}: 'tags' must be a list of strings; tags ignored")
            tags = []
        clean = []
        bad = False
        for k, t in enumerate(turns, start=1):
            if not isinstance(t, dict) or not isinstance(t.get("user"), str) or not t["user"].strip():
                refuse(n, f"turn {k} needs a non-empty 'user' text; line skipped")
                bad = True
                break
            turn = {"user": t["user"]}
            for key in ("relevant", "forbidden"):
                if key not in t:
                    continue
                ids = t[key]
                if not isinstance(ids, list):
                    out.problems.append(f"{where}: turn {k}: '{key}' must be a list of item ids; ignored")
                    continue
                ids = [str(i) for i in ids]
                unknown = [i for i in ids if known_ids is not None and i not in known_ids]
                if unknown:
                    out.problems.append(f"{where}: turn {k}: unknown item id(s) in {key} (not in the catalog): "
                                        + ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else ""))
                    ids = [i for i in ids if i not in unknown]
                if key == "relevant" and not ids:
                    out.problems.append(f"{where}: turn {k}: no relevant item left; the turn is judged on "
                                        "'forbidden' only" if "forbidden" in t else
                                        f"{where}: turn {k}: no relevant item left; the turn is not judged")
                    continue
                turn[key] = ids
            clean.append(turn)
        if not bad:
            out.scenarios.append(Scenario(sid, tags, clean, n))
            out.count.accept()
    if not out.scenarios:
        raise InputError(f"{path}: no scenario could be read ({out.lines} line(s))"
                         + (": " + "; ".join(out.problems[:3]) if out.problems else ""))
    return out


def judge(top: list[str], turn: dict[str, Any], k: int) -> dict[str, Any] | None:
    """The scores of one turn's top ``k`` ids, or None when the turn is not judged."""
    if "relevant" not in turn and "forbidden" not in turn:
        return None
    top = top[:k]
    out: dict[str, Any] = {}
    if "relevant" in turn:
        relevant = set(turn["relevant"])
        hits = sum(1 for i in top if i in relevant)
        out["success"] = float(hits > 0)
        out["precision"] = hits / min(k, len(relevant))
    forbidden = set(turn.get("forbidden", ()))
    shown = [i for i in top if i in forbidden]
    out["violation"] = float(bool(shown))
    out["forbidden_shown"] = shown
    return out


def run_scenarios(recommender, scenarios: ScenarioFile, k: int = 5, progress: bool = True) -> dict[str, Any]:
    """Run every scenario in a fresh chat and judge its turns. Returns the results dict
    written as results.json."""
    from tqdm import tqdm

    titles = recommender.titles()
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    seconds: list[float] = []
    for sc in tqdm(scenarios.scenarios, desc="scenarios", unit="conv", disable=not progress):
        chat = recommender.chat()
        for n, turn in enumerate(sc.turns, start=1):
            t0 = time.perf_counter()
            try:
                reply = chat.send(turn["user"], explain=False)
            except InputError as e:
                errors.append(f"{scenarios.path}:{sc.line}: scenario {sc.id} turn {n}: {e}")
                break
            seconds.append(time.perf_counter() - t0)
            ids = [r.id for r in reply.items]
            scores = judge(ids, turn, k)
            if scores is None:
                continue
            rows.append({"scenario": sc.id, "turn": n, "tags": sc.tags, "user": turn["user"],
                         "returned": [titles.get(i, i) for i in ids[:k]], "returned_ids": ids[:k],
                         "constraints": [c["label"] for c in reply.constraints], **scores})
    result = {"judged_turns": len(rows), **_summary(rows), "k": k, "by_tag": {},
              "scenarios": len(scenarios.scenarios), "file": str(scenarios.path),
              "lines": scenarios.count.to_dict() if scenarios.count else None,
              "problems": scenarios.problems + errors,
              "turn_seconds_p50": _percentile(seconds, 50), "turn_seconds_p95": _percentile(seconds, 95)}
    tags: dict[str, list] = defaultdict(list)
    for r in rows:
        for t in r["tags"] or ["untagged"]:
            tags[t].append(r)
    result["by_tag"] = {t: {"judged_turns": len(rs), **_summary(rs)} for t, rs in sorted(tags.items())}
    result["failed"] = [r for r in rows if r.get("success") == 0.0 or r["violation"] or r.get("precision", 1.0) < 1.0]
    return result


def _summary(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    def mean(key):
        vals = [r[key] for r in rows if key in r]
        return round(sum(vals) / len(vals), 4) if vals else None
    return {"success": mean("success"), "precision": mean("precision"), "violation_rate": mean("violation")}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))], 4)


def write_report(result: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """``results.json`` and ``report.md`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "report.md"}
    paths["json"].write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")

    def f(v):
        return "–" if v is None else f"{v:.3f}"

    lines = [f"# Conversation scenarios: {result['file']}", "",
             f"{result['scenarios']} scenarios, {result['judged_turns']} judged turns, top {result['k']}.", "",
             "| tag | turns | success | precision | violation rate |", "| --- | ---: | ---: | ---: | ---: |",
             f"| **all** | {result['judged_turns']} | {f(result['success'])} | {f(result['precision'])} | "
             f"{f(result['violation_rate'])} |"]
    for tag, s in result["by_tag"].items():
        lines.append(f"| {tag} | {s['judged_turns']} | {f(s['success'])} | {f(s['precision'])} | {f(s['violation_rate'])} |")
    if result["problems"]:
        lines += ["", "## Problems in the file", ""] + [f"- {p}" for p in result["problems"]]
    lines += ["", "## Turns that failed or fell short", ""]
    for r in result["failed"]:
        why = []
        if r.get("success") == 0.0:
            why.append("no relevant item")
        elif r.get("precision", 1.0) < 1.0:
            why.append(f"precision {r['precision']:.2f}")
        if r["violation"]:
            why.append("forbidden shown: " + ", ".join(r["forbidden_shown"]))
        lines.append(f"- **{r['scenario']}** turn {r['turn']} ({', '.join(why)}): \u201c{r['user']}\u201d \u2192 "
                     + "; ".join(r["returned"]) + (f"  \n  in force: {' · '.join(r['constraints'])}" if r["constraints"] else ""))
    paths["markdown"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths

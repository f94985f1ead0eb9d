"""``python -m retrieval``: argument handling, exit codes, output, and a real
convert -> ingest -> search -> stats run on a slice of the demo catalog."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.__main__ import build_parser, main
from retrieval.cli_output import (
    format_candidates,
    format_ingest_report,
    format_problem,
    format_stats,
    human_size,
)
from retrieval.settings import DEMO_CATALOG, REPO_ROOT
from retrieval.types import Candidate, ChannelHit, Problem


def _env(data_dir: Path) -> dict[str, str]:
    """The user's environment without any CHATREC_ setting, plus a temporary data folder
    and only the text model (no CLIP, captions, transcripts or LLM: nothing to download)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATREC_")}
    env.update(CHATREC_DATA_DIR=str(data_dir), CHATREC_ENABLE_CLIP="false", CHATREC_ENABLE_CAPTIONS="false",
               CHATREC_ENABLE_TRANSCRIPTS="false", CHATREC_ENABLE_LLM="false", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(REPO_ROOT))
    return env


def _run(args: list[str], data_dir: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retrieval", *args], cwd=REPO_ROOT, env=_env(data_dir),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def demo_slice(tmp_path: Path) -> Path:
    """The first six demo products (with their photos) plus one row without a title."""
    folder = tmp_path / "catalog"
    (folder / "images").mkdir(parents=True)
    rows = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[:6]]
    for row in rows:
        shutil.copyfile(DEMO_CATALOG.parent / row["image"], folder / row["image"])
    bad = {k: v for k, v in rows[1].items() if k != "title"} | {"id": "Granny-Smith-2"}
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + [json.dumps(bad)]
    path = folder / "grocery.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---- subprocess: the real thing ---------------------------------------------------------------


def test_missing_catalog_exits_3_without_traceback(tmp_path: Path):
    result = _run(["ingest", str(tmp_path / "nope.jsonl")], tmp_path / "data", timeout=60)
    assert result.returncode == 3
    assert result.stderr.strip() == f"error: catalog file {tmp_path / 'nope.jsonl'} does not exist"
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_usage_exits_2(tmp_path: Path):
    result = _run(["search"], tmp_path / "data", timeout=60)
    assert result.returncode == 2 and "usage:" in result.stderr
    result = _run(["--index", "bad name", "stats"], tmp_path / "data", timeout=60)
    assert result.returncode == 2  # SettingsError.exit_code
    assert result.stderr.startswith("error: invalid settings: index_name") and "Traceback" not in result.stderr


def test_convert_grocery_subprocess(tmp_path: Path, shared_datasets: Path):
    out = tmp_path / "demo"
    result = _run(["convert", "grocery", str(shared_datasets / "grocery"), str(out)], tmp_path / "data", timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 81 items to {out / 'grocery.jsonl'}"
    assert len(list((out / "images").glob("*.jpg"))) == 81


@pytest.mark.model
def test_ingest_search_stats(tmp_path: Path, demo_slice: Path, monkeypatch, capsys):
    data = tmp_path / "data"
    report_path = tmp_path / "report.json"

    # two real subprocesses (each imports torch and loads the text model: the slow part) ...
    first = _run(["-q", "ingest", str(demo_slice), "--strict", "--report", str(report_path)], data)
    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr
    assert "6 items indexed: 6 added" in first.stdout
    assert f"{demo_slice}:7 [title] (id Granny-Smith-2) error: missing title" in first.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["added"] == 6 and report["skipped"] == 1
    assert [(p["line"], p["field"]) for p in report["problems"]] == [(7, "title")]

    found = _run(["search", "green sour apple", "-k", "3", "--json", "--exclude", "Avocado"], data)
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert 1 <= len(results) <= 3
    ids = [r["id"] for r in results]
    assert "Avocado" not in ids
    assert ids[0] == "Granny-Smith"
    assert all(r["evidence"] for r in results)

    # ... the rest through main() in this process, with the same environment
    for key in [k for k in os.environ if k.startswith("CHATREC_")]:
        monkeypatch.delenv(key)
    for key, value in _env(data).items():
        if key.startswith("CHATREC_"):
            monkeypatch.setenv(key, value)

    assert main(["ingest", str(demo_slice), "--quiet"]) == 0
    assert "6 unchanged" in capsys.readouterr().out

    assert main(["search", "fruit", "--where", '{"category": "Avocado"}']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].split()[:2] == ["1.", "Avocado"]

    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "items: 6" in out and "size on disk:" in out
    assert f"index folder: {data / 'indexes' / 'default'}" in out


# ---- in-process: parsing and output ----------------------------------------------------------


def test_global_options_before_or_after_the_command():
    parser = build_parser()
    a = parser.parse_args(["--data-dir", "/d", "--index", "movies", "-q", "search", "x", "-k", "3"])
    b = parser.parse_args(["search", "x", "-k", "3", "--data-dir", "/d", "--index", "movies", "-q"])
    for args in (a, b):
        assert (args.data_dir, args.index, args.quiet, args.text, args.k) == ("/d", "movies", True, "x", 3)
    c = parser.parse_args(["search", "x", "--exclude", "a", "b", "--liked", "c", "--where", "{}"])
    assert c.exclude == ["a", "b"] and c.liked == ["c"] and not hasattr(c, "quiet")


@pytest.mark.parametrize("argv", [
    ["search", "x", "--where", "{not json"],
    ["search", "x", "--where", "[1]"],
    ["search", "", ],
    ["search", "x", "-k", "0"],
    ["convert", "movielens", "a.csv"],
    ["frobnicate"],
])
def test_bad_usage_in_process(argv: list[str], capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_interaction_log_exits_3(tmp_path: Path, capsys):
    code = main(["--data-dir", str(tmp_path), "ingest", str(DEMO_CATALOG), "--interactions",
                 str(tmp_path / "ratings.csv")])
    assert code == 3
    assert capsys.readouterr().err == f"error: interaction log {tmp_path / 'ratings.csv'} does not exist\n"


def test_search_with_missing_image_is_an_input_error(tmp_path: Path, capsys):
    code = main(["--data-dir", str(tmp_path), "search", "apple", "--image", str(tmp_path / "no.jpg")])
    assert code == 7
    assert capsys.readouterr().err == f"error: image {tmp_path / 'no.jpg'} does not exist\n"


def test_convert_redial_in_process(tmp_path: Path, shared_datasets: Path, capsys):
    redial = shared_datasets / "redial"
    out = tmp_path / "movies.jsonl"
    code = main(["convert", "redial-movies", str(redial / "movies_id2info.json"), str(out),
                 "--mentions", str(redial / "movies_with_mentions.csv")])
    assert code == 0
    assert capsys.readouterr().out.strip() == f"wrote 6924 movies to {out} (with info 6583, title only 341)"


def test_convert_error_is_reported(tmp_path: Path, capsys):
    code = main(["convert", "redial-movies", str(tmp_path / "missing.json"), str(tmp_path / "m.jsonl")])
    assert code == 3
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.json'} does not exist\n"


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    import retrieval.convert

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(retrieval.convert, "convert_grocery", interrupted)
    assert main(["convert", "grocery", "a", "b"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_format_problem_and_report():
    p = Problem("cat.csv", 7, "title", "missing title; row skipped", "error", "Kiwi")
    assert format_problem(p) == "cat.csv:7 [title] (id Kiwi) error: missing title; row skipped"

    class Report:
        catalog = "cat.csv"
        items_total, added, updated, unchanged, removed, skipped, stale = 80, 2, 1, 77, 0, 1, 3
        seconds = 1.25
        problems = [p] * 60

    text = format_ingest_report(Report())
    lines = text.splitlines()
    assert lines[0] == ("cat.csv: 80 items indexed: 2 added, 1 updated, 77 unchanged, 0 removed; "
                        "1 row skipped (1.2 s)")
    assert lines[1] == "3 indexed items no longer in the catalog: --prune removes them"
    assert lines[2] == "60 errors, 0 warnings:"
    assert len(lines) == 3 + 50 + 1 and "10 more problems" in lines[-1]


def test_format_candidates_and_stats(tmp_path: Path):
    cands = [Candidate("Granny-Smith", "Apple Granny Smith Class 1", 0.0325,
                       evidence=[ChannelHit("keyword", 2, 1.0), ChannelHit("dense", 1, 0.8)]),
             Candidate("Kiwi", "Kiwi Class 1", 0.0161)]
    lines = format_candidates(cands).splitlines()
    assert lines[0].split() == ["1.", "Granny-Smith", "Apple", "Granny", "Smith", "Class", "1", "0.0325",
                                "dense#1", "keyword#2"]
    assert lines[1].split()[-2:] == ["0.0161", "-"]
    assert format_candidates([]) == "no results"

    (tmp_path / "chroma").mkdir()
    (tmp_path / "chroma" / "x.bin").write_bytes(b"0" * 2048)
    text = format_stats({"items": 6, "collections": {"docs": 6, "images": 0}, "models": {"clip": None},
                         "manifest": {"time": "T", "catalog": "c.jsonl", "problems": 1,
                                      "last_ingest": {"items_total": 6}}}, tmp_path)
    assert text.splitlines() == ["items: 6", "collections:", "  docs: 6", "  images: 0", "models:",
                                 "  clip: -", "last ingest: T from c.jsonl (6 items, 1 problems)",
                                 f"index folder: {tmp_path}", "size on disk: 2.0 KB"]
    assert human_size(10) == "10 B" and human_size(5 * 1024**3) == "5.0 GB"


def test_prefetch_reports_each_role_and_fails_with_4(tmp_path: Path, monkeypatch, capsys):
    for key in [k for k in os.environ if k.startswith("CHATREC_")]:
        monkeypatch.delenv(key)
    for key, value in _env(tmp_path / "data").items():
        if key.startswith("CHATREC_"):
            monkeypatch.setenv(key, value)
    # a whisper checkpoint path that is not there: reported, the other roles still run
    monkeypatch.setenv("CHATREC_ENABLE_TRANSCRIPTS", "true")
    monkeypatch.setenv("CHATREC_WHISPER_MODEL", str(tmp_path / "tiny.pt"))
    assert main(["-q", "prefetch"]) == 4
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split()[:2] for line in lines] == [["ok", "text"], ["ok", "clip"], ["ok", "caption"],
                                                   ["FAIL", "whisper"], ["ok", "faster-whisper"],
                                                   ["ok", "llm"]]
    assert str(tmp_path / "tiny.pt") in lines[3] and "skipped" in lines[1]
    assert captured.err == "error: 1 of 6 models could not be fetched (see above)\n"

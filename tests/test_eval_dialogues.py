"""``python -m eval dialogues`` on a small scenario file over the demo catalog, with exact
expected counts, and its handling of bad input (each problem named with its line)."""

from __future__ import annotations

import json

import pytest

from eval.__main__ import main
from eval.dialogues import judge, read_scenarios
from retrieval.errors import InputError
from retrieval.settings import DEMO_CATALOG

APPLES = ["Golden-Delicious", "Granny-Smith", "Pink-Lady", "Red-Delicious", "Royal-Gala"]
ROWS = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines()]
OTHER_FRUIT = [r["id"] for r in ROWS if r["attributes"]["group"] == "Fruit" and r["attributes"]["category"] != "Apple"]


def _write(path, lines):
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_judge_scores_one_turn():
    turn = {"relevant": ["a", "b"], "forbidden": ["x"]}
    assert judge(["a", "x", "c"], turn, 5) == {"success": 1.0, "precision": 0.5, "violation": 1.0,
                                              "forbidden_shown": ["x"]}
    # fewer relevant items than k: 1.0 is reachable
    assert judge(["b", "a", "c", "d", "e", "f"], turn, 5)["precision"] == 1.0
    assert judge(["c"], {"user": "hi"}, 5) is None


@pytest.mark.model
def test_dialogues_command_counts_and_reports(tmp_path, demo_index, capsys):
    settings, _ = demo_index
    scenarios = _write(tmp_path / "s.jsonl", [
        {"id": "ex", "tags": ["exclusion"], "turns": [
            {"user": "I want a fruit"},
            {"user": "no apples", "forbidden": APPLES, "relevant": OTHER_FRUIT}]},
        {"id": "ctl", "tags": ["control"], "turns": [{"user": "not sure, maybe apples", "relevant": APPLES}]},
        {"id": "miss", "tags": ["control", "hard"], "turns": [{"user": "a pear", "relevant": ["Cucumber"]}]},
    ])
    out = tmp_path / "out"
    code = main(["dialogues", str(scenarios), "--data-dir", settings.data_dir, "--index", settings.index_name,
                 "--out", str(out), "-q"])
    assert code == 0
    result = json.loads((out / "results.json").read_text())
    assert result["judged_turns"] == 3 and result["scenarios"] == 3
    assert result["success"] == pytest.approx(2 / 3, abs=1e-4) and result["violation_rate"] == 0.0
    assert result["by_tag"]["control"]["judged_turns"] == 2 and result["by_tag"]["exclusion"]["success"] == 1.0
    assert [(f["scenario"], f["turn"]) for f in result["failed"]] == [("miss", 1)]
    report = (out / "report.md").read_text()
    assert "**miss** turn 1 (no relevant item)" in report and "Pear" in report
    printed = capsys.readouterr().out
    assert "3 scenarios, 3 judged turns (3 lines read, 0 skipped)" in printed


def test_bad_lines_are_named_and_the_rest_runs(tmp_path):
    path = _write(tmp_path / "bad.jsonl", [
        {"id": "ok", "turns": [{"user": "apples", "relevant": ["Granny-Smith", "nope-1"]}]},
        "{this is not json",
        {"id": "noturns", "turns": []},
        {"id": "noword", "turns": [{"relevant": ["Mango"]}]},
        {"id": "unknown", "turns": [{"user": "x", "relevant": ["nope-2"]}]},
        "[1, 2]",
    ])
    read = read_scenarios(path, known_ids=set(APPLES) | {"Mango"})
    assert [s.id for s in read.scenarios] == ["ok", "unknown"]
    assert read.lines == 6 and read.skipped == 4 and read.count.unaccounted == 0 and read.count.accepted == 2
    problems = "\n".join(read.problems)
    assert f"{path}:1: turn 1: unknown item id(s) in relevant (not in the catalog): nope-1" in problems
    assert f"{path}:2: not valid JSON" in problems
    assert f"{path}:3: 'turns' must be a non-empty list" in problems
    assert f"{path}:4: turn 1 needs a non-empty 'user' text" in problems
    assert f"{path}:5: turn 1: no relevant item left; the turn is not judged" in problems
    assert f"{path}:6: a scenario must be a JSON object, not list" in problems
    assert read.scenarios[0].turns[0]["relevant"] == ["Granny-Smith"]
    assert "relevant" not in read.scenarios[1].turns[0]


def test_an_empty_file_is_an_error_naming_it(tmp_path, capsys):
    empty = _write(tmp_path / "empty.jsonl", [""])
    with pytest.raises(InputError, match="no scenario could be read"):
        read_scenarios(empty)
    # refused before any index is opened or built
    assert main(["dialogues", str(empty), "--data-dir", str(tmp_path / "d"), "--catalog", str(DEMO_CATALOG),
                 "-q"]) != 0
    assert not (tmp_path / "d").exists()
    assert f"{empty}: no scenario could be read" in capsys.readouterr().err

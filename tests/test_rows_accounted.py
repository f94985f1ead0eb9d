"""No row lost without a word, over a corpus of hand-made bad files (``tests/data/``).

Each catalog in ``tests/data/bad_catalogs`` is declared below with the lines where its
data rows start, as a person reading the file sees them: every one of those rows must be
ingested (an item from that line) or reported (an error at that line, or the file refused
whole with a message naming it). The same holds for the interaction log and the
conversation files in ``tests/data/bad_logs``. The totals (files tried, rows in, ingested,
reported) are printed in the test output:

    .venv/bin/python -m pytest -q tests/test_rows_accounted.py
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eval.datasets import read_dataset
from retrieval.catalog import read_catalog
from retrieval.collab import read_interaction_log, read_interactions
from retrieval.errors import CatalogError
from retrieval.fakes import FakeTextEncoder
from retrieval.ingest import ingest
from retrieval.models import ModelHub
from retrieval.settings import Settings
from retrieval.types import ReadCount

DATA = Path(__file__).parent / "data"
CATALOGS = DATA / "bad_catalogs"
LOGS = DATA / "bad_logs"
TEXT_ONLY = {"enable_clip": False, "enable_captions": False, "enable_transcripts": False}


@dataclass
class Expect:
    """What a person sees in one hand-made file."""

    # first physical line of each data row
    rows: list[int]
    # ids of the rows that must be ingested, in file order
    ingested: list[str] = field(default_factory=list)
    # line -> words the error naming that skipped row must hold
    skipped: dict[int, list[str]] = field(default_factory=dict)
    # line -> words of a problem on a row kept anyway (a warning, or a part left out)
    noted: dict[int, list[str]] = field(default_factory=dict)
    # words of the CatalogError when the file is refused whole (every row reported at once)
    refused: list[str] | None = None


QUOTE = ["closing quote is probably missing"]
EXPECTED: dict[str, Expect] = {
    # the example: the second row was swallowed into the first item's title
    "unclosed_quote.csv": Expect([2, 3], ["2"], {2: ["opened on line 2", "never closed", *QUOTE]}),
    "unclosed_quote_mid_file.csv": Expect([2, 3, 4, 5, 6], ["Golden-Delicious", "Orange", "Plum", "Garlic"],
                                          {3: ["opened on line 3", "lines 3-5", *QUOTE]}),
    "unclosed_quote_at_end.csv": Expect([2, 3], ["Lemon"], {3: ["opened on line 3", "lines 3-4 skipped", *QUOTE]}),
    "unclosed_quote_in_header.csv": Expect([2, 3], refused=["header", *QUOTE]),
    "bom.csv": Expect([2, 3], ["Arla-Sour-Milk", "Garlic"]),
    "bom_crlf.jsonl": Expect([1, 2], ["Arla-Sour-Milk", "Valio-Vanilla-Yoghurt"]),
    "crlf.csv": Expect([2, 4], ["Lemon", "Orange"]),
    "cr_only.csv": Expect([2, 3], ["Lemon", "Plum"]),
    "mixed_delimiters.csv": Expect([2, 3, 4, 5], ["Lemon", "Plum"],
                                   {3: ["holds ';'", "header uses ','"], 5: ["2 values", "holds ';'"]}),
    "trailing_delimiter.csv": Expect([2, 3], ["Lemon", "Plum"], noted={1: ["column(s) 4 have no name"]}),
    "trailing_delimiter_rows_only.csv": Expect([2, 3], ["Lemon", "Plum"]),
    "header_only.csv": Expect([], refused=["has no rows"]),
    "empty.csv": Expect([], refused=["is empty"]),
    "duplicate_headers.csv": Expect([2, 3, 4], refused=["repeated in the header: origin"]),
    "truncated_last_line.csv": Expect([2, 3, 4], ["Lemon", "Plum", "Garlic"],
                                      noted={4: ["ends inside this row", "cut off", "2 values of 4"]}),
    "truncated_last_line.jsonl": Expect([1, 2], ["Lemon"], {2: ["invalid JSON"]}),
    "latin1_rows.csv": Expect([2, 3, 4, 5], ["Garlic", "Lemon"], {3: ["not valid UTF-8", "0xf6"],
                                                                  4: ["not valid UTF-8", "0xf6"]}),
    "header_not_utf8.csv": Expect([2], refused=["not valid UTF-8", "0xe4", "line 1"]),
    "decimal_commas.csv": Expect([2, 3, 4, 5, 6], ["Golden-Delicious", "Orange", "Arla-Medium-Fat-Milk",
                                                   "Arla-Sour-Milk", "Valio-Vanilla-Yoghurt"],
                                 noted={4: ["'1,030'", "1.03", "1030"], 5: ["'1.000'", "decimal commas"]}),
    "tab_separated.csv": Expect([2, 3], ["Plum", "Garlic"]),
    "too_many_values.csv": Expect([2, 3], ["Garlic"], {2: ["5 values", "4 columns"]}),
    "stray_quotes.csv": Expect([2, 3], ["Valio-Vanilla-Yoghurt", "Garlic"], noted={2: ["quotes", "malformed"]}),
    "missing_id_and_title.csv": Expect([2, 3, 4, 5], ["Orange"], {2: ["missing id"], 3: ["missing title"],
                                                                 4: ["missing id"]}),
    "duplicate_ids.jsonl": Expect([1, 2, 3, 4, 5], ["Lemon", "Plum", "7"],
                                  {3: ["duplicate id 'Lemon'", "first on line 1"], 5: ["duplicate id '7'"]}),
    "not_objects.jsonl": Expect([1, 2, 3, 4, 5, 6, 7], ["Garlic"],
                                {1: ["got a list"], 2: ["got a number"], 3: ["got text"], 5: ["invalid JSON"],
                                 6: ["missing id"], 7: ["got null"]}),
    "blank_and_whitespace_lines.csv": Expect([5, 9], ["Lemon", "Plum"]),
    "multiline_descriptions.csv": Expect([2, 5], ["Lemon", "Orange"]),
    "semicolon_header_with_comma.csv": Expect([2, 3], ["Lemon", "Plum"]),
    "lone_surrogate.jsonl": Expect([1, 2], ["Plum"], {1: ["lone surrogate"]}),
    "short_rows.csv": Expect([2, 3, 4], ["Lemon", "Plum", "Garlic"],
                             noted={2: ["3 values", "origin left empty"], 3: ["category, origin left empty"]}),
    "nul_byte.csv": Expect([2, 3], ["Lemon", "Plum"], noted={2: ["NUL"]}),
    "wrong_value_types.jsonl": Expect([1, 2, 3, 4], ["Lemon", "Garlic"],
                                      {2: ["title must be text"], 3: ["id must be text"]},
                                      noted={1: ["one type"], 4: ["not an object"]}),
}
# what the issue asks the corpus to hold, at least
REQUIRED = ["unclosed_quote.csv", "bom.csv", "crlf.csv", "mixed_delimiters.csv", "trailing_delimiter.csv",
            "header_only.csv", "duplicate_headers.csv", "truncated_last_line.csv"]


@dataclass
class Outcome:
    rows: int = 0
    ingested: int = 0
    reported: int = 0
    noted: int = 0


def show(request, text: str) -> None:
    """Print past pytest's output capture, so the figure stands in the test output."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print(text)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("\n" + text)


def _check_catalog(name: str) -> Outcome:
    """Read one corpus file and check it against EXPECTED; the figures of that file."""
    path = CATALOGS / name
    expect = EXPECTED[name]
    if expect.refused is not None:
        with pytest.raises(CatalogError) as e:
            read_catalog(path)
        message = str(e.value)
        assert str(path) in message
        assert all(w in message for w in expect.refused), message
        return Outcome(rows=len(expect.rows), reported=len(expect.rows))

    read = read_catalog(path)
    count = read.count
    # the reader's count is the rows a person sees, and each went one way
    assert count.records == read.rows == len(expect.rows), count
    assert count.accepted == len(read.items) and count.reported == read.skipped
    assert count.unaccounted == 0
    assert [i.id for i in read.items] == expect.ingested
    item_lines = [i.source[1] for i in read.items]
    assert set(item_lines) <= set(expect.rows) and len(set(item_lines)) == len(item_lines)
    unread = set(expect.rows) - set(item_lines)
    assert unread == set(expect.skipped), f"rows neither ingested nor expected skipped: {unread}"
    errors: dict[int, list[str]] = {}
    for p in read.problems:
        assert p.file == str(path) and p.reason
        if p.severity == "error":
            errors.setdefault(p.line, []).append(p.reason)
    for line, words in expect.skipped.items():
        reasons = " | ".join(errors.get(line, []))
        assert reasons, f"row on line {line} was skipped without an error naming its line"
        assert all(w in reasons for w in words), f"line {line}: {reasons!r} lacks {words}"
    for line, words in expect.noted.items():
        reasons = " | ".join(p.reason for p in read.problems if p.line == line)
        assert all(w in reasons for w in words), f"line {line}: {reasons!r} lacks {words}"
    # nothing reported but what is expected
    assert {p.line for p in read.problems} == set(expect.skipped) | set(expect.noted), \
        [str(p) for p in read.problems]
    return Outcome(rows=count.records, ingested=count.accepted, reported=count.reported,
                   noted=len(set(expect.noted) & set(item_lines)))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_row_of_each_bad_catalog_is_ingested_or_reported(name: str):
    _check_catalog(name)


def test_the_corpus_loses_no_row(request):
    names = sorted(p.name for p in CATALOGS.iterdir())
    assert names == sorted(EXPECTED), "every file of the corpus is declared, and only those"
    assert len(names) >= 20 and set(REQUIRED) <= set(names)
    total = Outcome()
    for name in names:
        got = _check_catalog(name)
        total.rows += got.rows
        total.ingested += got.ingested
        total.reported += got.reported
        total.noted += got.noted
    assert total.rows == total.ingested + total.reported
    assert total.reported > 0 and total.noted > 0
    show(request, f"bad-catalog corpus: {len(names)} files tried, {total.rows} rows in, {total.ingested} rows "
                   f"ingested ({total.noted} of them with a warning), {total.reported} rows reported, "
                   f"{total.rows - total.ingested - total.reported} unaccounted")


# ---- the example through the CLI, --strict, and the web report ---------------------------


@pytest.fixture(scope="module")
def minilm():
    return ModelHub(Settings.load(env={}, **TEXT_ONLY)).text_encoder()


def test_cli_prints_the_rows_and_strict_fails_on_a_missing_quote(tmp_path, monkeypatch, capsys, minilm):
    from retrieval.__main__ import main

    for key in [k for k in os.environ if k.startswith("CHATREC_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CHATREC_DATA_DIR", str(tmp_path / "data"))
    for key in TEXT_ONLY:
        monkeypatch.setenv(f"CHATREC_{key.upper()}", "false")
    catalog = CATALOGS / "unclosed_quote.csv"
    assert main(["ingest", str(catalog), "-q"]) == 0
    out = capsys.readouterr().out
    assert "1 item indexed: 1 added" in out and "1 row skipped" in out
    assert "rows: 2 = 1 ingested + 1 skipped" in out
    assert f"{catalog}:2 error: the quoted value opened on line 2 is never closed" in out
    assert "closing quote is probably missing" in out

    assert main(["ingest", str(catalog), "-q", "--strict"]) == 1
    out, err = capsys.readouterr()
    assert "rows: 2 = 1 ingested + 1 skipped" in out and "--strict" in err

    # the interaction log's lines are counted too, and its bad lines listed
    catalog, log = CATALOGS / "unclosed_quote_mid_file.csv", LOGS / "interactions.csv"
    assert main(["ingest", str(catalog), "-q", "--index", "mid", "--interactions", str(log)]) == 0
    out = capsys.readouterr().out
    assert "rows: 5 = 4 ingested + 1 skipped" in out
    assert f"{log}: 9 interactions = 4 read + 5 skipped" in out
    assert f"{log}:6 [rating] error: rating 'good' is not a number" in out


def test_web_report_states_rows_ingested_and_skipped(tmp_path):
    from retrieval.cli_output import format_ingest_report

    settings = Settings.load(env={}, data_dir=str(tmp_path / "data"), **TEXT_ONLY)
    hub = ModelHub(settings, overrides={"text": FakeTextEncoder()})
    report = ingest(settings, CATALOGS / "unclosed_quote_mid_file.csv", hub=hub, progress=False)
    assert (report.rows, report.items_total, report.skipped) == (5, 4, 1)
    assert [c.records for c in report.reads] == [5]
    text = format_ingest_report(report, markdown=True, folder=CATALOGS)
    assert "Rows in the file: 5 = 4 ingested + 1 skipped." in text
    assert "unclosed_quote_mid_file.csv:3: the quoted value opened on line 3" in text


# ---- the other files the project reads ------------------------------------------------------------


def test_interaction_log_lines_are_read_or_reported():
    path = LOGS / "interactions.csv"
    log = read_interaction_log(path)
    # line 1 is the header, line 4 blank; the quote opened on line 8 swallowed 9-11
    assert log.rows == [("u1", "Lemon", 4.5), ("u2", "Plum", None), ("u7", "Lemon", 1.0), ("u9", "Plum", 2.0)]
    assert (log.count.records, log.count.accepted, log.count.reported, log.count.unaccounted) == (9, 4, 5, 0)
    assert [(p.line, p.field) for p in log.problems] == [(5, "item"), (6, "rating"), (7, None), (8, None),
                                                         (10, None)]
    reasons = [p.reason for p in log.problems]
    assert "empty item" in reasons[0] and "'good' is not a number" in reasons[1]
    assert "user,item[,rating]" in reasons[2] and "opened on line 8" in reasons[3] and "UTF-8" in reasons[4]
    # the strict reader (eval's logs) stops at the first bad line, naming it
    with pytest.raises(CatalogError, match="interactions.csv:5 .*empty item.*and 4 more"):
        read_interactions(path)


def test_conversation_files_count_every_line(shared_datasets):
    redial = read_dataset(LOGS / "redial_dialogues.jsonl")
    assert redial.count.unit == "dialogue"
    # lines 1 and 5 are real ReDial dialogues; 2 is cut short, 3 has no messages, 6 wrong types
    assert (redial.count.records, redial.count.accepted, redial.count.reported) == (5, 2, 3)
    assert [p.line for p in redial.problems] == [2, 3, 6]
    assert "no 'messages' key" in redial.problems[1].reason
    assert len(redial.turns) == 7 and {t.dialogue for t in redial.turns} == {"6712", "16611"}

    turns = read_dataset(LOGS / "turns.jsonl")
    assert (turns.count.records, turns.count.accepted, turns.count.reported) == (6, 2, 4)
    assert [p.line for p in turns.problems] == [2, 3, 4, 6]
    assert "'targets' is empty" in turns.problems[0].reason and "no 'targets' key" in turns.problems[1].reason
    assert [t.targets for t in turns.turns] == [["Orange"], ["Arla-Standard-Milk"]]

    with pytest.raises(CatalogError, match="turns.jsonl:2: 'targets' is empty"):
        read_dataset(LOGS / "turns.jsonl", strict=True)

    # the real development dialogues: every line read
    dev = read_dataset(shared_datasets / "redial" / "dev_dialogues.jsonl")
    assert dev.problems == [] and dev.count.records == dev.count.accepted > 100


def test_other_files_lose_no_line(request):
    log = read_interaction_log(LOGS / "interactions.csv").count
    dialogues = read_dataset(LOGS / "redial_dialogues.jsonl").count
    turns = read_dataset(LOGS / "turns.jsonl").count
    total = ReadCount.total([log, dialogues, turns], unit="record")
    assert total.unaccounted == 0 and total.records == total.accepted + total.reported
    show(request, f"bad logs (interactions, ReDial dialogues, turns): 3 files tried, {total.records} records in, "
                   f"{total.accepted} accepted, {total.reported} reported, {total.unaccounted} unaccounted")


def test_decimal_commas_give_numbers_and_ambiguous_values_stay_text():
    read = read_catalog(CATALOGS / "decimal_commas.csv")
    attrs = {i.id: i.attributes for i in read.items}
    assert attrs["Golden-Delicious"] == {"weight_kg": 0.18}
    assert attrs["Arla-Medium-Fat-Milk"] == {"weight_kg": "1,030", "fat_percent": 1.5}
    assert attrs["Arla-Sour-Milk"] == {"weight_kg": "1.000", "fat_percent": 3}
    assert attrs["Valio-Vanilla-Yoghurt"] == {"weight_kg": 1, "fat_percent": 2.0}
    assert all(p.severity == "warning" for p in read.problems)
    # "under 0.5 kg" finds the fruit, by number
    from retrieval.filters import where_matches

    light = [i.id for i in read.items if where_matches({"weight_kg": {"$lt": 0.5}}, i.attributes)]
    assert light == ["Golden-Delicious", "Orange"]
    tabs = read_catalog(CATALOGS / "tab_separated.csv")
    assert [i.attributes["weight_kg"] for i in tabs.items] == [0.07, 0.05]


def test_read_count_records_where_each_record_went(tmp_path):
    from retrieval.types import Problem

    count = ReadCount("scenarios.jsonl", unit="scenario")
    problems: list = []
    count.seen()
    count.accept()
    count.seen(lines=3)
    count.refuse(Problem("scenarios.jsonl", 2, None, "no 'turns' key"), problems)
    count.seen()  # counted, then neither accepted nor refused: a lost record shows
    assert (count.records, count.accepted, count.reported, count.lines, count.unaccounted) == (3, 1, 1, 5, 1)
    assert count.summary() == ("scenarios.jsonl: 3 scenarios on 5 lines = 1 accepted + 1 reported "
                               "(1 unaccounted: a bug in the reader)")
    assert [p.line for p in problems] == [2]
    # a strict reader passes no list: the problem is raised, naming file and line
    with pytest.raises(CatalogError, match=r"^scenarios.jsonl:7: bad$"):
        count.refuse(Problem("scenarios.jsonl", 7, None, "bad"), None)
    total = ReadCount.total([count, ReadCount("b", records=2, accepted=2, lines=2)])
    assert (total.records, total.accepted, total.reported, total.lines) == (5, 3, 1, 7)
    assert ReadCount("a.csv", records=1, accepted=1, lines=1).summary("ingested", "skipped") == \
        "a.csv: 1 row = 1 ingested + 0 skipped"
    assert count.to_dict()["unit"] == "scenario"

"""Round trips (hypothesis, derandomized): random catalogs and interaction logs written with
Python's own ``csv.writer`` and ``json.dumps`` are read back through the project's readers.

Every row written comes back equal field for field (id, title, description, attributes
and their types) or is reported with its line; never neither, and no row is invented.
The same catalogs damaged at a random byte (the file cut there, that byte replaced by one
that is not UTF-8, or a quote put there: the missing or extra quote that swallows rows)
give back every row before the damage as before, and the damaged row equal or reported
(at one of its lines). What a CSV cannot carry is left out of the generated values, by
the documented rules: text that reads as a number, true/false or a ``|`` list; spaces at
either end of a cell (trimmed); runs of spaces in titles (collapsed).

The totals (catalogs tried, rows in, ingested, reported) are printed in the test output:

    .venv/bin/python -m pytest -q tests/test_roundtrip_properties.py
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.catalog import read_catalog
from retrieval.collab import read_interaction_log
from retrieval.errors import CatalogError
from tests.test_rows_accounted import show

# a few hundred fixed examples by default; ROUNDTRIP_EXAMPLES=5000 searches that many new ones
_LONG = int(os.environ.get("ROUNDTRIP_EXAMPLES", "0"))
ROUND_TRIP = settings(max_examples=_LONG or 300, deadline=None, derandomize=not _LONG, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DAMAGE = settings(ROUND_TRIP, max_examples=_LONG or 200)
FIGURES: dict[str, Counter] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_figures(request):
    yield
    for name, c in FIGURES.items():
        equal = f" ({c['equal']} equal field for field)" if "equal" in c else ""
        show(request, f"{name}: {c['files']} files tried, {c['rows']} rows in, {c['ingested']} rows ingested{equal}, "
                      f"{c['reported']} rows reported, {c['rows'] - c['ingested'] - c['reported']} unaccounted"
                      + (f"; of {c['damaged']} rows hit by the damage, {c['damage_reported']} reported and "
                         f"{c['damage_equal']} unchanged (only a line break cut)" if c["damaged"] else ""))


# ---- values -----------------------------------------------------------------------------------

# any text a file can hold (no lone surrogates), with the troublemakers often
raw_text = (st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=10)
            | st.text(alphabet=st.sampled_from('ab ,;\t"\'\n\r|é€中\u2028\x85'), max_size=8))
# text a CSV cell keeps as text: it holds a letter (other than an exponent's e), no | and
# is not true/false
textual = st.tuples(raw_text, st.sampled_from("abcxyzÄé中"), raw_text).map(
    lambda t: "".join(t).replace("|", "/")).filter(lambda s: s.strip().lower() not in ("true", "false"))
finite = st.floats(allow_nan=False, allow_infinity=False)
KINDS = ("text", "int", "float", "bool", "texts", "ints", "floats")
NAMES = ["category", "price", "year", "organic", "tags", "Größe", "note, free", 'say "hi"', "line\nbreak",
         "weight kg", "size;cm", "_private", "content_hash"]


def value_of(kind: str) -> st.SearchStrategy:
    return {"text": textual, "int": st.integers(-10 ** 6, 10 ** 6), "float": finite, "bool": st.booleans(),
            "texts": st.lists(textual, min_size=1, max_size=3),
            "ints": st.lists(st.integers(-999, 999), min_size=1, max_size=3),
            "floats": st.lists(finite, min_size=1, max_size=3)}[kind]


def _mostly(usual: st.SearchStrategy, rare: st.SearchStrategy) -> st.SearchStrategy:
    """``usual`` nine times in ten, ``rare`` the tenth."""
    return st.integers(0, 9).flatmap(lambda k: rare if k == 0 else usual)


@dataclass
class Row:
    id: Any
    title: Any
    description: Any
    attributes: dict[str, Any]


@st.composite
def catalogs(draw, csv_format: bool):
    """(columns [(name, kind)], rows); values may be None (an empty cell / no key)."""
    names = draw(st.lists(st.sampled_from(NAMES), max_size=5, unique=True))
    columns = [(name, draw(st.sampled_from(KINDS))) for name in names]
    # mostly good rows, so equality is tested as much as reporting: one id in ten from a
    # small set (repeated ids), titles sometimes blank; in JSON, one in ten of a wrong type
    ids = _mostly(textual | st.integers(0, 10 ** 6), st.sampled_from(["a", "b", " a ", "7", 7]))
    titles = _mostly(textual, raw_text)
    if not csv_format:  # JSON carries any type, so wrong ones must be reported
        ids = _mostly(ids, st.booleans() | st.none() | st.floats())
        titles = _mostly(titles, st.integers() | st.none() | st.lists(st.text(max_size=3)))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        attributes = {}
        for name, kind in columns:
            value = draw(_mostly(value_of(kind), st.none()))
            if not csv_format and draw(st.integers(0, 19)) == 0:
                value = draw(st.sampled_from([float("nan"), [1, "x"], {"k": 1}, [None, " x "], [1, 2.5]]))
            attributes[name] = value
        rows.append(Row(draw(ids), draw(titles), draw(st.none() | raw_text), attributes))
    return columns, rows


# ---- what the reader must give back --------------------------------------------------------------


def _clean(value: Any) -> Any:
    """An attribute value as the catalog keeps it, or None for "no value" (texts trimmed;
    None elements of a list dropped; a list of ints and floats is floats)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        kept = [c for c in (_clean(v) for v in value) if c is not None]
        if not kept:
            return None
        if {type(v) for v in kept} == {int, float}:
            return [float(v) for v in kept]
        return kept
    return value


def expected_item(row: Row) -> dict[str, Any]:
    return {"id": str(row.id).strip(), "title": " ".join(str(row.title).split()),
            "description": (row.description or "").strip(),
            "attributes": {name.strip(): _clean(v) for name, v in row.attributes.items() if _clean(v) is not None}}


def got_item(item) -> dict[str, Any]:
    return {"id": item.id, "title": item.title, "description": item.description, "attributes": item.attributes}


def _same(a: Any, b: Any) -> bool:
    """Equal, with types (1 and 1.0 and True differ) and NaN equal to itself."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


# ---- writing -------------------------------------------------------------------------------------


def _csv_cell(value: Any, decimal_comma: bool) -> str:
    def scalar(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return repr(v).replace(".", ",") if decimal_comma else repr(v)
        return str(v)

    if value is None:
        return ""
    if isinstance(value, list):  # a list of one is written "x|", so it stays a list
        return "|".join(scalar(v) for v in value) + ("|" if len(value) == 1 else "")
    return scalar(value)


def _quoting(terminator: str) -> int:
    # csv.writer quotes a value holding a character of its line terminator: with "\n"
    # alone, a value holding "\r" goes unquoted and every reader splits the row there
    return csv.QUOTE_MINIMAL if terminator == "\r\n" else csv.QUOTE_ALL


def _line_count(text: str) -> int:
    """Physical lines in ``text``, counted as the csv module splits them."""
    return len(io.StringIO(text, newline="").readlines())


@dataclass
class Written:
    data: bytes
    suffix: str
    # per row: its first line, its byte span [start, end) and what must come back
    lines: list[int]
    spans: list[tuple[int, int]]
    expected: list[dict[str, Any] | None]  # None: a blank row, which is no row at all
    header_end: int = 0  # byte offset where the header ends (CSV)


def write_csv(columns, rows, delimiter: str, decimal_comma: bool, terminator: str) -> Written:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=_quoting(terminator))
    writer.writerow(["id", "title", "description", *[name for name, _ in columns]])
    header_end = len(buf.getvalue().encode("utf-8"))
    lines, spans, expected = [], [], []
    for row in rows:
        before = buf.getvalue()
        cells = [_csv_cell(row.id, False), _csv_cell(row.title, False), _csv_cell(row.description, False),
                 *[_csv_cell(row.attributes[name], decimal_comma) for name, _ in columns]]
        writer.writerow(cells)
        start = len(before.encode("utf-8"))
        lines.append(_line_count(before) + 1)
        spans.append((start, len(buf.getvalue().encode("utf-8"))))
        expected.append(None if all(not c.strip() for c in cells) else expected_item(row))
    return Written(buf.getvalue().encode("utf-8"), ".csv", lines, spans, expected, header_end)


def write_jsonl(columns, rows, nested: bool, ascii_only: bool, terminator: str) -> Written:
    out, lines, spans, expected = b"", [], [], []
    for number, row in enumerate(rows, start=1):
        obj: dict[str, Any] = {"id": row.id, "title": row.title}
        if row.description is not None:
            obj["description"] = row.description
        attrs = {name: v for name, v in row.attributes.items() if v is not None}
        if nested:
            obj["attributes"] = attrs
        else:
            obj.update(attrs)
        start = len(out)
        out += (json.dumps(obj, ensure_ascii=ascii_only) + terminator).encode("utf-8")
        lines.append(number)
        spans.append((start, len(out)))
        expected.append(expected_item(Row(row.id, row.title, row.description, attrs)))
    return Written(out, ".jsonl", lines, spans, expected)


@st.composite
def written(draw, fmt: str) -> Written:
    columns, rows = draw(catalogs(fmt == "csv"))
    if fmt == "csv":
        delimiter = draw(st.sampled_from([",", ";", "\t"]))
        return write_csv(columns, rows, delimiter, delimiter != "," and draw(st.booleans()),
                         draw(st.sampled_from(["\r\n", "\n"])))
    return write_jsonl(columns, rows, draw(st.booleans()), draw(st.booleans()), draw(st.sampled_from(["\n", "\r\n"])))


# ---- reading back ----------------------------------------------------------------------------------


@dataclass
class Back:
    items: dict[int, dict[str, Any]]  # line -> item read from it
    problems: dict[int, list[str]]  # line -> severities reported there
    count: Any


def read_back(data: bytes, suffix: str) -> Back:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"catalog{suffix}"
        path.write_bytes(data)
        read = read_catalog(path)
    assert read.count.unaccounted == 0 and read.count.records == read.count.accepted + read.count.reported
    assert read.count.accepted == len(read.items) and read.count.reported == read.skipped
    items = {}
    for item in read.items:
        line = item.source[1]
        assert line not in items, "two items from one line"
        items[line] = got_item(item)
    problems: dict[int, list[str]] = {}
    for p in read.problems:
        problems.setdefault(p.line, []).append(p.severity)
    return Back(items, problems, read.count)


def check_round_trip(w: Written, name: str) -> None:
    rows = [(line, exp) for line, exp in zip(w.lines, w.expected, strict=True) if exp is not None]
    figures = FIGURES.setdefault(name, Counter())
    figures["files"] += 1
    if not rows:
        with pytest.raises(CatalogError, match="no rows"):
            read_back(w.data, w.suffix)
        return
    back = read_back(w.data, w.suffix)
    assert back.count.records == len(rows), "the reader saw another number of rows than were written"
    assert set(back.items) <= {line for line, _ in rows}, "an item from a line where no row starts"
    for line, exp in rows:
        got = back.items.get(line)
        if got is None:
            assert "error" in back.problems.get(line, []), f"row on line {line} neither read nor reported"
        elif not _same(got, exp):
            assert line in back.problems, f"row on line {line} changed without a word:\n{got}\n!=\n{exp}"
        else:
            figures["equal"] += 1
    figures["rows"] += len(rows)
    figures["ingested"] += back.count.accepted
    figures["reported"] += back.count.reported


@ROUND_TRIP
@given(written("csv"))
def test_csv_round_trip_every_row_equal_or_reported(w: Written):
    check_round_trip(w, "CSV round trip")


@ROUND_TRIP
@given(written("jsonl"))
def test_jsonl_round_trip_every_row_equal_or_reported(w: Written):
    check_round_trip(w, "JSONL round trip")


def test_clean_rows_come_back_without_a_problem():
    """The round trip is not passed by reporting everything: plain rows read cleanly."""
    columns = [("price", "float"), ("tags", "texts"), ("year", "int"), ("organic", "bool")]
    rows = [Row("Lemon", "Lemon  Class 1", "Sour, and\njuicy", {"price": 3.25, "tags": ["fruit"], "year": 2024,
                                                                 "organic": True}),
            Row(7, "Orange", None, {"price": 1234.5, "tags": ["a", "b"], "year": None, "organic": False})]
    for w in (write_csv(columns, rows, ";", True, "\r\n"), write_csv(columns, rows, ",", False, "\n"),
              write_jsonl(columns, rows, True, False, "\n")):
        back = read_back(w.data, w.suffix)
        assert back.problems == {}
        assert [back.items[line] for line in w.lines] == w.expected


# ---- damaged catalogs ------------------------------------------------------------------------------


@DAMAGE
@given(st.sampled_from(["csv", "jsonl"]).flatmap(written), st.sampled_from(["cut", "bad byte", "quote"]),
       st.floats(0, 1, exclude_max=True))
def test_damaged_catalog_keeps_the_rows_before_and_reports_the_damage(w: Written, kind: str, where: float):
    if not w.data:
        return
    at = int(where * len(w.data))
    if kind == "quote" and w.suffix == ".jsonl" and w.data[at - 1:at] == b"\\":
        return  # \" is a valid JSON escape: that damage is data, no reader can tell
    damaged = {"cut": w.data[:at], "bad byte": w.data[:at] + b"\xff" + w.data[at + 1:],
               "quote": w.data[:at] + b'"' + w.data[at:]}[kind]
    figures = FIGURES.setdefault(f"damaged catalogs (cut, a byte that is not UTF-8, or a stray quote; "
                                 f"{DAMAGE.max_examples} tries)", Counter())
    figures["files"] += 1
    rows = [(line, span, exp) for line, span, exp in zip(w.lines, w.spans, w.expected, strict=True)
            if exp is not None]
    before = [(line, span) for line, span, _ in rows if span[1] <= at]
    try:
        baseline = read_back(w.data, w.suffix)
    except CatalogError:
        return  # no rows at all: nothing to damage
    try:
        back = read_back(damaged, w.suffix)
    except CatalogError as e:
        # refused whole: only when the damage hit the header, or left no row
        assert at < w.header_end or not before, f"file refused after intact rows: {e}"
        return
    figures["rows"] += back.count.records
    figures["ingested"] += back.count.accepted
    figures["reported"] += back.count.reported
    for line, _ in before:  # read as before the damage
        assert _same(back.items.get(line), baseline.items.get(line)), f"row on line {line}, before the damage"
        assert sorted(back.problems.get(line, [])) == sorted(baseline.problems.get(line, []))
    hit = next(((line, span) for line, span, _ in rows if span[0] <= at < span[1]), None)
    if hit is None or (kind == "cut" and at == hit[1][0]):
        return  # the damage fell in the header, a blank row, or between rows
    line, span = hit
    figures["damaged"] += 1
    # reported at a line of the row hit (a value over several lines may show the damage on
    # a later one: an extra quote that closed it early leaves a stray one there)
    last_line = _line_count(w.data[:span[1]].decode("utf-8"))
    if any(n in back.problems for n in range(line, last_line + 1)):
        figures["damage_reported"] += 1
        return
    # unreported only when nothing changed (e.g. only the line break after the last row cut)
    assert _same(back.items.get(line), baseline.items.get(line)), \
        f"damage ({kind} at byte {at}) in the row on line {line} went unreported"
    figures["damage_equal"] += 1


# ---- interaction logs --------------------------------------------------------------------------------


@ROUND_TRIP
@given(st.lists(st.tuples(_mostly(textual, raw_text), _mostly(textual, raw_text),
                          _mostly(st.none() | finite | st.integers(0, 5), st.just(float("nan")))), max_size=8),
       st.booleans(), st.sampled_from(["\r\n", "\n"]))
def test_interaction_log_round_trip_every_line_equal_or_reported(rows, header: bool, terminator: str):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator=terminator, quoting=_quoting(terminator))
    if header:
        writer.writerow(["user", "item", "rating"])
    lines, expected = [], []
    first = not header
    for user, item, rating in rows:
        before = buf.getvalue()
        cells = [user, item, "" if rating is None else repr(rating)]
        writer.writerow(cells)
        if all(not c.strip() for c in cells):
            continue  # a blank line
        if first:
            first = False
            if user.strip().lower() in ("user", "user_id", "userid") and rating is None:
                continue  # reads as the optional header line: the documented rule
        lines.append(_line_count(before) + 1)
        expected.append((user.strip(), item.strip(), None if rating is None else float(rating)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_text(buf.getvalue(), encoding="utf-8", newline="")
        log = read_interaction_log(path)
    assert log.count.records == len(expected) and log.count.unaccounted == 0
    reported = {p.line for p in log.problems}
    got = iter(log.rows)
    for line, exp in zip(lines, expected, strict=True):
        if line in reported:
            continue
        assert _same(next(got), exp), f"line {line} changed without a word"
    assert next(got, None) is None
    figures = FIGURES.setdefault("interaction log round trip", Counter())
    figures["files"] += 1
    figures["rows"] += log.count.records
    figures["ingested"] += log.count.accepted
    figures["reported"] += log.count.reported

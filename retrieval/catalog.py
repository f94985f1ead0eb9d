"""Read a catalog file (JSONL or CSV) into validated :class:`~retrieval.types.Item` rows.

One item schema for both formats:

- ``id`` (required): text; whole numbers are accepted and turned into text.
- ``title`` (required): non-empty text.
- ``description`` (optional): text, truncated (with a warning) beyond 100,000 characters.
- ``image``, ``audio``, ``video`` (optional): file paths, relative to the catalog file's folder or
  absolute. A path that does not lead to a file is left out with a warning; the row stays.
- attributes (optional): free facts such as category, price or year. Values are text,
  whole numbers, decimals, true/false, or lists of those.

JSONL (``.jsonl``, ``.ndjson``): one JSON object a line. Attributes go in an
``attributes`` object; any other top-level key is an attribute too.

CSV (``.csv``): a header row, separated by commas, semicolons or tabs (the first of those
whose reading of the header finds the id and title columns). Every column other than the
five above is an attribute, and its cells are typed: ``12`` -> 12, ``2.5`` -> 2.5, ``true``
/ ``false`` -> booleans, and a cell containing ``|`` is a list (``drama|comedy`` -> ["drama",
"comedy"]). Numbers with a leading zero (``0114709``) stay text. An empty cell means "no
value". In a file separated by semicolons or tabs, decimals may be written with a comma
(``3,50`` -> 3.5, ``1.234,5`` -> 1234.5); a value that reads two ways (``1,500``: 1.5 or
1500; ``1.500`` in a column of decimal commas) stays text, with a warning.

Problems in single rows never raise: each becomes a :class:`~retrieval.types.Problem`
(file, line, field, reason) in :attr:`CatalogRead.problems`, severity ``"error"`` when the
row or that part of it was left out, ``"warning"`` when the row was kept with something
dropped, shortened or doubtful. Every row is counted (:attr:`CatalogRead.count`): it is
ingested or skipped with an error naming its line, never lost without a word; a quoted CSV
value that swallowed the rows after it is refused and those rows are read again (see
:mod:`retrieval.csv_records`). Only a file that cannot be read at all raises
:class:`~retrieval.errors.CatalogError`.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .csv_records import Record, physical_lines, read_records
from .errors import CatalogError
from .types import Item, Problem, ReadCount

JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
MAX_DESCRIPTION_CHARS = 100_000
# Columns / keys with a meaning of their own; everything else is an attribute.
CORE_FIELDS = ("id", "title", "description", "image", "audio", "video")
# The metadata keys the store writes beside an item's attributes (never attributes).
STORE_KEYS = ("title", "image", "content_hash")
# Names no attribute may take, and so no filter, constraint or attribute channel uses: the
# item's own fields, the store's keys, the names of its document and attribute table
# (the one home of this fact). Names starting with "_" are kept for internal bookkeeping.
RESERVED_KEYS = frozenset(CORE_FIELDS) | frozenset(STORE_KEYS) | {"attributes", "document"}

_INT = re.compile(r"[-+]?(0|[1-9]\d*)")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)")
_UTF8_HINT = "re-save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet, or: iconv -f latin1 -t utf-8 IN > OUT)"


@dataclass
class CatalogRead:
    """What :func:`read_catalog` found: the valid items, in file order, and every problem."""

    items: list[Item]
    problems: list[Problem] = field(default_factory=list)
    path: Path | None = None
    # data rows seen (blank lines not counted); rows - len(items) were skipped whole
    rows: int = 0
    # where every row went: rows = ingested (accepted) + skipped (reported), and the
    # physical lines they span
    count: ReadCount | None = None

    @property
    def skipped(self) -> int:
        """Rows left out entirely (an "error" problem may also mean only a part was dropped)."""
        return self.rows - len(self.items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def read_catalog(path: str | Path, media_root: str | Path | None = None) -> CatalogRead:
    """Read and validate a ``.jsonl`` / ``.ndjson`` / ``.csv`` catalog.

    Returns every valid row as an :class:`Item` (media paths absolute) and every row
    problem as a :class:`Problem`. Raises :class:`CatalogError` when the file is missing,
    has an unsupported extension, has a header that is not UTF-8 (CSV), lacks the id or
    title column (CSV), or holds no rows at all. Rows that are not valid UTF-8 are
    reported and skipped, in JSONL and CSV alike.

    ``media_root``: when given (catalogs uploaded by others), image and audio paths must
    lead inside this folder; any other path is left out with a warning and never opened.
    """
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"catalog file {path} does not exist")
    if not path.is_file():
        raise CatalogError(f"catalog path {path} is not a file")
    suffix = path.suffix.lower()
    if suffix not in JSONL_SUFFIXES + CSV_SUFFIXES:
        hint = " (a .json file must hold one object per line: rename it to .jsonl)" if suffix == ".json" else ""
        raise CatalogError(
            f"catalog file {path} has an unsupported extension {path.suffix or '(none)'!r}: "
            f"use .jsonl, .ndjson or .csv{hint}"
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CatalogError(f"catalog file {path} cannot be read: {e.strerror or e}") from None
    reader = _RowValidator(path, media_root)
    if suffix in JSONL_SUFFIXES:
        rows = _jsonl_rows(path, data, reader.problems)
    else:
        rows = _csv_rows(path, data, reader.problems)
    count = ReadCount(str(path), unit="row")
    for line, lines, raw in rows:
        count.seen(lines)
        if raw is None:  # refused while parsing, already reported
            count.reported += 1
        elif reader.add(line, raw):
            count.accept()
        else:
            count.reported += 1
    if count.records == 0:
        raise CatalogError(f"catalog file {path} has no rows: add one item per line (id, title, ...)")
    return CatalogRead(items=reader.items, problems=reader.problems, path=path, rows=count.records,
                       count=count)


# ---- JSONL ---------------------------------------------------------------------------------


def _jsonl_rows(path: Path, data: bytes, problems: list[Problem]):
    """Yield (line number, 1, dict) for each JSON object; (line number, 1, None) for a
    line reported as undecodable or invalid."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(Problem(str(path), number, None,
                                    f"line is not valid UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                                    f"{_UTF8_HINT}"))
            yield number, 1, None
            continue
        text = text.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(Problem(str(path), number, None, f"invalid JSON: {e.msg} at column {e.colno}"))
            yield number, 1, None
            continue
        except (ValueError, RecursionError) as e:
            # a number of more than 4,300 digits, or arrays nested thousands deep
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]
            problems.append(Problem(str(path), number, None, f"invalid JSON: {why}"))
            yield number, 1, None
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(str(path), number, None,
                                    f"expected a JSON object {{...}}, got {_kind(obj)}"))
            yield number, 1, None
            continue
        try:
            # a "\ud800" escape is valid JSON but no character: nothing could store the text
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            problems.append(Problem(str(path), number, None,
                                    "the line holds a \\u escape that is not a valid character (a lone "
                                    "surrogate such as \\ud800); row skipped"))
            yield number, 1, None
            continue
        attrs = obj.get("attributes", None)
        row = {k: v for k, v in obj.items() if k in CORE_FIELDS}
        extra = {k: v for k, v in obj.items() if k not in CORE_FIELDS and k != "attributes"}
        if attrs is not None and not isinstance(attrs, dict):
            problems.append(Problem(str(path), number, "attributes",
                                    f"attributes must be a JSON object, got {_kind(attrs)}; left out",
                                    item_id=_peek_id(obj)))
            attrs = None
        merged = dict(attrs or {})
        for key, value in extra.items():
            if key in merged:
                problems.append(Problem(str(path), number, key,
                                        f"{key!r} is both a top-level key and in attributes; the attributes value is kept",
                                        severity="warning", item_id=_peek_id(obj)))
            else:
                merged[key] = value
        row["attributes"] = merged
        yield number, 1, row


# ---- CSV ------------------------------------------------------------------------------------


def _csv_rows(path: Path, data: bytes, problems: list[Problem]):
    """Yield (first line, physical lines, dict or None when refused) per CSV record; raise
    CatalogError for an unreadable file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # saved in another encoding: the rows holding bytes that are not UTF-8 are
        # reported and skipped (below), every other row is read as usual
        text = data.decode("utf-8-sig", errors="surrogateescape")
    if not text.strip():
        raise CatalogError(f"catalog file {path} is empty: it needs a header row (id,title,...) and one row per item")
    # the csv module refuses cells over 128 KiB; long descriptions are cut with a warning
    # later instead (the limit is process-wide, so only ever raised)
    if csv.field_size_limit() < 16 * MAX_DESCRIPTION_CHARS * 4:
        csv.field_size_limit(16 * MAX_DESCRIPTION_CHARS * 4)
    lines = physical_lines(text)
    last = 0
    try:
        delimiter, head = _csv_header_record(path, lines)
        if head is None:
            return
        bad = _not_utf8(head.cells)
        if bad is not None:
            raise CatalogError(
                f"catalog file {path} is not valid UTF-8: byte 0x{bad:02x} on line {head.start} (the "
                f"header; probably Latin-1 / Windows-1252); {_UTF8_HINT}")
        header = _csv_header(path, head.cells, head.start)
        records = []
        last = head.end
        for record in read_records(lines, delimiter, head.end, len(header)):
            last = record.end
            if not record.blank:
                records.append(record)
    except csv.Error as e:
        raise CatalogError(f"catalog file {path} is not valid CSV near line {last + 1}: {e}") from None
    if head.note:
        problems.append(Problem(str(path), head.start, None, f"header: {head.note}", severity="warning"))
    unnamed = [i + 1 for i, name in enumerate(header) if not name]
    if unnamed:
        problems.append(Problem(str(path), head.start, None,
                                f"column(s) {', '.join(map(str, unnamed))} have no name in the header; their values are ignored",
                                severity="warning"))
    named = sum(1 for name in header if name)
    decimal_comma = delimiter != ","
    comma_columns = _decimal_comma_columns(header, records) if decimal_comma else set()
    for r in records:
        record, start = r.cells, r.start

        def problem(reason: str, severity: str = "error", fld: str | None = None, line: int = start) -> None:
            problems.append(Problem(str(path), line, fld, reason, severity))

        if r.broken:
            problem(r.broken)
            yield start, r.lines, None
            continue
        bad = _not_utf8(record)
        if bad is not None:
            problem(f"row is not valid UTF-8 (byte 0x{bad:02x}, probably Latin-1 / Windows-1252); row skipped; "
                    f"{_UTF8_HINT}")
            yield start, r.lines, None
            continue
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header):]):
            problem(f"row has {len(record)} values but the header has {len(header)} columns "
                    "(an unquoted comma?); row skipped")
            yield start, r.lines, None
            continue
        missing = [name for name in header[len(record):] if name]
        if missing:
            other = _other_delimiter(record, delimiter, named)
            if other:
                problem(f"row has {_values(len(record))} but the header has {len(header)} columns, and it "
                        f"holds {other!r}: is it separated by {other!r} while the header uses "
                        f"{delimiter!r}? row skipped")
                yield start, r.lines, None
                continue
        if r.unterminated:
            # a cut-off file looks like this; a whole one ends with a line break
            problem("the file ends inside this row, without a line break: if the file was cut off, the "
                    f"row is incomplete{f' ({_values(len(record))} of {len(header)})' if missing else ''}; "
                    "check its last value (a line break at the end of the file marks it whole)", "warning")
        elif missing:
            problem(f"row has {_values(len(record))} but the header has {len(header)} columns; "
                    f"{', '.join(missing)} left empty", "warning")
        if r.note:
            problem(r.note, "warning")
        if r.suspect:
            problem(r.suspect)  # an error, though the row is kept: rows may be lost inside it
        if any("\x00" in cell for cell in record):
            # a NUL byte is no text: a damaged or binary file (or UTF-16 saved under .csv)
            problem("row holds NUL bytes (a damaged file, or one not saved as text); they are removed", "warning")
            record = [cell.replace("\x00", "") for cell in record]
        row: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for index, (name, cell) in enumerate(zip(header, record, strict=False)):  # a short row: missing cells are empty
            if not name:
                continue  # an unnamed column, reported once with the header
            key = name.lower()
            if key in CORE_FIELDS:
                row[key] = cell.strip()
                continue
            if decimal_comma:
                value, doubt = _decimal_comma_cell(cell, index in comma_columns)
                if doubt:
                    problem(doubt, "warning", name)
            else:
                value = parse_cell(cell)
            if value is not None:
                attributes[name] = value
        row["attributes"] = attributes
        yield start, r.lines, row


def _values(n: int) -> str:
    return f"{n} value{'' if n == 1 else 's'}"


def _csv_header_record(path: Path, lines: list[str]) -> tuple[str, Record | None]:
    """The separator and the header record (None when every line is blank).

    The separator is the first of comma, semicolon and tab whose reading of the first
    record names an id and a title column (a semicolon file may hold commas in a quoted
    column name); failing that, a first line without commas but with tabs or semicolons
    picks that separator, so the header check can say what is missing."""

    def first(delimiter: str) -> Record | None:
        return next((r for r in read_records(lines, delimiter) if not r.blank), None)

    for delimiter in (",", ";", "\t"):
        try:
            head = first(delimiter)
        except csv.Error:
            continue
        if head is not None and not head.broken and {"id", "title"} <= {c.strip().lower() for c in head.cells}:
            return delimiter, head
    first_line = next((line for line in lines if line.strip()), "")
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else ";" if ";" in first_line else ","
    head = first(delimiter)
    if head is not None and head.broken:
        raise CatalogError(f"catalog file {path} line {head.start}: the header's quotes are broken: "
                           f"{head.broken.split(';')[0]}")
    return delimiter, head


def _other_delimiter(record: list[str], delimiter: str, named: int) -> str | None:
    """The separator a short row was written with when it is not the header's (``a;b;c``
    under ``id,title,...``), or None: its first value holds that separator, and cutting
    every value at it gives as many values as the header names."""
    for other in (",", ";", "\t"):
        if other != delimiter and other in record[0] and named >= 2 \
                and sum(len(cell.split(other)) for cell in record) >= named:
            return other
    return None


def _not_utf8(record: list[str]) -> int | None:
    """The first byte of ``record`` that was not UTF-8 (decoded with surrogateescape), or None."""
    for cell in record:
        for ch in cell:
            if "\udc80" <= ch <= "\udcff":
                return ord(ch) - 0xDC00
    return None


def _csv_header(path: Path, record: list[str], line: int) -> list[str]:
    header = [name.strip() for name in record]
    lowered = [name.lower() for name in header]
    for required in ("id", "title"):
        if required not in lowered:
            raise CatalogError(
                f"catalog file {path} line {line}: the header has no {required!r} column "
                f"(found: {', '.join(header) or 'nothing'}); the first row must name the columns"
            )
    named = [n for n in lowered if n]
    duplicates = sorted({n for n in named if named.count(n) > 1})
    if duplicates:
        raise CatalogError(f"catalog file {path} line {line}: column name(s) repeated in the header: {', '.join(duplicates)}")
    return header


def parse_cell(cell: str) -> Any:
    """Type one CSV attribute cell: int, float, bool, a ``|``-separated list, or text.

    Returns None for an empty cell. List elements are typed alike; a list whose elements
    do not share one type keeps them all as text.
    """
    cell = cell.strip()
    if not cell:
        return None
    if "|" in cell:
        parts = [_parse_scalar(p.strip()) for p in cell.split("|") if p.strip()]
        if not parts:
            return None
        kinds = {type(p) for p in parts}
        if kinds == {int, float}:
            return [float(p) for p in parts]
        if len(kinds) > 1:
            return [str(p.strip()) for p in cell.split("|") if p.strip()]
        return parts
    return _parse_scalar(cell)


def _parse_scalar(text: str) -> Any:
    low = text.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


# ---- decimal commas (CSV separated by semicolons or tabs) ------------------------------------

# 3,50  -0,5  1.234,50 (thousands dots)  1,5E-05: numbers wherever they stand
_DECIMAL_COMMA = re.compile(r"[-+]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+),[0-9]+([eE][-+]?[0-9]+)?")
# 1,500: 1.5, or 1500 written with a thousands comma; not guessed
_COMMA_OR_THOUSANDS = re.compile(r"[-+]?[1-9][0-9]{0,2},[0-9]{3}")
# 1.500 beside decimal commas: 1500 with a thousands dot, or 1.5; not guessed
_DOT_OR_THOUSANDS = re.compile(r"[-+]?[1-9][0-9]{0,2}\.[0-9]{3}")
# 1.234.567 beside decimal commas: only a whole number
_THOUSANDS_DOTS = re.compile(r"[-+]?[1-9][0-9]{0,2}(\.[0-9]{3}){2,}")


def _decimal_comma_columns(header: list[str], records: list[Record]) -> set[int]:
    """Indexes of the attribute columns holding at least one number with a decimal comma."""
    out: set[int] = set()
    attribute = [i for i, name in enumerate(header) if name and name.lower() not in CORE_FIELDS]
    for r in records:
        if r.broken:
            continue
        for i in attribute:
            if i not in out and i < len(r.cells) and any(
                    _DECIMAL_COMMA.fullmatch(p) and not _COMMA_OR_THOUSANDS.fullmatch(p)
                    for p in (part.strip() for part in r.cells[i].split("|"))):
                out.add(i)
    return out


def _decimal_comma_cell(cell: str, comma_column: bool) -> tuple[Any, str | None]:
    """Type one attribute cell of a file written with decimal commas: as :func:`parse_cell`,
    and ``3,50`` is 3.5. Returns (value, None), or (the text, why it was not read as a
    number) when the value could be read two ways."""
    cell = cell.strip()
    if not cell:
        return None, None
    if "|" not in cell:
        return _decimal_comma_scalar(cell, comma_column)
    parts = [p.strip() for p in cell.split("|") if p.strip()]
    if not parts:
        return None, None
    typed = [_decimal_comma_scalar(p, comma_column) for p in parts]
    doubt = next((d for _, d in typed if d), None)
    values = [v for v, _ in typed]
    kinds = {type(v) for v in values}
    if kinds == {int, float}:
        return [float(v) for v in values], doubt
    if len(kinds) > 1:
        return parts, doubt
    return values, doubt


def _decimal_comma_scalar(text: str, comma_column: bool) -> tuple[Any, str | None]:
    if _COMMA_OR_THOUSANDS.fullmatch(text):
        whole = text.replace(",", "")
        return text, (f"{text!r} could be {float(text.replace(',', '.')):g} (decimal comma) or {whole} "
                      f"(thousands separator); kept as text, so number filters skip it: write {whole} "
                      f"for the whole number or {_plain_decimal(text)} for the decimal")
    if _DECIMAL_COMMA.fullmatch(text):
        return float(text.replace(".", "").replace(",", ".")), None
    if comma_column:
        if _THOUSANDS_DOTS.fullmatch(text):
            return int(text.replace(".", "")), None
        if _DOT_OR_THOUSANDS.fullmatch(text):
            whole = text.replace(".", "")
            return text, (f"{text!r} stands in a column written with decimal commas, so it could be "
                          f"{whole} (thousands separator) or {float(text):g}; kept as text, so number "
                          f"filters skip it: write {whole} or {_plain_decimal(text.replace('.', ','))}")
    return _parse_scalar(text), None


def _plain_decimal(text: str) -> str:
    """``text`` (digits, a comma, digits) as a decimal that cannot be taken for thousands:
    trailing zeros dropped (1,500 -> 1,5), or one added when three digits remain (1,2340)."""
    whole, _, decimals = text.partition(",")
    decimals = decimals.rstrip("0")
    if not decimals:
        return whole
    return f"{whole},{decimals}0" if len(decimals) == 3 else f"{whole},{decimals}"


# ---- one row -------------------------------------------------------------------------------


class _RowValidator:
    """Turns raw rows (dicts with core fields + "attributes") into Items, collecting problems."""

    def __init__(self, path: Path, media_root: str | Path | None = None):
        self.path = path
        self.folder = path.resolve().parent
        self.media_root = Path(media_root).resolve() if media_root is not None else None
        self.items: list[Item] = []
        self.problems: list[Problem] = []
        self.first_line: dict[str, int] = {}

    def problem(self, line: int, fld: str | None, reason: str, severity: str = "error",
                item_id: str | None = None) -> None:
        self.problems.append(Problem(str(self.path), line, fld, reason, severity, item_id))

    def add(self, line: int, row: dict[str, Any]) -> bool:
        """Validate one row: True when it became an item, False when it was skipped (and
        reported)."""
        item_id = self._id(line, row.get("id"))
        if item_id is None:
            return False
        if item_id in self.first_line:
            self.problem(line, "id", f"duplicate id {item_id!r} (first on line {self.first_line[item_id]}); "
                                     "this row is skipped", item_id=item_id)
            return False
        title = row.get("title")
        if title is None or (isinstance(title, str) and not title.strip()):
            self.problem(line, "title", "missing title; row skipped", item_id=item_id)
            return False
        if not isinstance(title, str):
            self.problem(line, "title", f"title must be text, got {_kind(title)}; row skipped", item_id=item_id)
            return False
        self.first_line[item_id] = line
        item = Item(id=item_id, title=" ".join(title.split()), source=(str(self.path), line))
        item.description = self._description(line, item_id, row.get("description"))
        item.image = self._media(line, item_id, "image", row.get("image"))
        item.audio = self._media(line, item_id, "audio", row.get("audio"))
        item.video = self._media(line, item_id, "video", row.get("video"))
        item.attributes = self._attributes(line, item_id, row.get("attributes") or {})
        self.items.append(item)
        return True

    def _id(self, line: int, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.problem(line, "id", "missing id; row skipped")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.problem(line, "id", f"id must be text or a whole number, got {_kind(value)}; row skipped")
            return None
        return str(value).strip()

    def _description(self, line: int, item_id: str, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(line, "description", f"description must be text, got {_kind(value)}; left out",
                         item_id=item_id)
            return ""
        value = value.strip()
        if len(value) > MAX_DESCRIPTION_CHARS:
            self.problem(line, "description",
                         f"description has {len(value):,} characters; cut to {MAX_DESCRIPTION_CHARS:,}",
                         severity="warning", item_id=item_id)
            value = value[:MAX_DESCRIPTION_CHARS]
        return value

    def _media(self, line: int, item_id: str, kind: str, value: Any) -> Path | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            self.problem(line, kind, f"{kind} must be a file path, got {_kind(value)}; left out", item_id=item_id)
            return None
        value = value.strip()
        if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE):
            self.problem(line, kind, f"{kind} {value!r} is a URL; download the file and give its path. "
                                     f"Row kept without {kind}", severity="warning", item_id=item_id)
            return None
        def refuse(reason: str) -> None:
            self.problem(line, kind, f"{kind} {reason}; row kept without {kind}", severity="warning",
                         item_id=item_id)

        try:
            path = Path(value).expanduser()
        except RuntimeError:  # "~name/..." of a user this machine does not know
            refuse(f"path {value!r} starts with the home folder of an unknown user")
            return None
        resolved = path if path.is_absolute() else self.folder / path
        # checked before anything is opened, so nothing outside is even probed
        if self.media_root is not None and not _inside(resolved, self.media_root):
            refuse(f"path {value!r} points outside the catalog's folder")
            return None
        try:
            if not resolved.exists():
                refuse(f"file {value!r} not found (looked for {resolved})")
                return None
            if not resolved.is_file():
                refuse(f"path {value!r} is not a file ({resolved})")
                return None
            return resolved.resolve()
        except (OSError, ValueError) as e:  # a name too long for the file system, a NUL byte
            refuse(f"path {value[:80]!r}{'...' if len(value) > 80 else ''} cannot be used "
                   f"({getattr(e, 'strerror', None) or e})")
            return None

    def _attributes(self, line: int, item_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in attributes.items():
            if not isinstance(name, str) or not name.strip():
                self.problem(line, "attributes", "an attribute has an empty name; left out", item_id=item_id)
                continue
            name = name.strip()
            if name in out:
                self.problem(line, name, f"attribute {name!r} is given twice (names are trimmed of spaces); "
                                         "the first value is kept", item_id=item_id)
                continue
            if name.lower() in RESERVED_KEYS or name.startswith("_"):
                self.problem(line, name, f"attribute name {name!r} is reserved (rename it); left out",
                             item_id=item_id)
                continue
            clean, reason = _attribute_value(value)
            if reason:
                self.problem(line, name, f"{reason}; attribute left out", item_id=item_id)
            elif clean is not None:
                out[name] = clean
        return out


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (links followed) lies inside the folder ``root``."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, ValueError, RuntimeError):
        return False


def _attribute_value(value: Any) -> tuple[Any, str | None]:
    """(cleaned value or None for "no value", reason it is refused or None)."""
    if value is None:
        return None, None
    if isinstance(value, (bool, int)):
        return value, None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, f"value {value} is not a finite number"
        return value, None
    if isinstance(value, str):
        value = value.strip()
        return (value or None), None
    if isinstance(value, list):
        elements = []
        for element in value:
            if element is None:
                continue
            if isinstance(element, (dict, list)):
                return None, f"a list may hold only text, numbers or true/false, not {_kind(element)}"
            clean, reason = _attribute_value(element)
            if reason:
                return None, reason
            if clean is not None:
                elements.append(clean)
        if not elements:
            return None, None
        kinds = {type(e) for e in elements}
        if kinds == {int, float}:
            return [float(e) for e in elements], None
        if len(kinds) > 1:
            # the index stores lists of one type only
            return None, "a list must hold values of one type (all text, all numbers or all true/false)"
        return elements, None
    return None, f"value must be text, a number, true/false or a list of those, not {_kind(value)}"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return type(value).__name__


def _peek_id(obj: dict[str, Any]) -> str | None:
    value = obj.get("id")
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip() else None

"""CSV records with the physical lines they span, and quoting gone wrong reported.

Python's csv reader forgives a missing closing quote by reading every later line into one
cell, up to the next quote or the end of the file: whole rows vanish into a title without a
word. The records here come from the same C reader (fast, and exactly its reading of any
well-formed file); each record holding a quote is parsed once more in strict mode, and one
whose quotes are malformed is looked at closer:

- a quoted cell that runs over a line break and does not close properly (no closing quote
  at all, or a quote followed by more text), or that runs over lines reading as rows of
  the header's width while its record has another number of cells than the header, is
  *broken*: a closing quote is probably missing. The record is refused, reported from its
  first line with the line where the quote opened. When the swallowed lines read as rows,
  reading starts again on the line after the quote opened, so those rows are not lost;
  otherwise the record is left out whole.
- a well-formed quoted value with as many cells as the header, whose closing quote follows
  a separator or a line break (as a later row's opening quote would) and whose lines in
  between each read as a row of the header's width, is *suspect*: rows taken in by a quote
  opened too early, or, rarely, a legitimate value of several lines. The record is kept
  and the caller reports an error (so ``--strict`` fails).
- malformed quotes within one line (``"abc"def``) or a quote inside an unquoted value give
  a *note*: the record is kept as the csv module reads it, and the caller reports a warning.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

QUOTE = '"'


@dataclass
class Record:
    """One CSV record and where it lies in the file."""

    start: int  # first physical line, 1-based
    end: int  # last physical line
    cells: list[str]
    # why the record is refused (its quoting swallowed other lines); None when it was read
    broken: str | None = None
    # a remark about its quoting; the cells are still the csv module's reading
    note: str | None = None
    # its quoting may have taken in later rows, though it reads as one record: kept, but
    # reported as an error (those rows would be lost)
    suspect: str | None = None
    # the file ends inside this record, without a line break: it may have been cut off
    unterminated: bool = False

    @property
    def lines(self) -> int:
        return self.end - self.start + 1

    @property
    def blank(self) -> bool:
        """No value and nothing wrong: not a row (a record of malformed quotes alone is one,
        so that it is reported)."""
        return (self.broken is None and self.note is None and self.suspect is None
                and all(not cell.strip() for cell in self.cells))


def physical_lines(text: str) -> list[str]:
    """``text`` cut into lines as the csv module sees them (``\\r\\n``, ``\\r`` or ``\\n``
    ends each, kept); ``str.splitlines`` would also cut at form feeds and U+2028."""
    return list(io.StringIO(text, newline=""))


def read_records(lines: list[str], delimiter: str, first: int = 0,
                 width: int | None = None) -> Iterator[Record]:
    """Every record of ``lines[first:]`` (blank ones included, with no cells), in order.

    ``width``: the header's number of columns, when known; it lets a quoted cell that
    swallowed whole rows be told from one holding a few lines of text. Raises
    ``csv.Error`` only for what the csv module refuses outright (a cell over its size limit).
    """
    pos = first
    unterminated_last = bool(lines) and not lines[-1].endswith(("\n", "\r"))
    while pos < len(lines):
        reader = csv.reader(itertools.islice(lines, pos, None), delimiter=delimiter)
        done, restart = 0, None
        for cells in reader:
            start, end = pos + done + 1, pos + reader.line_num
            done = reader.line_num
            record = Record(start, end, cells, unterminated=unterminated_last and end == len(lines))
            own = lines[start - 1:end]
            if any(QUOTE in line for line in own):
                verdict = _judge_quotes(own, start, delimiter, width, len(cells))
                if verdict is not None:
                    kind, reason, reread = verdict
                    if kind == "note":
                        record.note = reason
                    elif kind == "suspect":
                        record.suspect = reason
                    else:
                        record.broken = reason
                        if reread is not None:
                            record.end, record.unterminated = reread, False
                            restart = reread  # 0-based index of the line after it
                            yield record
                            break
            yield record
        if restart is None:
            return
        pos = restart


def _well_formed(delimiter: str) -> re.Pattern[str]:
    """A record of quoted values (quotes inside doubled) and unquoted ones (no quote, no
    line break), ending in at most one line break: what every CSV writer produces."""
    d = re.escape(delimiter)
    # possessive: a long value is matched in one pass, and a failure never backtracks
    value = f'(?:"[^"]*+(?:""[^"]*+)*+"|[^"{d}\\r\\n]*+)'
    return re.compile(f"{value}(?:{d}{value})*+(?:\\r\\n|\\r|\\n)?")


_WELL_FORMED: dict[str, re.Pattern[str]] = {}


def _judge_quotes(own: list[str], start: int, delimiter: str, width: int | None,
                  n_cells: int) -> tuple[str, str, int | None] | None:
    """None when the record's quoting is sound; else ("broken" | "note", reason, line to
    read again after (the quote's opening line) or None)."""
    raw = "".join(own)
    pattern = _WELL_FORMED.get(delimiter) or _WELL_FORMED.setdefault(delimiter, _well_formed(delimiter))
    well_formed = pattern.fullmatch(raw) is not None
    # a well-formed record on one line (the usual case) needs no closer look
    if well_formed and (len(own) == 1 or width is None or width < 2):
        return None
    quoted, stray = _quoted_cells(raw, delimiter)

    def spans_break(cell: tuple[int, int | None, bool]) -> bool:
        opened, closed, _ = cell
        inside = raw[opened:closed if closed is not None else len(raw)]
        return "\n" in inside or "\r" in inside

    culprit = next((c for c in quoted if not c[2] and spans_break(c)), None)
    swallowed_rows = False
    if culprit is None and well_formed:
        multi = next((c for c in quoted if spans_break(c)), None)
        if multi is None:
            return None
        if n_cells != width:
            # another number of values than the header, over lines that read as rows
            if _rows_after(own, raw, multi[0], delimiter, width):
                culprit, swallowed_rows = multi, True
        elif _swallowed(own, raw, multi, delimiter, width):
            # as many values as the header, so the record may be whole; but the value ran
            # over rows up to a quote that opened a later row's value
            first = start + _line_index(own, multi[0])
            return ("suspect", f"the quoted value opened on line {first} runs over lines {first + 1}-"
                    f"{start + len(own) - 1}, which read as rows of their own, up to a quote that could "
                    "open a later row's value: if a closing quote is missing (or a quote was put in by "
                    "mistake), those rows were taken into this value; the row is kept as read: check it",
                    None)
    if culprit is None:
        if well_formed:
            return None
        if any(c[1] is None for c in quoted):
            return ("note", "a quoted value opened on this line is never closed (the file ends inside "
                    "it): a closing quote is probably missing; the row is read as the csv module reads "
                    "it: check its values", None)
        if any(not c[2] for c in quoted) or not stray:
            return ("note", "the quotes of this row are malformed (a quoted value must end with a quote "
                    "followed by the separator or the line's end, and a quote inside it is written twice: "
                    '""); the row is read as the csv module reads it: check its values', None)
        return ("note", f"a quote stands inside a value that does not start with one (column "
                f"{raw[:stray[0]].count(delimiter) + 1}): read as written; if the value was meant to "
                "be quoted, its opening quote is missing", None)
    opened_at, closed_at, _ = culprit
    opened_line = start + _line_index(own, opened_at)
    last_line = start + _line_index(own, closed_at if closed_at is not None else len(raw) - 1)
    if swallowed_rows:
        what = (f"the quoted value opened on line {opened_line} runs to line {last_line} over lines "
                "that read as rows of their own")
    elif closed_at is None:
        what = (f"the quoted value opened on line {opened_line} is never closed, so lines "
                f"{opened_line}-{last_line} ran together into one row")
    else:
        what = (f"the quoted value opened on line {opened_line} ends on line {last_line} with a quote "
                f"followed by more text, so lines {opened_line}-{last_line} ran together into one row")
    reason = f"{what}: a closing quote is probably missing (or a quote inside the value is not doubled)"
    if _rows_after(own, raw, opened_at, delimiter, width):
        return ("broken", f"{reason}; row skipped, and the lines after line {opened_line} are read "
                "again as rows", opened_line)
    return "broken", f"{reason}; lines {start}-{start + len(own) - 1} skipped", None


def _quoted_cells(raw: str, delimiter: str) -> tuple[list[tuple[int, int | None, bool]], list[int]]:
    """``(offset of the opening quote, offset of the closing quote or None, closed cleanly)``
    for each quoted value of one record's text, and the offsets of stray quotes (inside
    values that do not start with one), read as the csv module (not strict) does: a quote
    opens a value only at its start; a doubled quote inside is a quote; after a closing
    quote followed by other text, quotes are plain characters until the separator."""
    out: list[tuple[int, int | None, bool]] = []
    stray: list[int] = []
    i, n, at_start = 0, len(raw), True
    while i < n:
        ch = raw[i]
        if at_start and ch == QUOTE:
            opened, i = i, i + 1
            while True:
                j = raw.find(QUOTE, i)
                if j < 0:
                    out.append((opened, None, False))
                    return out, stray
                if raw.startswith(QUOTE, j + 1):  # "" stands for one quote
                    i = j + 2
                    continue
                out.append((opened, j, j + 1 == n or raw[j + 1] in (delimiter, "\r", "\n")))
                i = j + 1
                break
            at_start = False
            continue
        if ch == QUOTE:
            stray.append(i)
        at_start = ch == delimiter or ch in "\r\n"
        i += 1
    return out, stray


def _line_index(own: list[str], offset: int) -> int:
    """Index (into ``own``) of the line holding character ``offset`` of their joined text."""
    total = 0
    for index, line in enumerate(own):
        total += len(line)
        if offset < total:
            return index
    return len(own) - 1


def _swallowed(own: list[str], raw: str, cell: tuple[int, int | None, bool], delimiter: str,
               width: int | None) -> bool:
    """Whether a quoted value that closes cleanly looks like rows taken in by a quote opened
    too early: its closing quote follows a separator or a line break (as the opening quote
    of a later row's value would), and every line between its first and its last reads as
    a row of the header's width (or, with none between, its last line so far holds a
    separator, like the start of a row)."""
    opened, closed, _ = cell
    if closed is None or width is None or width < 2 or raw[closed - 1] not in (delimiter, "\n", "\r"):
        return False
    first, last = _line_index(own, opened), _line_index(own, closed)
    between = [line for line in own[first + 1:last] if line.strip()]
    if not between:
        tail = raw[sum(len(line) for line in own[:last]):closed]
        return delimiter in tail
    return all(len(next(csv.reader([line], delimiter=delimiter), [])) == width for line in between)


def _rows_after(own: list[str], raw: str, opened_at: int, delimiter: str, width: int | None) -> bool:
    """Whether a line after the one where the quote opened reads, on its own, as a row of
    ``width`` cells (the header's)."""
    if width is None or width < 2:
        return False
    for line in own[_line_index(own, opened_at) + 1:]:
        if line.strip() and len(next(csv.reader([line], delimiter=delimiter), [])) == width:
            return True
    return False

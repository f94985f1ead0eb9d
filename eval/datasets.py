"""Dataset adapters: conversations on disk -> evaluation turns.

A :class:`Turn` is one moment where the system must recommend: the conversation so far
(``context``), optionally a photo, and the catalog ids a good answer contains (``targets``).
``mentioned`` lists the ids that came up earlier in the conversation, so metrics can be
reported over all targets and over the targets not already mentioned.

Adapters: ReDial's raw dialogues (:func:`read_redial`), grocery photo queries
(:func:`read_grocery`) and a plain JSONL of ``{"context": [...], "targets": [...]}``
(:func:`read_jsonl`). :func:`load_turns` picks one by name and applies ``limit`` / ``seed``.

Each file is read one line (one record) at a time, and every record is either accepted or
reported: :func:`read_dataset` returns the turns with a
:class:`~retrieval.types.ReadCount` (lines in = accepted + reported) and the problems; the
plain readers are strict and raise :class:`CatalogError` naming the first bad line.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import CatalogError
from retrieval.types import Problem, ReadCount

MENTION = re.compile(r"@(\d+)")
SEEKER, RECOMMENDER = "user", "assistant"
# a line's parse fails with one of these when the line is not what its format says
_BAD_LINE = (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError, RecursionError)


@dataclass
class Message:
    role: str  # "user" (the seeker) or "assistant" (the recommender)
    text: str


@dataclass
class Turn:
    """One evaluation turn: recommend for ``context`` (and ``image``); ``targets`` are right."""

    id: str
    # turns of one conversation share it: cross-validation folds split by dialogue
    dialogue: str
    context: list[Message]
    targets: list[str]
    # catalog ids mentioned earlier in the conversation, first mention first
    mentioned: list[str] = field(default_factory=list)
    # a photo query (absolute path), if any
    image: str | None = None
    # the part of ``mentioned`` the recommender (assistant) brought up: its own suggestions
    recommended: list[str] = field(default_factory=list)

    @property
    def new_targets(self) -> list[str]:
        """Targets not already mentioned earlier in the conversation."""
        seen = set(self.mentioned)
        return [t for t in self.targets if t not in seen]

    def to_dict(self) -> dict:
        return {"id": self.id, "dialogue": self.dialogue, "image": self.image,
                "context": [{"role": m.role, "text": m.text} for m in self.context],
                "targets": self.targets, "mentioned": self.mentioned,
                "recommended": self.recommended}


@dataclass
class DatasetRead:
    """What :func:`read_dataset` found: the turns, every problem, and where each line went
    (``count.records == count.accepted + count.reported``; a line may give no turn, e.g. a
    ReDial dialogue where the recommender never names a movie, and still be accepted)."""

    turns: list[Turn]
    problems: list[Problem]
    count: ReadCount


class _BadLine(ValueError):
    """One line is not a record of its format (the message says what was expected)."""


def _why(e: Exception) -> str:
    return f"no {e.args[0]!r} key" if isinstance(e, KeyError) else str(e)


def _read_lines(path: Path, unit: str, parse: Callable[[int, str], list], problems: list[Problem] | None
                ) -> tuple[list, ReadCount]:
    """``parse(line number, text)`` on every non-blank line, with the count of lines in,
    accepted and reported. A line ``parse`` refuses (:class:`_BadLine`), or holding bytes
    that are not UTF-8, is appended to ``problems``; with ``problems`` None (strict) it
    raises :class:`CatalogError` naming the file and line."""
    count = ReadCount(str(path), unit=unit)
    out: list = []
    for line_no, line in _lines(path):
        count.seen()
        try:
            if any("\udc80" <= ch <= "\udcff" for ch in line):
                raise _BadLine("the line is not valid UTF-8: re-save the file as UTF-8")
            got = parse(line_no, line)
        except _BadLine as e:
            count.refuse(Problem(str(path), line_no, None, str(e)), problems)
            continue
        out.extend(got)
        count.accept()
    return out, count


# ---- ReDial ------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    return " ".join(str(title).split())


def _redial_parser(titles: dict[str, str]) -> Callable[[int, str], list[Turn]]:
    def parse(line_no: int, line: str) -> list[Turn]:
        turns: list[Turn] = []
        try:
            d = json.loads(line)
            recommender = d["respondentWorkerId"]
            messages = d["messages"]
            names = dict(titles)
            names.update({str(k): _clean_title(v) for k, v in (d.get("movieMentions") or {}).items() if v})
            dialogue = str(d.get("conversationId", line_no))
            context: list[Message] = []
            mentioned: list[str] = []
            recommended: list[str] = []
            for m_no, m in enumerate(messages):
                text = str(m.get("text", ""))
                ids = list(dict.fromkeys(MENTION.findall(text)))
                role = RECOMMENDER if m.get("senderWorkerId") == recommender else SEEKER
                if role == RECOMMENDER and ids:
                    turns.append(Turn(id=f"{dialogue}:{m_no}", dialogue=dialogue, context=list(context),
                                      targets=ids, mentioned=list(mentioned),
                                      recommended=list(recommended)))
                plain = MENTION.sub(lambda g, names=names: names.get(g.group(1), g.group(0)), text)
                context.append(Message(role, plain))
                mentioned.extend(i for i in ids if i not in mentioned)
                if role == RECOMMENDER:
                    recommended.extend(i for i in ids if i not in recommended)
        except _BAD_LINE as e:
            raise _BadLine(f"not a ReDial dialogue ({_why(e)})") from None
        return turns

    return parse


def read_redial(path: str | Path, titles: dict[str, str] | None = None) -> list[Turn]:
    """Turns of ReDial raw dialogues (one JSON object a line).

    Every recommender (``respondentWorkerId``) message mentioning a movie (``@id``) is a
    turn; its context is every earlier message with each ``@id`` replaced by the title from
    the dialogue's ``movieMentions`` (else from ``titles``, else left as ``@id``); each
    distinct movie the message mentions is a target. Messages are kept as sent (not merged).
    Raises :class:`CatalogError` naming the first line that is not a dialogue.
    """
    return _read_lines(Path(path), "dialogue", _redial_parser(titles or {}), None)[0]


def _redial_mentions(line_no: int, line: str) -> list[tuple[str, list[str]]]:
    try:
        d = json.loads(line)
        ids: list[str] = []
        for m in d.get("messages", []):
            ids.extend(i for i in MENTION.findall(str(m.get("text", ""))) if i not in ids)
        return [(str(d.get("conversationId", line_no)), ids)]
    except _BAD_LINE as e:
        raise _BadLine(f"not a ReDial dialogue ({_why(e)})") from None


def redial_dialogues(path: str | Path) -> list[tuple[str, list[str]]]:
    """``(dialogue id, movies mentioned in order)`` for each ReDial dialogue: the
    dialogues as an interaction log (a dialogue is a user who likes what it mentions).
    Raises :class:`CatalogError` naming the first line that is not a dialogue."""
    return _read_lines(Path(path), "dialogue", _redial_mentions, None)[0]


# ---- grocery photos -----------------------------------------------------------------------


def _grocery_parser(path: Path) -> Callable[[int, str], list[Turn]]:
    root = path.parent
    classes_csv = root / "classes.csv"
    if not classes_csv.is_file():
        raise CatalogError(f"{classes_csv} not found: the grocery adapter needs classes.csv beside {path.name}")
    names: dict[str, str] = {}
    with classes_csv.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["Class ID (int)"].strip()] = row["Class Name (str)"].strip()

    def parse(line_no: int, line: str) -> list[Turn]:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2 or parts[1] not in names:
            raise _BadLine(f"expected 'image path, class id, coarse id' with a class id from classes.csv, "
                           f"got {line!r}")
        return [Turn(id=parts[0], dialogue=parts[0], context=[], targets=[names[parts[1]]],
                     image=str(root / parts[0]))]

    return parse


def read_grocery(path: str | Path) -> list[Turn]:
    """Photo-query turns of the Grocery Store Dataset: each line of ``val.txt`` (or
    ``test.txt``: ``path, class id, coarse class id``) is a photo whose product is the target.
    The target id is the class name from ``classes.csv`` beside it (the catalog's id)."""
    path = Path(path)
    return _read_lines(path, "photo", _grocery_parser(path), None)[0]


# ---- plain JSONL ---------------------------------------------------------------------------


def _jsonl_parser(path: Path) -> Callable[[int, str], list[Turn]]:
    def parse(line_no: int, line: str) -> list[Turn]:
        try:
            d = json.loads(line)
            targets = [str(t) for t in d["targets"]]
            context = []
            for i, m in enumerate(d.get("context") or []):
                if isinstance(m, str):
                    context.append(Message(SEEKER if i % 2 == 0 else RECOMMENDER, m))
                else:
                    context.append(Message(str(m.get("role", SEEKER)), str(m["text"])))
            if not targets:
                raise _BadLine("'targets' is empty")
            image = d.get("image")
            turn_id = str(d.get("id", line_no))
            return [Turn(id=turn_id, dialogue=str(d.get("dialogue", turn_id)), context=context,
                         targets=targets, mentioned=[str(x) for x in d.get("mentioned", [])],
                         image=str((path.parent / image).resolve()) if image else None)]
        except _BadLine:
            raise
        except _BAD_LINE as e:
            raise _BadLine(f"expected {{\"context\": [...], \"targets\": [...]}} ({_why(e)})") from None

    return parse


def read_jsonl(path: str | Path) -> list[Turn]:
    """Turns from a JSONL file, one object a line: ``context`` (a list of strings, which
    alternate user / assistant starting with the user, or of ``{"role", "text"}``),
    ``targets`` (catalog ids), and optionally ``id``, ``dialogue``, ``mentioned``, ``image``
    (relative to the file)."""
    path = Path(path)
    return _read_lines(path, "turn", _jsonl_parser(path), None)[0]


# ---- choosing ------------------------------------------------------------------------------

ADAPTERS = {"redial": read_redial, "grocery": read_grocery, "jsonl": read_jsonl}


def detect_format(path: str | Path) -> str:
    """Guess the adapter from the file: grocery ``.txt`` lists, ReDial dialogues, or JSONL."""
    path = Path(path)
    if path.suffix == ".txt":
        return "grocery"
    for _, line in _lines(path):
        return "redial" if '"respondentWorkerId"' in line else "jsonl"
    raise CatalogError(f"{path} is empty")


def read_dataset(path: str | Path, fmt: str = "auto", titles: dict[str, str] | None = None,
                 strict: bool = False) -> DatasetRead:
    """Every turn of the dataset ``path`` (adapter ``fmt``: "auto", "redial", "grocery",
    "jsonl"), with the count of its lines (in = accepted + reported) and a
    :class:`~retrieval.types.Problem` for each line left out. ``strict``: raise
    :class:`CatalogError` at the first bad line instead."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"dataset {path} does not exist")
    fmt = detect_format(path) if fmt == "auto" else fmt
    parsers = {"redial": lambda: ("dialogue", _redial_parser(titles or {})),
               "grocery": lambda: ("photo", _grocery_parser(path)),
               "jsonl": lambda: ("turn", _jsonl_parser(path))}
    if fmt not in parsers:
        raise CatalogError(f"unknown dataset format {fmt!r}; known: auto, {', '.join(ADAPTERS)}")
    unit, parse = parsers[fmt]()
    problems: list[Problem] | None = None if strict else []
    turns, count = _read_lines(path, unit, parse, problems)
    return DatasetRead(turns, problems or [], count)


def load_turns(path: str | Path, fmt: str = "auto", limit: int | None = None, seed: int = 0,
               titles: dict[str, str] | None = None) -> list[Turn]:
    """Read turns with the adapter ``fmt`` ("auto", "redial", "grocery", "jsonl").

    With ``limit``, whole dialogues are drawn in an order shuffled by ``seed`` until
    ``limit`` turns are taken (the last dialogue may be cut), so a slice stays a fair sample
    and keeps conversations together. A bad line raises :class:`CatalogError`
    (:func:`read_dataset` reports them and keeps the rest)."""
    turns = read_dataset(path, fmt, titles, strict=True).turns
    if limit is None or limit >= len(turns):
        return turns
    groups: dict[str, list[Turn]] = {}
    for t in turns:
        groups.setdefault(t.dialogue, []).append(t)
    order = list(groups)
    random.Random(seed).shuffle(order)
    out: list[Turn] = []
    for key in order:
        out.extend(groups[key][: limit - len(out)])
        if len(out) >= limit:
            break
    return out


def _lines(path: Path):
    """(line number, text) of each non-blank line; bytes that are not UTF-8 come through as
    lone surrogates (U+DC80-U+DCFF), for the reader to report."""
    try:
        with path.open(encoding="utf-8", errors="surrogateescape") as f:
            for line_no, line in enumerate(f, start=1):
                if line.strip():
                    yield line_no, line.rstrip("\n")
    except FileNotFoundError:
        raise CatalogError(f"dataset {path} does not exist") from None

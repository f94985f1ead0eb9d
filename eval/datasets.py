"""Dataset adapters: conversations on disk -> evaluation turns.

A :class:`Turn` is one moment where the system must recommend: the conversation so far
(``context``), optionally a photo, and the catalog ids a good answer contains (``targets``).
``mentioned`` lists the ids that came up earlier in the conversation, so metrics can be
reported over all targets and over the targets not already mentioned.

Adapters: ReDial's raw dialogues (:func:`read_redial`), grocery photo queries
(:func:`read_grocery`) and a plain JSONL of ``{"context": [...], "targets": [...]}``
(:func:`read_jsonl`). :func:`load_turns` picks one by name and applies ``limit`` / ``seed``.
"""

from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import CatalogError

MENTION = re.compile(r"@(\d+)")
SEEKER, RECOMMENDER = "user", "assistant"


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


# ---- ReDial ------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    return " ".join(str(title).split())


def read_redial(path: str | Path, titles: dict[str, str] | None = None) -> list[Turn]:
    """Turns of ReDial raw dialogues (one JSON object a line).

    Every recommender (``respondentWorkerId``) message mentioning a movie (``@id``) is a
    turn; its context is every earlier message with each ``@id`` replaced by the title from
    the dialogue's ``movieMentions`` (else from ``titles``, else left as ``@id``); each
    distinct movie the message mentions is a target. Messages are kept as sent (not merged).
    """
    path = Path(path)
    titles = titles or {}
    turns: list[Turn] = []
    for line_no, line in _lines(path):
        try:
            d = json.loads(line)
            recommender = d["respondentWorkerId"]
            messages = d["messages"]
            names = dict(titles)
            names.update({str(k): _clean_title(v) for k, v in (d.get("movieMentions") or {}).items() if v})
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            raise CatalogError(f"{path}:{line_no}: not a ReDial dialogue ({e})") from None
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
    return turns


def redial_dialogues(path: str | Path) -> list[tuple[str, list[str]]]:
    """``(dialogue id, movies mentioned in order)`` for each ReDial dialogue: the
    dialogues as an interaction log (a dialogue is a user who likes what it mentions)."""
    out = []
    for line_no, line in _lines(Path(path)):
        d = json.loads(line)
        ids: list[str] = []
        for m in d.get("messages", []):
            ids.extend(i for i in MENTION.findall(str(m.get("text", ""))) if i not in ids)
        out.append((str(d.get("conversationId", line_no)), ids))
    return out


# ---- grocery photos -----------------------------------------------------------------------


def read_grocery(path: str | Path) -> list[Turn]:
    """Photo-query turns of the Grocery Store Dataset: each line of ``val.txt`` (or
    ``test.txt``: ``path, class id, coarse class id``) is a photo whose product is the target.
    The target id is the class name from ``classes.csv`` beside it (the catalog's id)."""
    path = Path(path)
    root = path.parent
    classes_csv = root / "classes.csv"
    if not classes_csv.is_file():
        raise CatalogError(f"{classes_csv} not found: the grocery adapter needs classes.csv beside {path.name}")
    names: dict[str, str] = {}
    with classes_csv.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["Class ID (int)"].strip()] = row["Class Name (str)"].strip()
    turns = []
    for line_no, line in _lines(path):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2 or parts[1] not in names:
            raise CatalogError(f"{path}:{line_no}: expected 'image path, class id, coarse id' "
                               f"with a class id from classes.csv, got {line!r}")
        turns.append(Turn(id=parts[0], dialogue=parts[0], context=[], targets=[names[parts[1]]],
                          image=str(root / parts[0])))
    return turns


# ---- plain JSONL ---------------------------------------------------------------------------


def read_jsonl(path: str | Path) -> list[Turn]:
    """Turns from a JSONL file, one object a line: ``context`` (a list of strings, which
    alternate user / assistant starting with the user, or of ``{"role", "text"}``),
    ``targets`` (catalog ids), and optionally ``id``, ``dialogue``, ``mentioned``, ``image``
    (relative to the file)."""
    path = Path(path)
    turns = []
    for line_no, line in _lines(path):
        try:
            d = json.loads(line)
            targets = [str(t) for t in d["targets"]]
            context = []
            for i, m in enumerate(d.get("context") or []):
                if isinstance(m, str):
                    context.append(Message(SEEKER if i % 2 == 0 else RECOMMENDER, m))
                else:
                    context.append(Message(str(m.get("role", SEEKER)), str(m["text"])))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            raise CatalogError(f"{path}:{line_no}: expected {{\"context\": [...], \"targets\": [...]}} ({e!r})") from None
        if not targets:
            raise CatalogError(f"{path}:{line_no}: 'targets' is empty")
        image = d.get("image")
        turn_id = str(d.get("id", line_no))
        turns.append(Turn(id=turn_id, dialogue=str(d.get("dialogue", turn_id)), context=context,
                          targets=targets, mentioned=[str(x) for x in d.get("mentioned", [])],
                          image=str((path.parent / image).resolve()) if image else None))
    return turns


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


def load_turns(path: str | Path, fmt: str = "auto", limit: int | None = None, seed: int = 0,
               titles: dict[str, str] | None = None) -> list[Turn]:
    """Read turns with the adapter ``fmt`` ("auto", "redial", "grocery", "jsonl").

    With ``limit``, whole dialogues are drawn in an order shuffled by ``seed`` until
    ``limit`` turns are taken (the last dialogue may be cut), so a slice stays a fair sample
    and keeps conversations together."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"dataset {path} does not exist")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in ADAPTERS:
        raise CatalogError(f"unknown dataset format {fmt!r}; known: auto, {', '.join(ADAPTERS)}")
    turns = read_redial(path, titles) if fmt == "redial" else ADAPTERS[fmt](path)
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
    try:
        with path.open(encoding="utf-8") as f:
            for line_no, line in enumerate(f, start=1):
                if line.strip():
                    yield line_no, line.rstrip("\n")
    except FileNotFoundError:
        raise CatalogError(f"dataset {path} does not exist") from None

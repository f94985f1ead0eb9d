"""Plain data shared by ingestion, search, the assistant and the evaluation.

Small dataclasses (``Item``, ``ReadCount`` and ``Candidate`` turn into JSON with
``to_dict``; ``Candidate.from_dict`` reads one back) and the protocols of the model roles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

# Metadata values ChromaDB can store and filter on.
Scalar = str | int | float | bool


@dataclass
class Item:
    """One catalog row, validated. Media paths are absolute (resolved against the catalog file)."""

    id: str
    title: str
    description: str = ""
    # free attributes such as category, price, year; scalars or lists of scalars
    attributes: dict[str, Any] = field(default_factory=dict)
    image: Path | None = None
    audio: Path | None = None
    video: Path | None = None
    # where the row came from, for reports: (file, line)
    source: tuple[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["image"] = str(self.image) if self.image else None
        d["audio"] = str(self.audio) if self.audio else None
        d["video"] = str(self.video) if self.video else None
        return d


@dataclass
class Problem:
    """One row-level problem found while reading or ingesting a catalog."""

    file: str
    line: int | None
    field: str | None
    reason: str
    # "error": the row (or that part of it) was skipped; "warning": kept, something left out
    severity: str = "error"
    item_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = f" [{self.field}]" if self.field else ""
        who = f" (id {self.item_id})" if self.item_id else ""
        return f"{where}{what}{who}: {self.reason}"


@dataclass
class ReadCount:
    """Where every record of one input file went: ``records == accepted + reported``.

    A reader adds one to ``records`` for each record it meets (a catalog row, a log line,
    a dialogue), then calls :meth:`accept` when the record is taken in, or :meth:`refuse`
    with the :class:`Problem` that names its line when it is left out. A record counted
    but neither accepted nor refused is one lost without a word: :attr:`unaccounted`
    shows it, and tests hold it at 0. Rows kept with a warning are accepted.
    """

    file: str
    # what one record is, for messages: "row", "line", "dialogue" ...
    unit: str = "row"
    records: int = 0
    accepted: int = 0
    # records left out, each with a Problem naming its line
    reported: int = 0
    # physical lines the records span (a CSV cell may hold line breaks); 0 when not tracked
    lines: int = 0

    def seen(self, lines: int = 1) -> None:
        """One more record, spanning ``lines`` physical lines."""
        self.records += 1
        self.lines += lines

    def accept(self) -> None:
        self.accepted += 1

    def refuse(self, problem: Problem, problems: list[Problem] | None) -> None:
        """One record left out because of ``problem``: appended to ``problems``, or, for a
        strict reader (``problems`` is None), raised as a ``CatalogError`` naming the line."""
        if problems is None:
            from .errors import CatalogError

            raise CatalogError(str(problem))
        problems.append(problem)
        self.reported += 1

    @property
    def unaccounted(self) -> int:
        """Records neither accepted nor reported (0 unless a reader lost some)."""
        return self.records - self.accepted - self.reported

    def summary(self, accepted: str = "accepted", reported: str = "reported") -> str:
        """``"log.csv: 12 rows on 14 lines = 10 accepted + 2 reported"`` (verbs as given)."""
        noun = self.unit if self.records == 1 else self.unit + "s"
        span = f" on {self.lines} lines" if self.lines and self.lines != self.records else ""
        text = f"{self.file}: {self.records} {noun}{span} = {self.accepted} {accepted} + {self.reported} {reported}"
        if self.unaccounted:
            text += f" ({self.unaccounted} unaccounted: a bug in the reader)"
        return text

    @classmethod
    def total(cls, counts: list[ReadCount], file: str = "all files", unit: str = "row") -> ReadCount:
        """The sum of several counts (e.g. every file of a test corpus)."""
        out = cls(file, unit)
        for c in counts:
            out.records += c.records
            out.accepted += c.accepted
            out.reported += c.reported
            out.lines += c.lines
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChannelHit:
    """How one retrieval channel found a candidate."""

    channel: str  # a registered channel name (retrieval.channels.names())
    rank: int  # 1-based rank within that channel
    score: float  # the channel's own similarity score (higher is better)
    # what matched: e.g. {"words": [...]} or {"liked": "item id"} or {"photo": True}
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Candidate:
    """A fused search result with its per-channel evidence."""

    id: str
    title: str
    score: float  # fused score (higher is better)
    metadata: dict[str, Any] = field(default_factory=dict)
    document: str = ""
    image: str | None = None
    evidence: list[ChannelHit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Candidate:
        d = dict(d)
        d["evidence"] = [ChannelHit(**h) for h in d.get("evidence", [])]
        return cls(**d)


@dataclass
class Query:
    """What search is asked for. Any part may be empty, but not all of them."""

    text: str = ""
    # a photo: a path or a PIL image
    image: Any = None
    # metadata filters in ChromaDB's where syntax, e.g. {"price": {"$lte": 3}}
    where: dict[str, Any] | None = None
    # ids never returned (already recommended, rejected)
    exclude: set[str] = field(default_factory=set)
    # ids the user liked or mentioned: seeds for the collaborative channel
    liked: list[str] = field(default_factory=list)
    # how many fused candidates to return; None = settings.candidate_count
    k: int | None = None
    # the recent conversation, written as the dialogues log writes its contexts
    # (retrieval.dialogues.context_text): the dialogues channel compares it with them;
    # "" = the text (a rewritten request would match logged conversations less well)
    context: str = ""


# ---- the model roles: one narrow interface each ------------------------------------------


@runtime_checkable
class TextEncoder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""


@runtime_checkable
class ClipEncoder(Protocol):
    model_id: str
    dim: int

    def encode_images(self, images: list[Any]) -> np.ndarray:
        """PIL images -> (n, dim) float32, L2-normalised."""

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> (n, dim) float32, L2-normalised, in the same space as the images."""


@runtime_checkable
class Captioner(Protocol):
    model_id: str

    def caption(self, images: list[Any]) -> list[str]:
        """PIL images -> one short caption each."""


@runtime_checkable
class Transcriber(Protocol):
    model_id: str

    def transcribe(self, audio: str | Path | np.ndarray) -> str:
        """An audio file (or 16 kHz mono float32 samples) -> its transcript."""

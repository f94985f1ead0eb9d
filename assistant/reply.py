"""What a chat turn returns: :class:`Reply` (plain data, JSON-able) and the streamed
:class:`Event` objects that lead up to it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STAGES = ("transcribe", "caption", "rewrite", "retrieve", "rank", "explain")


@dataclass
class Recommendation:
    """One recommended catalog item."""

    id: str
    title: str
    image: str | None
    # LLM probability (mode "llm") or fused retrieval score (mode "retrieval")
    score: float
    reason: str
    # per-channel evidence from retrieval: [{"channel", "rank", "score", "detail"}]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    """The assistant's answer to one message."""

    text: str
    items: list[Recommendation]
    mode: str  # "llm" or "retrieval"
    timings: dict[str, float]  # stage -> seconds, every stage in STAGES
    notices: list[str] = field(default_factory=list)
    # what was searched for, for display and debugging
    query: str = ""
    transcript: str = ""
    caption: str = ""
    # a video message: the frame searched with ({"name", "frame": JPEG path, "time": s,
    # "frames": keyframes found, "no_sound": why nothing was heard, or ""}); empty otherwise
    video: dict[str, Any] = field(default_factory=dict)
    # the conditions in force after this message ({"id", "kind", "label", ...}), as
    # Chat.constraints gives them: what the chips show
    constraints: list[dict[str, Any]] = field(default_factory=list)
    # the LLM's answers checked this turn and those that fell back, per task (constraints,
    # rewrite, rank, reason): {task: {"asked": n, "failed": m, "why": [...]}}; empty
    # without an LLM (assistant.answer_checks)
    llm_checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Event:
    """A step of a streamed turn.

    ``type`` is "status" (data: {"stage", "message"}), "item" (data: Recommendation, its
    reason still empty), "reason-token" (data: {"id", "token"}) or "done" (data: Reply).
    """

    type: str
    data: Any

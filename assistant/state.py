"""Session state: plain data that round-trips through JSON (``to_dict`` / ``from_dict``),
so a conversation can be saved, sent to another process and resumed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class SessionState:
    """Everything the assistant remembers about one conversation."""

    # chat messages {"role": "user"|"assistant", "content": str}, oldest first
    messages: list[dict[str, str]] = field(default_factory=list)
    # catalog ids the user named, in order of first mention
    mentioned: list[str] = field(default_factory=list)
    # catalog ids already shown, in order
    recommended: list[str] = field(default_factory=list)
    # ids the user liked / rejected (feedback calls and their own words); never both
    liked: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # the conditions in force: filters, wanted values, exclusions, diets, preferences
    # (see assistant.constraints for their forms)
    constraints: list[dict[str, Any]] = field(default_factory=list)
    # what the user asks for in the current topic: their messages since the last topic
    # shift, without the conditions (which live in constraints); the search text
    topic: list[str] = field(default_factory=list)
    # ids of the items the last reply showed, in order ("the second one")
    shown: list[str] = field(default_factory=list)
    # keys of notices already shown once ("no-llm" ...)
    notices_shown: list[str] = field(default_factory=list)
    turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        """Rebuild from :meth:`to_dict` output; unknown keys are ignored (newer versions)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    # ---- updates that keep the lists consistent -------------------------------------------
    def mention(self, item_id: str) -> None:
        if item_id not in self.mentioned:
            self.mentioned.append(item_id)

    def like(self, item_id: str) -> None:
        if item_id in self.rejected:
            self.rejected.remove(item_id)
        if item_id not in self.liked:
            self.liked.append(item_id)

    def reject(self, item_id: str) -> None:
        if item_id in self.liked:
            self.liked.remove(item_id)
        if item_id not in self.rejected:
            self.rejected.append(item_id)

    def mark_recommended(self, ids) -> None:
        for i in ids:
            if i not in self.recommended:
                self.recommended.append(i)

    def user_texts(self, last: int | None = None) -> list[str]:
        texts = [m["content"] for m in self.messages if m.get("role") == "user"]
        return texts[-last:] if last else texts

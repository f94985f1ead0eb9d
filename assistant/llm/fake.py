"""A scripted, deterministic LLM for tests: replies chosen by prompt task, every call
recorded, label scores from a simple rule. No model, no randomness."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .base import LLM, LLMUnavailable, Message, cut_at_stop

Reply = str | Callable[[Sequence[Message]], str]
_TASK = re.compile(r"^TASK: (\w+)", re.M)
_LABEL_LINE = re.compile(r"^([A-Za-z]{1,2}): (.*)$", re.M)


def prompt_task(messages: Sequence[Message]) -> str:
    """The template name a prompt was built from (its ``TASK: name`` line), or ""."""
    for m in reversed(messages):
        found = _TASK.search(m.get("content", ""))
        if found:
            return found.group(1)
    return ""


def _title_of(line: str) -> str:
    """The title in a candidate line's JSON (the whole line when it is not JSON), lowercased."""
    try:
        return str(json.loads(line).get("title", line)).lower()
    except (ValueError, AttributeError):
        return line.lower()


class ScriptedLLM(LLM):
    """``replies`` maps a task name (system, query_rewrite, constraints, ranking,
    explanation) to a fixed text or a function of the messages; other tasks get ``default``.

    ``score_labels`` puts the labels whose listed title contains one of ``prefer``
    (case-insensitive, earlier strings first) on top; the rest are ordered last label
    first, so an LLM ranking is always distinguishable from the retrieval order.
    ``unavailable=True`` makes every call raise :class:`LLMUnavailable`.
    """

    def __init__(self, replies: Mapping[str, Reply] | None = None, default: str = "",
                 prefer: Sequence[str] = (), unavailable: bool = False, model_id: str = "scripted"):
        self.replies = dict(replies or {})
        self.default = default
        self.prefer = [p.lower() for p in prefer]
        self.unavailable = unavailable
        self.model_id = model_id
        self.calls: list[dict[str, Any]] = []

    def _record(self, method: str, messages: Sequence[Message], **extra: Any) -> str:
        if self.unavailable:
            raise LLMUnavailable(self.model_id, "scripted as unavailable")
        task = prompt_task(messages)
        self.calls.append({"method": method, "task": task,
                           "messages": [dict(m) for m in messages], **extra})
        return task

    def _reply(self, messages: Sequence[Message], task: str) -> str:
        r = self.replies.get(task, self.default)
        return r(messages) if callable(r) else r

    def generate(self, messages: Sequence[Message], max_new_tokens: int = 128,
                 stop: Sequence[str] | None = None) -> str:
        task = self._record("generate", messages)
        return cut_at_stop(self._reply(messages, task), stop)[0]

    def stream(self, messages: Sequence[Message], max_new_tokens: int = 128,
               stop: Sequence[str] | None = None) -> Iterator[str]:
        task = self._record("stream", messages)
        text = cut_at_stop(self._reply(messages, task), stop)[0]
        yield from re.findall(r"\S+\s*|\s+", text)

    def score_labels(self, messages: Sequence[Message], labels: Sequence[str]) -> dict[str, float]:
        self._record("score_labels", messages, labels=list(labels))
        lines = {m.group(1): _title_of(m.group(2)) for m in _LABEL_LINE.finditer(messages[-1]["content"])}
        n = len(labels)
        weights = {}
        for i, lab in enumerate(labels):
            w = float(i + 1)  # later labels first by default
            for j, p in enumerate(self.prefer):
                if p in lines.get(lab, ""):
                    w = max(w, 1000.0 * (len(self.prefer) - j) + n)
            weights[lab] = w
        total = sum(weights.values())
        return {lab: w / total for lab, w in weights.items()}

"""The interface every LLM backend implements: generate, stream, score_labels.

Messages are plain chat dicts ``{"role": "system"|"user"|"assistant", "content": str}``.
``score_labels`` is the heart of ranking: given a prompt whose answer is one label
(A, B, C ...), it returns each label's probability as the *next token* after the
assistant prefix, from a single forward pass (no text is generated).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from retrieval.errors import ModelUnavailable

Message = dict  # {"role": str, "content": str}


class LLMUnavailable(ModelUnavailable):
    """The LLM cannot be loaded or reached (role "llm")."""

    def __init__(self, model_id: str, reason: str, hint: str | None = None):
        super().__init__("llm", model_id, reason, hint)


class LLM(ABC):
    """One chat model. Implementations must be safe to call from one thread at a time;
    the assistant serialises calls with a lock."""

    model_id: str = ""
    # whether ``score_labels`` is exact (local logits) or approximated (top-k logprobs)
    exact_label_scores: bool = True

    @abstractmethod
    def generate(self, messages: Sequence[Message], max_new_tokens: int = 128,
                 stop: Sequence[str] | None = None) -> str:
        """Greedy completion of the conversation; the text stops before any ``stop`` string."""

    @abstractmethod
    def stream(self, messages: Sequence[Message], max_new_tokens: int = 128,
               stop: Sequence[str] | None = None) -> Iterator[str]:
        """Like :meth:`generate`, yielding text pieces as they are produced."""

    @abstractmethod
    def score_labels(self, messages: Sequence[Message], labels: Sequence[str]) -> dict[str, float]:
        """Probability of each label being the answer's first token; sums to 1 over ``labels``."""


def cut_at_stop(text: str, stop: Sequence[str] | None) -> tuple[str, bool]:
    """``text`` up to the first stop string, and whether one was found."""
    cut = len(text)
    for s in stop or ():
        i = text.find(s)
        if s and i != -1:
            cut = min(cut, i)
    return text[:cut], cut < len(text)


def normalise_label_probs(logprobs: dict[str, float], labels: Sequence[str]) -> dict[str, float]:
    """Softmax over the labels' log-probabilities (missing labels get ``-inf``, i.e. 0),
    or a uniform distribution when none of them has a finite score."""
    vals = {lab: logprobs.get(lab, -math.inf) for lab in labels}
    top = max(vals.values(), default=-math.inf)
    if top == -math.inf:
        return {lab: 1.0 / len(labels) for lab in labels} if labels else {}
    exp = {lab: math.exp(v - top) for lab, v in vals.items()}
    total = sum(exp.values())
    return {lab: e / total for lab, e in exp.items()}


class StopFilter:
    """Streams text while watching for stop strings that may arrive split across pieces:
    a tail that could begin a stop string is held back until it is decided."""

    def __init__(self, stop: Sequence[str] | None):
        self.stop = [s for s in (stop or ()) if s]
        self.pending = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Text safe to emit now ("" once a stop string was seen)."""
        if self.stopped:
            return ""
        self.pending += piece
        text, self.stopped = cut_at_stop(self.pending, self.stop)
        if self.stopped:
            self.pending = ""
            return text
        hold = 0
        for s in self.stop:
            for k in range(min(len(s) - 1, len(text)), 0, -1):
                if text.endswith(s[:k]):
                    hold = max(hold, k)
                    break
        self.pending = text[len(text) - hold:] if hold else ""
        return text[: len(text) - hold]

    def flush(self) -> str:
        """What is left when the stream ends without a stop string."""
        text, self.pending = ("" if self.stopped else self.pending), ""
        return text

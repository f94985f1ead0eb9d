"""LLM backends behind one small interface (:class:`assistant.llm.base.LLM`)."""

from .base import LLM, LLMUnavailable, Message, normalise_label_probs

__all__ = ["LLM", "LLMUnavailable", "Message", "normalise_label_probs"]

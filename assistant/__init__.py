"""The conversational recommender: ``Recommender.from_settings(...).chat().send("...")``.

Exports are loaded lazily so ``import assistant`` stays fast (no torch, no chromadb).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Recommender": "assistant.recommender",
    "Chat": "assistant.chat",
    "SessionState": "assistant.state",
    "Reply": "assistant.reply",
    "Recommendation": "assistant.reply",
    "Event": "assistant.reply",
    "TitleMatcher": "assistant.mentions",
    "load_prompt": "assistant.prompts",
    "LLM": "assistant.llm.base",
    "ScriptedLLM": "assistant.llm.fake",
    "TransformersLLM": "assistant.llm.local",
    "OpenAICompatLLM": "assistant.llm.openai_compat",
    # what the web layer (app.py, webui/) needs of the retrieval side, so it imports only
    # this package: settings, the errors it shows, and the ingest report's rendering
    "Settings": "retrieval.settings",
    "ChatrecError": "retrieval.errors",
    "InputError": "retrieval.errors",
    "MissingDependency": "retrieval.errors",
    "format_ingest_report": "retrieval.cli_output",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__

"""Prompt templates: ``prompts/<name>.txt`` with ``{placeholders}``, loaded by name.

Every template declares the variables it must contain (:data:`REQUIRED`); a template that
lacks one, or uses an unknown one, fails when it is loaded, not in the middle of a chat.
User and catalog text always enter a prompt through :func:`quote`, as JSON inside the
template's ``<<<NAME ... NAME>>>`` data blocks.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from retrieval.errors import ChatrecError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"

# the variables each template must use, and may use (nothing else)
REQUIRED: dict[str, frozenset[str]] = {
    "system": frozenset(),
    "query_rewrite": frozenset({"conversation", "state"}),
    "constraints": frozenset({"conversation", "fields"}),
    "ranking": frozenset({"conversation", "state", "candidates", "first_label", "last_label"}),
    "explanation": frozenset({"conversation", "item"}),
    # the generate-the-list baseline of eval/bench/ranking.py
    "ranking_list": frozenset({"conversation", "state", "candidates", "first_label", "last_label"}),
}


class PromptError(ChatrecError, ValueError):
    """A prompt template is missing, malformed or rendered with the wrong variables."""


def quote(data: Any) -> str:
    """``data`` as one-line JSON that cannot close a data block: ``<`` and ``>`` are
    escaped (``\\u003c``), so text such as ``CANDIDATES>>>`` inside a description stays data."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass(frozen=True)
class Prompt:
    """A loaded template; :meth:`render` fills every variable or raises :class:`PromptError`."""

    name: str
    text: str
    variables: frozenset[str]
    path: Path

    def render(self, **values: Any) -> str:
        missing = self.variables - set(values)
        extra = set(values) - self.variables
        if missing or extra:
            raise PromptError(f"prompt {self.name!r} ({self.path}) rendered with missing {sorted(missing)} "
                              f"/ unknown {sorted(extra)} variables")
        return self.text.format(**{k: str(v) for k, v in values.items()})


def template_variables(text: str, where: str) -> set[str]:
    """The ``{names}`` a template uses; raises :class:`PromptError` on bad brace syntax."""
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as e:
        raise PromptError(f"{where}: bad placeholder syntax ({e}); write literal braces as {{{{ }}}}") from None
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise PromptError(f"{where}: placeholders must be plain names, not {bad}")
    return names


def load_prompt(name: str, folder: str | Path | None = None) -> Prompt:
    """The template ``<folder>/<name>.txt`` (default: the project's ``prompts/``), checked
    against its declared variables."""
    return _load(name, str(Path(folder).resolve()) if folder else str(PROMPTS_DIR))


@lru_cache(maxsize=64)
def _load(name: str, folder: str) -> Prompt:
    if name not in REQUIRED:
        raise PromptError(f"unknown prompt {name!r}; known: {', '.join(sorted(REQUIRED))}")
    path = Path(folder) / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"prompt template {path} does not exist") from None
    used = template_variables(text, str(path))
    need = REQUIRED[name]
    if used != need:
        parts = []
        if need - used:
            parts.append(f"lacks {', '.join('{' + v + '}' for v in sorted(need - used))}")
        if used - need:
            parts.append(f"uses unknown {', '.join('{' + v + '}' for v in sorted(used - need))}")
        raise PromptError(f"prompt template {path} {' and '.join(parts)}")
    return Prompt(name, text.strip() + "\n", frozenset(need), path)


def load_all(folder: str | Path | None = None) -> dict[str, Prompt]:
    """Every template, so a broken one is reported at start-up."""
    return {name: load_prompt(name, folder) for name in REQUIRED}

"""Checks on the LLM's answers before the assistant uses them.

A small or unsure model answers in the wrong shape, echoes the prompt's example, drifts
away from what the user said, or invents facts. Each task's answer is checked here; a
failed check makes the chat fall back for that task alone (the tracker's constraints, the
tracker's search text, the reason built from the evidence) and is counted in the reply
(:attr:`assistant.reply.Reply.llm_checks`) and in the evaluation report.

- constraints: the answer is one JSON object ``{"constraints": [...]}``, not the prompt's
  own example, with entries valid for the catalog's fields
  (:func:`assistant.constraints.validate` drops the others one by one; an answer none of
  whose entries is valid fails);
- rewrite: ``{"query": "..."}`` whose words come mostly from the conversation (at least
  :data:`MIN_GROUNDED_SHARE` of its content words, and one at least);
- reason: one line of at most :data:`MAX_REASON_CHARS` characters that names at least one
  of the item's own facts, states no number the item's data and the user's words do not
  hold, and carries no prompt markup.

Words are compared as the tracker compares them (:func:`assistant.catalog_terms.terms`:
lower case, accents and plurals folded), fillers left out (:data:`assistant.reading.FILLER`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .catalog_terms import terms
from .constraints import parse_json_object, validate
from .reading import FILLER, GENERIC_HEADS

# a rewrite may add a few words of its own ("film", "recent"), not replace the request
MIN_GROUNDED_SHARE = 0.5
MAX_REASON_CHARS = 300
MIN_REASON_WORDS = 3
# the example the constraints prompt shows (prompts/constraints.txt): echoed back, it is no answer
PROMPT_EXAMPLE = [{"field": "price", "op": "<=", "value": 3}]
_MARKUP = re.compile(r"<<<|>>>|\bTASK:|^\s*[A-Za-z]:\s", re.M)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_IGNORED = FILLER | frozenset(GENERIC_HEADS) | frozenset("""
item items catalog fits fit match matches matching suits suit asked ask request requested
because since great good nice perfect ideal choice option pick recommend recommended enjoy
""".split())


@dataclass(frozen=True)
class Checked:
    """An answer after its check: ``value`` to use, or ``problem`` saying why not."""

    value: Any = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def content_terms(text: str) -> set[str]:
    """The stemmed words of ``text`` that carry meaning (no fillers, no bare numbers)."""
    return {t for t in terms(text) if t not in _IGNORED and len(t) > 2 and not t.isdigit()}


def check_constraints(answer: str, fields: dict[str, Any]) -> Checked:
    """The constraints of an answer (a list of valid filter dicts), or the problem."""
    obj = parse_json_object(answer)
    if obj is None:
        return Checked(problem="the answer is not a JSON object")
    items = obj.get("constraints")
    if not isinstance(items, list):
        return Checked(problem='the JSON has no "constraints" list')
    if items == PROMPT_EXAMPLE:
        return Checked(problem="the answer repeats the prompt's example")
    kept, dropped = validate({"constraints": items}, fields)
    if dropped and not kept:
        return Checked(problem="no entry is valid for the catalog: " + "; ".join(dropped[:3]))
    # entries the catalog cannot honour are left out one by one (constraints.validate)
    return Checked(kept)


def check_rewrite(answer: str, conversation: Iterable[str]) -> Checked:
    """The search query of an answer, if it stays with the conversation's words."""
    obj = parse_json_object(answer)
    query = obj.get("query") if obj else None
    if not isinstance(query, str) or not query.strip():
        return Checked(problem='the answer is not {"query": "..."}')
    query = " ".join(query.split())[:300]
    words = content_terms(query)
    if not words:
        return Checked(problem=f"the query {query!r} has no content words")
    said = set().union(*(content_terms(t) for t in conversation)) if conversation else set()
    grounded = words & said
    if not grounded or len(grounded) / len(words) < MIN_GROUNDED_SHARE:
        new = ", ".join(sorted(words - said)[:5])
        return Checked(problem=f"the query {query!r} strays from the conversation (new words: {new})")
    return Checked(query)


def check_reason(text: str, facts: Iterable[str], user_words: Iterable[str] = ()) -> Checked:
    """A reason, if it is one line grounded in the item's ``facts`` (its title, field values,
    description) and states no number that neither the facts nor the user's words hold."""
    reason = " ".join(text.split())
    if not reason:
        return Checked(problem="the reason is empty")
    if "\n" in text.strip():
        return Checked(problem="the reason spans several lines")
    if len(reason) > MAX_REASON_CHARS:
        return Checked(problem=f"the reason is {len(reason)} characters long (at most {MAX_REASON_CHARS}: "
                               "a line or two)")
    if len(reason.split()) < MIN_REASON_WORDS:
        return Checked(problem=f"the reason {reason!r} is too short to say anything")
    if _MARKUP.search(text):
        return Checked(problem="the reason carries prompt markup")
    facts = list(facts)
    fact_terms = set().union(*(content_terms(f) for f in facts)) if facts else set()
    if not content_terms(reason) & fact_terms:
        return Checked(problem=f"the reason {reason[:80]!r} names none of the item's facts")
    known = " ".join(facts + list(user_words))
    numbers = {_plain(n) for n in _NUMBER.findall(known)}
    invented = [n for n in _NUMBER.findall(reason) if _plain(n) not in numbers]
    if invented:
        return Checked(problem=f"the reason states {', '.join(invented[:3])}, which the item's data does not")
    return Checked(reason)


def _plain(number: str) -> str:
    """``1,5`` and ``1.5`` are one number; ``3.0`` is 3."""
    text = number.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() else str(value)


class CheckCounts:
    """How many answers of each task were checked and how many fell back, with the reasons:
    ``{task: {"asked": n, "failed": m, "why": [...]}}``, as the reply carries it."""

    TASKS = ("constraints", "rewrite", "rank", "reason")

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, Any]] = {}

    def record(self, task: str, checked: Checked | None = None, problem: str = "") -> None:
        entry = self.counts.setdefault(task, {"asked": 0, "failed": 0, "why": []})
        entry["asked"] += 1
        problem = problem or (checked.problem if checked is not None else "")
        if problem:
            entry["failed"] += 1
            entry["why"].append(problem[:200])

    @property
    def failed(self) -> int:
        return sum(e["failed"] for e in self.counts.values())

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {t: {"asked": e["asked"], "failed": e["failed"], "why": list(e["why"])}
                for t, e in self.counts.items()}


def fallback_rates(replies_checks: Iterable[dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Per task over many replies: ``{"asked", "failed", "rate"}`` (rate = failed / asked)."""
    total: dict[str, dict[str, float]] = {}
    for checks in replies_checks:
        for task, e in (checks or {}).items():
            t = total.setdefault(task, {"asked": 0, "failed": 0})
            t["asked"] += e.get("asked", 0)
            t["failed"] += e.get("failed", 0)
    for t in total.values():
        t["rate"] = round(t["failed"] / t["asked"], 4) if t["asked"] else 0.0
    return total

"""What the assistant asks the LLM: prompts built from templates with every piece of user
or catalog text quoted as JSON data (:func:`assistant.prompts.quote`), and the parsing of
the answers. Each function takes an :class:`~assistant.llm.base.LLM` and plain data.

Ranking labels: up to 52 candidates are labelled A-Z then a-z, single ASCII letters that
are one token in byte-level BPE and SentencePiece vocabularies alike (the local backend
checks this), so every candidate is scored in one forward pass. Two-letter labels ("AA")
are avoided because tokenizers split them into "A"+"A", which makes their first tokens
collide. Beyond 52, candidates are scored in chunks of 52 and each probability is scaled
by its chunk's size (the lift over a uniform guess), which makes chunks comparable.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from typing import Any

from retrieval.catalog import RESERVED_KEYS
from retrieval.types import Candidate

from .answer_checks import Checked, check_constraints, check_rewrite
from .constraints import describe
from .llm.base import LLM
from .prompts import load_prompt, quote
from .state import SessionState

LABELS = tuple(string.ascii_uppercase + string.ascii_lowercase)
MAX_FIELD_CHARS = 200
MAX_DOC_CHARS = 400


def messages_for(task: str, **values: Any) -> list[dict[str, str]]:
    """[system, user] messages for the template ``task``."""
    return [{"role": "system", "content": load_prompt("system").render()},
            {"role": "user", "content": load_prompt(task).render(**values)}]


def conversation_data(state: SessionState, last: int = 8, max_chars: int = 1500) -> str:
    """The recent messages as one JSON line per message."""
    msgs = [{"role": m["role"], "text": m["content"][:max_chars]} for m in state.messages[-last:]]
    return "\n".join(quote(m) for m in msgs) or quote({"role": "user", "text": ""})


def user_words(state: SessionState, last: int = 3) -> str:
    return "\n".join(quote({"user": t[:1500]}) for t in state.user_texts(last)) or quote({"user": ""})


def preferences_data(state: SessionState, titles: dict[str, str]) -> str:
    def names(ids):
        return [titles.get(i, i) for i in ids][:20]
    return quote({"liked": names(state.liked), "rejected": names(state.rejected),
                  "already_recommended": names(state.recommended[-20:]),
                  "constraints": [describe(c) for c in state.constraints]})


def candidate_data(c: Candidate) -> dict[str, Any]:
    """The facts about an item the LLM may use: title, metadata fields, description."""
    fields = {}
    for k, v in (c.metadata or {}).items():
        if k in RESERVED_KEYS or k.startswith("_") or v in ("", None, []):
            continue
        fields[k] = v[:MAX_FIELD_CHARS] if isinstance(v, str) else v
    doc = (c.document or "")[:MAX_DOC_CHARS]
    return {"title": c.title, **fields, "description": doc}


def fields_data(fields: dict[str, Any]) -> str:
    out = {}
    for name, info in fields.items():
        if name in RESERVED_KEYS or name.startswith("_"):
            continue
        d: dict[str, Any] = {"type": info.type}
        if info.values:
            d["values"] = list(info.values)[:30]
        if info.min is not None:
            d["min"], d["max"] = info.min, info.max
        out[name] = d
    return quote(out)


def reason_facts(c: Candidate) -> list[str]:
    """The item's facts a reason may name: title, field values, description."""
    data = candidate_data(c)
    out = []
    for v in data.values():
        out.extend(str(x) for x in v) if isinstance(v, list) else out.append(str(v))
    return out


# ---- the tasks (each answer checked: assistant.answer_checks) --------------------------------
def rewrite_query(llm: LLM, state: SessionState, titles: dict[str, str]) -> Checked:
    """A search query from the conversation; ``problem`` says why the answer is unusable
    (not the asked JSON, or words the conversation does not hold)."""
    answer = llm.generate(messages_for("query_rewrite", conversation=conversation_data(state),
                                       state=preferences_data(state, titles)), max_new_tokens=48)
    said = [m["content"] for m in state.messages[-8:]]
    said += [titles.get(i, "") for i in list(state.liked) + list(state.mentioned)]
    return check_rewrite(answer, said)


def extract_constraints(llm: LLM, state: SessionState, fields: dict[str, Any]) -> Checked | None:
    """The constraints the LLM reads in the last message, validated against the catalog's
    fields (a list of filter dicts), or the problem; None when the catalog has no fields."""
    if not fields:
        return None
    answer = llm.generate(messages_for("constraints", conversation=conversation_data(state, last=4),
                                       fields=fields_data(fields)), max_new_tokens=96)
    return check_constraints(answer, fields)


def ranking_messages(state: SessionState, titles: dict[str, str], chunk: Sequence[Candidate],
                     task: str = "ranking"):
    """The ranking prompt for up to 52 candidates, and their labels."""
    labels = LABELS[: len(chunk)]
    lines = "\n".join(f"{lab}: {quote(candidate_data(c))}" for lab, c in zip(labels, chunk, strict=True))
    return messages_for(task, conversation=conversation_data(state),
                        state=preferences_data(state, titles), candidates=lines,
                        first_label=labels[0], last_label=labels[-1]), labels


def label_probabilities(llm: LLM, state: SessionState, titles: dict[str, str],
                        candidates: Sequence[Candidate]) -> list[float]:
    """The LLM's probability of each candidate (in the order given), normalised over all of
    them; one forward pass per 52 candidates, each chunk's probabilities scaled by its size
    (the lift over a uniform guess) so chunks compare."""
    scores: list[float] = []
    for start in range(0, len(candidates), len(LABELS)):
        chunk = candidates[start: start + len(LABELS)]
        messages, labels = ranking_messages(state, titles, chunk)
        probs = llm.score_labels(messages, labels)
        scores.extend(probs.get(lab, 0.0) * len(chunk) for lab in labels)
    total = sum(scores)
    return [s / total for s in scores] if total > 0 else []


def retrieval_prior(n: int, rrf_k: int = 60) -> list[float]:
    """The retrieval order as probabilities, proportional to ``1 / (rrf_k + rank)``."""
    prior = [1.0 / (rrf_k + 1 + i) for i in range(n)]
    total = sum(prior)
    return [p / total for p in prior]


def mix_scores(p_llm: Sequence[float], mix: float, rrf_k: int = 60) -> list[float]:
    """``(1 - mix) * p_llm + mix * p_retrieval`` for candidates in retrieval order (no LLM
    probabilities: the retrieval prior alone)."""
    prior = retrieval_prior(len(p_llm), rrf_k)
    return [(1.0 - mix) * p + mix * q for p, q in zip(p_llm, prior, strict=True)]


def rank(llm: LLM, state: SessionState, titles: dict[str, str],
         candidates: Sequence[Candidate], mix: float = 0.0, rrf_k: int = 60) -> list[tuple[Candidate, float]]:
    """Every candidate with its score, best first; one forward pass per 52 candidates.

    The score is ``(1 - mix) * p_llm + mix * p_retrieval``: ``p_llm`` the model's label
    probabilities (normalised over all candidates), ``p_retrieval`` proportional to
    ``1 / (rrf_k + rank)`` in the order ``candidates`` came in (retrieval's)."""
    p_llm = label_probabilities(llm, state, titles, candidates) or retrieval_prior(len(candidates), rrf_k)
    return order_by(candidates, mix_scores(p_llm, mix, rrf_k))


def order_by(candidates: Sequence[Candidate], scores: Sequence[float]) -> list[tuple[Candidate, float]]:
    """Candidates with their scores, best first; ties keep the retrieval order."""
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    return [(candidates[i], scores[i]) for i in order]


def explain_stream(llm: LLM, state: SessionState, candidate: Candidate, max_new_tokens: int) -> Iterator[str]:
    """The reason for one item, streamed, from its own data and the user's words."""
    messages = messages_for("explanation", conversation=user_words(state),
                            item=quote(candidate_data(candidate)))
    yield from llm.stream(messages, max_new_tokens=max_new_tokens, stop=["<<<", "\n\n"])

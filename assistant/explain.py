"""Reasons built from retrieval evidence, for when no LLM is available (and as the
fallback when the LLM writes nothing usable). Every phrase rests on something that
actually matched: words in the item's document, constraints its metadata meets, the
photo, or a liked item's neighbours."""

from __future__ import annotations

from typing import Any

from retrieval.text import words as text_words
from retrieval.types import Candidate

from .constraints import describe, satisfied
from .mentions import COMMON

STOP = COMMON | {"for", "with", "some", "get", "give", "show", "find", "buy", "looking", "look",
                 "would", "recommend", "recommendations", "suggest", "suggestions", "photo", "else"}


def matched_words(query: str, document: str, limit: int = 4) -> list[str]:
    """Words of the query (not common ones) that the document contains, in query order."""
    doc = set(text_words(document, join_apostrophes=True))
    out: list[str] = []
    for w in text_words(query, join_apostrophes=True):
        if len(w) >= 3 and w not in STOP and w in doc and w not in out:
            out.append(w)
    return out[:limit]


def reason_from_evidence(candidate: Candidate, query: str, constraints: list[dict[str, Any]],
                         titles: dict[str, str]) -> str:
    """One or two sentences saying why ``candidate`` was found."""
    parts: list[str] = []
    words: list[str] = []
    for hit in candidate.evidence:
        for w in (hit.detail or {}).get("words", []) or []:
            w = str(w).lower()
            if w not in words and w not in STOP and len(w) >= 3:
                words.append(w)
    words = words[:4] or matched_words(query, candidate.document or candidate.title)
    if words:
        parts.append("It matches what you asked for: " + ", ".join(f"\u201c{w}\u201d" for w in words) + ".")
    met = [describe(c) for c in constraints if satisfied(c, candidate.metadata)]
    if met:
        parts.append("It meets your conditions (" + "; ".join(met) + ").")
    channels = {h.channel: h for h in candidate.evidence}
    if "clip_image" in channels:
        parts.append("It looks like your photo.")
    elif "clip_text" in channels and not words:
        parts.append("Its picture fits your description.")
    if "collab" in channels:
        detail = channels["collab"].detail or {}
        seed = detail.get("liked") or detail.get("seed")
        seeds = seed if isinstance(seed, list) else [seed] if seed else []
        names = [titles.get(str(s), str(s)) for s in seeds][:2]
        if names:
            parts.append(f"People who liked {' and '.join(names)} also liked it.")
        else:
            parts.append("People with tastes like yours also liked it.")
    if "shared" in channels:
        detail = channels["shared"].detail or {}
        seed, values = detail.get("liked"), detail.get("values") or []
        if seed and values:
            parts.append(f"It has the same {_values_text(values)} as {titles.get(str(seed), str(seed))}.")
    if "named" in channels:
        values = (channels["named"].detail or {}).get("values") or []
        if values:
            parts.append(f"It has the {_values_text(values)} you named.")
    if "dialogues" in channels:
        detail = channels["dialogues"].detail or {}
        request = detail.get("request")
        # "recommended" absent (an older hit): a recommender's suggestion, as before
        what = "were recommended it" if detail.get("recommended", True) else "brought it up themselves"
        parts.append(f"People who asked for something like this (\u201c{request}\u201d) {what}."
                     if request else f"People who asked for something like this {what}.")
    if not parts and "popularity" in channels:
        parts.append("It is one of the most popular items in the catalog.")
    if not parts:
        parts.append("It is among the closest matches to your request in the catalog.")
    return " ".join(parts[:2])


def _values_text(values: list[str]) -> str:
    """``["director=Ridley Scott", "star=Sigourney Weaver"]`` ->
    "director (Ridley Scott) and star (Sigourney Weaver)"."""
    parts = []
    for label in values[:2]:
        field, _, value = str(label).partition("=")
        parts.append(f"{field.replace('_', ' ')} ({value})" if value else field)
    return " and ".join(parts)

"""Words of Swedish grocery labels in English, general knowledge like
:mod:`assistant.demonyms`: the demo catalog's titles are the shelf labels ("Blodgrape Juice
med Fruktkött", "Standardmjölk Ekologisk 3%"), its descriptions English. A user says "no
pulp", "not organic", "skip the grapefruit ones"; without the gloss those rule out the items
whose English words say so and miss the ones only the Swedish title does.

Keys are written as :func:`assistant.catalog_terms.normalise` leaves them (lower case,
accents stripped). A compound word is glossed whole ("vaniljyoghurt"): the labels join
words."""

from __future__ import annotations

import re

SWEDISH = {
    "apelsin": "orange", "apelsinjuice": "orange juice", "apple": "apple", "blodgrape": "blood grapefruit red grapefruit",
    "med": "with", "utan": "without", "fruktkott": "pulp", "fran": "from", "koncentrat": "concentrate",
    "farskpressad": "freshly squeezed", "drickfardig": "ready to drink", "farsk": "fresh", "berikad": "fortified",
    "ekologisk": "organic", "eko": "organic", "ecological": "organic", "krav": "organic",
    "mjolk": "milk", "standardmjolk": "whole milk", "mellanmjolk": "semi skimmed milk", "filmjolk": "sour milk",
    "graddfil": "sour cream", "lattyoghurt": "low fat yoghurt", "latt": "low fat", "naturell": "plain",
    "vanilj": "vanilla", "vaniljyoghurt": "vanilla yoghurt", "jordgubb": "strawberry",
    "havredryck": "oat drink oat milk", "havregurt": "oat yoghurt", "havre": "oat", "klass": "class",
    "madagaskar": "madagascar",
}

_WORD = re.compile(r"[a-z]+")


def glossed(text: str) -> str:
    """``text`` (normalised) with the English of its Swedish label words after it, apart
    (" / "), when it has any: "blodgrape juice med fruktkott / blood grapefruit red
    grapefruit juice with pulp"."""
    words = _WORD.findall(text)
    if not any(w in SWEDISH and SWEDISH[w] != w for w in words):
        return text
    return text + " / " + " ".join(SWEDISH.get(w, w) for w in words)

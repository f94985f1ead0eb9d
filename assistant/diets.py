"""Diets and allergies: what each one rules out, in words resolved against the catalog
like any exclusion (:mod:`assistant.catalog_terms`).

A diet rules out every item that one of its ``excludes`` words reaches (a category named
so, or an item whose own words say it), except the items one of its ``unless`` words
reaches: a vegan rules out milk but not soy milk, someone lactose intolerant rules out
milk but not lactose-free milk.

The table is extendable in the settings (``diets``, a TOML table): a new diet, or more
words for a known one::

    [diets.keto]
    triggers = ["keto", "low[- ]carb"]          # regular expressions, case ignored
    excludes = ["sugar", "bread", "pasta", "potato"]
    unless = ["sugar-free"]

The names are what the chips show ("diet: vegan").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retrieval.errors import SettingsError

_DAIRY = ["milk", "yoghurt", "yogurt", "cream", "cheese", "butter", "dairy", "whey", "casein", "kefir", "curd",
          "ghee", "quark", "buttermilk"]
_MEAT = ["meat", "beef", "pork", "chicken", "lamb", "veal", "turkey", "ham", "bacon", "sausage", "salami",
         "fish", "salmon", "tuna", "shrimp", "prawn", "anchovy", "gelatin", "gelatine", "lard"]
_PLANT = ["vegan", "plant-based", "soy", "soya", "oat", "almond", "coconut", "rice drink", "fruit", "vegetable"]


@dataclass(frozen=True)
class Diet:
    name: str
    # words whose items the diet rules out
    excludes: tuple[str, ...]
    # words whose items stay allowed even when an excluded word reaches them
    unless: tuple[str, ...] = ()
    # extra trigger expressions (the built-in diets are recognised by assistant.reading)
    triggers: tuple[str, ...] = field(default=())


DIETS: dict[str, Diet] = {d.name: d for d in [
    Diet("vegan", tuple(_DAIRY + _MEAT + ["egg", "eggs", "honey", "mayonnaise"]), tuple(_PLANT)),
    Diet("vegetarian", tuple(_MEAT), ("vegetarian", "vegan", "plant-based", "fruit", "vegetable")),
    Diet("dairy-free", tuple(_DAIRY + ["lactose"]), ("dairy-free", "vegan", "soy", "soya", "oat", "almond",
                                                      "coconut", "plant-based", "fruit", "vegetable")),
    Diet("lactose-free", tuple(_DAIRY + ["lactose"]), ("lactose-free", "lactose free", "vegan", "soy", "soya", "oat",
                                                         "almond", "coconut", "plant-based", "dairy-free", "fruit",
                                                         "vegetable")),
    Diet("gluten-free", ("gluten", "wheat", "barley", "rye", "bread", "pasta", "flour", "couscous", "semolina",
                         "spelt", "malt", "bulgur", "noodle"), ("gluten-free",)),
    Diet("nut-free", ("nut", "nuts", "peanut", "almond", "hazelnut", "walnut", "cashew", "pistachio", "pecan",
                      "macadamia", "marzipan", "nougat", "praline"), ("nut-free",)),
]}


def diet_table(extra: dict[str, Any] | None = None) -> dict[str, Diet]:
    """The built-in diets with the settings' ``diets`` table merged in: a known name gets
    the extra words, a new name is a new diet. Raises :class:`SettingsError` naming the
    diet and the key at fault."""
    table = dict(DIETS)
    for name, spec in (extra or {}).items():
        if not isinstance(spec, dict):
            raise SettingsError(f"setting diets.{name} must be a table with excludes / unless / triggers")
        unknown = set(spec) - {"excludes", "unless", "triggers"}
        if unknown:
            raise SettingsError(f"setting diets.{name}: unknown key(s) {', '.join(sorted(unknown))} "
                                "(known: excludes, unless, triggers)")
        lists = {}
        for key in ("excludes", "unless", "triggers"):
            value = spec.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise SettingsError(f"setting diets.{name}.{key} must be a list of words")
            lists[key] = tuple(value)
        old = table.get(name)
        if old is None:
            if not lists["excludes"]:
                raise SettingsError(f"setting diets.{name} needs excludes (the words it rules out)")
            if not lists["triggers"]:
                lists["triggers"] = (rf"\b{name}\b",)
            table[name] = Diet(name, lists["excludes"], lists["unless"], lists["triggers"])
        else:
            table[name] = Diet(name, old.excludes + lists["excludes"], old.unless + lists["unless"],
                               old.triggers + lists["triggers"])
    return table


def triggers(table: dict[str, Diet]) -> list[tuple[str, str]]:
    """``(name, regex)`` of the diets recognised beyond the built-in phrases."""
    return [(d.name, t) for d in table.values() for t in d.triggers]


def excluded_items(diet: Diet, terms) -> set[str]:
    """The items ``diet`` rules out in the catalog of ``terms`` (a CatalogTerms)."""
    out: set[str] = set()
    for word in diet.excludes:
        out |= terms.reach(word)
    if not out:
        return out
    allowed: set[str] = set()
    for word in diet.unless:
        allowed |= terms.reach(word, strict=True)
    return out - allowed

"""Families of foods people rule out or ask for by one word ("no citrus", "allergic to
citrus fruits", "no stone fruit"), with their members. General knowledge, not a
catalog's: a member the catalog does not name reaches nothing. A sentence encoder places
"citrus" near lemon and orange but not near grapefruit or lime, and an allergy must not
miss one.
"""

from __future__ import annotations

FAMILIES: dict[str, tuple[str, ...]] = {
    "citrus": ("lemon", "lime", "orange", "grapefruit", "mandarin", "satsuma", "clementine", "tangerine",
               "pomelo", "kumquat", "yuzu", "bergamot"),
    "berries": ("strawberry", "blueberry", "raspberry", "blackberry", "cranberry", "lingonberry",
                "gooseberry", "currant", "cloudberry"),
    "stone fruit": ("peach", "nectarine", "plum", "apricot", "cherry"),
    "melons": ("melon", "watermelon", "cantaloupe", "honeydew", "galia"),
    # alliums ("anything in the onion family") and nightshades: common intolerances
    "alliums": ("onion", "leek", "garlic", "shallot", "chive", "scallion", "spring onion"),
    "nightshades": ("tomato", "potato", "pepper", "aubergine", "eggplant", "chili", "chilli", "paprika",
                    "tomatillo", "goji"),
}
# the ways a family is said
_SAID = {"citrus fruit": "citrus", "citrus fruits": "citrus", "citruses": "citrus", "berry": "berries",
         "stone fruits": "stone fruit", "stonefruit": "stone fruit", "allium": "alliums",
         "onion family": "alliums", "the onion family": "alliums", "nightshade": "nightshades",
         "nightshade vegetables": "nightshades", "nightshade veg": "nightshades"}


def family(phrase: str) -> tuple[str, ...]:
    """The members of the family ``phrase`` names ("citrus fruits"), else ()."""
    key = " ".join(phrase.lower().split())
    return FAMILIES.get(_SAID.get(key, key), ())

"""Independent blind scenario set 6: builds grocery.jsonl and movies.jsonl in this folder.

Every judged turn's ``relevant`` and ``forbidden`` ids are computed from predicates over
catalog fields (category, manufacturer, origin, fat % in the title, genre, year, star,
director, writer, title), never picked by hand from a system's output.

* relevant: items that satisfy everything the user has asked for so far (all constraints
  still in force at that turn); for movies limited to reasonably well-known films (the top
  N by ReDial mention count, N given per turn) and minus a few records whose catalog
  metadata plainly belongs to another film (SUSPECT below).
* forbidden: every catalog item that truly violates something the user said and has not
  retracted (ruled-out brand/actor/director/writer/franchise/decade, already seen/owned,
  diet or allergy). Items with an unknown field (no year, no origin) are never forbidden
  on that field.

Usage (from the repo root):
    python -m retrieval convert redial-movies ../shared/datasets/redial/movies_id2info.json \
        /tmp/set6_movies.jsonl --mentions ../shared/datasets/redial/movies_with_mentions.csv
    .venv/bin/python eval/scenarios/independent/set6/make.py --movies /tmp/set6_movies.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
GROCERY = REPO / "data" / "demo" / "grocery.jsonl"
MENTIONS = REPO.parent / "shared" / "datasets" / "redial" / "movies_with_mentions.csv"


# --------------------------------------------------------------------------- predicates
class P:
    """A composable predicate over a catalog record."""

    def __init__(self, f, name="?"):
        self.f = f
        self.name = name

    def __call__(self, r) -> bool:
        return bool(self.f(r))

    def __and__(self, o):
        return P(lambda r: self(r) and o(r), f"({self.name} & {o.name})")

    def __or__(self, o):
        return P(lambda r: self(r) or o(r), f"({self.name} | {o.name})")

    def __invert__(self):
        return P(lambda r: not self(r), f"~{self.name}")


NOTHING = P(lambda r: False, "nothing")
ANY = P(lambda r: True, "any")


def attr(r, k):
    return (r.get("attributes") or {}).get(k)


# --------------------------------------------------------------------------- grocery
def cat(*names):
    s = set(names)
    return P(lambda r: attr(r, "category") in s, f"cat{names}")


def group(g):
    return P(lambda r: attr(r, "group") == g, f"group({g})")


def brand(prefix):
    # "Arla" covers the catalog's "Arla" and "Arla Ko" labels.
    return P(lambda r: (attr(r, "manufacturer") or "").lower().startswith(prefix.lower()), f"brand({prefix})")


def gid(*ids):
    s = set(ids)
    return P(lambda r: r["id"] in s, f"id{ids}")


def origin_in(*names):
    s = set(names)
    return P(lambda r: attr(r, "origin") in s, f"origin{names}")


def origin_known():
    return P(lambda r: bool(attr(r, "origin")), "origin_known")


def text(rx):
    c = re.compile(rx, re.I)
    return P(lambda r: c.search(r["title"] + " " + r.get("description", "")), f"text({rx})")


def title(rx):
    c = re.compile(rx, re.I)
    return P(lambda r: c.search(r["title"]), f"title({rx})")


def fat_pct(r):
    m = re.search(r"(\d+(?:[.,]\d+)?)\s*%", r["title"])
    return float(m.group(1).replace(",", ".")) if m else None


def fat_at_most(x):
    return P(lambda r: fat_pct(r) is not None and fat_pct(r) <= x, f"fat<={x}")


def fat_at_least(x):
    return P(lambda r: fat_pct(r) is not None and fat_pct(r) >= x, f"fat>={x}")


DAIRY = cat("Milk", "Yoghurt", "Sour-Cream", "Sour-Milk")
LACTOSE = DAIRY & ~gid("Arla-Lactose-Medium-Fat-Milk")
PLANT_DAIRY = cat("Oatghurt", "Oat-Milk", "Soyghurt", "Soy-Milk")
SOY = cat("Soyghurt", "Soy-Milk")
SPOONABLE = cat("Yoghurt", "Oatghurt", "Soyghurt")
JUICE = cat("Juice")
PULP = JUICE & (title(r"med fruktkött") | text(r"\bwith pulp"))
NO_PULP = JUICE & (title(r"utan fruktkött") | text(r"without pulp"))
CONCENTRATE = JUICE & (title(r"från koncentrat") | (text(r"from concentrate") & ~text(r"not from concentrate")))
ORANGE_JUICE = JUICE & text(r"orange|apelsin")
APPLE_JUICE = JUICE & text(r"äpple|apple")
GRAPEFRUIT_JUICE = JUICE & text(r"grapefruit|blodgrape")
ORGANIC = text(r"ecolog|ekolog|organic")
EUROPE = origin_in("Italy", "Spain", "The Netherlands", "Sweden", "Germany", "Poland", "Denmark", "Finland")
FRUIT = group("Fruit")
VEG = group("Vegetables")
CITRUS = cat("Lemon", "Lime", "Orange", "Red-Grapefruit", "Satsumas")
NIGHTSHADE = cat("Tomato", "Pepper", "Aubergine") | gid("Floury-Potato", "Solid-Potato")
FLAVOURED = text(r"vanilla|vanilj|strawberr|jordgubb|blueberr")


# --------------------------------------------------------------------------- movies
YEAR_RX = re.compile(r"\s*\((\d{4})\)\s*$")

# Records whose catalog metadata plainly describes a different film than the title (seen
# while reading the popular part of the catalog). They are kept out of relevant pools only.
SUSPECT = {
    "204794",  # It (1990) -> Goodfellas metadata
    "116076",  # It (2004) -> Mean Girls metadata
    "97219",  # The Notebook (2013) -> Hungarian war film
    "202418",  # Notebook (2006) -> Malayalam musical
    "79968",  # Split (2017) -> a different thriller
    "169085",  # Independence Day (2000) -> Indian drama
    "205480",  # Titanic (2012) -> a documentary-ish adventure
    "122552",  # Hangover (2010) -> Bengali comedy
    "136877",  # 300 (2007) -> Hong Kong romcom
    "77161",  # A Nightmare on Elm Street (1984) -> 2010 remake metadata
    "153346",  # Insidious (2011) -> unrelated short
    "191200",  # The Commuter (2017) -> unrelated drama
    "175843",  # The Lord of the Rings (no year) -> 1978 Bakshi cartoon metadata
    "79320",  # Contact (2009) documentary, meant Contact (1997)
    "144730",  # Camp Rock -> music documentary metadata
    "131232",  # Flight (2009) -> Iron Maiden documentary
    "151110",  # Unstoppable (2013) documentary
    "79851",  # The Mask (1988) -> Halloween 4 metadata
    "96646",  # Ghost (1998) -> Iranian horror, people mean Ghost (1990)
    "98016",  # I Am Thor (2015) -> mentions are about Thor
    "112284",  # Ring (1998) -> war drama, people mean the Japanese horror
    "141566",  # Click (2010) -> Indian horror, people mean Click (2006)
    "204998",  # The Langoliers -> Angola 3 documentary metadata
}


def base_title(t):
    t = YEAR_RX.sub("", t).lower().strip()
    t = re.sub(r"^the\s+", "", t)
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def year(r):
    return attr(r, "year")


def genre(*gs):
    s = set(gs)
    return P(lambda r: s & set(attr(r, "genre") or []), f"genre{gs}")


def star(*names):
    s = set(names)
    return P(lambda r: s & set(attr(r, "star") or []), f"star{names}")


def director(*names):
    s = set(names)
    return P(lambda r: s & set(attr(r, "director") or []), f"director{names}")


def writer(*names):
    s = set(names)
    return P(lambda r: s & set(attr(r, "writer") or []), f"writer{names}")


def years(lo=None, hi=None):
    """Year known and lo <= year <= hi (inclusive bounds, None = open)."""

    def f(r):
        y = year(r)
        return y is not None and (lo is None or y >= lo) and (hi is None or y <= hi)

    return P(f, f"years({lo},{hi})")


def mtitle(rx):
    c = re.compile(rx, re.I)
    return P(lambda r: c.search(r["title"]), f"title({rx})")


def mdesc(rx):
    c = re.compile(rx, re.I)
    return P(lambda r: c.search(r["title"] + " " + r.get("description", "")), f"desc({rx})")


class Movies:
    def __init__(self, path, mentions):
        self.items = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
        men = {}
        with open(mentions, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                men[row["movieId"]] = int(row["nbMentions"])
        self.items.sort(key=lambda r: (-men.get(r["id"], 0), r["id"]))
        self.rank = {r["id"]: i for i, r in enumerate(self.items)}
        self.by_title = {}
        for r in self.items:
            self.by_title.setdefault(r["title"], r)

    def film(self, *titles):
        """The named films (exact catalog titles) plus every record that is the same film
        to the catalog: same imdb id and the same title once the year and a leading 'The'
        are dropped."""
        keys = set()
        for t in titles:
            r = self.by_title.get(t)
            assert r is not None, f"no movie titled {t!r}"
            keys.add((attr(r, "imdb_id") or r["id"], base_title(r["title"])))
        ids = {r["id"] for t in titles for r in [self.by_title[t]]}
        for r in self.items:
            if ((attr(r, "imdb_id") or r["id"]), base_title(r["title"])) in keys:
                ids.add(r["id"])
        return P(lambda r: r["id"] in ids, f"film{titles}")

    def similar(self, t, min_shared=2):
        """Shares at least min_shared genres with the named film."""
        g = set(attr(self.by_title[t], "genre") or [])
        return P(lambda r: len(g & set(attr(r, "genre") or [])) >= min(min_shared, len(g)), f"like({t})")


# --------------------------------------------------------------------------- building
def T(user, rel=None, forb=NOTHING, top=400):
    """A turn. rel None = context turn, not judged."""
    return {"user": user, "rel": rel, "forb": forb, "top": top}


def build(convs, items, rank=None):
    out = []
    stats = []
    for cid, tags, turns in convs:
        jt = []
        for t in turns:
            turn = {"user": t["user"]}
            if t["rel"] is not None:
                forb = [r["id"] for r in items if t["forb"](r)]
                rel = [
                    r["id"]
                    for r in items
                    if t["rel"](r)
                    and (rank is None or (rank[r["id"]] < t["top"] and r["id"] not in SUSPECT))
                ]
                assert rel, f"{cid}: no relevant item for turn {t['user']!r}"
                overlap = set(rel) & set(forb)
                assert not overlap, f"{cid}: relevant and forbidden overlap {sorted(overlap)[:5]} in {t['user']!r}"
                turn["relevant"] = rel
                if forb:
                    turn["forbidden"] = forb
                stats.append((cid, len(rel), len(forb), t["user"][:60]))
            jt.append(turn)
        out.append({"id": cid, "tags": tags, "turns": jt})
    ids = [c["id"] for c in out]
    assert len(ids) == len(set(ids)), "duplicate conversation ids"
    return out, stats


def write(path, convs):
    with open(path, "w", encoding="utf-8") as fh:
        for c in convs:
            fh.write(json.dumps(c, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- grocery conversations
def grocery_conversations():
    STIRFRY = cat("Ginger", "Garlic", "Pepper", "Zucchini", "Mushroom", "Carrots", "Onion", "Cabbage", "Leek", "Asparagus")
    SOUP = VEG & cat("Leek", "Onion", "Carrots", "Potato", "Cabbage", "Zucchini", "Red-Beet", "Garlic") & ~gid("Sweet-Potato")
    ROAST = VEG & cat("Potato", "Carrots", "Zucchini", "Aubergine", "Pepper", "Red-Beet", "Onion", "Garlic", "Asparagus") | gid("Beef-Tomato")
    GUAC = cat("Avocado", "Lime", "Lemon", "Tomato", "Onion", "Garlic")
    TACO = cat("Avocado", "Lime", "Tomato", "Onion", "Pepper", "Garlic", "Sour-Cream")
    CURRY = cat("Ginger", "Garlic", "Lime", "Pepper", "Aubergine", "Onion", "Zucchini") | gid("Sweet-Potato")
    SALAD = cat("Cucumber", "Tomato", "Pepper", "Avocado", "Leek", "Mushroom")
    TROPICAL = cat("Mango", "Papaya", "Passion-Fruit", "Pineapple")
    SMOOTHIE_FRUIT = cat("Banana", "Mango", "Pineapple", "Papaya", "Passion-Fruit", "Kiwi", "Peach", "Nectarine", "Plum")
    STONE = cat("Peach", "Nectarine", "Plum")
    SWEET_APPLE = gid("Golden-Delicious", "Pink-Lady", "Red-Delicious", "Royal-Gala")
    VITC = CITRUS | cat("Kiwi", "Papaya")
    VANILLA = SPOONABLE & text(r"vanilla|vanilj")
    BANANA = cat("Banana")
    return [
        ("g01-dairyfree-then-soy", ["diet", "allergy", "persist", "typo"], [
            T("hey, looking for a yoghurt but im dairy free 🙃", SPOONABLE & ~DAIRY, DAIRY),
            T("oh and i cant do soy either, forgot to say. sorry!!", SPOONABLE & ~DAIRY & ~SOY, DAIRY | SOY),
        ]),
        ("g02-juice-no-tropicana-pulp", ["brand", "exclusion", "persist", "occasion"], [
            T("need some juice for a weekend brunch but not tropicana, had a bad carton from them last time", JUICE & ~brand("Tropicana"), brand("Tropicana")),
            T("the kind with actual bits of fruit in it pls, i like it chunky", PULP & ~brand("Tropicana"), brand("Tropicana") | NO_PULP),
        ]),
        ("g03-lactose-retracted-organic", ["diet", "retraction"], [
            T("whats good for someone whos lactose intolerant? need something to pour over cereal in the morning", (cat("Milk", "Oat-Milk", "Soy-Milk")) & ~LACTOSE, LACTOSE),
            T("ok update, false alarm lol, the doctor says my stomach is fine. normal milk is ok again, but i'd go for organic if you have it", cat("Milk") & ORGANIC),
        ]),
        ("g04-apples-baking-snack-origin", ["occasion", "origin", "exclusion"], [
            T("which apple would you use for a tarte tatin? i want something tart that keeps its shape in the oven", gid("Granny-Smith")),
            T("and for just munching at my desk? the sweetest, crunchiest one you've got", SWEET_APPLE),
            T("can it be one that isn't shipped from italy? trying to mix things up", SWEET_APPLE & ~origin_in("Italy"), cat("Apple") & origin_in("Italy")),
        ]),
        ("g05-stirfry-no-peppers-no-mushrooms", ["exclusion", "persist", "occasion"], [
            T("making a veggie stir fry tonight, what should i grab", VEG & STIRFRY),
            T("no bell peppers tho, can't stand them", VEG & STIRFRY & ~cat("Pepper"), cat("Pepper")),
            T("also skip mushrooms, my flatmate picks them all out anyway", VEG & STIRFRY & ~cat("Pepper", "Mushroom"), cat("Pepper", "Mushroom")),
        ]),
        ("g06-melon-not-watermelon", ["exclusion", "occasion", "persist"], [
            T("bringing fruit to a picnic in the park. a melon would be nice but NOT a giant watermelon, i'm cycling there", cat("Melon") & ~gid("Watermelon"), gid("Watermelon")),
            T("which of those is the sweetest one?", cat("Melon") & ~gid("Watermelon"), gid("Watermelon")),
        ]),
        ("g07-vegan-breakfast-abandoned", ["diet", "retraction", "emoji"], [
            T("going vegan for january 🌱 what can i have at breakfast instead of milk and yoghurt?", PLANT_DAIRY, DAIRY),
            T("ok the vegan experiment lasted 4 days 😂 forget it. i just want a really good vanilla yoghurt", VANILLA),
        ]),
        ("g08-no-arla-milk-yoghurt", ["brand", "exclusion", "persist"], [
            T("i need milk, any brand except arla", cat("Milk") & ~brand("Arla"), brand("Arla")),
            T("same for yoghurt, still no arla please", SPOONABLE & ~brand("Arla"), brand("Arla")),
        ]),
        ("g09-cold-vitamin-c-not-sour", ["health", "exclusion", "emoji"], [
            T("got a stinking cold 🤧 which fruit has loads of vitamin c", VITC),
            T("something i can actually eat on its own please, lemons and limes are way too sour for that", VITC & ~cat("Lemon", "Lime"), cat("Lemon", "Lime")),
        ]),
        ("g10-guac-have-avocados", ["owned", "occasion"], [
            T("guac night!!! what do i need 🥑", GUAC),
            T("i already got 4 avocados at home. what else goes in it?", GUAC & ~cat("Avocado"), cat("Avocado")),
        ]),
        ("g11-lunchbox-banana-allergy", ["kids", "allergy"], [
            T("easy fruit for my 5 year old's lunchbox, something she can peel by herself", cat("Banana", "Satsumas")),
            T("wait no, she's allergic to bananas, what am i saying", cat("Satsumas", "Orange"), BANANA),
        ]),
        ("g12-tropical-no-pineapple", ["mood", "exclusion", "emoji"], [
            T("in the mood for something tropical and a bit exotic 🥭🌴", TROPICAL),
            T("not pineapple, it makes my mouth go all tingly", TROPICAL & ~cat("Pineapple"), cat("Pineapple")),
        ]),
        ("g13-soup-no-onion-leek", ["mood", "exclusion", "health"], [
            T("freezing outside, want to make a huge pot of vegetable soup. what should go in?", SOUP),
            T("oh and no onions or leeks, they wreck my stomach", SOUP & ~cat("Onion", "Leek"), cat("Onion", "Leek")),
        ]),
        ("g14-swedish-veg-then-dairy", ["origin", "persist"], [
            T("i'd like to buy local this week. which vegetables do you have that are grown in sweden?", VEG & origin_in("Sweden"), VEG & origin_known() & ~origin_in("Sweden")),
            T("nice. same idea for dairy, swedish made only", DAIRY & origin_in("Sweden"), (DAIRY | PLANT_DAIRY) & origin_known() & ~origin_in("Sweden")),
        ]),
        ("g15-grapefruit-typo-no-tropicana", ["typo", "brand", "exclusion"], [
            T("grapefrut juise?? not to sweet", GRAPEFRUIT_JUICE),
            T("not tropicana", GRAPEFRUIT_JUICE & ~brand("Tropicana"), brand("Tropicana")),
        ]),
        ("g16-pears-have-conference", ["owned"], [
            T("what kinds of pears do you carry?", cat("Pear")),
            T("i've already got conference pears at home, want to try a different variety", cat("Pear") & ~gid("Conference"), gid("Conference")),
        ]),
        ("g17-tomatoes-burgers-salad", ["occasion"], [
            T("need a big fat tomato to slice for burgers on the bbq", gid("Beef-Tomato")),
            T("and some smaller ones for a side salad", cat("Tomato") & ~gid("Beef-Tomato")),
        ]),
        ("g18-low-fat-dairy", ["diet", "persist"], [
            T("trying to lose a few kilos, what low fat dairy do you have?", DAIRY & fat_at_most(1.5), DAIRY & fat_at_least(3)),
            T("specifically yoghurt", cat("Yoghurt") & fat_at_most(1.5), DAIRY & fat_at_least(3)),
        ]),
        ("g19-european-fruit-stone", ["origin", "persist"], [
            T("trying to cut down on air miles ✈️ so fruit grown in europe only please", FRUIT & EUROPE, FRUIT & origin_known() & ~EUROPE),
            T("any stone fruit in that lot?", STONE & EUROPE, FRUIT & origin_known() & ~EUROPE),
        ]),
        ("g20-sour-cocktails", ["emoji", "occasion"], [
            T("🍋🍋🍋 i need something SOUR", cat("Lemon", "Lime", "Red-Grapefruit") | gid("Granny-Smith")),
            T("it's for cocktails 🍹 so mostly for squeezing", cat("Lemon", "Lime")),
        ]),
        ("g21-plant-milk-skip-soy", ["diet", "change-of-mind"], [
            T("need a plant milk for my coffee. oat or soy, whatever", cat("Oat-Milk", "Soy-Milk"), DAIRY),
            T("hmm actually skip soy", cat("Oat-Milk"), DAIRY | SOY),
        ]),
        ("g22-roast-veg-nightshades", ["diet", "exclusion", "occasion"], [
            T("roasting a big tray of veg in the oven on saturday, what works well", ROAST),
            T("my husband has to avoid nightshades, so none of those please", ROAST & ~NIGHTSHADE, NIGHTSHADE),
        ]),
        ("g23-smoothie-no-banana-plant-base", ["exclusion", "diet", "persist"], [
            T("smoothie ingredients please but no banana, i hate the taste", SMOOTHIE_FRUIT & ~BANANA, BANANA),
            T("and a dairy free base to blend it with", PLANT_DAIRY, DAIRY | BANANA),
        ]),
        ("g24-peach-fuzz", ["change-of-mind", "exclusion"], [
            T("peaches in?", cat("Peach")),
            T("actually the fuzzy skin gives me the creeps. something similar but smooth?", STONE & ~cat("Peach"), cat("Peach")),
        ]),
        ("g25-apple-juice-brand-retracted", ["brand", "retraction"], [
            T("apple juice but not god morgon, their cartons always leak on me", APPLE_JUICE & ~brand("God Morgon"), brand("God Morgon")),
            T("ok whatever, god morgon is fine actually. i just want whichever has the most real fruit bits in it", APPLE_JUICE & PULP),
        ]),
        ("g26-kids-no-pulp-no-concentrate", ["kids", "persist"], [
            T("my kids refuse juice with bits in it. smooth orange juice?", ORANGE_JUICE & NO_PULP, PULP),
            T("and not from concentrate either pls, they taste fake to me", ORANGE_JUICE & NO_PULP & ~CONCENTRATE, PULP | CONCENTRATE),
        ]),
        ("g27-filmjolk-plant-version", ["diet", "non-english"], [
            T("do u have filmjölk", cat("Sour-Milk")),
            T("is there a plant based thing that's kind of like that? spoonable", cat("Oatghurt", "Soyghurt"), DAIRY),
        ]),
        ("g28-summer-salad-tomato-allergy", ["allergy", "occasion"], [
            T("fresh stuff for a big summer salad", SALAD),
            T("i'm allergic to tomatoes fyi", SALAD & ~cat("Tomato"), cat("Tomato")),
        ]),
        ("g29-taco-night-vegan-guests", ["occasion", "diet", "emoji"], [
            T("taco night for 6 people 🌮 what do i need from the veg and dairy aisles", TACO),
            T("half of them are vegan, so no dairy at all please", TACO & ~DAIRY, DAIRY),
        ]),
        ("g30-curry-no-garlic", ["occasion", "exclusion"], [
            T("cooking a thai style green curry, need the fresh stuff", CURRY),
            T("forgot to mention: no garlic in this house (partner thing)", CURRY & ~cat("Garlic"), cat("Garlic")),
        ]),
        ("g31-yoghurt-flavours-then-plain", ["multi-turn", "kids"], [
            T("strawberry yoghurt for the kids?", SPOONABLE & text(r"strawberr|jordgubb")),
            T("any blueberry ones?", SPOONABLE & text(r"blueberr")),
            T("ok what about plain unflavoured ones", SPOONABLE & text(r"natural|naturell") & ~FLAVOURED, SPOONABLE & FLAVOURED),
        ]),
    ]


# --------------------------------------------------------------------------- movie conversations
def movie_conversations(M: Movies):
    F = M.film
    FAST = mtitle(r"fast (and|&) (the )?furious|furious 7|fast five|fast 8|2 fast 2 furious|fate of the furious")
    STAR_WARS = mtitle(r"star wars|rogue one")
    HARRY = mtitle(r"harry potter")
    LOTR = mtitle(r"lord of the rings")
    CONJ = mtitle(r"conjuring|annabelle\b(?!'s)")
    OCEANS = mtitle(r"^ocean's")
    WICK = mtitle(r"john wick")
    XMAS = mdesc(r"christmas|santa")
    HEIST = mdesc(r"\bheist|robbery|robbers|\bbank job") & genre("crime", "thriller", "action") & ~genre("animation")
    BOXING = mdesc(r"\bbox(ing|er)\b")
    SPACE = mdesc(r"\bspace|planet|galax|astronaut|\bmars\b|spaceship|starship|\borbit")
    TWISTY = genre("mystery") & genre("thriller", "drama", "crime") & ~genre("action", "horror", "comedy", "animation", "sci-fi", "romance")
    TARANTINO_VIBE = genre("crime") & genre("thriller", "drama", "action") & ~genre("comedy", "animation", "family", "romance")
    INCEPTIONISH = genre("sci-fi") & genre("action", "thriller", "mystery") & ~genre("comedy", "family", "animation")
    SUPERBADISH = genre("comedy") & years(2000) & ~genre("action", "adventure", "animation", "family", "fantasy", "sci-fi", "music", "musical", "horror")
    HP_LIKE = genre("fantasy") & (genre("family") | (genre("adventure") & ~genre("action", "sci-fi")))
    BTTF_LIKE = genre("sci-fi") & genre("comedy", "family")
    KIDS_ANIM = genre("animation") & genre("family", "comedy") & ~genre("horror")
    return [
        ("m01-comedy-2000s-no-sandler-seen", ["actor", "exclusion", "year", "seen", "persist"], [
            T("need a comedy, something from 2000 onwards, and please no adam sandler i cant stand the guy",
              genre("comedy") & years(2000) & ~star("Adam Sandler"), star("Adam Sandler") | years(None, 1999)),
            T("seen superbad and step brothers already",
              genre("comedy") & years(2000) & ~star("Adam Sandler") & ~F("Superbad (2007)", "Step Brothers (2008)"),
              star("Adam Sandler") | years(None, 1999) | F("Superbad (2007)", "Step Brothers (2008)")),
        ]),
        ("m02-like-inception-no-nolan", ["like-title", "director", "seen", "persist"], [
            T("loved Inception but honestly it made my head spin lol. anything in that vein that's a bit easier to follow?",
              INCEPTIONISH & ~F("Inception (2010)"), F("Inception (2010)"), top=300),
            T("and nothing by nolan please, my gf refuses after interstellar",
              INCEPTIONISH & ~F("Inception (2010)") & ~director("Christopher Nolan"),
              F("Inception (2010)") | director("Christopher Nolan"), top=300),
        ]),
        ("m03-90s-horror-seen-then-80s", ["decade", "seen", "persist", "retraction"], [
            T("90s horror recs?", genre("horror") & years(1990, 1999), top=1000),
            T("already watched scream like 10 times", genre("horror") & years(1990, 1999) & ~F("Scream (1996)"), F("Scream (1996)"), top=1000),
            T("ok open it up to the 80s as well", genre("horror") & years(1980, 1999) & ~F("Scream (1996)"), F("Scream (1996)"), top=600),
        ]),
        ("m04-kids-party-animation", ["kids", "seen", "year", "persist", "occasion"], [
            T("birthday party for a bunch of 6 year olds on saturday, need an animated movie to stick on", KIDS_ANIM),
            T("they've all seen frozen and moana a million times",
              KIDS_ANIM & ~F("Frozen (2013)", "Moana (2016)"), F("Frozen (2013)", "Moana (2016)")),
            T("also nothing older than 2005, apparently old cartoons are 'boring' 🙄",
              KIDS_ANIM & years(2005) & ~F("Frozen (2013)", "Moana (2016)"), F("Frozen (2013)", "Moana (2016)") | years(None, 2004)),
        ]),
        ("m05-date-night-romcom-no-aniston", ["mood", "actor", "year", "persist", "emoji"], [
            T("date night tmrw 💕 want a romcom, but nothing with jennifer aniston, my bf has a weird thing about her",
              genre("comedy") & genre("romance") & ~star("Jennifer Aniston"), star("Jennifer Aniston")),
            T("and not too old, 2000s or newer",
              genre("comedy") & genre("romance") & ~star("Jennifer Aniston") & years(2000),
              star("Jennifer Aniston") | years(None, 1999)),
        ]),
        ("m06-rainy-sunday-cozy", ["mood", "exclusion", "genre"], [
            T("rainy sunday, i want something cozy and feel-good. nothing stressful or scary",
              genre("comedy") & genre("family", "romance", "drama") & ~genre("horror", "thriller", "crime", "war"), genre("horror")),
            T("oh and not a cartoon pls",
              genre("comedy") & genre("family", "romance", "drama") & ~genre("horror", "thriller", "crime", "war", "animation"),
              genre("horror", "animation")),
        ]),
        ("m07-like-gone-girl-no-affleck", ["like-title", "actor", "seen", "persist"], [
            T("just finished gone girl and i'm obsessed. more twisty psychological thrillers pls",
              TWISTY & ~F("Gone Girl (2014)"),
              F("Gone Girl (2014)"), top=500),
            T("nothing with ben affleck in it",
              TWISTY & ~F("Gone Girl (2014)") & ~star("Ben Affleck"),
              F("Gone Girl (2014)") | star("Ben Affleck"), top=500),
            T("seen shutter island and the girl on the train too",
              TWISTY & ~star("Ben Affleck")
              & ~F("Gone Girl (2014)", "Shutter Island (2010)", "The Girl on the Train (2016)"),
              F("Gone Girl (2014)", "Shutter Island (2010)", "The Girl on the Train (2016)") | star("Ben Affleck"), top=500),
        ]),
        ("m08-tom-hanks-unseen-recent", ["actor", "seen", "year", "persist"], [
            T("tom hanks movies i might not have seen? i've done forrest gump, cast away and toy story",
              star("Tom Hanks") & ~F("Forrest Gump (1994)", "Cast Away (2000)", "Toy Story (1995)"),
              F("Forrest Gump (1994)", "Cast Away (2000)", "Toy Story (1995)"), top=1500),
            T("only the more recent ones pls, like after 2010",
              star("Tom Hanks") & years(2011) & ~F("Forrest Gump (1994)", "Cast Away (2000)", "Toy Story (1995)"),
              F("Forrest Gump (1994)", "Cast Away (2000)", "Toy Story (1995)") | years(None, 2009), top=1500),
        ]),
        ("m09-tarantino-then-not-him", ["director", "exclusion", "seen"], [
            T("tarantino films other than pulp fiction?", director("Quentin Tarantino") & ~F("Pulp Fiction (1994)"), F("Pulp Fiction (1994)"), top=1500),
            T("ok turns out i've seen all of his. something with that vibe but NOT by him",
              TARANTINO_VIBE & ~director("Quentin Tarantino"), director("Quentin Tarantino"), top=300),
        ]),
        ("m10-action-post-80s-no-scifi", ["decade", "genre", "exclusion", "persist"], [
            T("action movie, nothing from the 80s or earlier", genre("action") & years(1990), years(None, 1989)),
            T("and no sci-fi stuff, just straight up action", genre("action") & years(1990) & ~genre("sci-fi"), years(None, 1989) | genre("sci-fi")),
        ]),
        ("m11-car-action-no-fast-furious", ["franchise", "exclusion", "seen"], [
            T("car chase action flick. and before you say it: no fast and furious, i'm SO done with that franchise",
              genre("action") & genre("crime", "thriller") & ~FAST, FAST),
            T("seen baby driver as well",
              genre("action") & genre("crime", "thriller") & ~FAST & ~F("Baby Driver (2017)"), FAST | F("Baby Driver (2017)")),
        ]),
        ("m12-space-not-star-wars", ["franchise", "exclusion", "decade"], [
            T("space movie, but NOT star wars. my boyfriend puts it on every single weekend",
              genre("sci-fi") & SPACE & ~STAR_WARS, STAR_WARS, top=600),
            T("this time something older, pre-2000",
              genre("sci-fi") & SPACE & ~STAR_WARS & years(None, 1999), STAR_WARS, top=1000),
        ]),
        ("m13-fantasy-like-hp-not-hp-lotr", ["franchise", "seen", "like-title", "persist"], [
            T("fantasy stuff like harry potter, but i've seen every single one of those so not them",
              HP_LIKE & ~HARRY, HARRY, top=600),
            T("lord of the rings is off the table too, seen them",
              HP_LIKE & ~HARRY & ~LOTR, HARRY | LOTR, top=600),
        ]),
        ("m14-xmas-comedy-ferrell-retracted", ["retraction", "actor", "mood"], [
            T("christmas comedy for the family. please no will ferrell", genre("comedy") & XMAS & ~star("Will Ferrell"), star("Will Ferrell"), top=1000),
            T("ugh ok my kids are begging for elf so will ferrell is fine after all. other christmas ones like elf?",
              genre("comedy") & XMAS & ~F("Elf (2003)"), top=1000),
        ]),
        ("m15-scary-2010s-typo-no-conjuring", ["typo", "decade", "franchise", "seen"], [
            T("scarry movies from the 2010s plz", genre("horror") & years(2010, 2019)),
            T("not the conjuring or annabelle ones, seen em all", genre("horror") & years(2010, 2019) & ~CONJ, CONJ),
        ]),
        ("m16-war-for-dad", ["seen", "genre", "exclusion"], [
            T("my dad wants a war movie for tonight. he's already seen saving private ryan and dunkirk",
              genre("war") & ~F("Saving Private Ryan (1998)", "Dunkirk (2017)"), F("Saving Private Ryan (1998)", "Dunkirk (2017)"), top=1000),
            T("he doesn't like funny ones, so no comedies",
              genre("war") & ~genre("comedy") & ~F("Saving Private Ryan (1998)", "Dunkirk (2017)"),
              F("Saving Private Ryan (1998)", "Dunkirk (2017)") | genre("comedy"), top=1000),
        ]),
        ("m17-girls-night-musical", ["mood", "seen", "year", "emoji"], [
            T("girls night!! we want a musical. but not grease, we know every word 😂", genre("musical") & ~F("Grease (1978)"), F("Grease (1978)"), top=1000),
            T("something from 2000 or later", genre("musical") & years(2000) & ~F("Grease (1978)"), F("Grease (1978)") | years(None, 1999), top=1000),
        ]),
        ("m18-early-2000s-action-comedy", ["decade", "actor", "exclusion"], [
            T("action comedy from the early 2000s", genre("action") & genre("comedy") & years(2000, 2004), top=1000),
            T("no jackie chan", genre("action") & genre("comedy") & years(2000, 2004) & ~star("Jackie Chan"), star("Jackie Chan"), top=1000),
        ]),
        ("m19-leo-not-titanic-post-2005", ["actor", "year", "exclusion", "persist"], [
            T("best leo dicaprio movies? not titanic tho", star("Leonardo DiCaprio") & ~F("Titanic (1997)"), F("Titanic (1997)"), top=1500),
            T("only stuff after 2005", star("Leonardo DiCaprio") & years(2006) & ~F("Titanic (1997)"), F("Titanic (1997)") | years(None, 2004), top=1500),
        ]),
        ("m20-jim-carrey-not-90s", ["actor", "decade", "exclusion", "persist", "short"], [
            T("jim carrey movie but not his 90s stuff, i grew up on those and have seen them all",
              star("Jim Carrey") & years() & ~years(1990, 1999), star("Jim Carrey") & years(1990, 1999), top=1500),
            T("anything else?", star("Jim Carrey") & years() & ~years(1990, 1999), star("Jim Carrey") & years(1990, 1999), top=2500),
        ]),
        ("m21-western-dad-no-eastwood", ["genre", "seen", "actor"], [
            T("looking for a western for my dad", genre("western"), top=1500),
            T("he's seen every clint eastwood movie ever made", genre("western") & ~star("Clint Eastwood") & ~director("Clint Eastwood"),
              star("Clint Eastwood") | director("Clint Eastwood"), top=1500),
        ]),
        ("m22-documentary-seen-blackfish", ["genre", "seen"], [
            T("any good documentaries? something eye-opening", genre("documentary"), top=1200),
            T("seen blackfish", genre("documentary") & ~F("Blackfish (2013)"), F("Blackfish (2013)"), top=1200),
        ]),
        ("m23-sports-true-story-no-boxing", ["mood", "seen", "exclusion"], [
            T("something inspiring about sports, a true story ideally. i've seen the blind side",
              genre("sport") & genre("biography", "drama") & ~F("The Blind Side (2009)"), F("The Blind Side (2009)"), top=1500),
            T("not boxing please",
              genre("sport") & genre("biography", "drama") & ~F("The Blind Side (2009)") & ~BOXING,
              F("The Blind Side (2009)") | (genre("sport") & BOXING), top=1500),
        ]),
        ("m24-breakup-cry-no-sparks", ["mood", "writer", "exclusion", "emoji"], [
            T("just got dumped 😭 i need a movie to ugly cry to", genre("romance") & genre("drama") & ~genre("comedy"), top=300),
            T("nothing based on a nicholas sparks book though, too cheesy for me",
              genre("romance") & genre("drama") & ~genre("comedy") & ~writer("Nicholas Sparks"), writer("Nicholas Sparks"), top=300),
        ]),
        ("m25-horror-no-king-recent", ["writer", "exclusion", "year", "persist"], [
            T("horror, but no stephen king adaptations, i'm kinda burnt out on them", genre("horror") & ~writer("Stephen King"), writer("Stephen King")),
            T("preferably something recent, say 2012 or later", genre("horror") & ~writer("Stephen King") & years(2012), writer("Stephen King")),
        ]),
        ("m26-like-superbad-new-faces", ["like-title", "actor", "seen", "persist"], [
            T("stuff like superbad? seen it obviously", SUPERBADISH & ~F("Superbad (2007)"), F("Superbad (2007)"), top=300),
            T("no jonah hill or seth rogen, want some different faces",
              SUPERBADISH & ~F("Superbad (2007)") & ~star("Jonah Hill", "Seth Rogen"),
              F("Superbad (2007)") | star("Jonah Hill", "Seth Rogen"), top=300),
        ]),
        ("m27-denzel-seen-action", ["actor", "seen", "persist"], [
            T("denzel washington movies", star("Denzel Washington"), top=1500),
            T("seen training day and the equalizer", star("Denzel Washington") & ~F("Training Day (2001)", "The Equalizer (2014)"),
              F("Training Day (2001)", "The Equalizer (2014)"), top=1500),
            T("any of his that are more action-y?", star("Denzel Washington") & genre("action") & ~F("Training Day (2001)", "The Equalizer (2014)"),
              F("Training Day (2001)", "The Equalizer (2014)"), top=2000),
        ]),
        ("m28-70s-80s-scifi-no-ridley", ["decade", "director", "seen"], [
            T("old school sci fi from the 70s or 80s", genre("sci-fi") & years(1970, 1989), top=800),
            T("not ridley scott, i've seen alien and blade runner way too many times",
              genre("sci-fi") & years(1970, 1989) & ~director("Ridley Scott"), director("Ridley Scott"), top=800),
        ]),
        ("m29-heist-no-oceans", ["franchise", "seen", "exclusion"], [
            T("a good heist movie? but nothing from the ocean's series", HEIST & ~OCEANS, OCEANS, top=1500),
            T("seen the italian job and baby driver", HEIST & ~OCEANS & ~F("The Italian Job (2003)", "Baby Driver (2017)"),
              OCEANS | F("The Italian Job (2003)", "Baby Driver (2017)"), top=1500),
        ]),
        ("m30-90s-family-robin-williams", ["decade", "actor", "seen", "persist", "mood"], [
            T("feeling nostalgic tonight... 90s family movies?", genre("family", "animation") & years(1990, 1999)),
            T("anything with robin williams in that?", star("Robin Williams") & years(1990, 1999), top=1500),
            T("we've seen jumanji and mrs doubtfire", star("Robin Williams") & years(1990, 1999) & ~F("Jumanji (1995)", "Mrs. Doubtfire (1993)"),
              F("Jumanji (1995)", "Mrs. Doubtfire (1993)"), top=1500),
        ]),
        ("m31-no-80s-retracted-bttf", ["retraction", "decade", "like-title", "seen"], [
            T("adventure movie for tonight, nothing from the 80s please", genre("adventure") & years() & ~years(1980, 1989), years(1980, 1989)),
            T("hmm actually scratch that, the 80s are fine. something with a back to the future vibe? (seen that one obviously)",
              BTTF_LIKE & ~F("Back to the Future (1985)"), F("Back to the Future (1985)"), top=1500),
        ]),
        ("m32-keanu-not-wick", ["actor", "franchise", "seen"], [
            T("keanu reeves action movies but not john wick, seen those", star("Keanu Reeves") & genre("action") & ~WICK, WICK, top=1500),
            T("something older, 90s maybe", star("Keanu Reeves") & genre("action") & years(1990, 1999), WICK, top=2500),
        ]),
        ("m33-crime-drama-95-05-no-scorsese", ["year", "director", "exclusion"], [
            T("crime drama made somewhere between 1995 and 2005", genre("crime") & genre("drama") & years(1995, 2005)),
            T("no scorsese", genre("crime") & genre("drama") & years(1995, 2005) & ~director("Martin Scorsese"), director("Martin Scorsese")),
        ]),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--movies", required=True, help="converted ReDial movie catalog (jsonl)")
    ap.add_argument("--mentions", default=str(MENTIONS), help="ReDial movies_with_mentions.csv")
    ap.add_argument("-v", "--verbose", action="store_true", help="print per-turn relevant/forbidden counts")
    a = ap.parse_args()

    groc = [json.loads(l) for l in open(GROCERY, encoding="utf-8") if l.strip()]
    g, gs = build(grocery_conversations(), groc)
    write(HERE / "grocery.jsonl", g)

    M = Movies(a.movies, a.mentions)
    m, ms = build(movie_conversations(M), M.items, M.rank)
    write(HERE / "movies.jsonl", m)

    for name, convs, stats in (("grocery", g, gs), ("movies", m, ms)):
        print(f"{name}: {len(convs)} conversations, {sum(len(c['turns']) for c in convs)} turns, {len(stats)} judged")
        if a.verbose:
            for cid, nr, nf, u in stats:
                print(f"  {cid:40s} rel={nr:4d} forb={nf:5d}  {u}")


if __name__ == "__main__":
    main()

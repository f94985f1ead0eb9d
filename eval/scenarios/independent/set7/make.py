"""Build the independent scenario set 7: grocery.jsonl and movies.jsonl.

Every judged turn's ``relevant`` and ``forbidden`` ids are computed here by predicates over
the catalog fields (nothing is hand-picked from a system's output):

* ``want``  - what the user asks for at that turn (everything still in force),
* ``avoid`` - everything the user has ruled out and not taken back (brands, actors,
  directors, decades, genres, owned / already-seen items, diets, allergies...).

relevant  = items with want(x) and not avoid(x)   (movies: only the top-N by ReDial mentions,
            and never a SUSPECT row)
forbidden = every catalog item with avoid(x).  A predicate on a field that an item lacks is
            False, so an item with an unknown field is never forbidden on that field.

Usage (from the repo root; /tmp/movies.jsonl from ``python -m retrieval convert redial-movies``,
see ../README.md):  .venv/bin/python eval/scenarios/independent/set7/make.py --movies /tmp/movies.jsonl
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]  # the repository

# ----------------------------------------------------------------------------- grocery

def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Gi:
    """Grocery item with convenient, None-safe accessors."""

    def __init__(self, d):
        a = d.get("attributes", {})
        self.id = d["id"]
        self.title = d.get("title", "")
        self.cat = a.get("category")
        self.group = a.get("group")
        self.brand = a.get("manufacturer")  # None when unknown
        self.origin = a.get("origin")  # None when unknown
        self.size = a.get("size")
        self.text = (self.title + " " + (d.get("description") or "")).lower()

    def has(self, *words):
        return any(w.lower() in self.text for w in words)

    def grams(self):
        if not self.size:
            return None
        m = re.search(r"([\d.,]+)\s*(kg|g)\b", self.size)
        if not m:
            return None
        v = float(m.group(1).replace(",", "."))
        return v * 1000 if m.group(2) == "kg" else v


DAIRY_CATS = {"Milk", "Sour-Cream", "Sour-Milk", "Yoghurt"}
EUROPE = {"Italy", "Spain", "The Netherlands", "Sweden", "Denmark", "Finland", "Germany", "Poland"}
CITRUS_CATS = {"Orange", "Lemon", "Lime", "Satsumas", "Red-Grapefruit"}
ALLIUM_CATS = {"Onion", "Leek", "Garlic"}
PLANT_ALT_CATS = {"Oat-Milk", "Soy-Milk", "Oatghurt", "Soyghurt"}
EXOTIC_CATS = {"Papaya", "Passion-Fruit", "Pomegranate", "Mango", "Pineapple"}


def dairy(x):
    return x.cat in DAIRY_CATS


def lactose(x):  # dairy that still contains lactose
    return dairy(x) and not x.has("lactose-free", "lactose free", "free from lactose")


def is_brand(x, name):
    return x.brand is not None and x.brand.lower().startswith(name.lower())


def origin_in(x, places):
    return x.origin is not None and x.origin in places


def origin_known_not_in(x, places):
    return x.origin is not None and x.origin not in places


def orange_juice(x):
    return x.cat == "Juice" and x.has("orange", "apelsin")


def organic(x):
    return x.has("organic", "ecolog", "ekologisk", "krav")


def citrusy(x):
    return x.cat in CITRUS_CATS or (x.cat == "Juice" and x.has("orange", "apelsin", "grapefruit", "blodgrape", "mandarin", "lemon"))


def no_pulp(x):
    return x.has("without pulp", "utan fruktkött")


def with_pulp(x):
    return x.has("with pulp", "med fruktkött")


def plain_potato(x):
    return x.cat == "Potato" and "sweet" not in x.title.lower()


def vit_c(x):
    return x.has("vitamin c", "vitamin a and c")


def plain_yog(x):  # "Naturell" = plain yoghurt
    return "naturell" in x.title.lower()


def low_fat(x):
    return x.has("low fat", "lättyoghurt") or re.search(r"\blight\b", x.text) is not None


def G(user, want=None, avoid=None, note=""):
    """A grocery turn; want/avoid are predicates (None = not judged / nothing ruled out)."""
    return {"user": user, "want": want, "avoid": avoid, "note": note}


def none_(x):
    return False


GROCERY = [
    ("g01-lactose-daughter", ["diet", "lactose", "brand-exclusion", "follow-up"], [
        G("hey so my daughter (9) just got told she's lactose intolerant 😩 what can she put on her cereal instead of normal milk?",
          want=lambda x: x.cat in {"Oat-Milk", "Soy-Milk"} or (x.cat == "Milk" and not lactose(x)),
          avoid=lactose),
        G("she says soy tastes like cardboard lol so nothing from alpro",
          want=lambda x: x.cat in {"Oat-Milk", "Soy-Milk"} or (x.cat == "Milk" and not lactose(x)),
          avoid=lambda x: lactose(x) or is_brand(x, "Alpro")),
        G("ok and for breakfast she always had vanilla yoghurt... is there anything like that she CAN eat?",
          want=lambda x: x.cat in {"Oatghurt", "Soyghurt"} or (x.cat == "Yoghurt" and not lactose(x)),
          avoid=lambda x: lactose(x) or is_brand(x, "Alpro")),
    ]),
    ("g02-oj-pulp", ["brand-exclusion", "retraction", "attribute", "question"], [
        G("Need orange juice for the weekend brunch. not tropicana tho, the last carton tasted weird",
          want=orange_juice, avoid=lambda x: is_brand(x, "Tropicana")),
        G("which of the others isn't made from concentrate?",
          want=lambda x: orange_juice(x) and not x.has("concentrat", "koncentrat"),
          avoid=lambda x: is_brand(x, "Tropicana")),
        G("meh, forget the concentrate question. and scratch the no-tropicana rule too, I was being dramatic. "
          "what I actually care about is NO pulp, my husband gags on the bits",
          want=lambda x: orange_juice(x) and no_pulp(x),
          avoid=lambda x: x.cat == "Juice" and with_pulp(x)),
    ]),
    ("g03-picnic-europe", ["occasion", "origin", "negation", "follow-up"], [
        G("Making a big fruit salad for a picnic tomorrow ☀️ which fruits would work well in it? kind of a dessert thing",
          want=lambda x: x.group == "Fruit" and x.cat != "Avocado" and x.has("desserts", "fruit salad")),
        G("oh and my boyfriend is weird about food miles, so only stuff grown in Europe please. nothing from south america or further away",
          want=lambda x: x.group == "Fruit" and x.cat != "Avocado" and x.has("desserts", "fruit salad") and origin_in(x, EUROPE),
          avoid=lambda x: origin_known_not_in(x, EUROPE)),
        G("perfect. anything to drink with it? same rule applies",
          want=lambda x: x.cat == "Juice" and origin_in(x, EUROPE),
          avoid=lambda x: origin_known_not_in(x, EUROPE)),
    ]),
    ("g04-guac", ["recipe", "owned"], [
        G("wat do i need for guac 🥑🥑 making a huge bowl for game night",
          want=lambda x: x.has("guacamole") or x.cat in {"Lime", "Onion", "Tomato", "Garlic"}),
        G("already got onions, garlic and limes at home. what else do I grab?",
          want=lambda x: x.has("guacamole") or x.cat in {"Tomato"},
          avoid=lambda x: x.cat in {"Onion", "Garlic", "Lime"}),
    ]),
    ("g05-vegan-dip", ["diet", "vegan", "recipe"], [
        G("I'm vegan 🌱 and want to make a creamy cold dip, kind of a tzatziki-ish thing. what would be a good base?",
          want=lambda x: x.cat == "Oatghurt" or (x.cat == "Soyghurt" and x.has("natur", "plain")),
          avoid=dairy),
        G("and what fresh veg could I dip in it? ideally stuff you can eat raw",
          want=lambda x: x.group == "Vegetables" and (x.has("raw") or x.cat == "Cucumber") and not x.has("always eaten cooked"),
          avoid=lambda x: dairy(x) or x.has("always eaten cooked")),
    ]),
    ("g06-lunchbox-apple", ["kids", "attribute", "negation", "origin"], [
        G("what's a nice sweet apple for my kid's lunchbox?",
          want=lambda x: x.cat == "Apple" and x.has("sweet")),
        G("she's super picky about texture tho, has to be crunchy. nothing soft or mealy",
          want=lambda x: x.cat == "Apple" and x.has("sweet") and x.has("crisp", "firm"),
          avoid=lambda x: x.cat == "Apple" and x.has("soft")),
        G("hmm the italian ones are crazy expensive this week. any crunchy apple that isn't from italy? doesn't have to be the sweetest then",
          want=lambda x: x.cat == "Apple" and x.has("crisp", "firm") and origin_known_not_in(x, {"Italy"}),
          avoid=lambda x: x.cat == "Apple" and (x.has("soft") or x.origin == "Italy")),
    ]),
    ("g07-cheese-pear", ["occasion", "owned", "reference"], [
        G("hosting a wine & cheese night on friday 🍷🧀 which pear goes best with cheese?",
          want=lambda x: x.cat == "Pear" and x.has("cheese")),
        G("I bought the conference ones last time and they went mushy in a day. the other one then?",
          want=lambda x: x.cat == "Pear" and x.has("cheese") and x.id != "Conference",
          avoid=lambda x: x.id == "Conference"),
    ]),
    ("g08-melon-size", ["occasion", "size", "negation", "correction"], [
        G("need the biggest melon you've got, bbq for 15 people",
          want=lambda x: x.cat == "Melon" and x.grams() is not None and x.grams() >= 2500),
        G("lol just realised I'm cycling there. definitely not the watermelon. smallest melon you have pls",
          want=lambda x: x.cat == "Melon" and x.grams() is not None and x.grams() <= 1100,
          avoid=lambda x: x.id == "Watermelon"),
    ]),
    ("g09-mash-mum", ["recipe", "correction", "negation"], [
        G("which potatoes are best for mash? doing sausages and mash tonight",
          want=lambda x: x.cat == "Potato" and x.has("mash")),
        G("my mum says sweet potato mash is healthier... no actually scratch that, she hates sweet potato. the normal kind",
          want=lambda x: plain_potato(x) and x.has("mash"),
          avoid=lambda x: x.id == "Sweet-Potato"),
        G("and something green on the side that's quick, like boiled or grilled?",
          want=lambda x: x.group == "Vegetables" and "green" in x.title.lower() and x.has("grill", "boil"),
          avoid=lambda x: x.id == "Sweet-Potato"),
    ]),
    ("g10-soup-allium", ["recipe", "allergy", "origin", "local"], [
        G("cold and rainy here 🌧️ want to make a big pot of veggie soup. what should go in it?",
          want=lambda x: x.group == "Vegetables" and x.has("soup")),
        G("wait, my flatmate reacts to anything in the onion family, so no onions, no leeks, no garlic at all",
          want=lambda x: x.group == "Vegetables" and x.has("soup") and x.cat not in ALLIUM_CATS,
          avoid=lambda x: x.cat in ALLIUM_CATS),
        G("and only swedish-grown veg please, trying to buy local this winter",
          want=lambda x: x.group == "Vegetables" and x.has("soup") and x.cat not in ALLIUM_CATS and x.origin == "Sweden",
          avoid=lambda x: x.cat in ALLIUM_CATS or (x.group == "Vegetables" and origin_known_not_in(x, {"Sweden"}))),
    ]),
    ("g11-vitc-no-citrus", ["health", "negation"], [
        G("I've got a nasty cold 🤧 what have you got that's high in vitamin c?",
          want=vit_c),
        G("nothing citrus though, my throat is raw and anything citrusy stings like hell",
          want=lambda x: vit_c(x) and not citrusy(x),
          avoid=citrusy),
    ]),
    ("g12-stirfry-china", ["recipe", "origin"], [
        G("doing a stir fry tonight 🥢 what veg should I pick up?",
          want=lambda x: x.group == "Vegetables" and x.has("wok", "asian", "fry")),
        G("prefer nothing grown in china btw",
          want=lambda x: x.group == "Vegetables" and x.has("wok", "asian", "fry") and x.origin != "China",
          avoid=lambda x: x.origin == "China"),
    ]),
    ("g13-organic-fullfat", ["organic", "attribute", "negation", "follow-up"], [
        G("do you have organic milk?",
          want=lambda x: x.cat == "Milk" and organic(x)),
        G("the full fat one. not the skimmed 1.5% stuff, tastes like water",
          want=lambda x: x.cat == "Milk" and organic(x) and not x.has("skimmed", "1,5", "1.5"),
          avoid=lambda x: x.cat == "Milk" and x.has("skimmed", "1,5", "1.5")),
        G("also need an organic sour cream for taco tuesday 🌮",
          want=lambda x: x.cat == "Sour-Cream" and organic(x),
          avoid=lambda x: x.cat == "Milk" and x.has("skimmed", "1,5", "1.5")),
    ]),
    ("g14-smoothie-nodairy", ["attribute", "diet", "correction"], [
        G("looking for a vanilla yoghurt for smoothies but not one that's loaded with sugar",
          want=lambda x: x.cat == "Yoghurt" and x.has("vanil") and x.has("less added sugar", "less sugar")),
        G("oh wait, I'm doing a no-dairy january 🙃 so a plant based version instead",
          want=lambda x: x.cat in {"Soyghurt", "Oatghurt"} and x.has("vanil"),
          avoid=dairy),
    ]),
    ("g15-danish-juice", ["origin", "negation"], [
        G("anything from Denmark? my danish colleague keeps raving about some juice brand from there",
          want=lambda x: x.origin == "Denmark"),
        G("she said skip the grapefruit ones, too bitter",
          want=lambda x: x.origin == "Denmark" and not x.has("grapefruit", "blodgrape"),
          avoid=lambda x: x.cat == "Juice" and x.has("grapefruit", "blodgrape")),
    ]),
    ("g16-homesick-swede", ["culture", "vague", "negation"], [
        G("homesick swede here, visiting home next week. what's the most classic swedish breakfast thing? "
          "the sour milk stuff we eat with muesli!!",
          want=lambda x: x.cat == "Sour-Milk"),
        G("and a swedish yoghurt too, plain. nothing flavoured",
          want=lambda x: x.cat == "Yoghurt" and x.origin == "Sweden" and plain_yog(x)
          and not x.has("vanil", "strawberr", "jordgubb"),
          avoid=lambda x: x.cat == "Yoghurt" and x.has("vanil", "strawberr", "jordgubb")),
        G("tack så mycket! 🇸🇪"),
    ]),
    ("g17-pepper-chili", ["comparison", "change-of-mind"], [
        G("which bell pepper is the sweetest? want to eat them raw with hummus",
          want=lambda x: x.cat == "Pepper" and x.has("sweeter than the green")),
        G("change of plans, making chili con carne instead. which pepper is best for that?",
          want=lambda x: x.has("chili con carne")),
    ]),
    ("g18-burger-swedish", ["occasion", "origin", "follow-up"], [
        G("burger night 🍔 need a big tomato that slices nicely for the burgers",
          want=lambda x: x.cat == "Tomato" and x.has("hamburger")),
        G("also doing a side salad. some tomatoes and a cucumber",
          want=lambda x: x.cat in {"Tomato", "Cucumber"} and x.has("salad")),
        G("btw my dad only wants swedish veg on his table, don't ask 🙄",
          want=lambda x: x.cat in {"Tomato", "Cucumber"} and x.has("salad") and x.origin == "Sweden",
          avoid=lambda x: x.group == "Vegetables" and origin_known_not_in(x, {"Sweden"})),
    ]),
    ("g19-kids-party", ["occasion", "kids", "allergy", "follow-up"], [
        G("kids birthday party saturday, 12 of the little monsters. need fruit they can just grab and eat, snack style",
          want=lambda x: x.group == "Fruit" and x.has("snack")),
        G("omg one of them is allergic to bananas, so none of that",
          want=lambda x: x.group == "Fruit" and x.has("snack") and x.cat != "Banana",
          avoid=lambda x: x.cat == "Banana"),
        G("and juice! they all love apple juice",
          want=lambda x: x.cat == "Juice" and x.has("apple", "äpple"),
          avoid=lambda x: x.cat == "Banana"),
    ]),
    ("g20-exotic", ["vague", "already-had", "hard"], [
        G("I want to try some exotic fruit I've never had. I've had mango and pineapple a million times so not those",
          want=lambda x: x.cat in EXOTIC_CATS and x.cat not in {"Mango", "Pineapple"},
          avoid=lambda x: x.cat in {"Mango", "Pineapple"}),
        G("which of those tastes kind of like raspberries? a friend swore one of them does",
          want=lambda x: x.cat in EXOTIC_CATS and x.has("raspberr"),
          avoid=lambda x: x.cat in {"Mango", "Pineapple"}),
    ]),
    ("g21-ginger-cookies", ["baking", "negation"], [
        G("baking ginger cookies for xmas 🍪 do you have fresh ginger?",
          want=lambda x: x.cat == "Ginger"),
        G("also something citrusy for the icing. NOT lime, can't stand lime",
          want=lambda x: x.cat in CITRUS_CATS - {"Lime"},
          avoid=lambda x: x.cat == "Lime"),
    ]),
    ("g22-chestnut-vegan", ["synonym", "vegan", "recipe"], [
        G("do you sell chestnut mushrooms?",
          want=lambda x: x.has("chestnut mushroom")),
        G("great. making a creamy mushroom pasta for a vegan friend, what else do I need? no dairy obviously",
          want=lambda x: x.has("pasta") or x.cat in {"Oat-Milk", "Soy-Milk", "Oatghurt"},
          avoid=dairy),
    ]),
    ("g23-borscht", ["recipe", "owned"], [
        G("making borscht like my babushka used to 🥣 what do I need?",
          want=lambda x: x.has("borstj", "borscht") or x.cat in {"Cabbage", "Carrots", "Onion"} or plain_potato(x)),
        G("I already have potatoes and carrots in the cellar",
          want=lambda x: x.has("borstj", "borscht") or x.cat in {"Cabbage", "Onion"},
          avoid=lambda x: plain_potato(x) or x.cat == "Carrots"),
    ]),
    ("g24-jam", ["recipe", "negation", "origin"], [
        G("want to make jam this weekend, which fruits are good for that?",
          want=lambda x: x.group == "Fruit" and x.has("jam", "marmalade", "preserv")),
        G("no peaches, the fuzzy skin gives me the ick",
          want=lambda x: x.group == "Fruit" and x.has("jam", "marmalade", "preserv") and x.cat != "Peach",
          avoid=lambda x: x.cat == "Peach"),
        G("and ideally not italian fruit, I'm doing a 'new world' theme for the labels lol",
          want=lambda x: x.group == "Fruit" and x.has("jam", "marmalade", "preserv") and x.cat != "Peach"
          and origin_known_not_in(x, {"Italy"}),
          avoid=lambda x: x.cat == "Peach" or (x.group == "Fruit" and x.origin == "Italy")),
    ]),
    ("g25-golden-grapefruit", ["negation", "brand", "reference"], [
        G("I love grapefruit juice but the red / blood grapefruit ones are way too bitter for me. anything else?",
          want=lambda x: x.cat == "Juice" and x.has("grapefruit") and not x.has("red grapefruit", "blodgrape"),
          avoid=lambda x: x.has("red grapefruit", "blodgrape")),
        G("nice. does that same brand do a plain orange one with no pulp?",
          want=lambda x: is_brand(x, "Tropicana") and orange_juice(x) and no_pulp(x),
          avoid=lambda x: x.has("red grapefruit", "blodgrape")),
    ]),
    ("g26-camping", ["storage", "occasion", "allergy"], [
        G("going camping for a week, no fridge. is there any milk-type drink that keeps at room temperature?",
          want=lambda x: x.group == "Packages" and x.has("room temperature")),
        G("the soy one's out, my brother's allergic to soy",
          want=lambda x: x.group == "Packages" and x.has("room temperature") and not x.has("soy"),
          avoid=lambda x: x.has("soy")),
        G("and some fruit that's fine without a fridge too",
          want=lambda x: x.group == "Fruit" and x.has("room temperature"),
          avoid=lambda x: x.has("soy")),
    ]),
    ("g27-arla-boycott", ["brand-exclusion", "retraction", "lactose"], [
        G("need milk but NOT arla, I'm boycotting them",
          want=lambda x: x.cat == "Milk" and not is_brand(x, "Arla"),
          avoid=lambda x: is_brand(x, "Arla")),
        G("ugh. my brother's staying over and he's lactose intolerant. fine, boycott's off, I just need lactose free milk",
          want=lambda x: x.cat == "Milk" and not lactose(x)),
        G("and a regular full fat milk for me too, any brand",
          want=lambda x: x.cat == "Milk" and lactose(x) and x.has("3%", "standard")),
    ]),
    ("g28-yoghurt-dad", ["family", "attribute", "reference"], [
        G("trying to eat healthier, got a low fat plain yoghurt?",
          want=lambda x: x.cat == "Yoghurt" and low_fat(x) and plain_yog(x)),
        G("and for my dad, who thinks low fat is a conspiracy 😂 same thing but the proper creamy full version",
          want=lambda x: x.cat == "Yoghurt" and plain_yog(x) and not low_fat(x)),
    ]),
    ("g29-milder-onion", ["synonym", "comparison", "negation"], [
        G("recipe says onion but my partner finds raw onion way too harsh. anything milder with that oniony taste?",
          want=lambda x: x.has("milder onion"),
          avoid=lambda x: x.id == "Yellow-Onion"),
        G("cool. and a potato that's good all round, not specifically for mash",
          want=lambda x: plain_potato(x) and x.has("allround", "all round", "all-round"),
          avoid=lambda x: x.id == "Yellow-Onion"),
    ]),
    ("g30-moussaka", ["recipe", "long-message", "lactose", "follow-up"], [
        G("ok so long story but my in-laws are coming over on sunday and my mother in law is greek, and I want to impress her "
          "with a moussaka even though I have literally never made one. youtube says aubergine is the main thing, "
          "what else would I need from you? potatoes maybe? help 😅",
          want=lambda x: x.has("moussaka") or x.cat in {"Onion", "Garlic", "Tomato"} or plain_potato(x)),
        G("oh no I just remembered she's lactose intolerant 😬 what could I use for the creamy topping then?",
          want=lambda x: x.cat in {"Oat-Milk", "Soy-Milk", "Oatghurt"} or (x.cat == "Milk" and not lactose(x)),
          avoid=lactose),
    ]),
]

# ----------------------------------------------------------------------------- movies

def norm_title(t):
    t = re.sub(r"\(\d{4}\)\s*$", "", t).lower()
    t = t.replace("&", "and")
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def title_year(t):
    m = re.search(r"\((\d{4})\)\s*$", t.strip())
    return int(m.group(1)) if m else None


class Mv:
    def __init__(self, d, suspect):
        a = d.get("attributes", {})
        self.id = d["id"]
        self.title = d["title"]
        self.nt = norm_title(d["title"])
        self.year = a.get("year") or title_year(d["title"])
        ok = not suspect  # a SUSPECT row's metadata belongs to another film: treat it as unknown
        self.genres = set(a.get("genre") or []) if ok else set()
        self.stars = set(a.get("star") or []) if ok else set()
        self.directors = set(a.get("director") or []) if ok else set()
        self.writers = set(a.get("writer") or []) if ok else set()
        self.desc = (d.get("description") or "").lower() if ok else ""
        self.imdb = a.get("imdb_id")

    def g(self, *gs):
        return any(x in self.genres for x in gs)

    def d(self, *words):
        return any(w in self.desc for w in words)

    def yr(self, lo=None, hi=None):  # False when the year is unknown
        if self.year is None:
            return False
        return (lo is None or self.year >= lo) and (hi is None or self.year <= hi)


def find_suspects(rows, pop):
    """Rows whose metadata (genre/director/stars/plot) belongs to another film, or whose
    popularity was borrowed from another film. Found three ways:
    1. the IMDb id cross-checked against MovieLens (links.csv -> movies.csv): title or year
       plainly differ (e.g. "It (1990)" carries Goodfellas, "Heat (1996)" Poison Ivy II,
       "The Mask (1988)" Halloween 4, "A Nightmare on Elm Street (1984)" the 2010 remake);
    2. several rows sharing one IMDb id with different titles/years: all but the one that
       MovieLens confirms (or all of them when MovieLens does not know the id);
    3. a hand list, found by reading the relevant sets printed by this script (below)."""
    ml_dir = ROOT.parent / "shared" / "datasets" / "movielens-small"
    ml_title = {}
    try:
        with open(ml_dir / "movies.csv", encoding="utf-8") as f:
            mt = {r["movieId"]: r["title"] for r in csv.DictReader(f)}
        with open(ml_dir / "links.csv", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                ml_title["tt" + r["imdbId"].zfill(7)] = mt[r["movieId"]]
    except FileNotFoundError:
        pass

    def ml_norm(t):
        t = re.sub(r"\(\d{4}\)\s*$", "", t).strip()
        t = re.sub(r"\(.*?\)", "", t).strip()
        m = re.match(r"(.*), (The|A|An)$", t)
        if m:
            t = m.group(2) + " " + m.group(1)
        return norm_title(t)

    def same(row_title, ref_title):
        ya, yb = title_year(row_title), title_year(ref_title)
        if ya and yb and abs(ya - yb) > 1:
            return False
        a = norm_title(row_title).replace(" ", "")
        refs = [ml_norm(ref_title)] + [norm_title(x) for x in re.findall(r"\((?:a\.k\.a\. )?([^)]*[a-zA-Z][^)]*)\)", ref_title)]
        for b in refs:
            b = b.replace(" ", "")
            if a == b or (len(a) > 3 and (a in b or b in a)) or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6:
                return True
        return False

    sus = {}
    by_imdb = {}
    for d in rows:
        i = d.get("attributes", {}).get("imdb_id")
        if not i:
            continue
        by_imdb.setdefault(i, []).append(d)
        if i in ml_title and not same(d["title"], ml_title[i]):
            sus[d["id"]] = f"IMDb id is {ml_title[i]!r} in MovieLens"
    for i, ds in by_imdb.items():
        if len(ds) < 2:
            continue
        keys = {(norm_title(d["title"]), title_year(d["title"])) for d in ds}
        years = {title_year(d["title"]) for d in ds} - {None}
        names = {norm_title(d["title"]) for d in ds}
        if len(names) == 1 and len(years) <= 1:
            continue  # the same film listed twice: fine
        for d in ds:
            if i in ml_title and same(d["title"], ml_title[i]):
                continue
            sus.setdefault(d["id"], f"shares IMDb id {i} with {sorted(k[0] for k in keys)}")
    for k, why in MANUAL_SUSPECT.items():
        sus.setdefault(k, why)
    return sus


# Rows seen while reading the relevant sets: their metadata or their mention count plainly
# belongs to another film.
MANUAL_SUSPECT = {
    "97219": "The Notebook (2013), a Hungarian war film: its mentions are The Notebook (2004)",
    "202418": "Notebook (2006), a Malayalam film: its mentions are The Notebook (2004)",
    "144730": "Camp Rock: documentary metadata of some other film",
    "98016": "I Am Thor (2015): mentions are surely Thor",
    "79320": "Contact (2009) documentary: mentions are surely Contact (1997)",
    "191200": "The Commuter (2017): sci-fi metadata and cast of another film",
    "136877": "300 (2007), a Hong Kong rom-com: its mentions are Zack Snyder's 300",
    "175843": "The Lord of the Rings (1978 animated, by its IMDb id): mentions are Peter Jackson's films",
    "153346": "Insidious (2011): metadata of an obscure short; mentions are Insidious (2010)",
    "183422": "Cabin Fever (2000), a Norwegian family drama: mentions are the 2002 horror film",
    "178258": "Solo (2008), a kayak documentary: mentions are surely Solo: A Star Wars Story",
    "122552": "Hangover (2010), a Bengali film: mentions are The Hangover films",
    "141566": "Click (2010), an Indian horror film: mentions are Click (2006)",
    "205480": "Titanic (2012), an obscure film: mentions are Titanic (1997)",
    "96646": "Ghost (1998), an Iranian horror film: mentions are Ghost (1990)",
    "199532": "Grown-Ups, a Japanese drama: mentions are Grown Ups (2010)",
    "132481": "Batman: metadata of The Batman (2022); mentions are Batman (1989)",
    "168039": "The Dark Knight Trilogy: talk-show metadata",
    "156731": "Bad Boys (2003), a Finnish film: mentions are the Bad Boys films",
    "153733": "Saw (2003), a Japanese short: mentions are Saw (2004)",
    "109211": "Avenger (2006): mentions are surely The Avengers",
}


SUPERHERO_TITLE = re.compile(
    r"\b(avengers|iron man|thor|captain america|captain marvel|spider ?man|x men|wolverine|guardians of the galaxy|"
    r"deadpool|ant man|doctor strange|dr strange|justice league|superman|batman|dark knight|wonder woman|hulk|"
    r"fantastic four|aquaman|suicide squad|man of steel|green lantern|watchmen|kick ass|hancock|incredibles|venom|"
    r"daredevil|hellboy|catwoman|elektra|shazam|black panther|big hero 6|megamind|justice league)\b")


def superhero(m):
    if m.nt == "logan" or (m.nt == "black panther" and m.yr(2018, 2018)):
        return True
    if m.nt.startswith("the black panther"):
        return False
    return bool(SUPERHERO_TITLE.search(m.nt)) or m.d("superhero", "super hero", "super-hero")


SUPERNATURAL = ("ghost", "demon", "possess", "haunt", "spirit", "exorcis", "paranormal", "poltergeist", "evil entity")
CHRISTMAS = ("christmas", "santa", "grinch", "xmas")
ADULT_ANIMATION = {"sausage party", "south park bigger longer and uncut", "anomalisa", "fritz the cat"}


# Christmas is only incidental in these plots ("born on the original Christmas ...").
CHRISTMAS_INCIDENTAL = {"monty python s life of brian"}


def christmassy(m):
    return (any(w in m.nt for w in CHRISTMAS) or m.d(*CHRISTMAS)) and m.nt not in CHRISTMAS_INCIDENTAL


def titled(*names):
    ns = {norm_title(n) for n in names}
    return lambda m: m.nt in ns


def M(user, want=None, avoid=None, n=1000):
    return {"user": user, "want": want, "avoid": avoid, "n": n}


def has_star(m, *names):
    return any(s in m.stars for s in names)


def by(m, *names):
    return any(s in m.directors for s in names)


def saw_franchise(m):  # Jigsaw (2017) is the eighth Saw film
    return m.nt in {"saw", "jigsaw"} or re.match(r"saw (ii|iii|iv|v|vi|3d|\d)\b", m.nt) is not None


def bro_comedy(m):  # the Superbad / Step Brothers kind: a 2000s+ comedy, not a family, fantasy or drama film
    return m.g("comedy") and m.yr(2000) and not m.g(
        "family", "animation", "fantasy", "sci-fi", "adventure", "musical", "music", "horror", "drama", "romance")


def mind_bender(m):  # twisty thriller / mystery, not an action or comedy film
    return m.g("thriller", "mystery") and not m.g("action", "comedy", "romance")


def teen_comedy(m):  # a high-school comedy
    return m.g("comedy") and m.d("high school", "teen") and not m.g("horror", "action", "sci-fi", "fantasy", "adventure")


MOVIES = [
    ("m01-horror-oldschool", ["genre", "franchise-exclusion", "decade", "seen"], [
        M("need a horror movie for tonight. I'm done with the Saw movies though, seen every single one and they're just gross",
          want=lambda m: m.g("horror"), avoid=saw_franchise, n=400),
        M("ooh actually something old school, like 70s or 80s classics",
          want=lambda m: m.g("horror") and m.yr(1970, 1989), avoid=saw_franchise, n=1000),
        M("seen the shining and the exorcist like 10 times each 😅",
          want=lambda m: m.g("horror") and m.yr(1970, 1989),
          avoid=lambda m: saw_franchise(m) or m.nt in {"the shining", "the exorcist"}, n=1000),
    ]),
    ("m02-moana-kid", ["kids", "seen", "franchise-exclusion", "decade"], [
        M("my 6 year old is OBSESSED with moana 🌊 what else would she like?",
          want=lambda m: m.g("animation") and m.nt not in ADULT_ANIMATION, avoid=titled("Moana"), n=600),
        M("pls no frozen, she's seen it about 400 times and I will lose my mind",
          want=lambda m: m.g("animation") and m.nt not in ADULT_ANIMATION,
          avoid=lambda m: m.nt == "moana" or (m.nt.startswith("frozen") and m.g("animation")), n=600),
        M("maybe some older ones? the 90s classics I grew up with",
          want=lambda m: m.g("animation") and m.yr(1990, 1999) and m.nt not in ADULT_ANIMATION,
          avoid=lambda m: m.nt == "moana" or (m.nt.startswith("frozen") and m.g("animation")), n=1200),
    ]),
    ("m03-keanu", ["actor", "seen", "similar", "actor-exclusion"], [
        M("I love keanu reeves 😍 what should I watch",
          want=lambda m: has_star(m, "Keanu Reeves"), n=1500),
        M("already seen all the matrix and john wick movies",
          want=lambda m: has_star(m, "Keanu Reeves"),
          avoid=lambda m: "matrix" in m.nt or "john wick" in m.nt, n=1500),
        M("ok different idea: something in the vein of john wick but with a different actor, I've had my keanu overload lol",
          want=lambda m: m.g("action") and m.g("crime", "thriller") and not m.g("comedy"),
          avoid=lambda m: "matrix" in m.nt or "john wick" in m.nt or has_star(m, "Keanu Reeves"), n=400),
    ]),
    ("m04-romcom-gosling", ["date-night", "decade", "actor", "seen"], [
        M("date night w my girlfriend, she wants a rom com. nothing older than like 2000 tho, the old ones feel so dated",
          want=lambda m: m.g("comedy") and m.g("romance") and m.yr(2000),
          avoid=lambda m: m.yr(None, 1999), n=800),
        M("she's got a thing for ryan gosling 🙄 any with him?",
          want=lambda m: has_star(m, "Ryan Gosling") and m.yr(2000) and (m.g("romance") or m.d("fall in love", "love")),
          avoid=lambda m: m.yr(None, 1999), n=1500),
        M("she's seen the notebook about 20 times. so have I, involuntarily",
          want=lambda m: has_star(m, "Ryan Gosling") and m.yr(2000) and (m.g("romance") or m.d("fall in love", "love")),
          avoid=lambda m: m.yr(None, 1999) or m.nt == "the notebook", n=1500),
    ]),
    ("m05-nolan", ["director", "seen", "genre-exclusion", "hard"], [
        M("big christopher nolan fan. I've seen inception, interstellar and the dark knight. what else of his should I watch?",
          want=lambda m: by(m, "Christopher Nolan"),
          avoid=titled("Inception", "Interstellar", "The Dark Knight"), n=1500),
        M("not really into war films tbh so skip the one about the beach evacuation",
          want=lambda m: by(m, "Christopher Nolan"),
          avoid=lambda m: m.nt in {"inception", "interstellar", "the dark knight", "dunkirk"} or m.g("war"), n=1500),
    ]),
    ("m06-guys-comedy", ["similar", "seen", "actor-exclusion", "actor"], [
        M("movie night with the boys. something like superbad or step brothers, we've all seen both obviously",
          want=bro_comedy, avoid=titled("Superbad", "Step Brothers"), n=400),
        M("no will ferrell tho, mike can't stand him",
          want=bro_comedy,
          avoid=lambda m: m.nt in {"superbad", "step brothers"} or has_star(m, "Will Ferrell"), n=400),
        M("actually yeah, something with seth rogen would be perfect",
          want=lambda m: has_star(m, "Seth Rogen") and m.g("comedy"),
          avoid=lambda m: m.nt in {"superbad", "step brothers"} or has_star(m, "Will Ferrell"), n=1000),
    ]),
    ("m07-scifi-no-heroes", ["genre", "genre-exclusion", "decade", "seen"], [
        M("I want a good sci-fi movie but I'm SO sick of superhero stuff. no marvel, no dc, none of it",
          want=lambda m: m.g("sci-fi") and not superhero(m), avoid=superhero, n=400),
        M("bonus points if it's from the 80s",
          want=lambda m: m.g("sci-fi") and m.yr(1980, 1989) and not superhero(m), avoid=superhero, n=1000),
        M("seen back to the future, E.T. and the terminator already",
          want=lambda m: m.g("sci-fi") and m.yr(1980, 1989) and not superhero(m),
          avoid=lambda m: superhero(m) or m.nt in {"back to the future", "e t the extra terrestrial", "the terminator"},
          n=1000),
    ]),
    ("m08-get-out", ["similar", "seen", "long-message", "decade"], [
        M("ok so I finally watched get out last night and I'm still thinking about it?? I want something else that "
          "messes with your head like that. doesn't have to be horror, a twisty thriller or mystery is totally fine",
          want=mind_bender, avoid=titled("Get Out"), n=400),
        M("something from before 2000 maybe? I feel like older thrillers are underrated",
          want=lambda m: mind_bender(m) and m.yr(None, 1999), avoid=titled("Get Out"), n=600),
    ]),
    ("m09-western", ["genre", "actor-exclusion", "decade"], [
        M("any good westerns that aren't john wayne? my grandpa watched him nonstop and I'm traumatized 🤠",
          want=lambda m: m.g("western"), avoid=lambda m: has_star(m, "John Wayne"), n=1500),
        M("more modern ones, like made after 2000",
          want=lambda m: m.g("western") and m.yr(2001), avoid=lambda m: has_star(m, "John Wayne"), n=1500),
    ]),
    ("m10-musical-mum", ["occasion", "genre", "owned"], [
        M("hiii"),
        M("mother's day gift idea: my mom loves musicals. what's a good one to get her?",
          want=lambda m: m.g("musical"), n=1000),
        M("she already owns grease, mamma mia and the sound of music on dvd",
          want=lambda m: m.g("musical"), avoid=titled("Grease", "Mamma Mia!", "The Sound of Music"), n=1000),
    ]),
    ("m11-tarantino", ["director", "seen", "decade", "director-exclusion"], [
        M("tarantino movies I might have missed? seen pulp fiction and both kill bills",
          want=lambda m: by(m, "Quentin Tarantino"),
          avoid=lambda m: m.nt == "pulp fiction" or "kill bill" in m.nt, n=1500),
        M("ok what about 90s crime movies by OTHER directors, I feel like I've exhausted him",
          want=lambda m: m.g("crime") and not m.g("comedy") and m.yr(1990, 1999) and not by(m, "Quentin Tarantino"),
          avoid=lambda m: m.nt == "pulp fiction" or "kill bill" in m.nt or by(m, "Quentin Tarantino"), n=600),
    ]),
    ("m12-no-ghosts-retract", ["genre", "negation", "retraction"], [
        M("horror recs? but nothing with ghosts, demons or possession, that stuff gives me actual nightmares",
          want=lambda m: m.g("horror") and not m.d(*SUPERNATURAL),
          avoid=lambda m: m.g("horror") and m.d(*SUPERNATURAL), n=500),
        M("ok I'm being a baby. ghosts and demons are fine actually. the one thing I really can't do is clowns 🤡",
          want=lambda m: m.g("horror") and not m.d("clown"),
          avoid=lambda m: m.d("clown"), n=500),
    ]),
    ("m13-hanks", ["actor", "franchise-exclusion", "decade"], [
        M("tom hanks movies but not the toy story ones, I want him in person lol",
          want=lambda m: has_star(m, "Tom Hanks") and "toy story" not in m.nt,
          avoid=lambda m: "toy story" in m.nt, n=1000),
        M("older stuff, 80s or 90s ideally",
          want=lambda m: has_star(m, "Tom Hanks") and m.yr(1980, 1999) and "toy story" not in m.nt,
          avoid=lambda m: "toy story" in m.nt, n=1500),
    ]),
    ("m14-sports", ["genre", "franchise-exclusion", "true-story"], [
        M("looking for a sports movie, something that gets you pumped up 💪",
          want=lambda m: m.g("sport"), n=800),
        M("not rocky, seen every one of them including the creed ones",
          want=lambda m: m.g("sport"),
          avoid=lambda m: m.nt.startswith("rocky") or m.nt.startswith("creed"), n=800),
        M("ideally based on a true story",
          want=lambda m: m.g("sport") and m.g("biography"),
          avoid=lambda m: m.nt.startswith("rocky") or m.nt.startswith("creed"), n=1500),
    ]),
    ("m15-christmas", ["occasion", "kids", "seen", "change-of-mind"], [
        M("need a christmas movie for the whole family, kids are 5 and 8 🎄",
          want=lambda m: christmassy(m) and m.g("family", "animation"), n=1500),
        M("not elf, my husband quotes it all year round and I'm done",
          want=lambda m: christmassy(m) and m.g("family", "animation"), avoid=titled("Elf"), n=1500),
        M("ok and then something for after they go to bed. grown-up vibe, still christmassy",
          want=lambda m: christmassy(m) and not m.g("family", "animation") and "grinch" not in m.nt,
          avoid=titled("Elf"), n=1500),
    ]),
    ("m16-leo", ["actor", "typos", "director", "seen"], [
        M("somthing w/ leo dicaprio thats not titanic pls",
          want=lambda m: has_star(m, "Leonardo DiCaprio"), avoid=titled("Titanic"), n=1500),
        M("ooh the scorsese ones?",
          want=lambda m: has_star(m, "Leonardo DiCaprio") and by(m, "Martin Scorsese"), avoid=titled("Titanic"), n=1500),
        M("seen wolf of wall street. the others?",
          want=lambda m: has_star(m, "Leonardo DiCaprio") and by(m, "Martin Scorsese"),
          avoid=titled("Titanic", "The Wolf of Wall Street"), n=1500),
    ]),
    ("m17-sensitive-kid-dogs", ["kids", "genre-exclusion", "topic", "seen"], [
        M("something for my 8 year old son, absolutely nothing scary, he's a sensitive kid",
          want=lambda m: m.g("family") and not m.g("horror"), avoid=lambda m: m.g("horror"), n=800),
        M("he's mad about dogs 🐶🐶",
          want=lambda m: m.g("family") and not m.g("horror") and m.d(" dog", "dogs", "puppy", "puppies"),
          avoid=lambda m: m.g("horror"), n=1500),
        M("he's already seen marley & me and beethoven",
          want=lambda m: m.g("family") and not m.g("horror") and m.d(" dog", "dogs", "puppy", "puppies"),
          avoid=lambda m: m.g("horror") or m.nt in {"marley and me", "beethoven"}, n=1500),
    ]),
    ("m18-80s-hughes", ["decade", "genre-exclusion", "writer", "seen"], [
        M("feeling nostalgic, give me some 80s movies. no horror though",
          want=lambda m: m.yr(1980, 1989) and not m.g("horror"), avoid=lambda m: m.g("horror"), n=400),
        M("john hughes vibes! high school stuff",
          want=lambda m: m.yr(1980, 1989) and not m.g("horror") and ("John Hughes" in m.directors or "John Hughes" in m.writers),
          avoid=lambda m: m.g("horror"), n=1500),
        M("seen breakfast club and ferris bueller a hundred times",
          want=lambda m: m.yr(1980, 1989) and not m.g("horror") and ("John Hughes" in m.directors or "John Hughes" in m.writers),
          avoid=lambda m: m.g("horror") or m.nt in {"the breakfast club", "ferris bueller s day off"}, n=1500),
    ]),
    ("m19-action-theron", ["actor-exclusion", "actor"], [
        M("action movie rec? but no stallone and no schwarzenegger, I'm over the 80s muscle guys",
          want=lambda m: m.g("action"),
          avoid=lambda m: has_star(m, "Sylvester Stallone", "Arnold Schwarzenegger"), n=300),
        M("what about something with charlize theron",
          want=lambda m: m.g("action") and has_star(m, "Charlize Theron"),
          avoid=lambda m: has_star(m, "Sylvester Stallone", "Arnold Schwarzenegger"), n=1500),
    ]),
    ("m20-conjuring-insidious", ["comparison", "director"], [
        M("which is scarier, the conjuring or insidious? trying to pick one for friday",
          want=lambda m: m.nt in {"the conjuring", "conjuring", "insidious"}, n=1500),
        M("are there other ones by the same director? james wan I think",
          want=lambda m: by(m, "James Wan"), n=1500),
    ]),
    ("m21-no-animation-retract", ["genre-exclusion", "retraction", "family"], [
        M("looking for a fun adventure movie for the weekend. no cartoons or animated stuff please",
          want=lambda m: m.g("adventure") and not m.g("animation"), avoid=lambda m: m.g("animation"), n=300),
        M("update: my nephew (7) is joining us, so animated is totally fine now actually",
          want=lambda m: m.g("adventure") and m.g("family", "animation"), n=500),
    ]),
    ("m22-inception-newer", ["similar", "seen", "decade", "reference"], [
        M("loved inception. what's something similar?",
          want=lambda m: (m.g("sci-fi") and m.g("mystery", "thriller")) or by(m, "Christopher Nolan"),
          avoid=titled("Inception"), n=600),
        M("something like that but more recent, like the last few years",
          want=lambda m: ((m.g("sci-fi") and m.g("mystery", "thriller")) or by(m, "Christopher Nolan")) and m.yr(2014),
          avoid=titled("Inception"), n=800),
    ]),
    ("m23-docs", ["genre", "topic"], [
        M("any good documentaries? kind of into animal / nature ones",
          want=lambda m: m.g("documentary") and m.d("animal", "whale", "dolphin", "penguin", "wildlife", "nature", "ocean", "bear"),
          n=2500),
        M("or true crime docs, those are great too",
          want=lambda m: m.g("documentary") and m.g("crime"), n=2500),
    ]),
    ("m24-action-animated", ["family", "genre", "seen"], [
        M("family movie night dilemma: my son only wants action, my daughter only wants animated movies. anything that keeps both happy?",
          want=lambda m: m.g("animation") and m.g("action") and m.nt not in ADULT_ANIMATION, n=1000),
        M("they've both seen the incredibles and big hero 6 already",
          want=lambda m: m.g("animation") and m.g("action") and m.nt not in ADULT_ANIMATION,
          avoid=titled("The Incredibles", "Big Hero 6"), n=1000),
    ]),
    ("m25-vietnam", ["topic", "director-exclusion", "decade"], [
        M("looking for a good vietnam war movie",
          want=lambda m: m.d("vietnam") and m.g("war", "history"), n=1500),
        M("nothing by oliver stone, can't stand his stuff",
          want=lambda m: m.d("vietnam") and m.g("war", "history") and not by(m, "Oliver Stone"),
          avoid=lambda m: by(m, "Oliver Stone"), n=1500),
        M("and preferably one of the older ones, before 1985",
          want=lambda m: m.d("vietnam") and m.g("war", "history") and m.yr(None, 1984),
          avoid=lambda m: by(m, "Oliver Stone"), n=1500),
    ]),
    ("m26-teen-comedy", ["similar", "seen", "actor-exclusion"], [
        M("my 14 yo daughter loved mean girls, what's something like that for her?",
          want=teen_comedy, avoid=titled("Mean Girls"), n=800),
        M("no adam sandler please, she finds him cringe",
          want=teen_comedy,
          avoid=lambda m: m.nt == "mean girls" or has_star(m, "Adam Sandler"), n=800),
    ]),
    ("m27-flight-thriller", ["actor-exclusion", "genre", "decade"], [
        M("something tense for a long flight, but no liam neeson 'particular set of skills' stuff, my dad watches nothing else",
          want=lambda m: m.g("thriller"), avoid=lambda m: has_star(m, "Liam Neeson"), n=300),
        M("preferably from the 2010s",
          want=lambda m: m.g("thriller") and m.yr(2010, 2019), avoid=lambda m: has_star(m, "Liam Neeson"), n=500),
    ]),
    ("m28-will-smith", ["actor", "decade-exclusion", "genre"], [
        M("will smith movie but not his 90s ones, I've seen all of those",
          want=lambda m: has_star(m, "Will Smith") and m.yr(2000),
          avoid=lambda m: has_star(m, "Will Smith") and m.yr(1990, 1999), n=1500),
        M("something sci-fi with him?",
          want=lambda m: has_star(m, "Will Smith") and m.yr(2000) and m.g("sci-fi"),
          avoid=lambda m: has_star(m, "Will Smith") and m.yr(1990, 1999), n=1500),
    ]),
    ("m29-horror-comedy", ["genre", "seen", "decade"], [
        M("want something that's scary AND funny. loved shaun of the dead",
          want=lambda m: m.g("horror") and m.g("comedy"), avoid=titled("Shaun of the Dead"), n=1000),
        M("nothing from before 2000 though",
          want=lambda m: m.g("horror") and m.g("comedy") and m.yr(2000),
          avoid=lambda m: m.nt == "shaun of the dead" or m.yr(None, 1999), n=1000),
    ]),
    ("m30-couple-war", ["family", "seen", "decade", "long-message"], [
        M("my wife and I never agree on movies lol. she likes big emotional dramas, I like war movies. we both loved saving "
          "private ryan though, so something along those lines?",
          want=lambda m: m.g("war") and m.g("drama"), avoid=titled("Saving Private Ryan"), n=800),
        M("something older maybe, before 1990",
          want=lambda m: m.g("war") and m.g("drama") and m.yr(None, 1989), avoid=titled("Saving Private Ryan"), n=1200),
    ]),
]

# ----------------------------------------------------------------------------- build


def build_grocery(path, out):
    items = [Gi(d) for d in load_jsonl(path)]
    lines, judged = [], 0
    print("== grocery ==")
    for cid, tags, turns in GROCERY:
        ts = []
        for k, t in enumerate(turns, 1):
            turn = {"user": t["user"]}
            if t["want"] is not None or t["avoid"] is not None:
                avoid = t["avoid"] or none_
                forb = [x.id for x in items if avoid(x)]
                rel = [x.id for x in items if t["want"] and t["want"](x) and not avoid(x)]
                assert rel, f"{cid} turn {k}: no relevant item"
                turn["relevant"] = rel
                if forb:
                    turn["forbidden"] = forb
                judged += 1
                print(f"  {cid} t{k}: relevant={len(rel)} forbidden={len(forb)}  {rel[:8]}")
            ts.append(turn)
        lines.append({"id": cid, "tags": tags, "turns": ts})
    write(out, lines)
    return len(lines), judged


def build_movies(path, out):
    rows = load_jsonl(path)
    with open(ROOT.parent / "shared" / "datasets" / "redial" / "movies_with_mentions.csv", encoding="utf-8") as f:
        pop = {r["movieId"]: int(r["nbMentions"]) for r in csv.DictReader(f)}
    suspects = find_suspects(rows, pop)
    movies = [Mv(d, d["id"] in suspects) for d in rows]
    order = sorted(movies, key=lambda m: (-pop.get(m.id, 0), m.id))
    rank = {m.id: i for i, m in enumerate(order)}
    print(f"== movies == ({len(suspects)} SUSPECT rows)")
    lines, judged, used_sus = [], 0, set()
    for cid, tags, turns in MOVIES:
        ts = []
        for k, t in enumerate(turns, 1):
            turn = {"user": t["user"]}
            if t["want"] is not None or t["avoid"] is not None:
                avoid = t["avoid"] or (lambda m: False)
                forb = [m.id for m in movies if avoid(m)]
                cand = [m for m in order[: t["n"]] if t["want"](m) and not avoid(m)]
                for m in order[: t["n"]]:
                    if m.id in suspects:
                        used_sus.add(m.id)
                rel = [m.id for m in cand if m.id not in suspects]
                assert rel, f"{cid} turn {k}: no relevant item"
                turn["relevant"] = rel
                if forb:
                    turn["forbidden"] = forb
                judged += 1
                titles = ", ".join(f"{m.title}" for m in cand if m.id not in suspects)
                if not FULL:
                    titles = titles[:600]
                print(f"  {cid} t{k} (top {t['n']}): relevant={len(rel)} forbidden={len(forb)}\n      {titles}")
            ts.append(turn)
        lines.append({"id": cid, "tags": tags, "turns": ts})
    write(out, lines)
    return len(lines), judged, suspects


FULL = False


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for obj in lines:
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--movies", default="/tmp/movies.jsonl")
    ap.add_argument("--grocery", default=str(ROOT / "data" / "demo" / "grocery.jsonl"))
    ap.add_argument("--show-suspects", action="store_true")
    ap.add_argument("--full", action="store_true", help="print every relevant title")
    a = ap.parse_args()
    global FULL
    FULL = a.full
    gc, gj = build_grocery(a.grocery, HERE / "grocery.jsonl")
    mc, mj, sus = build_movies(a.movies, HERE / "movies.jsonl")
    if a.show_suspects:
        for k, v in sorted(sus.items()):
            print("  SUSPECT", k, v)
    print(f"grocery: {gc} conversations, {gj} judged turns")
    print(f"movies: {mc} conversations, {mj} judged turns")


if __name__ == "__main__":
    main()

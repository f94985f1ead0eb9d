#!/usr/bin/env python3
"""Build the held-out chatrec scenario sets.

Relevant / forbidden ids are computed by predicates over catalog fields and
texts (never hand-picked).  Usage:

    # movie catalog must be converted first:
    cd /work/main && .venv/bin/python -m retrieval convert redial-movies \
        /work/shared/datasets/redial/movies_id2info.json /tmp/heldout_movies.jsonl \
        --mentions /work/shared/datasets/redial/movies_with_mentions.csv
    python3 /work/heldout/make.py [--movies /tmp/heldout_movies.jsonl]

Writes grocery.jsonl and movies.jsonl next to this script and prints a
sanity report.  Judging: a turn with relevant/forbidden is judged on the
reply's top 5 (success = any relevant; precision = hits / min(5, |relevant|);
violation = any forbidden shown).
"""
import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GROCERY = Path(__file__).resolve().parents[4] / "data" / "demo" / "grocery.jsonl"
MOVIES = Path("/tmp/heldout_movies.jsonl")


def load(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def has(text, *words):
    """Word-prefix, case-insensitive match of any of the words/phrases ("ecolog" ~ "ecological")."""
    return any(re.search(r"\b" + re.escape(w.lower()), text) for w in words)


def hasw(text, *words):
    """Whole-word match (plural -s/-es allowed): "sour" does not match "source"."""
    return any(re.search(r"\b" + re.escape(w.lower()) + r"(?:s|es)?\b", text) for w in words)


# ---------------------------------------------------------------------------
# Grocery predicates
# ---------------------------------------------------------------------------
class Grocery:
    DAIRY = {"Milk", "Sour-Cream", "Sour-Milk", "Yoghurt"}          # cow's milk products
    PLANT = {"Oat-Milk", "Soy-Milk", "Oatghurt", "Soyghurt"}        # plant-based dairy alternatives
    PLANT_DRINK = {"Oat-Milk", "Soy-Milk"}
    PLANT_GHURT = {"Oatghurt", "Soyghurt"}
    YOG_LIKE = {"Yoghurt", "Soyghurt", "Oatghurt"}                  # "used as yoghurt"
    CITRUS = {"Lemon", "Lime", "Orange", "Satsumas", "Red-Grapefruit"}

    def __init__(self, items):
        self.items = items
        self.ids = {p["id"] for p in items}

    # field accessors
    @staticmethod
    def cat(p): return p["attributes"].get("category")
    @staticmethod
    def grp(p): return p["attributes"].get("group")
    @staticmethod
    def origin(p): return p["attributes"].get("origin")
    @staticmethod
    def mfr(p): return p["attributes"].get("manufacturer") or ""
    @staticmethod
    def text(p): return (p["title"] + " " + p.get("description", "")).lower()
    @staticmethod
    def title(p): return p["title"].lower()
    @staticmethod
    def desc(p): return p.get("description", "").lower()

    @staticmethod
    def grams(p):
        s = (p["attributes"].get("size") or "").lower().replace(",", ".")
        m = re.search(r"([\d.]+)\s*(kg|g)\b", s)
        if not m:
            return None
        v = float(m.group(1))
        return v * 1000 if m.group(2) == "kg" else v

    # derived predicates
    def fruit(self, p): return self.grp(p) == "Fruit"
    def veg(self, p): return self.grp(p) == "Vegetables"
    def juice(self, p): return self.cat(p) == "Juice"
    def dairy(self, p): return self.cat(p) in self.DAIRY
    def plant(self, p): return self.cat(p) in self.PLANT
    def yog_like(self, p): return self.cat(p) in self.YOG_LIKE

    def organic(self, p):
        return has(self.text(p), "organic", "ecolog", "ekolog", "krav") or self.mfr(p).endswith("Eko")

    def lactose_free(self, p):
        # plant products contain no lactose; dairy only if the text says lactose-free
        return self.plant(p) or has(self.text(p), "lactose free", "lactose-free", "free from lactose")

    def vanilla(self, p): return has(self.text(p), "vanilla", "vanilj")
    def has_pulp(self, p): return has(self.text(p), "with pulp", "med fruktkött")
    def no_pulp(self, p): return has(self.text(p), "without pulp", "utan fruktkött")

    def from_concentrate(self, p):
        t = self.text(p)
        return (has(t, "from concentrate") and not has(t, "not from concentrate")) or has(t, "från koncentrat")

    def vitamin_c(self, p):
        # "vitamin C", "vitamin A and C"
        return re.search(r"\bvitamins? (?:[a-z]\d* (?:and|&|,) )*c\b", self.text(p)) is not None

    def orange_text(self, p): return has(self.text(p), "orange", "apelsin")
    def apple_text(self, p): return has(self.text(p), "apple", "äpple")
    def grapefruit_text(self, p): return has(self.text(p), "grapefruit", "blodgrape")
    def fat_pct(self, p):
        m = re.search(r"(\d+(?:[.,]\d+)?)\s*%", p["title"])
        return float(m.group(1).replace(",", ".")) if m else None

    def select(self, pred):
        return sorted(p["id"] for p in self.items if pred(p))


# ---------------------------------------------------------------------------
# Movie predicates
# ---------------------------------------------------------------------------
class Movies:
    def __init__(self, items):
        self.items = items
        self.ids = {m["id"] for m in items}
        self.by_id = {m["id"]: m for m in items}

    @staticmethod
    def A(m, k): return m["attributes"].get(k) or []
    @staticmethod
    def year(m): return m["attributes"].get("year")
    @staticmethod
    def text(m): return (m["title"] + " " + (m.get("description") or "")).lower()

    def genre(self, m, *gs): return any(g in self.A(m, "genre") for g in gs)
    def star(self, m, name): return name in self.A(m, "star")
    def director(self, m, name): return name in self.A(m, "director")
    def writer(self, m, name): return name in self.A(m, "writer")

    def in_years(self, m, lo=None, hi=None):
        y = self.year(m)
        if y is None:
            return False
        return (lo is None or y >= lo) and (hi is None or y <= hi)

    def out_years(self, m, lo=None, hi=None):
        """Known year that is outside [lo, hi] (unknown year is never 'out')."""
        y = self.year(m)
        if y is None:
            return False
        return (lo is not None and y < lo) or (hi is not None and y > hi)

    @staticmethod
    def bare_title(m):
        t = re.sub(r"\s*\(\d{4}\)\s*$", "", m["title"]).strip().lower()
        return re.sub(r"^the\s+", "", t)

    def titled(self, m, name):
        name = re.sub(r"^the\s+", "", name.lower())
        return self.bare_title(m) == name

    def select(self, pred):
        return sorted((m["id"] for m in self.items if pred(m)), key=int)


# ---------------------------------------------------------------------------
def T(user, relevant=None, forbidden=None):
    t = {"user": user}
    if relevant is not None:
        t["relevant"] = relevant
    if forbidden is not None:
        t["forbidden"] = forbidden
    return t


def S(sid, tags, *turns):
    judged_later = any(("relevant" in t or "forbidden" in t) for t in turns[1:])
    tags = list(tags)
    if judged_later and "multi-turn" not in tags:
        tags.append("multi-turn")
    return {"id": sid, "tags": tags, "turns": list(turns)}


def grocery_scenarios(G):
    s = G.select
    fruit, veg, juice = G.fruit, G.veg, G.juice
    cat = G.cat
    out = []
    add = out.append

    apple = lambda p: cat(p) == "Apple"
    pear = lambda p: cat(p) == "Pear"
    melon = lambda p: cat(p) == "Melon"
    citrus = lambda p: cat(p) in G.CITRUS
    potato_not_sweet = lambda p: cat(p) == "Potato" and not G.title(p).startswith("sweet")
    tropicana = lambda p: G.mfr(p) == "Tropicana"
    arla = lambda p: G.mfr(p).startswith("Arla")
    green_word = lambda p: re.search(r"\bgreen\b", G.desc(p)) is not None   # "greenish" is not green
    OTHER_COLOURS = ("red", "yellow", "pink", "purple", "violet", "salmon-pink")
    drink = lambda p: cat(p) in {"Juice", "Milk", "Oat-Milk", "Soy-Milk"}
    milk_like_lf = lambda p: cat(p) in {"Milk", "Oat-Milk", "Soy-Milk"} and G.lactose_free(p)

    # ---------------- exclusions ----------------
    add(S("g-excl-01", ["exclusion"],
          T("got any fruit? not apples tho",
            s(lambda p: fruit(p) and not apple(p)), s(apple))))
    add(S("g-excl-02", ["exclusion"],
          T("Vegtables please. No peppers.",
            s(lambda p: veg(p) and cat(p) != "Pepper"), s(lambda p: cat(p) == "Pepper"))))
    add(S("g-excl-03", ["exclusion", "free-word-exclusion"],
          T("I need some juice but without pulp",
            s(lambda p: juice(p) and G.no_pulp(p)), s(lambda p: juice(p) and G.has_pulp(p)))))
    add(S("g-excl-04", ["exclusion"],
          T("which vegetables do you have except potatoes?",
            s(lambda p: veg(p) and cat(p) != "Potato"), s(potato_not_sweet))))
    add(S("g-excl-05", ["exclusion"],
          T("Juice — anything but orange.",
            s(lambda p: juice(p) and not G.orange_text(p)), s(lambda p: juice(p) and G.orange_text(p)))))
    add(S("g-excl-06", ["exclusion"],
          T("Show me your juices. Nothing from Tropicana though",
            s(lambda p: juice(p) and not tropicana(p)), s(tropicana))))
    add(S("g-excl-07", ["exclusion"],
          T("i really hate melons. what other fruit is there",
            s(lambda p: fruit(p) and not melon(p)), s(melon))))
    add(S("g-excl-08", ["exclusion"],
          T("Can't stand grapefruit!! What juices have u got",
            s(lambda p: juice(p) and "grape" not in G.text(p)), s(G.grapefruit_text))))
    add(S("g-excl-09", ["exclusion"],
          T("Vegetables, but nothing from the Netherlands please",
            s(lambda p: veg(p) and G.origin(p) != "The Netherlands"),
            s(lambda p: G.origin(p) == "The Netherlands"))))
    add(S("g-excl-10", ["exclusion"],
          T("Fruit for a smoothie — no bananas and no pineapple.",
            s(lambda p: fruit(p) and cat(p) not in {"Banana", "Pineapple"}),
            s(lambda p: cat(p) in {"Banana", "Pineapple"}))))
    add(S("g-excl-11", ["exclusion", "no-more"],
          T("Show me your apples", s(apple)),
          T("ok no more apples, what other fruit do you have?",
            s(lambda p: fruit(p) and not apple(p)), s(apple))))
    add(S("g-excl-12", ["exclusion", "list-reference"],
          T("what fruit do you have?", s(fruit)),
          T("hmm. not the green ones",
            # relevant: fruit explicitly described in another colour and nowhere as green(ish)
            s(lambda p: fruit(p) and "green" not in G.text(p) and hasw(G.text(p), *OTHER_COLOURS)),
            s(lambda p: fruit(p) and green_word(p)))))
    add(S("g-excl-13", ["exclusion", "list-reference"],
          T("Show me peppers and tomatoes", s(lambda p: cat(p) in {"Pepper", "Tomato"})),
          T("Not the green ones please",
            s(lambda p: cat(p) in {"Pepper", "Tomato"} and "green" not in G.title(p)),
            s(lambda p: cat(p) in {"Pepper", "Tomato"} and "green" in G.title(p)))))
    add(S("g-excl-14", ["exclusion"],
          T("fruit thats good for desert? but I don't like pears",
            s(lambda p: fruit(p) and has(G.desc(p), "dessert") and not pear(p)), s(pear))))

    # ---------------- free-word exclusions ----------------
    add(S("g-free-01", ["free-word-exclusion"],
          T("Yoghurt. Anything without vanilla?",
            s(lambda p: G.yog_like(p) and not G.vanilla(p)), s(G.vanilla))))
    add(S("g-free-02", ["free-word-exclusion"],
          T("I'd like some fruit. Nothing sour!",
            s(lambda p: fruit(p) and not hasw(G.text(p), "sour", "tart", "bitter") and not has(G.text(p), "acid")),
            s(lambda p: fruit(p) and hasw(G.text(p), "sour", "tart")))))
    add(S("g-free-03", ["free-word-exclusion"],
          T("juice that isn't from concentrate please",
            s(lambda p: juice(p) and not G.from_concentrate(p)), s(G.from_concentrate))))
    add(S("g-free-04", ["free-word-exclusion"],
          T("veggies for a salad, but nothing oniony",
            s(lambda p: veg(p) and has(G.text(p), "salad") and not has(G.text(p), "onion")),
            s(lambda p: has(G.text(p), "onion")))))

    # ---------------- persistence ----------------
    add(S("g-pers-01", ["exclusion-persistence"],
          T("Fruit please, but no citrus", s(lambda p: fruit(p) and not citrus(p)), s(citrus)),
          T("something sweet?",
            s(lambda p: fruit(p) and not citrus(p) and has(G.desc(p), "sweet")), s(citrus))))
    apple_stuff = lambda p: apple(p) or (juice(p) and G.apple_text(p))
    add(S("g-pers-02", ["exclusion-persistence", "topic-shift"],
          T("no apple stuff for me please. what juices have you got?",
            s(lambda p: juice(p) and not G.apple_text(p)), s(apple_stuff)),
          T("ok now fruit", s(lambda p: fruit(p) and not apple(p)), s(apple_stuff))))
    spain = lambda p: G.origin(p) == "Spain"
    add(S("g-pers-03", ["exclusion-persistence", "topic-shift"],
          T("Nothing from Spain please. Which fruit have you got?",
            s(lambda p: fruit(p) and not spain(p)), s(spain)),
          T("and vegetables?", s(lambda p: veg(p) and not spain(p)), s(spain))))
    add(S("g-pers-04", ["exclusion-persistence", "free-word-exclusion"],
          T("I HATE vanilla. any yogurt?",
            s(lambda p: G.yog_like(p) and not G.vanilla(p)), s(G.vanilla)),
          T("what about the soy products",
            s(lambda p: cat(p) in {"Soy-Milk", "Soyghurt"} and not G.vanilla(p)), s(G.vanilla))))
    add(S("g-pers-05", ["exclusion-persistence", "exclusion"],
          T("Milk, but not organic please",
            s(lambda p: cat(p) == "Milk" and not G.organic(p)), s(G.organic)),
          T("and some sour cream",
            s(lambda p: cat(p) == "Sour-Cream" and not G.organic(p)), s(G.organic))))
    add(S("g-pers-06", ["exclusion-persistence", "exclusion"],
          T("No Arla products. I need milk",
            s(lambda p: cat(p) == "Milk" and not arla(p)), s(arla)),
          T("ok, yoghurt then", s(lambda p: G.yog_like(p) and not arla(p)), s(arla))))
    kiwi = lambda p: cat(p) == "Kiwi"
    add(S("g-pers-07", ["exclusion-persistence", "diet", "topic-shift"],
          T("I'm allergic to kiwi btw. What veggies do you have for a soup?",
            s(lambda p: veg(p) and has(G.text(p), "soup")), s(kiwi)),
          T("and some fruit with lots of vitamin C?",
            s(lambda p: fruit(p) and G.vitamin_c(p) and not kiwi(p)), s(kiwi))))

    # ---------------- wanted attributes ----------------
    add(S("g-attr-01", ["attribute"],
          T("Any Swedish vegetables?", s(lambda p: veg(p) and G.origin(p) == "Sweden"))))
    add(S("g-attr-02", ["attribute"],
          T("do u have organic milk", s(lambda p: cat(p) == "Milk" and G.organic(p)))))
    add(S("g-attr-03", ["attribute"],
          T("Which fruits come from Italy?", s(lambda p: fruit(p) and G.origin(p) == "Italy"))))
    add(S("g-attr-04", ["attribute"],
          T("I need something rich in vitamin C", s(lambda p: G.vitamin_c(p)))))
    add(S("g-attr-05", ["attribute"],
          T("what veg works well in a soup?", s(lambda p: veg(p) and has(G.text(p), "soup")))))
    add(S("g-attr-06", ["attribute"],
          T("Anything organic in the fruit section?", s(lambda p: fruit(p) and G.organic(p)))))
    add(S("g-attr-07", ["attribute"],
          T("do you have any juice made in denmark", s(lambda p: juice(p) and G.origin(p) == "Denmark"))))

    # ---------------- diets / allergies ----------------
    add(S("g-diet-01", ["diet"],
          T("I'm vegan - what can I pour on my cereal?", s(G.plant), s(G.dairy))))
    add(S("g-diet-02", ["diet"],
          T("Lactose intolerant here, need some milk for my coffee",
            s(milk_like_lf), s(lambda p: G.dairy(p) and not G.lactose_free(p)))))
    add(S("g-diet-03", ["diet"],
          T("dairy-free yoghurt?", s(lambda p: cat(p) in G.PLANT_GHURT), s(G.dairy))))
    add(S("g-diet-04", ["diet", "control"],
          T("I'm vegetarian. Any veg that's good on the grill?",
            s(lambda p: veg(p) and has(G.text(p), "grill")))))
    add(S("g-diet-05", ["diet", "exclusion-persistence"],
          T("i'm lactose intolerant. yoghurt?",
            s(lambda p: cat(p) in G.PLANT_GHURT), s(lambda p: G.dairy(p) and not G.lactose_free(p))),
          T("and milk?", s(milk_like_lf), s(lambda p: G.dairy(p) and not G.lactose_free(p)))))
    add(S("g-diet-06", ["diet", "control"],
          T("My son has a nut allergy — which fruit can he snack on?",
            s(lambda p: fruit(p) and has(G.text(p), "snack")))))
    add(S("g-diet-07", ["diet"],
          T("Going dairy free. What could I use instead of sour cream in a cold sauce?",
            s(lambda p: G.plant(p) and has(G.text(p), "sauce")), s(G.dairy))))

    # ---------------- topic shifts ----------------
    add(S("g-shift-01", ["topic-shift"],
          T("apples please", s(apple)),
          T("Actually, make that pears.", s(pear), s(apple))))
    add(S("g-shift-02", ["topic-shift"],
          T("show me carrots", s(lambda p: cat(p) == "Carrots")),
          T("forget that, I need juice", s(juice), s(lambda p: cat(p) == "Carrots"))))
    add(S("g-shift-03", ["topic-shift"],
          T("Milk", s(lambda p: cat(p) == "Milk")),
          T("no wait — oat milk instead", s(lambda p: cat(p) == "Oat-Milk"), s(lambda p: cat(p) == "Milk"))))
    add(S("g-shift-04", ["topic-shift", "no-cue"],
          T("I need tomatoes", s(lambda p: cat(p) == "Tomato")),
          T("garlic", s(lambda p: cat(p) == "Garlic")),
          T("some ginger as well", s(lambda p: cat(p) == "Ginger"))))
    add(S("g-shift-05", ["topic-shift"],
          T("Any avocados?", s(lambda p: cat(p) == "Avocado")),
          T("now show me something to drink", s(drink))))
    add(S("g-shift-06", ["topic-shift"],
          T("vanilla yoghurt", s(lambda p: G.yog_like(p) and G.vanilla(p))),
          T("something else: fruit for a salad", s(lambda p: fruit(p) and has(G.text(p), "salad")))))
    add(S("g-shift-07", ["topic-shift"],
          T("Show me the melons", s(melon)),
          T("Instead of melon I'd like some stone fruit",
            s(lambda p: has(G.text(p), "stone fruit")), s(melon))))

    # ---------------- retractions ----------------
    add(S("g-retr-01", ["retraction", "exclusion"],
          T("Fruit, but no apples", s(lambda p: fruit(p) and not apple(p)), s(apple)),
          T("hmm, apples are fine after all. which ones do you have?", s(apple))))
    add(S("g-retr-02", ["retraction", "exclusion"],
          T("Juice please, nothing from Tropicana", s(lambda p: juice(p) and not tropicana(p)), s(tropicana)),
          T("actually tropicana's ok. show me theirs", s(tropicana))))
    add(S("g-retr-03", ["retraction", "exclusion"],
          T("veggies, just no potatos", s(lambda p: veg(p) and cat(p) != "Potato"), s(potato_not_sweet)),
          T("oh never mind, potatoes are fine, I'm making mash", s(lambda p: cat(p) == "Potato"))))
    add(S("g-retr-04", ["retraction", "diet"],
          T("No dairy for me. Something to have with muesli?", s(G.plant), s(G.dairy)),
          T("Forget the no-dairy thing, regular yoghurt is fine", s(lambda p: cat(p) == "Yoghurt"))))

    # ---------------- references to shown items ----------------
    add(S("g-ref-01", ["reference"],
          T("Do you have Granny Smith apples?", s(lambda p: "granny smith" in G.title(p))),
          T("More like the first one but sweeter",
            s(lambda p: apple(p) and "granny smith" not in G.title(p) and has(G.desc(p), "sweet")))))
    add(S("g-ref-02", ["reference"],
          T("Do you sell Oatly's oat drink?", s(lambda p: G.mfr(p) == "Oatly" and cat(p) == "Oat-Milk")),
          T("anything else from that brand?", s(lambda p: G.mfr(p) == "Oatly" and cat(p) != "Oat-Milk"))))
    add(S("g-ref-03", ["reference"],
          T("I'm looking for the Tropicana apple juice", s(lambda p: tropicana(p) and G.apple_text(p))),
          T("same brand, but orange", s(lambda p: tropicana(p) and G.orange_text(p)))))
    add(S("g-ref-04", ["reference"],
          T("do you have pink lady apples", s(lambda p: "pink lady" in G.title(p))),
          T("What else do you have from the same country?",
            s(lambda p: G.origin(p) == "Italy" and "pink lady" not in G.title(p)))))
    add(S("g-ref-05", ["reference", "diet"],
          T("Have you got Valio vanilla yoghurt?", s(lambda p: G.mfr(p) == "Valio")),
          T("something similar but plant-based", s(lambda p: cat(p) in G.PLANT_GHURT), s(G.dairy))))
    add(S("g-ref-06", ["reference", "refinement"],
          T("Do you have Arla standard milk 3%?",
            s(lambda p: cat(p) == "Milk" and arla(p) and G.fat_pct(p) == 3.0)),
          T("hmm, something with less fat",
            s(lambda p: cat(p) == "Milk" and (G.fat_pct(p) or 99) < 3.0),
            s(lambda p: cat(p) == "Milk" and G.fat_pct(p) == 3.0))))

    # ---------------- refinements ----------------
    add(S("g-refine-01", ["refinement"],
          T("recommend me a juice", s(juice)),
          T("another one please", s(juice))))
    wm = next(p for p in G.items if p["id"] == "Watermelon")
    add(S("g-refine-02", ["refinement", "reference"],
          T("I'd like a watermelon", s(lambda p: melon(p) and "water" in G.title(p))),
          T("too big for my fridge. anything smaller?",
            s(lambda p: melon(p) and (G.grams(p) or 1e9) < G.grams(wm)),
            s(lambda p: melon(p) and "water" in G.title(p)))))

    # ---------------- controls (must not be read as exclusions) ----------------
    add(S("g-ctrl-01", ["control"], T("not sure, maybe apples?", s(apple))))
    add(S("g-ctrl-02", ["control"],
          T("I can't decide between mango and papaya", s(lambda p: cat(p) in {"Mango", "Papaya"}))))
    add(S("g-ctrl-03", ["control"],
          T("An apple that's not too sweet please",
            s(lambda p: apple(p) and (has(G.text(p), "acid") or hasw(G.text(p), "sour", "tart"))))))
    add(S("g-ctrl-04", ["control", "diet"],
          T("do you have lactose-free milk?", s(milk_like_lf))))
    add(S("g-ctrl-05", ["control"], T("Nothing beats a good mango!! got any?", s(lambda p: cat(p) == "Mango"))))
    add(S("g-ctrl-06", ["control"],
          T("without a doubt pineapple is the best fruit. do you sell it?",
            s(lambda p: cat(p) == "Pineapple"))))
    add(S("g-ctrl-07", ["control"], T("can't go wrong with bananas", s(lambda p: cat(p) == "Banana"))))
    add(S("g-ctrl-08", ["control"],
          T("show me apples", s(apple)),
          T("Not bad! what about pears?", s(pear))))
    add(S("g-ctrl-09", ["control"],
          T("I don't mind where it comes from, do you have avocado?", s(lambda p: cat(p) == "Avocado"))))
    return out


def movie_scenarios(M):
    s = M.select
    g, star, dr, wr = M.genre, M.star, M.director, M.writer
    iy, oy = M.in_years, M.out_years
    out = []
    add = out.append

    sandler = lambda m: star(m, "Adam Sandler")
    carrey = lambda m: star(m, "Jim Carrey")
    cage = lambda m: star(m, "Nicolas Cage")
    cruise = lambda m: star(m, "Tom Cruise")
    hanks = lambda m: star(m, "Tom Hanks")
    keanu = lambda m: star(m, "Keanu Reeves")
    horror = lambda m: g(m, "horror")
    comedy = lambda m: g(m, "comedy")
    tw = lambda m, *w: has(M.text(m), *w)

    # ---------------- exclusions ----------------
    add(S("m-excl-01", ["exclusion"],
          T("a comedy, but no Adam Sandler please", s(lambda m: comedy(m) and not sandler(m)), s(sandler))))
    king = lambda m: wr(m, "Stephen King")
    add(S("m-excl-02", ["exclusion"],
          T("Horror movie — nothing based on Stephen King.", s(lambda m: horror(m) and not king(m)), s(king))))
    add(S("m-excl-03", ["exclusion"],
          T("Action flick without Tom Cruise", s(lambda m: g(m, "action") and not cruise(m)), s(cruise))))
    add(S("m-excl-04", ["exclusion"],
          T("i can't stand jim carrey. any good comedys?", s(lambda m: comedy(m) and not carrey(m)), s(carrey))))
    add(S("m-excl-05", ["exclusion"],
          T("A drama - anything but romance", s(lambda m: g(m, "drama") and not g(m, "romance")),
            s(lambda m: g(m, "romance")))))
    add(S("m-excl-06", ["exclusion"],
          T("Family movie please, no animation", s(lambda m: g(m, "family") and not g(m, "animation")),
            s(lambda m: g(m, "animation")))))
    add(S("m-excl-07", ["exclusion"],
          T("thriler but not horror", s(lambda m: g(m, "thriller") and not horror(m)), s(horror))))
    ridley = lambda m: dr(m, "Ridley Scott")
    add(S("m-excl-08", ["exclusion"],
          T("Sci-fi, except Ridley Scott stuff", s(lambda m: g(m, "sci-fi") and not ridley(m)), s(ridley))))
    add(S("m-excl-09", ["exclusion", "no-more"],
          T("Show me some horror movies", s(horror)),
          T("ok no more horror, something funny", s(lambda m: comedy(m) and not horror(m)), s(horror))))
    add(S("m-excl-10", ["exclusion", "list-reference"],
          T("show me Tom Hanks movies", s(hanks)),
          T("not the animated ones", s(lambda m: hanks(m) and not g(m, "animation")),
            s(lambda m: hanks(m) and g(m, "animation")))))
    spiel = lambda m: dr(m, "Steven Spielberg")
    add(S("m-excl-11", ["exclusion", "list-reference", "year-range"],
          T("Spielberg films?", s(spiel)),
          T("Not the old ones, only stuff after 2000",
            s(lambda m: spiel(m) and iy(m, 2001)), s(lambda m: iy(m, None, 1999)))))
    add(S("m-excl-12", ["exclusion"],
          T("I'm not in the mood for anything with Keanu Reeves. Sci-fi?",
            s(lambda m: g(m, "sci-fi") and not keanu(m)), s(keanu))))

    # ---------------- persistence ----------------
    add(S("m-pers-01", ["exclusion-persistence", "topic-shift"],
          T("I don't want anything with Nicolas Cage. Action?", s(lambda m: g(m, "action") and not cage(m)), s(cage)),
          T("what about thrillers", s(lambda m: g(m, "thriller") and not cage(m)), s(cage)),
          T("ok switching gears, comedies", s(lambda m: comedy(m) and not cage(m)), s(cage))))
    add(S("m-pers-02", ["exclusion-persistence", "year-range"],
          T("No horror at all please. What's good from the 80s?",
            s(lambda m: iy(m, 1980, 1989) and not horror(m)), s(horror)),
          T("and from the 90s?", s(lambda m: iy(m, 1990, 1999) and not horror(m)), s(horror))))
    musical = lambda m: g(m, "musical")
    add(S("m-pers-03", ["exclusion-persistence", "topic-shift"],
          T("a family film, no musicals", s(lambda m: g(m, "family") and not musical(m)), s(musical)),
          T("now animated ones", s(lambda m: g(m, "animation") and not musical(m)), s(musical))))
    add(S("m-pers-04", ["exclusion-persistence", "topic-shift", "year-range"],
          T("I hate Adam Sandler. comedy please", s(lambda m: comedy(m) and not sandler(m)), s(sandler)),
          T("something romantic now", s(lambda m: g(m, "romance") and not sandler(m)), s(sandler)),
          T("from the 2000s", s(lambda m: g(m, "romance") and iy(m, 2000, 2009) and not sandler(m)), s(sandler))))
    zombie = lambda m: tw(m, "zombie")
    add(S("m-pers-05", ["exclusion-persistence", "free-word-exclusion", "year-range"],
          T("No zombies. horror?", s(lambda m: horror(m) and not zombie(m)), s(zombie)),
          T("Something from after 2010", s(lambda m: horror(m) and iy(m, 2011) and not zombie(m)), s(zombie))))
    bay = lambda m: dr(m, "Michael Bay")
    add(S("m-pers-06", ["exclusion-persistence", "year-range", "topic-shift"],
          T("nothing by Michael Bay please. action from the 2000s?",
            s(lambda m: g(m, "action") and iy(m, 2000, 2009) and not bay(m)), s(bay)),
          T("and sci-fi?", s(lambda m: g(m, "sci-fi") and not bay(m)), s(bay))))

    # ---------------- free-word exclusions ----------------
    # Santa Claus, not Santa Anna / Santa Cruz / Santana
    santa = lambda m: re.search(r"\bsanta(?:s|'s)?\b(?!\s+(?:anna|clara|cruz|fe|monica|barbara))", M.text(m)) is not None
    alien = lambda m: hasw(M.text(m), "alien")
    add(S("m-free-01", ["free-word-exclusion"],
          T("A war movie, but nothing about Vietnam", s(lambda m: g(m, "war") and not tw(m, "vietnam")),
            s(lambda m: tw(m, "vietnam")))))
    add(S("m-free-02", ["free-word-exclusion"],
          T("space movie, but no aliens please",
            s(lambda m: g(m, "sci-fi") and tw(m, "space") and not alien(m)), s(alien))))
    add(S("m-free-03", ["free-word-exclusion"],
          T("horror but no vampires", s(lambda m: horror(m) and not tw(m, "vampire")), s(lambda m: tw(m, "vampire")))))
    add(S("m-free-04", ["free-word-exclusion"],
          T("Christmas movies without Santa", s(lambda m: tw(m, "christmas") and not santa(m)), s(santa))))
    add(S("m-free-05", ["free-word-exclusion"],
          T("Comedy, no high school stuff", s(lambda m: comedy(m) and not tw(m, "high school", "high-school")),
            s(lambda m: tw(m, "high school", "high-school")))))

    # ---------------- wanted attributes ----------------
    add(S("m-attr-01", ["attribute"], T("Anything with Tom Hanks?", s(hanks))))
    add(S("m-attr-02", ["attribute"], T("something by Nolan", s(lambda m: dr(m, "Christopher Nolan")))))
    add(S("m-attr-03", ["attribute"], T("movies starring meryl streep", s(lambda m: star(m, "Meryl Streep")))))
    add(S("m-attr-04", ["attribute"], T("What has Wes Anderson directed?", s(lambda m: dr(m, "Wes Anderson")))))
    add(S("m-attr-05", ["attribute"],
          T("a Denzel Washington thriller", s(lambda m: star(m, "Denzel Washington") and g(m, "thriller")))))
    add(S("m-attr-06", ["attribute"], T("miyazaki films pls", s(lambda m: dr(m, "Hayao Miyazaki")))))
    add(S("m-attr-07", ["attribute"],
          T("A western with Clint Eastwood",
            s(lambda m: g(m, "western") and (star(m, "Clint Eastwood") or dr(m, "Clint Eastwood"))))))

    # ---------------- year ranges ----------------
    add(S("m-year-01", ["year-range"],
          T("comedies from the 90s", s(lambda m: comedy(m) and iy(m, 1990, 1999)), s(lambda m: oy(m, 1990, 1999)))))
    add(S("m-year-02", ["year-range"],
          T("Horror released after 2015?", s(lambda m: horror(m) and iy(m, 2016)), s(lambda m: oy(m, 2015)))))
    add(S("m-year-03", ["year-range"],
          T("westerns made before 1980", s(lambda m: g(m, "western") and iy(m, None, 1979)),
            s(lambda m: oy(m, None, 1979)))))
    add(S("m-year-04", ["year-range"],
          T("SCI-FI between 1980 and 1989?", s(lambda m: g(m, "sci-fi") and iy(m, 1980, 1989)),
            s(lambda m: oy(m, 1980, 1989)))))
    add(S("m-year-05", ["year-range", "attribute"],
          T("tom cruise movies from the 2000s", s(lambda m: cruise(m) and iy(m, 2000, 2009)),
            s(lambda m: oy(m, 2000, 2009)))))
    add(S("m-year-06", ["year-range"],
          T("An animated movie from before 2000", s(lambda m: g(m, "animation") and iy(m, None, 1999)),
            s(lambda m: oy(m, None, 1999)))))
    add(S("m-year-07", ["year-range"],
          T("Action, 2010 onwards", s(lambda m: g(m, "action") and iy(m, 2010)), s(lambda m: oy(m, 2010)))))
    # "late eighties" = 1985-1989; only years outside the 1980s are forbidden (early 80s is a near miss)
    add(S("m-year-08", ["year-range"],
          T("some comedy from the late eighties", s(lambda m: comedy(m) and iy(m, 1985, 1989)),
            s(lambda m: oy(m, 1980, 1989)))))
    add(S("m-year-09", ["year-range"],
          T("a drama released between '95 and 2005", s(lambda m: g(m, "drama") and iy(m, 1995, 2005)),
            s(lambda m: oy(m, 1995, 2005)))))

    # ---------------- topic shifts ----------------
    add(S("m-shift-01", ["topic-shift"],
          T("Show me horror movies", s(horror)),
          T("actually, make it a comedy instead", s(comedy), s(lambda m: horror(m) and not comedy(m)))))
    add(S("m-shift-02", ["topic-shift"],
          T("Spielberg films?", s(spiel)),
          T("forget that. something with Keanu Reeves", s(keanu), s(lambda m: spiel(m) and not keanu(m)))))
    romcom = lambda m: g(m, "romance") and comedy(m)
    add(S("m-shift-03", ["topic-shift"],
          T("A romantic comedy", s(romcom)),
          T("no wait, I'm watching with my kids. an animated movie", s(lambda m: g(m, "animation")),
            s(lambda m: romcom(m) and not g(m, "animation", "family")))))
    add(S("m-shift-04", ["topic-shift", "no-cue", "year-range"],
          T("westerns", s(lambda m: g(m, "western"))),
          T("sci-fi from the 2010s", s(lambda m: g(m, "sci-fi") and iy(m, 2010, 2019)),
            s(lambda m: oy(m, 2010, 2019)))))
    add(S("m-shift-05", ["topic-shift"],
          T("documentaries about music?", s(lambda m: g(m, "documentary") and g(m, "music"))),
          T("Now show me something scary", s(horror))))
    add(S("m-shift-06", ["topic-shift"],
          T("movies with Will Smith", s(lambda m: star(m, "Will Smith"))),
          T("Something else entirely: a Woody Allen film", s(lambda m: dr(m, "Woody Allen")))))

    # ---------------- retractions ----------------
    add(S("m-retr-01", ["retraction", "exclusion"],
          T("a comedy, but no Adam Sandler", s(lambda m: comedy(m) and not sandler(m)), s(sandler)),
          T("eh, Sandler is fine after all. show me his stuff", s(sandler))))
    add(S("m-retr-02", ["retraction", "exclusion"],
          T("thriller, no horror", s(lambda m: g(m, "thriller") and not horror(m)), s(horror)),
          T("ok horror's fine actually, I'm in the mood. a horror thriller",
            s(lambda m: horror(m) and g(m, "thriller")))))
    add(S("m-retr-03", ["retraction", "exclusion", "year-range"],
          T("Movies from the 90s but no Jim Carrey", s(lambda m: iy(m, 1990, 1999) and not carrey(m)), s(carrey)),
          T("ok forget what I said about Carrey, his 90s comedies are great",
            s(lambda m: carrey(m) and comedy(m) and iy(m, 1990, 1999)))))

    # ---------------- references ----------------
    dk = lambda m: M.titled(m, "the dark knight")
    add(S("m-ref-01", ["reference"],
          T("Have you got The Dark Knight?", s(dk)),
          T("more from the same director", s(lambda m: dr(m, "Christopher Nolan") and not dk(m)))))
    jp = lambda m: M.titled(m, "jurassic park")
    add(S("m-ref-02", ["reference"],
          T("Do you have Jurassic Park?", s(jp)),
          T("other films by whoever directed it", s(lambda m: spiel(m) and not jp(m)))))
    fg = lambda m: M.titled(m, "forrest gump")
    add(S("m-ref-03", ["reference"],
          T("I loved Forrest Gump, is it in there?", s(fg)),
          T("More with its lead actor", s(lambda m: hanks(m) and not fg(m)))))
    pf = lambda m: M.titled(m, "pulp fiction")
    pf_year = M.year(next(m for m in M.items if pf(m)))
    add(S("m-ref-04", ["reference", "year-range"],
          T("Is Pulp Fiction available?", s(pf)),
          T("more like the first one, same director but newer",
            s(lambda m: dr(m, "Quentin Tarantino") and iy(m, pf_year + 1)))))
    dh = lambda m: M.titled(m, "die hard")
    dh_m = next(m for m in M.items if dh(m))
    dh_genres = set(M.A(dh_m, "genre"))
    add(S("m-ref-05", ["reference", "refinement", "year-range"],
          T("Have you got Die Hard?", s(dh)),
          T("something similar but more recent",
            s(lambda m: len(dh_genres & set(M.A(m, "genre"))) >= 2 and iy(m, M.year(dh_m) + 1)),
            s(lambda m: oy(m, M.year(dh_m))))))
    shrek1 = lambda m: M.titled(m, "shrek")
    add(S("m-ref-06", ["reference"],
          T("Do you have Toy Story and Shrek?", s(lambda m: shrek1(m) or M.titled(m, "toy story"))),
          T("the second one. are there any sequels?",
            s(lambda m: M.bare_title(m).startswith("shrek") and not shrek1(m)))))

    # ---------------- refinements ----------------
    add(S("m-refine-01", ["refinement"],
          T("Recommend a thriller", s(lambda m: g(m, "thriller"))),
          T("another one", s(lambda m: g(m, "thriller")))))
    br = lambda m: M.titled(m, "blade runner 2049")
    add(S("m-refine-02", ["refinement", "reference", "year-range"],
          T("Do you have Blade Runner 2049?", s(br)),
          T("Love it. Any older sci-fi, from before 1990?", s(lambda m: g(m, "sci-fi") and iy(m, None, 1989)),
            s(lambda m: oy(m, None, 1989)))))
    add(S("m-refine-03", ["refinement", "year-range"],
          T("A Tom Hanks movie", s(hanks)),
          T("something more recent, after 2010 please", s(lambda m: hanks(m) and iy(m, 2011)),
            s(lambda m: oy(m, 2011)))))

    # ---------------- controls ----------------
    add(S("m-ctrl-01", ["control"], T("not sure... maybe something with Keanu Reeves?", s(keanu))))
    add(S("m-ctrl-02", ["control"],
          T("I can't decide between a horror movie and a comedy", s(lambda m: horror(m) or comedy(m)))))
    add(S("m-ctrl-03", ["control"],
          T("Do you have No Country for Old Men?", s(lambda m: M.titled(m, "no country for old men")))))
    add(S("m-ctrl-04", ["control"],
          T("10 Things I Hate About You - is it there?", s(lambda m: M.titled(m, "10 things i hate about you")))))
    add(S("m-ctrl-05", ["control"], T("nothing beats a good heist movie", s(lambda m: tw(m, "heist")))))
    add(S("m-ctrl-06", ["control"], T("I don't mind old movies. a good film noir?", s(lambda m: g(m, "film-noir")))))
    add(S("m-ctrl-07", ["control"],
          T("Not too scary please, a family adventure", s(lambda m: g(m, "family") and g(m, "adventure")))))
    add(S("m-ctrl-08", ["control"],
          T("Without a Paddle, do you have that one?", s(lambda m: M.titled(m, "without a paddle")))))
    add(S("m-ctrl-09", ["control"],
          T("never seen a Hitchcock film, where should i start?", s(lambda m: dr(m, "Alfred Hitchcock")))))
    return out


# ---------------------------------------------------------------------------
def check(name, scenarios, ids, problems):
    seen = set()
    for sc in scenarios:
        if sc["id"] in seen:
            problems.append(f"{name}:{sc['id']}: duplicate id")
        seen.add(sc["id"])
        earlier_rel = set()
        judged_turns = 0
        for k, t in enumerate(sc["turns"]):
            if "relevant" not in t and "forbidden" not in t:
                continue
            rel, forb = set(t.get("relevant", [])), set(t.get("forbidden", []))
            if not rel and not forb:
                problems.append(f"{name}:{sc['id']} turn {k}: judged turn with no ids")
            if "relevant" in t and not rel:
                problems.append(f"{name}:{sc['id']} turn {k}: empty relevant list")
            if "forbidden" in t and not forb:
                problems.append(f"{name}:{sc['id']} turn {k}: empty forbidden list")
            bad = (rel | forb) - ids
            if bad:
                problems.append(f"{name}:{sc['id']} turn {k}: unknown ids {sorted(bad)[:5]}")
            if rel & forb:
                problems.append(f"{name}:{sc['id']} turn {k}: relevant/forbidden overlap {sorted(rel & forb)[:5]}")
            # an assistant won't repeat items: later relevant sets must have room beyond what could be shown
            if k > 0 and rel:
                fresh = rel - earlier_rel
                if not fresh and len(rel) <= 5 * judged_turns:
                    problems.append(f"{name}:{sc['id']} turn {k}: relevant ({len(rel)}) may all have been shown already")
            earlier_rel |= rel
            judged_turns += 1


def summarize(name, scenarios):
    from collections import Counter
    fam = Counter(tag for sc in scenarios for tag in sc["tags"])
    print(f"{name}: {len(scenarios)} scenarios, "
          f"{sum(1 for sc in scenarios for t in sc['turns'] if 'relevant' in t or 'forbidden' in t)} judged turns")
    for tag, n in sorted(fam.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {tag:24s} {n}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grocery", default=str(GROCERY))
    ap.add_argument("--movies", default=str(MOVIES))
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--verbose", action="store_true", help="print relevant/forbidden sizes per turn")
    a = ap.parse_args()

    G = Grocery(load(a.grocery))
    M = Movies(load(a.movies))
    gs, ms = grocery_scenarios(G), movie_scenarios(M)

    problems = []
    check("grocery", gs, G.ids, problems)
    check("movies", ms, M.ids, problems)

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for fname, scs in (("grocery.jsonl", gs), ("movies.jsonl", ms)):
        with open(out / fname, "w", encoding="utf-8") as fh:
            for sc in scs:
                fh.write(json.dumps(sc, ensure_ascii=False) + "\n")

    summarize("grocery", gs)
    summarize("movies", ms)
    if a.verbose:
        for scs in (gs, ms):
            for sc in scs:
                for k, t in enumerate(sc["turns"]):
                    print(f"{sc['id']:14s} t{k} rel={len(t.get('relevant', [])):5d} "
                          f"forb={len(t.get('forbidden', [])):5d}  {t['user']}")
    if problems:
        print("\nPROBLEMS:")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()

"""Build independent scenario set 5 (grocery + movies).

Every judged turn's `relevant` / `forbidden` ids are computed from predicates
over catalog rows; only named items are looked up (by title).

    python eval/scenarios/independent/set5/make.py \
        [--movies /tmp/movies.jsonl] [--grocery data/demo/grocery.jsonl] \
        [--mentions ../shared/datasets/redial/movies_with_mentions.csv]

Conventions
- forbidden: every catalog row matching an exclusion the user stated and has not
  taken back (no popularity filter).
- relevant: rows matching everything asked in the current topic and not
  forbidden. For movies it is restricted to well-mentioned titles (ReDial
  mention counts) when enough exist, so that "relevant" means a plausible
  recommendation rather than an obscure catalog row.
"""
import argparse
import collections
import csv
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


# ---------------------------------------------------------------- predicates
class P:
    """Composable predicate over a row."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, r):
        return bool(self.fn(r))

    def __and__(self, o):
        return P(lambda r: self(r) and o(r))

    def __or__(self, o):
        return P(lambda r: self(r) or o(r))

    def __invert__(self):
        return P(lambda r: not self(r))


NONE = P(lambda r: False)
ALL = P(lambda r: True)


def attr(r, k):
    return r.get("attributes", {}).get(k)


def lst(r, k):
    v = attr(r, k)
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def text(r):
    return (r.get("title", "") + " " + r.get("description", "")).lower()


def desc_re(pattern):
    rx = re.compile(pattern, re.I)
    return P(lambda r: rx.search(r.get("description", "") or ""))


def title_re(pattern):
    rx = re.compile(pattern, re.I)
    return P(lambda r: rx.search(r.get("title", "")))


# ---- movies
def year(r):
    y = attr(r, "year")
    if y:
        return int(y)
    m = re.search(r"\((\d{4})\)\s*$", r.get("title", ""))
    return int(m.group(1)) if m else None


def G(*genres):  # any of the genres
    gs = {g.lower() for g in genres}
    return P(lambda r: gs & {g.lower() for g in lst(r, "genre")})


def A(name):
    n = name.lower()
    return P(lambda r: n in {s.lower() for s in lst(r, "star")})


def D(name):
    n = name.lower()
    return P(lambda r: n in {s.lower() for s in lst(r, "director")})


def Y(lo=None, hi=None):
    """Known year within [lo, hi] (inclusive)."""
    def f(r):
        y = year(r)
        if y is None:
            return False
        return (lo is None or y >= lo) and (hi is None or y <= hi)
    return P(f)


MARVEL = title_re(
    r"avengers|iron man|\bthor\b|captain america|spider-?man|guardians of the galaxy|"
    r"black panther|ant-man|doctor strange|\bhulk\b|x-men|wolverine|^logan\s*(\(|$)|deadpool|"
    r"fantastic four|daredevil|ghost rider|^blade( ii| trinity)?\s*(\(|$)|punisher|captain marvel|^venom") & ~Y(None, 1975) & ~title_re(
    r"black panthers|panther warriors|masked avengers|avengers grimm|^the avengers \(1998\)")
DC = title_re(
    r"batman|superman|man of steel|justice league|wonder woman|suicide squad|aquaman|"
    r"green lantern|watchmen|dark knight|catwoman|\bjoker\b|shazam|hellboy|kick-ass")
SUPERHERO = MARVEL | DC | desc_re(r"super-?hero")

# ---- grocery
def CAT(*cats):
    cs = {c.lower() for c in cats}
    return P(lambda r: (attr(r, "category") or "").lower() in cs)


def GRP(g):
    return P(lambda r: (attr(r, "group") or "").lower() == g.lower())


def ORIGIN(o):
    return P(lambda r: (attr(r, "origin") or "").lower() == o.lower())


def BRAND(b):  # manufacturer contains (Arla / Arla Ko)
    return P(lambda r: b.lower() in (attr(r, "manufacturer") or "").lower())


DAIRY = CAT("Milk", "Sour-Cream", "Sour-Milk", "Yoghurt")
LACTOSE = DAIRY & ~desc_re(r"lactose[- ]free")
PLANT_DRINK = CAT("Oat-Milk", "Soy-Milk")
PLANT_GHURT = CAT("Oatghurt", "Soyghurt")
SOY = CAT("Soy-Milk", "Soyghurt") | desc_re(r"\bsoy\b")
CITRUS_FRUIT = CAT("Lemon", "Lime", "Orange", "Red-Grapefruit", "Satsumas")
CITRUS_WORDS = re.compile(r"orange|apelsin|grapefruit|grape\b|blodgrape|mandarin|lemon|lime|citrus", re.I)
CITRUS = CITRUS_FRUIT | (CAT("Juice") & P(lambda r: CITRUS_WORDS.search(r["title"] + " " + r.get("description", ""))))
JUICE = CAT("Juice")
ORANGE_JUICE = JUICE & P(lambda r: re.search(r"orange|apelsin", r["title"] + " " + r.get("description", ""), re.I))
APPLE_JUICE = JUICE & P(lambda r: re.search(r"apple|äpple", r["title"] + " " + r.get("description", ""), re.I))
NO_PULP = JUICE & (desc_re(r"without pulp") | title_re(r"utan fruktkött"))
FRUIT = GRP("Fruit")
VEG = GRP("Vegetables")
PACKAGED = GRP("Packages")
TROPICAL = CAT("Mango", "Papaya", "Passion-Fruit", "Pineapple", "Banana", "Avocado")
ORGANIC = desc_re(r"organic|ecolog|krav") | title_re(r"ecolog|ekolog")
VANILLA = desc_re(r"vanilla|vanilj") | title_re(r"vanilla|vanilj")


# ---------------------------------------------------------------- building
class Builder:
    def __init__(self, rows, popularity=None, min_pop=(10, 3), min_keep=3):
        self.rows = rows
        self.by_id = {r["id"]: r for r in rows}
        self.pop = popularity or {}
        self.min_pop = min_pop
        self.min_keep = min_keep

    def ids(self, pred):
        return [r["id"] for r in self.rows if pred(r)]

    def title(self, pattern):
        """Id of a named item: best-known row whose title matches."""
        rx = re.compile(pattern, re.I)
        hits = [r for r in self.rows if rx.search(r["title"])]
        if not hits:
            raise SystemExit(f"named item not found: {pattern}")
        hits.sort(key=lambda r: (-self.pop.get(r["id"], 0), r["id"]))
        return hits[0]["id"]

    def is_id(self, *ids):
        s = set(ids)
        return P(lambda r: r["id"] in s)

    def relevant(self, pred, forb):
        cands = [r for r in self.rows if pred(r) and not forb(r)]
        if self.pop:
            for t in self.min_pop:
                kept = [r for r in cands if self.pop.get(r["id"], 0) >= t]
                if len(kept) >= self.min_keep:
                    cands = kept
                    break
            cands.sort(key=lambda r: (-self.pop.get(r["id"], 0), r["id"]))
        return [r["id"] for r in cands]

    def convo(self, cid, tags, turns):
        """turns: list of (user, rel_pred|None, forb_pred|None)."""
        out = []
        for t in turns:
            user, rel, forb = (t + (None, None))[:3] if isinstance(t, tuple) else (t, None, None)
            turn = {"user": user}
            if rel is not None or forb is not None:
                forb = forb or NONE
                turn["relevant"] = self.relevant(rel or NONE, forb)
                turn["forbidden"] = self.ids(forb)
            out.append(turn)
        return {"id": cid, "tags": sorted(set(tags)), "turns": out}


# ---------------------------------------------------------------- grocery
def grocery_scenarios(b):
    S = []
    c = b.convo
    S.append(c("g5-vegan-yoghurt-coffee", ["diet", "vegan", "persist", "typo"], [
        ("im vegan, what can i use insted of yoghurt?", PLANT_GHURT, DAIRY),
        ("and something for my coffee", PLANT_DRINK, DAIRY),
    ]))
    S.append(c("g5-lactose-milk-breakfast", ["diet", "lactose", "persist", "emoji"], [
        ("lactose intolerant here 🙃 need milk", PLANT_DRINK | (CAT("Milk") & ~LACTOSE), LACTOSE),
        ("cool. something for breakfast too, like a yoghurt type thing", PLANT_GHURT, LACTOSE),
    ]))
    S.append(c("g5-citrus-allergy-salad-juice", ["allergy", "citrus", "persist", "topic-shift"], [
        ("allergic to citrus!! what fruit do u have for a fruit salad", FRUIT, CITRUS),
        ("what juice can i drink then", JUICE, CITRUS),
    ]))
    S.append(c("g5-no-apples-tropical", ["exclusion", "category", "persist", "slang"], [
        ("need fruit but no apples pls, so sick of them", FRUIT, CAT("Apple")),
        ("something more tropical?", FRUIT & TROPICAL, CAT("Apple")),
    ]))
    S.append(c("g5-veg-not-dutch-then-swedish", ["exclusion", "origin", "narrowing", "persist"], [
        ("veggies pls, nothing from the Netherlands", VEG, ORIGIN("The Netherlands")),
        ("only swedish ones actually", VEG & ORIGIN("Sweden"), ORIGIN("The Netherlands")),
    ]))
    S.append(c("g5-oj-not-tropicana-retract", ["exclusion", "brand", "retraction"], [
        ("I want orange juice but not Tropicana, way too pricey", ORANGE_JUICE, BRAND("Tropicana")),
        ("ok fine, tropicana then. which of theirs has no pulp?", BRAND("Tropicana") & NO_PULP, None),
    ]))
    S.append(c("g5-soup-then-swedish", ["narrowing", "origin", "description"], [
        ("what veg do you have thats good for soup", VEG & desc_re(r"soup"), None),
        ("just the swedish ones", VEG & desc_re(r"soup") & ORIGIN("Sweden"), None),
    ]))
    S.append(c("g5-control-not-sure-salad", ["control", "description"], [
        ("not sure what to get for a salad, any ideas?", desc_re(r"salad"), None),
    ]))
    S.append(c("g5-control-never-tried-oat", ["control", "brand"], [
        ("never tried oat milk but kinda curious tbh, do you have it?", CAT("Oat-Milk"), None),
    ]))
    S.append(c("g5-control-no-rush-baking", ["control", "description"], [
        ("no rush, but what fruit is good for baking / desserts?",
         FRUIT & desc_re(r"dessert|pastr|pie|cake|marmalade|jam"), None),
    ]))
    S.append(c("g5-yoghurt-then-potatoes", ["topic-shift", "cue"], [
        ("looking for a good yoghurt, vanilla maybe", (CAT("Yoghurt") | PLANT_GHURT) & VANILLA, None),
        ("ok different thing, I need potatoes for mash", CAT("Potato") & ~title_re("sweet"), None),
    ]))
    S.append(c("g5-dairyfree-cereal-then-burgers", ["diet", "dairy-free", "topic-shift", "no-cue", "persist"], [
        ("I'm dairy free. need something to pour on my cereal", PLANT_DRINK, DAIRY),
        ("tomatoes for burgers", CAT("Tomato"), DAIRY),
        ("and a creamy dip base, like sour cream but ok for me", PLANT_GHURT, DAIRY),
    ]))
    S.append(c("g5-boycott-arla", ["exclusion", "brand", "persist", "topic-shift"], [
        ("I'm boycotting Arla at the moment. need regular milk", CAT("Milk"), BRAND("Arla")),
        ("also some yoghurt", CAT("Yoghurt") | PLANT_GHURT, BRAND("Arla")),
    ]))
    S.append(c("g5-pears-not-italian", ["exclusion", "origin", "terse"], [
        ("pears. not italian", CAT("Pear"), ORIGIN("Italy")),
    ]))
    S.append(c("g5-melons-not-watermelon", ["exclusion", "typo", "item"], [
        ("do u hav any melns that arent huge? like not the watermelon", CAT("Melon"), b.is_id(b.title(r"^water melon"))),
    ]))
    S.append(c("g5-apples-ref-first-not-italy", ["reference", "origin", "exclusion"], [
        ("show me your apples", CAT("Apple"), None),
        ("more like the first one but not from Italy", CAT("Apple"), ORIGIN("Italy")),
    ]))
    S.append(c("g5-nonnative-juice-no-pulp", ["non-native", "narrowing"], [
        ("Hej! I search juice without the pulp for my kids, please", NO_PULP, None),
        ("which is with apelsin and mandarin together?", NO_PULP & title_re(r"mandarin"), None),
    ]))
    S.append(c("g5-no-bananas-retract", ["exclusion", "retraction", "item"], [
        ("no bananas, they go brown way too fast. what fruit works as a snack?",
         FRUIT & desc_re(r"snack") & ~CAT("Banana"), CAT("Banana")),
        ("eh whatever, bananas are fine actually. do you have the eco ones?", CAT("Banana"), None),
    ]))
    S.append(c("g5-no-packaged-sweet", ["exclusion", "group"], [
        ("no cartons or packaged stuff please, fresh produce only. something sweet?",
         (FRUIT | VEG) & desc_re(r"sweet"), PACKAGED),
        ("something veggie that's sweet", VEG & desc_re(r"sweet"), PACKAGED),
    ]))
    S.append(c("g5-lime-not-lemon", ["exclusion", "item"], [
        ("need something sour for cocktails but lemon is a no-go", CAT("Lime"), CAT("Lemon")),
    ]))
    S.append(c("g5-soy-allergy", ["allergy", "soy", "persist"], [
        ("my son is allergic to soy. we need a plant based milk", CAT("Oat-Milk"), SOY),
        ("and a yoghurt alternative for him?", CAT("Oatghurt"), SOY),
    ]))
    S.append(c("g5-burnt-out-peppers", ["exclusion", "slang", "persist", "category"], [
        ("burnt out on bell peppers lol, other veg for a stir fry?", VEG, CAT("Pepper")),
        ("something with a kick, sharp or strong flavour", VEG & desc_re(r"sharp|unique flavor|asian"), CAT("Pepper")),
    ]))
    S.append(c("g5-spain-no-citrus", ["origin", "narrowing", "exclusion", "citrus"], [
        ("what fruit do you have from spain", FRUIT & ORIGIN("Spain"), None),
        ("no citrus in there pls", FRUIT & ORIGIN("Spain"), CITRUS),
    ]))
    S.append(c("g5-organic-milk-not-arla", ["narrowing", "brand", "exclusion", "organic"], [
        ("eko milk only pls", CAT("Milk") & ORGANIC, None),
        ("not arla tho", CAT("Milk") & ORGANIC, BRAND("Arla")),
    ]))
    S.append(c("g5-control-not-vegan-oat", ["control", "diet"], [
        ("I'm not vegan or anything but I like oat stuff, what do you have?", BRAND("Oatly"), None),
    ]))
    S.append(c("g5-control-no-idea-zucchini", ["control"], [
        ("no idea what to cook tonight... maybe something with zucchini or aubergine?", CAT("Zucchini", "Aubergine"), None),
    ]))
    S.append(c("g5-lactose-retract-roommate", ["diet", "lactose", "retraction"], [
        ("I'm lactose intolerant, what milk is there", PLANT_DRINK | (CAT("Milk") & ~LACTOSE), LACTOSE),
        ("oh wait this is for my roommate, she drinks normal milk. regular 3% one?",
         CAT("Milk") & (title_re(r"3\s*%") | desc_re(r"standard")), None),
    ]))
    S.append(c("g5-juice-not-danish-apple", ["exclusion", "origin", "persist", "narrowing"], [
        ("juice but not the danish brand", JUICE, ORIGIN("Denmark")),
        ("apple flavour", APPLE_JUICE, ORIGIN("Denmark")),
    ]))
    S.append(c("g5-emoji-citrus-allergy-fruity-yog", ["allergy", "citrus", "emoji"], [
        ("🍋🍊 = allergy for me 😵 need a fruity yoghurt",
         (CAT("Yoghurt") | PLANT_GHURT) & desc_re(r"strawberr|blueberr|rich in fruit"), CITRUS),
    ]))
    S.append(c("g5-no-onion-garlic-persist", ["diet", "exclusion", "persist", "topic-shift"], [
        ("no onion or garlic for me (low FODMAP diet). what veg for dinner?",
         VEG & ~CAT("Leek"), CAT("Onion", "Garlic")),
        ("also need some fruit", FRUIT, CAT("Onion", "Garlic")),
        ("back to veg, only dutch ones", VEG & ORIGIN("The Netherlands"), CAT("Onion", "Garlic")),
    ]))
    S.append(c("g5-kiwi-nogo-vitc", ["exclusion", "item", "description"], [
        ("kiwi is a no-go for me. what's high in vitamin c?", desc_re(r"vitamin (a and )?c\b"), CAT("Kiwi")),
    ]))
    S.append(c("g5-tropicana-pronoun-juice", ["brand", "exclusion", "pronoun", "persist", "topic-shift"], [
        ("whats the Tropicana range like?", BRAND("Tropicana"), None),
        ("hmm skip them, something cheaper from Bravo or whoever", JUICE, BRAND("Tropicana")),
        ("ok and breakfast yoghurt", CAT("Yoghurt") | PLANT_GHURT, BRAND("Tropicana")),
    ]))
    return S


# ---------------------------------------------------------------- movies
def movie_scenarios(b):
    S = []
    c = b.convo
    ROMANCE = G("romance")
    S.append(c("m5-comedy-no-romance-newer", ["exclusion", "genre", "typo", "year-range", "persist"], [
        ("need a movie for tonite, something funny but NO romance plz, cant stand romcoms",
         G("comedy"), ROMANCE),
        ("something more recent, like after 2010", G("comedy") & Y(2011), ROMANCE),
    ]))
    DJ = A("Dwayne Johnson")
    S.append(c("m5-action-no-rock", ["exclusion", "actor", "persist", "slang"], [
        ("lookin for an action flick. not a fan of The Rock (Dwayne Johnson) tho", G("action"), DJ),
        ("cool, anything funnier? action comedy maybe", G("action") & G("comedy"), DJ),
    ]))
    KH = A("Kevin Hart")
    S.append(c("m5-rock-but-no-kevin-hart", ["actor", "exclusion", "narrowing"], [
        ("I love Dwayne Johnson movies, what do you have with him?", DJ, None),
        ("seen all the ones with Kevin Hart in them already, skip those", DJ, KH),
    ]))
    NOLAN = D("Christopher Nolan")
    S.append(c("m5-nolan-then-not-him", ["director", "exclusion", "pronoun", "reference"], [
        ("what's a good Christopher Nolan movie?", NOLAN, None),
        ("hmm ive seen all of his already. something mind-bending like Inception but not by him",
         G("sci-fi") | (G("mystery") & G("thriller")), NOLAN),
    ]))
    HP = title_re(r"harry potter")
    SW = title_re(r"star wars")
    S.append(c("m5-fantasy-no-hp-no-sw", ["franchise", "exclusion", "persist", "slang"], [
        ("want some fantasy adventure for the weekend but I'm soooo done with Harry Potter lol",
         G("fantasy") & G("adventure"), HP),
        ("and no star wars either pls", G("fantasy") & G("adventure"), HP | SW),
    ]))
    EIGHTIES = Y(1980, 1989)
    S.append(c("m5-horror-no-80s-then-70s", ["decade", "exclusion", "year-range", "persist"], [
        ("horror recs? nothing from the 80s, those effects just make me laugh", G("horror"), EIGHTIES),
        ("what about older stuff, like the 70s?", G("horror") & Y(1970, 1979), EIGHTIES),
    ]))
    S.append(c("m5-thriller-too-old", ["decade", "complaint", "year-range"], [
        ("give me a good thriller", G("thriller"), None),
        ("these all feel so old 😩 anything from the last 10 years or so?", G("thriller") & Y(2008), Y(None, 1999)),
    ]))
    MATRIX = b.title(r"^the matrix \(1999\)")
    S.append(c("m5-matrix-newer", ["reference", "year-range", "newer-than"], [
        ("I really liked The Matrix, got anything similar?", G("sci-fi") & G("action") & ~b.is_id(MATRIX), None),
        ("newer than that one pls", G("sci-fi") & G("action") & Y(2000), None),
    ]))
    FINCHER = D("David Fincher")
    SEVEN = b.title(r"^seven \(1995\)")
    S.append(c("m5-seven-same-director", ["reference", "director"], [
        ("Seven was insane. what else did that director make?", FINCHER & ~b.is_id(SEVEN), None),
    ]))
    TAKEN = title_re(r"^taken\b")
    S.append(c("m5-taken-lead-actor", ["reference", "actor", "franchise", "exclusion"], [
        ("Taken is one of my all time faves", None, None),
        ("more with its lead actor? but not the Taken sequels, seen those", A("Liam Neeson"), TAKEN),
    ]))
    AS = A("Adam Sandler")
    S.append(c("m5-no-sandler-retract", ["actor", "exclusion", "retraction"], [
        ("comedy pls but no Adam Sandler, I can't stand the guy", G("comedy"), AS),
        ("ok fine, Sandler's ok, my gf loves him. what's his best one?", AS, None),
    ]))
    S.append(c("m5-no-animation-retract-niece", ["genre", "exclusion", "retraction"], [
        ("no animated stuff, I'm a grown adult lol. something adventurous", G("adventure"), G("animation")),
        ("actually my niece is coming over, animated is fine then. something for her?",
         G("animation") | G("family"), None),
    ]))
    HORROR = G("horror")
    S.append(c("m5-hate-horror-persist-shift", ["exclusion", "genre", "persist", "topic-shift", "cue"], [
        ("I hate horror, just so you know. recommend me a mystery?", G("mystery"), HORROR),
        ("different question: what's a good sci-fi?", G("sci-fi"), HORROR),
        ("and something with Tom Cruise?", A("Tom Cruise"), HORROR),
    ]))
    S.append(c("m5-western-then-kids", ["topic-shift", "no-cue"], [
        ("looking for a western", G("western"), None),
        ("kids movie for saturday with my 6yo", G("animation", "family"), None),
    ]))
    S.append(c("m5-control-not-sure-crime", ["control"], [
        ("not sure what I'm in the mood for... maybe a crime drama?", G("crime") & G("drama"), None),
    ]))
    S.append(c("m5-control-never-western", ["control"], [
        ("never watched a western but kinda curious, where do I start?", G("western"), None),
    ]))
    S.append(c("m5-control-not-movie-person-musical", ["control", "genre"], [
        ("I'm not really a movie person but I do like musicals", G("musical"), None),
    ]))
    S.append(c("m5-control-no-idea-denzel", ["control", "actor"], [
        ("No idea what to watch. Something with Denzel Washington?", A("Denzel Washington"), None),
    ]))
    JC = A("Jim Carrey")
    S.append(c("m5-comedy-95-05-carrey", ["year-range", "narrowing", "actor"], [
        ("best comedies from 1995 to 2005?", G("comedy") & Y(1995, 2005), None),
        ("only ones with Jim Carrey", G("comedy") & Y(1995, 2005) & JC, None),
    ]))
    BW, VD = A("Bruce Willis"), A("Jean-Claude Van Damme")
    S.append(c("m5-90s-action-no-willis-no-vandamme", ["decade", "actor", "exclusion", "persist"], [
        ("any good 90s action movies", G("action") & Y(1990, 1999), None),
        ("without Bruce Willis", G("action") & Y(1990, 1999), BW),
        ("and no Van Damme pls", G("action") & Y(1990, 1999), BW | VD),
    ]))
    S.append(c("m5-nonnative-western-color", ["non-native", "year-range", "genre"], [
        ("Hello, please recommend me film with horse and cowboys, but not old black white film, I want in colour",
         G("western") & Y(1970), Y(None, 1939)),
    ]))
    S.append(c("m5-burnt-out-superheroes", ["exclusion", "category", "franchise", "slang"], [
        ("burnt out on superhero movies tbh. give me some sci-fi", G("sci-fi"), SUPERHERO),
        ("something from the last few years", G("sci-fi") & Y(2014), SUPERHERO),
    ]))
    MUSICAL = G("musical")
    S.append(c("m5-musicals-dealbreaker-romance", ["exclusion", "genre", "dealbreaker"], [
        ("musicals are a dealbreaker for me, the singing ruins it. something romantic?", ROMANCE, MUSICAL),
    ]))
    SPIELBERG = D("Steven Spielberg")
    S.append(c("m5-80s-90s-adventure-no-spielberg", ["year-range", "director", "exclusion"], [
        ("anything from the 80s or early 90s thats a good adventure movie", G("adventure") & Y(1980, 1993), None),
        ("no Spielberg tho", G("adventure") & Y(1980, 1993), SPIELBERG),
    ]))
    QT = D("Quentin Tarantino")
    S.append(c("m5-tarantino-different-director", ["reference", "director", "exclusion"], [
        ("show me some Tarantino movies", QT, None),
        ("the first one is my kind of vibe, but by a different director this time",
         G("crime"), QT),
    ]))
    LEO, KW = A("Leonardo DiCaprio"), A("Kate Winslet")
    S.append(c("m5-leo-winslet-without-him", ["actor", "pronoun", "exclusion", "narrowing"], [
        ("movies with Leonardo DiCaprio?", LEO, None),
        ("what about Kate Winslet", KW, None),
        ("any of hers without him?", KW, LEO),
    ]))
    S.append(c("m5-tired-marvel-persist", ["franchise", "exclusion", "persist", "topic-shift", "year-range"], [
        ("I'm so tired of Marvel stuff. action movie?", G("action"), MARVEL),
        ("from 2015 or later", G("action") & Y(2015), MARVEL),
        ("now a comedy for date night", G("comedy"), MARVEL),
    ]))
    CLOWN = desc_re(r"\bclowns?\b|\bklowns?\b|pennywise") | title_re(r"\bclowns?\b|\bklowns?\b|^it \((1990|2017)\)")
    S.append(c("m5-scary-no-clowns", ["exclusion", "terse", "description"], [
        ("scary movie. no clowns", G("horror"), CLOWN),
    ]))
    S.append(c("m5-classic-romance-pre2000", ["year-range", "exclusion"], [
        ("classic romance, before 2000, nothing modern", ROMANCE & Y(None, 1999), Y(2000)),
    ]))
    DINO = desc_re(r"dinosaur") | title_re(r"jurassic|dinosaur")
    S.append(c("m5-spielberg-retract-dinos", ["director", "exclusion", "retraction", "description"], [
        ("Spielberg movies are overrated, skip him. need a good adventure", G("adventure"), SPIELBERG),
        ("ok I take that back, Jurassic Park is a classic. more dinosaur stuff?", DINO, None),
    ]))
    SPACE = desc_re(r"\balien|space|planet|galaxy|extraterrestrial")
    S.append(c("m5-emoji-space-newer", ["emoji", "year-range", "description"], [
        ("🚀👽 movie pls, nothing older than 2005", G("sci-fi") & SPACE & Y(2005), Y(None, 2004)),
    ]))
    NC = A("Nicolas Cage")
    S.append(c("m5-no-cage-thriller-90s", ["actor", "exclusion", "persist", "decade"], [
        ("I can't stand Nicolas Cage lol. thriller with a twist?", G("thriller"), NC),
        ("older ones ok, like 90s", G("thriller") & Y(1990, 1999), NC),
    ]))
    S.append(c("m5-control-not-horror-fan-but-get-out", ["control", "reference", "director"], [
        ("I'm not usually a horror person but Get Out was amazing. more by Jordan Peele?",
         (D("Jordan Peele") | (G("horror") & G("thriller") & G("mystery"))) & ~b.is_id(b.title(r"^get out \(2017\)")), None),
    ]))
    return S


# ---------------------------------------------------------------- main
def validate(name, convs, b):
    ok = True
    judged = 0
    tags = collections.Counter()
    seen = set()
    for cv in convs:
        assert cv["id"] not in seen, cv["id"]
        seen.add(cv["id"])
        tags.update(cv["tags"])
        for i, t in enumerate(cv["turns"]):
            if "relevant" not in t and "forbidden" not in t:
                continue
            judged += 1
            for k in ("relevant", "forbidden"):
                for x in t[k]:
                    if x not in b.by_id:
                        print(f"[{name}] {cv['id']} turn {i}: unknown id {x}")
                        ok = False
            good = set(t["relevant"]) - set(t["forbidden"])
            if not good:
                print(f"[{name}] {cv['id']} turn {i}: no relevant non-forbidden item")
                ok = False
    print(f"{name}: {len(convs)} scenarios, {judged} judged turns, "
          f"{sum(len(c['turns']) for c in convs)} turns")
    print("  tags: " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items())))
    return ok


def write(path, convs):
    with open(path, "w", encoding="utf-8") as f:
        for cv in convs:
            f.write(json.dumps(cv, ensure_ascii=False) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--movies", default="/tmp/movies.jsonl")
    ap.add_argument("--grocery", default=os.path.join(ROOT, "data", "demo", "grocery.jsonl"))
    ap.add_argument("--mentions", default=os.path.join(ROOT, "..", "shared", "datasets", "redial",
                                                       "movies_with_mentions.csv"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)

    g = Builder(load_jsonl(a.grocery))
    pop = {}
    if os.path.exists(a.mentions):
        with open(a.mentions, encoding="utf-8") as f:
            pop = {r["movieId"]: int(r["nbMentions"] or 0) for r in csv.DictReader(f)}
    else:
        print(f"warning: no mentions file at {a.mentions}; movie relevance is not popularity-filtered")
    m = Builder(load_jsonl(a.movies), popularity=pop)

    gs, ms = grocery_scenarios(g), movie_scenarios(m)
    ok = validate("grocery", gs, g) & validate("movies", ms, m)
    write(os.path.join(a.out, "grocery.jsonl"), gs)
    write(os.path.join(a.out, "movies.jsonl"), ms)
    if a.verbose:
        for b, convs in ((g, gs), (m, ms)):
            for cv in convs:
                print("==", cv["id"], cv["tags"])
                for t in cv["turns"]:
                    rel = t.get("relevant")
                    print("  U:", t["user"])
                    if rel is not None:
                        print(f"    rel({len(rel)}):", "; ".join(b.by_id[x]["title"] for x in rel[:8]))
                        print(f"    forb({len(t['forbidden'])}):",
                              "; ".join(b.by_id[x]["title"] for x in t["forbidden"][:6]))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generator for the held-out-2 scenario set (grocery + movies).

Relevant / forbidden ids are computed with predicates over catalog fields and
texts; nothing is hand-picked by id.  Each turn may carry a private "ask" set
(what that turn could plausibly have shown); it is used only for the sanity
check that a later judged turn still has relevant items left that earlier
turns could not all have used up.  It is stripped before writing.

Usage:
  python make.py [--grocery PATH] [--movies PATH] [--out DIR]
Movie catalog is built with
  cd /work/main && .venv/bin/python -m retrieval convert redial-movies \
     /work/shared/datasets/redial/movies_id2info.json /tmp/heldout2_movies.jsonl \
     --mentions /work/shared/datasets/redial/movies_with_mentions.csv
"""
import argparse
from pathlib import Path
import json
import os
import re
from collections import Counter

ap = argparse.ArgumentParser()
ap.add_argument("--grocery", default=str(Path(__file__).resolve().parents[4] / "data" / "demo" / "grocery.jsonl"))
ap.add_argument("--movies", default="/tmp/heldout2_movies.jsonl")
ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
args = ap.parse_args()


def load(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------- grocery
G = load(args.grocery)
GID = {p["id"]: p for p in G}


def ga(p, k):
    return (p.get("attributes") or {}).get(k)


def gtext(p):
    return (p["title"] + " " + p.get("description", "")).lower()


def gsel(pred):
    return {p["id"] for p in G if pred(p)}


def cat(*cs):
    return gsel(lambda p: ga(p, "category") in cs)


def group(g):
    return gsel(lambda p: ga(p, "group") == g)


def origin(*os_):
    return gsel(lambda p: ga(p, "origin") in os_)


def brand(prefix):
    return gsel(lambda p: (ga(p, "manufacturer") or "").lower().startswith(prefix.lower()))


def gword(rx):
    r = re.compile(rx, re.I)
    return gsel(lambda p: r.search(gtext(p)))


FRUIT, VEG, PACK = group("Fruit"), group("Vegetables"), group("Packages")
JUICE = cat("Juice")
DAIRY = cat("Milk", "Sour-Cream", "Sour-Milk", "Yoghurt")  # cow's-milk products
LACTOSE_FREE = gword(r"lactose[- ]free|free from lactose")
LACTOSE = DAIRY - LACTOSE_FREE
PLANT_MILK = cat("Oat-Milk", "Soy-Milk")
PLANT_GHURT = cat("Oatghurt", "Soyghurt")
YOG_LIKE = cat("Yoghurt") | PLANT_GHURT
SOY = gword(r"\bsoy")
CITRUS_FRUIT = cat("Lemon", "Lime", "Orange", "Red-Grapefruit", "Satsumas")
CITRUS_JUICE = JUICE & gword(r"orange|grapefruit|mandarin|apelsin|blodgrape")
SOUTH_AMERICA = origin("Argentina", "Brazil", "Chile", "Colombia", "Ecuador", "Peru")
ORGANIC = gword(r"ecolog|organic|\beko\b|krav")

# ---------------------------------------------------------------- movies
MV = load(args.movies)
MID = {m["id"]: m for m in MV}


def ma(m, k):
    v = (m.get("attributes") or {}).get(k)
    return v if v is not None else []


def year(m):
    return (m.get("attributes") or {}).get("year")


def mtext(m):
    return (m["title"] + " " + m.get("description", "")).lower()


def msel(pred):
    return {m["id"] for m in MV if pred(m)}


def genre(*gs):
    return msel(lambda m: any(g in ma(m, "genre") for g in gs))


def allgenres(*gs):
    return msel(lambda m: all(g in ma(m, "genre") for g in gs))


def star(name):
    return msel(lambda m: name in ma(m, "star"))


def director(name):
    return msel(lambda m: name in ma(m, "director"))


def writer(name):
    return msel(lambda m: name in ma(m, "writer"))


def years(lo=None, hi=None):
    """Movies with a known year inside [lo, hi]."""
    return msel(lambda m: year(m) is not None
                and (lo is None or year(m) >= lo) and (hi is None or year(m) <= hi))


def outside(lo=None, hi=None):
    """Movies with a known year clearly outside [lo, hi] (caller passes the tolerance)."""
    return msel(lambda m: year(m) is not None
                and ((lo is not None and year(m) < lo) or (hi is not None and year(m) > hi)))


def mword(rx):
    r = re.compile(rx, re.I)
    return msel(lambda m: r.search(mtext(m)))


def title(rx):
    r = re.compile(rx, re.I)
    return msel(lambda m: r.search(m["title"]))


# Stephen King adaptations: writer credit, a plot mentioning him, or famous
# adaptations whose (top-3) writer credit omits him.
KING = (writer("Stephen King") | mword(r"stephen king")
        | (title(r"^It \(2017\)$|^1408 \(2007\)$")))
STAR_WARS = title(r"star wars|empire strikes back|return of the jedi")
INDY = title(r"indiana jones|raiders of the lost ark")
ALIENS = mword(r"\baliens?\b|extra-?terrestrial")
SPACE = mword(r"\bspace\b|astronaut|spaceship|spacecraft|outer space")
BOXING = mword(r"\bbox(ing|ers?)\b")
WEDDING = mword(r"wedding")
SERIAL = mword(r"serial[- ]?killer")
ZOMBIE = mword(r"zombie")
VIETNAM = mword(r"vietnam")
ROBOT = mword(r"\brobot")
# alien-related wording other than the word itself: such movies are left out of
# the relevant set of the "no aliens" request (but not forbidden)
ALIENISH = mword(r"invasion|invaders?\b|extra-?solar|life ?form|organism|autobots?|decepticons?|creature|entity"
                 r"|superman|star trek|intergalactic|martians?\b")

# ---------------------------------------------------------------- scenario helpers
SC = {"grocery": [], "movies": []}


def T(user, rel=None, forb=None, ask=None):
    t = {"user": user}
    if rel is not None:
        t["relevant"] = set(rel)
    if forb is not None:
        t["forbidden"] = set(forb)
    if ask is not None:
        t["ask"] = set(ask)
    return t


def add(domain, sid, tags, *turns):
    SC[domain].append({"id": sid, "tags": list(tags), "turns": list(turns)})


g = lambda *a: add("grocery", *a)
mv = lambda *a: add("movies", *a)

# ================================================================= GROCERY
# --- exclusions, assorted phrasings
g("g-excl-not-apples", ["exclusion"],
  T("Hi! I'd like some fruit, but not apples please", FRUIT - cat("Apple"), cat("Apple")))
g("g-excl-anything-but-brand", ["exclusion"],
  T("what juices have you got? anything but Tropicana", JUICE - brand("Tropicana"), brand("Tropicana")))
g("g-excl-dislike-citrus", ["exclusion", "noise"],
  T("i really dont like citrus fruits... what could i put in a fruit salad",
    FRUIT - CITRUS_FRUIT, CITRUS_FRUIT | CITRUS_JUICE))
g("g-excl-nothing-from-spain", ["exclusion"],
  T("Need veggies for a stew this weekend, nothing from Spain though.", VEG - origin("Spain"), origin("Spain")))
g("g-excl-except-watermelon", ["exclusion"],
  T("Show me your melons except the watermelon", cat("Melon") - gword(r"water ?melon"),
    cat("Melon") & gword(r"water ?melon")))
g("g-excl-skip-two-categories", ["exclusion", "noise"],
  T("can u show me vegetables but skip the tomatos and peppers, have plenty at home",
    VEG - cat("Tomato", "Pepper"), cat("Tomato", "Pepper")))
g("g-excl-not-a-fan-variety", ["exclusion"],
  T("Which pears do you have? I'm not a fan of Conference.", cat("Pear") - gword(r"conference"),
    cat("Pear") & gword(r"conference")))
g("g-excl-stone-fruit-no-peach", ["exclusion"],
  T("I'm baking a tart with stone fruit. Anything except peaches?",
    (gword(r"stone fruit") | cat("Plum")) - cat("Peach"), cat("Peach")))
g("g-excl-no-more-brand", ["exclusion", "multi-turn"],
  T("I need milk", ask=cat("Milk")),
  T("no more Arla please, what other brands have you got?",
    (cat("Milk") | PLANT_MILK) - brand("Arla"), brand("Arla")))
g("g-excl-list-property-dutch", ["exclusion", "multi-turn"],
  T("can I see your bell peppers?", ask=VEG),
  T("hmm, they're all from the Netherlands. I'd rather not buy Dutch stuff — what other vegetables do you have?",
    VEG - origin("The Netherlands"), origin("The Netherlands")))
g("g-excl-list-property-italian", ["exclusion", "multi-turn", "noise"],
  T("show me apples 🍎", ask=cat("Apple")),
  T("those are mostly italian right? i'm avoiding italian produce this week, other fruit then",
    FRUIT - origin("Italy"), origin("Italy")))

# --- free-word exclusions (word found in the product texts)
g("g-freeword-no-vanilla", ["free-word-exclusion", "noise"],
  T("I want yoghurt but no vanila please", YOG_LIKE - gword(r"vanil"), gword(r"vanil")))
g("g-freeword-no-pulp", ["free-word-exclusion"],
  T("Looking for a juice without pulp, I hate the bits",
    JUICE & gword(r"without pulp|utan fruktkött"),
    JUICE & gword(r"with pulp|med fruktkött|unfiltered")))
g("g-freeword-no-onion-leek", ["free-word-exclusion"],
  T("making soup tonight, which veg would you suggest? no onions or leeks, my kid hates them",
    (VEG & gword(r"soup|pots|stew")) - cat("Onion", "Leek"), cat("Onion", "Leek")))
g("g-freeword-not-sour", ["free-word-exclusion"],
  T("I want something sweet from the fruit section, nothing sour please",
    (FRUIT & gword(r"sweet")) - gword(r"sour|tart|acid|bitter"),
    FRUIT & gword(r"\bsour\b|\btart\b")))

# --- diets / allergies
g("g-diet-vegan-yoghurt", ["diet", "noise"],
  T("i'm vegan 🌱 what do you have instead of yoghurt?", PLANT_GHURT, DAIRY))
g("g-diet-lactose-coffee", ["diet"],
  T("Lactose intolerant here. Need something to put in my coffee.", LACTOSE_FREE | PLANT_MILK, LACTOSE))
g("g-diet-milk-allergy", ["diet"],
  T("My daughter is allergic to milk protein. What can she have on her cereal in the morning?",
    PLANT_MILK | PLANT_GHURT, DAIRY))
g("g-diet-vegan-persists", ["diet", "exclusion-persistence", "multi-turn"],
  T("I'm vegan and need something to drink with breakfast", PLANT_MILK | JUICE, DAIRY),
  T("great. and something creamy for dessert?", PLANT_GHURT, DAIRY))
g("g-diet-soy-allergy-persists", ["diet", "exclusion-persistence", "multi-turn"],
  T("I'm allergic to soy. Which milk alternative could I get?", PLANT_MILK - SOY, SOY),
  T("Ok and something like yoghurt?", YOG_LIKE - SOY, SOY))

# --- exclusions that must hold later / across a topic change
g("g-persist-spain-fruit-to-veg", ["exclusion-persistence", "topic-shift", "multi-turn"],
  T("Fruit please, but nothing from Spain", FRUIT - origin("Spain"), origin("Spain")),
  T("ok now I need some vegetables", VEG - origin("Spain"), origin("Spain")))
g("g-persist-arla-yoghurt-to-milk", ["exclusion-persistence", "topic-shift", "multi-turn"],
  T("I'd like a yoghurt, but not from Arla", YOG_LIKE - brand("Arla"), brand("Arla")),
  T("and milk too", (cat("Milk") | PLANT_MILK) - brand("Arla"), brand("Arla")))
g("g-persist-china-fruit-to-veg", ["exclusion-persistence", "topic-shift", "multi-turn", "noise"],
  T("I try not to buy anything imported from China. fruit for a smoothie?", FRUIT - origin("China"),
    origin("China")),
  T("cool. and now veggies for a stir fry", VEG - origin("China"), origin("China")))
g("g-persist-arla-sourcream-none", ["exclusion-persistence", "multi-turn"],
  T("Please no Arla products, I need milk for the week", (cat("Milk") | PLANT_MILK) - brand("Arla"), brand("Arla")),
  T("and some sour cream for tacos", None, brand("Arla")))

# --- wanted attributes (origin, brand)
g("g-attr-origin-peru", ["wanted-attribute"],
  T("anything from Peru?", origin("Peru")))
g("g-attr-region-south-america", ["wanted-attribute"],
  T("I'd like to buy fruit grown in South America", FRUIT & SOUTH_AMERICA))
g("g-attr-brand-alpro", ["wanted-attribute", "noise"],
  T("do u have any alpro products", brand("Alpro")))
g("g-attr-brand-and-flavour", ["wanted-attribute"],
  T("Do you have a God Morgon juice with grapefruit in it?", brand("God Morgon") & gword(r"grapefruit|blodgrape")))
g("g-attr-swedish-veg", ["wanted-attribute", "noise"],
  T("swedish veggies pls", VEG & origin("Sweden")))

# --- references to items just shown (first turn names one item)
g("g-ref-same-country", ["reference", "multi-turn"],
  T("Do you sell Conference pears?", ask=cat("Pear")),
  T("Where's that one from? Show me other stuff from the same country.",
    origin("The Netherlands") - gword(r"conference")))
g("g-ref-same-brand", ["reference", "multi-turn"],
  T("Looking for the Alpro blueberry soyghurt", ask=YOG_LIKE),
  T("does that brand also make a drink I could put in my coffee?", brand("Alpro") & cat("Soy-Milk")))
g("g-ref-like-that-no-dairy", ["reference", "diet", "multi-turn"],
  T("got Valio vanilla yoghurt?", ask=cat("Yoghurt")),
  T("hmm, anything like that but without dairy? my partner is vegan", PLANT_GHURT, DAIRY))
g("g-ref-same-country-cucumber", ["reference", "multi-turn", "noise"],
  T("i need a cucumber", ask=VEG),
  T("is it local? what else do you have from the same country", origin("Sweden") - cat("Cucumber")))

# --- retractions
g("g-retract-italian", ["retraction", "multi-turn"],
  T("Fruit, but nothing Italian", FRUIT - origin("Italy"), origin("Italy")),
  T("Actually scratch that, Italian is fine — I really want a peach.", cat("Peach", "Nectarine")))
g("g-retract-arla", ["retraction", "multi-turn"],
  T("I need a yoghurt, no Arla", YOG_LIKE - brand("Arla"), brand("Arla")),
  T("hmm ok forget the Arla thing, do they have a low fat natural one?",
    brand("Arla") & cat("Yoghurt") & gword(r"low fat|lätt")))
g("g-retract-potatoes", ["retraction", "multi-turn", "noise"],
  T("vegetables for dinner, but no potatoes", VEG - cat("Potato"), cat("Potato")),
  T("wait i changed my mind, I DO need potatoes, for mash", cat("Potato")))

# --- topic shifts
g("g-shift-cue", ["topic-shift", "multi-turn"],
  T("i need bananas", ask=FRUIT),
  T("oh and btw, something for the sandwiches — tomatoes or cucumber?",
    cat("Tomato", "Cucumber")))
g("g-shift-no-cue", ["topic-shift", "multi-turn"],
  T("some nice fruit for a fruit salad", ask=FRUIT),
  T("potatoes", cat("Potato")))
g("g-shift-exclusion-local", ["topic-shift", "multi-turn"],
  T("juice please, but not orange juice", JUICE - gword(r"orange|apelsin"), JUICE & gword(r"orange|apelsin")),
  T("now fruit. I love fresh oranges and satsumas actually", cat("Orange", "Satsumas")))

# --- refinements
g("g-refine-raw-veg", ["refinement", "multi-turn"],
  T("vegetables for a salad", VEG & gword(r"salad")),
  T("only ones I can eat raw, I'm not cooking tonight",
    VEG & gword(r"\braw\b|salad") - gword(r"always eaten cooked"), gword(r"always eaten cooked")))
g("g-refine-swedish-veg", ["refinement", "multi-turn"],
  T("what vegetables do you have?", ask=VEG),
  T("only Swedish ones please", VEG & origin("Sweden"), VEG - origin("Sweden")))
g("g-refine-sweet-fruit", ["refinement", "multi-turn"],
  T("I'd like some fruit", ask=FRUIT),
  T("sweeter ones, my kids won't eat sour stuff", (FRUIT & gword(r"sweet")) - gword(r"sour|tart|acid|bitter"),
    FRUIT & gword(r"\bsour\b|\btart\b")))

# --- controls: negation words that rule nothing out
g("g-ctrl-cant-decide", ["negation-control"],
  T("I can't decide which melon to get, show me what you have", cat("Melon")))
g("g-ctrl-not-vegan-oat", ["negation-control"],
  T("I'm not vegan but I'm curious about oat milk", cat("Oat-Milk")))
g("g-ctrl-never-papaya", ["negation-control"],
  T("never had papaya before, do you have it?", cat("Papaya")))
g("g-ctrl-dont-forget", ["negation-control"],
  T("Don't forget, I need lemons and limes!", cat("Lemon", "Lime")))
g("g-ctrl-without-doubt", ["negation-control", "noise"],
  T("without a doubt mango is the best fruit 🥭 got any?", cat("Mango")))
g("g-ctrl-no-idea", ["negation-control"],
  T("No idea what to cook tonight... maybe something with aubergine?", cat("Aubergine")))

# ================================================================= MOVIES
ALL = {m["id"] for m in MV}

# --- exclusions
mv("m-excl-no-king", ["exclusion"],
   T("Can you recommend a horror movie? Nothing based on Stephen King though.", genre("horror") - KING, KING))
mv("m-excl-anything-but-sandler", ["exclusion", "noise"],
   T("I want a comedy. anything but Adam Sandler lol", genre("comedy") - star("Adam Sandler"), star("Adam Sandler")))
mv("m-excl-no-star-wars", ["exclusion"],
   T("Sci-fi please, but no Star Wars stuff, I've seen them all.", genre("sci-fi") - STAR_WARS, STAR_WARS))
mv("m-excl-hate-animated", ["exclusion"],
   T("I hate animated films. Something the whole family can watch together?",
     genre("family") - genre("animation"), genre("animation")))
mv("m-excl-except-indy", ["exclusion"],
   T("Steven Spielberg films, except the Indiana Jones ones", director("Steven Spielberg") - INDY, INDY))
mv("m-excl-nothing-with-cage", ["exclusion"],
   T("give me a crime thriller, nothing with Nicolas Cage", allgenres("crime", "thriller") - star("Nicolas Cage"),
     star("Nicolas Cage")))
mv("m-excl-no-more-hanks", ["exclusion", "multi-turn"],
   T("Movies with Tom Hanks?", star("Tom Hanks")),
   T("ok, no more Tom Hanks. Other dramas like those?", genre("drama") - star("Tom Hanks"), star("Tom Hanks")))
mv("m-excl-list-property-depp", ["exclusion", "multi-turn"],
   T("Tim Burton movies please", director("Tim Burton")),
   T("way too much Johnny Depp in those. a fantasy film without him?", genre("fantasy") - star("Johnny Depp"),
     star("Johnny Depp")))
mv("m-excl-list-property-director", ["exclusion", "multi-turn"],
   T("show me some Quentin Tarantino films", director("Quentin Tarantino")),
   T("hmm, none of his this time, but crime movies in that spirit",
     genre("crime") - director("Quentin Tarantino"), director("Quentin Tarantino")))
mv("m-excl-seen-franchises", ["exclusion", "multi-turn"],
   T("Harrison Ford movies?", star("Harrison Ford")),
   T("not Star Wars or Indiana Jones, I've seen those a million times",
     star("Harrison Ford") - STAR_WARS - INDY, STAR_WARS | INDY))

# --- free-word exclusions (plot words)
mv("m-freeword-serial-killer", ["free-word-exclusion", "noise"],
   T("thriller but nothing about serial killers pls", genre("thriller") - SERIAL, SERIAL))
mv("m-freeword-zombies", ["free-word-exclusion"],
   T("A horror movie, but no zombies.", genre("horror") - ZOMBIE, ZOMBIE))
mv("m-freeword-vietnam", ["free-word-exclusion"],
   T("I'd like a war movie that isn't about Vietnam", genre("war") - VIETNAM, VIETNAM))
mv("m-freeword-space-no-aliens", ["free-word-exclusion"],
   T("Something set in space, but without aliens please", (genre("sci-fi") & SPACE) - ALIENS - ALIENISH, ALIENS))
mv("m-freeword-sport-no-boxing", ["free-word-exclusion"],
   T("sports movie, just not boxing. had enough of Rocky", genre("sport") - BOXING, BOXING))
mv("m-freeword-romcom-no-wedding", ["free-word-exclusion", "noise"],
   T("romcom for tonight? please no wedding plots, my sister just got married and I'm sick of weddings 😂",
     allgenres("romance", "comedy") - WEDDING, WEDDING))

# --- exclusions that hold later / across topic changes
mv("m-persist-ferrell-to-sport", ["exclusion-persistence", "topic-shift", "multi-turn"],
   T("I'm so done with Will Ferrell. Recommend me a comedy.", genre("comedy") - star("Will Ferrell"),
     star("Will Ferrell")),
   T("Now what about a sports movie?", genre("sport") - star("Will Ferrell"), star("Will Ferrell")))
mv("m-persist-no-horror-kidman", ["exclusion-persistence", "year-range", "multi-turn"],
   T("please no horror, I get nightmares. something suspenseful from the 2000s?",
     (genre("thriller", "mystery") & years(2000, 2009)) - genre("horror"), genre("horror") | outside(2000, 2012)),
   T("ok, anything with Nicole Kidman?", star("Nicole Kidman") - genre("horror"), genre("horror")))
mv("m-persist-bay-robots", ["exclusion-persistence", "multi-turn"],
   T("No Michael Bay movies please. I want an action flick.", genre("action") - director("Michael Bay"),
     director("Michael Bay")),
   T("something with robots maybe?", ROBOT - director("Michael Bay"), director("Michael Bay")))
mv("m-persist-cruise-three-turns", ["exclusion-persistence", "year-range", "topic-shift", "multi-turn"],
   T("I don't watch anything with Tom Cruise. Action movie?", genre("action") - star("Tom Cruise"),
     star("Tom Cruise")),
   T("something from the 80s", (genre("action") & years(1980, 1989)) - star("Tom Cruise"),
     star("Tom Cruise") | outside(1980, 1989)),
   T("and a sci-fi one", genre("sci-fi") - star("Tom Cruise"), star("Tom Cruise")))

# --- wanted attributes
mv("m-attr-actor", ["wanted-attribute", "noise"],
   T("anything with denzel washington?", star("Denzel Washington")))
mv("m-attr-eastwood-western", ["wanted-attribute"],
   T("A Clint Eastwood western would be perfect",
     genre("western") & (star("Clint Eastwood") | director("Clint Eastwood"))))
mv("m-attr-writer", ["wanted-attribute"],
   T("What movies did Aaron Sorkin write?", writer("Aaron Sorkin")))
mv("m-attr-director-genre", ["wanted-attribute"],
   T("Any horror movies directed by John Carpenter?", director("John Carpenter") & genre("horror")))

# --- year ranges
mv("m-year-80s-horror", ["year-range", "noise"],
   T("good 80s horror?", genre("horror") & years(1980, 1989), outside(1980, 1989)))
mv("m-year-before-1960", ["year-range"],
   T("An old romantic film, from before 1960", genre("romance") & years(None, 1959), outside(None, 1960)))
mv("m-year-after-2010", ["year-range"],
   T("action movies made after 2010", genre("action") & years(2011, None), outside(2010, None)))
mv("m-year-between", ["year-range"],
   T("Looking for a comedy released between 1995 and 2005", genre("comedy") & years(1995, 2005),
     outside(1995, 2005)))
mv("m-year-recent", ["year-range"],
   T("Something recent please, a good thriller from the last few years", genre("thriller") & years(2015, None),
     outside(2010, None)))
mv("m-year-nineties-words", ["year-range"],
   T("family movie from the nineties for movie night with the kids", genre("family") & years(1990, 1999),
     outside(1990, 1999)))
mv("m-year-early-2000s", ["year-range", "noise"],
   T("early 2000s rom com", allgenres("romance", "comedy") & years(2000, 2004), outside(1999, 2006)))
mv("m-year-late-70s", ["year-range"],
   T("Late 70s sci-fi, anything good?", genre("sci-fi") & years(1975, 1979), outside(1970, 1980)))
mv("m-year-plus-exclusion", ["year-range", "exclusion"],
   T("90s action but no Stallone", (genre("action") & years(1990, 1999)) - star("Sylvester Stallone"),
     star("Sylvester Stallone") | outside(1990, 1999)))

# --- topic shifts
mv("m-shift-cue", ["topic-shift", "multi-turn"],
   T("Recommend me a western", genre("western")),
   T("ok, switching gears completely: a romantic comedy", allgenres("romance", "comedy")))
mv("m-shift-no-cue", ["topic-shift", "multi-turn"],
   T("80s action movies with Arnold Schwarzenegger", genre("action") & star("Arnold Schwarzenegger") & years(1980, 1989)),
   T("a musical", genre("musical")))

# --- retractions
mv("m-retract-carrey", ["retraction", "multi-turn"],
   T("I'm not in the mood for Jim Carrey. A comedy?", genre("comedy") - star("Jim Carrey"), star("Jim Carrey")),
   T("lol actually never mind, Jim Carrey is fine. something like Ace Ventura",
     (genre("comedy") & star("Jim Carrey")) - title(r"^ace ventura")))
mv("m-retract-year", ["retraction", "year-range", "multi-turn"],
   T("a western, nothing older than 2000", genre("western") & years(2000, None), outside(1999, None)),
   T("eh forget the year thing, I want the classics with John Wayne", genre("western") & star("John Wayne")))
mv("m-retract-genre", ["retraction", "multi-turn"],
   T("No horror please. A mystery?", genre("mystery") - genre("horror"), genre("horror")),
   T("actually, horror is ok after all. something scary with a mystery to solve", allgenres("horror", "mystery")))

# --- references to items just shown (first turn names one item)
JAWS = title(r"^Jaws( \(1975\))?$")
mv("m-ref-same-director", ["reference", "multi-turn"],
   T("Do you know Jaws?", ask=JAWS | title(r"^jaws") | director("Steven Spielberg") & years(1970, 1985)),
   T("more by the same director please", director("Steven Spielberg") - JAWS))
SHAW = title(r"^the shawshank redemption")
mv("m-ref-lead-actor", ["reference", "multi-turn"],
   T("Have you got The Shawshank Redemption?", ask=SHAW | (genre("drama") & genre("crime"))),
   T("anything else with the lead actors from that one?",
     (star("Tim Robbins") | star("Morgan Freeman")) - SHAW))
PULP = title(r"^pulp fiction")
mv("m-ref-similar-minus-actor", ["reference", "exclusion", "multi-turn"],
   T("Pulp Fiction please", ask=PULP | director("Quentin Tarantino")),
   T("something similar but without Travolta", genre("crime") - PULP - star("John Travolta"), star("John Travolta")))
TITANIC = title(r"^titanic( \(1997\))?$") & director("James Cameron")
mv("m-ref-same-year", ["reference", "year-range", "multi-turn"],
   T("I'm looking for Titanic, the James Cameron one", ask=TITANIC | director("James Cameron")),
   T("what other romance movies came out that same year?", (genre("romance") & years(1997, 1997)) - TITANIC,
     outside(1996, 1998)))
TOY = title(r"^toy story \(1995\)$")
mv("m-ref-director-toy-story", ["reference", "multi-turn"],
   T("do you have Toy Story?", ask=TOY | title(r"^toy story")),
   T("what else did the director of that one make?", director("John Lasseter") - TOY))

# --- refinements
mv("m-refine-older-scifi", ["refinement", "year-range", "multi-turn"],
   T("sci-fi movies", genre("sci-fi")),
   T("only older stuff, like before 1990", genre("sci-fi") & years(None, 1989), outside(None, 1990)))
mv("m-refine-actor", ["refinement", "multi-turn"],
   T("a comedy", genre("comedy")),
   T("with Steve Martin in it", genre("comedy") & star("Steve Martin")))
mv("m-refine-animation-decade", ["refinement", "year-range", "multi-turn"],
   T("animated movies", genre("animation")),
   T("only ones from the 2010s", genre("animation") & years(2010, 2019), outside(2010, 2019)))

# --- controls: negation words that rule nothing out
mv("m-ctrl-cant-stop", ["negation-control"],
   T("I can't stop rewatching Harry Potter. Any other fantasy movies?", genre("fantasy")))
mv("m-ctrl-never-seen", ["negation-control", "noise"],
   T("never seen the godfather, shocking i know. recommend me some mob movies",
     genre("crime") & (mword(r"mob\b|mobster|mafia|gangster|crime family|godfather"))))
mv("m-ctrl-not-gonna-lie", ["negation-control"],
   T("Not gonna lie, I love Tom Cruise action flicks", star("Tom Cruise") & genre("action")))
mv("m-ctrl-dont-judge", ["negation-control", "noise"],
   T("don't judge me but i love cheesy romcoms 😅", allgenres("romance", "comedy")))
mv("m-ctrl-doesnt-mind-horror", ["negation-control"],
   T("My wife doesn't mind horror and neither do I. Scare us!", genre("horror")))
mv("m-ctrl-no-doubt", ["negation-control"],
   T("No doubt Spielberg is the GOAT. What should I watch from him?", director("Steven Spielberg")))
mv("m-ctrl-nothing-beats", ["negation-control"],
   T("nothing beats Jackie Chan fight scenes", star("Jackie Chan")))

# ================================================================= checks + write
problems = []


def check(domain, ids):
    for s in SC[domain]:
        earlier = []  # ask sets of earlier turns
        for i, t in enumerate(s["turns"]):
            rel, forb = t.get("relevant"), t.get("forbidden")
            judged = rel is not None or forb is not None
            if judged and not (rel or forb):
                problems.append(f"{s['id']} turn {i}: judged but empty")
            for k in ("relevant", "forbidden"):
                for x in t.get(k) or ():
                    if x not in ids:
                        problems.append(f"{s['id']} turn {i}: unknown id {x}")
            if rel and forb and rel & forb:
                problems.append(f"{s['id']} turn {i}: relevant∩forbidden {sorted(rel & forb)[:5]}")
            if rel and earlier:
                union = set().union(*earlier)
                could = min(len(rel & union), 5 * len(earlier))
                if len(rel) - could < 1:
                    problems.append(f"{s['id']} turn {i}: relevant ({len(rel)}) could be used up by earlier turns")
            if i > 0 and judged and "multi-turn" not in s["tags"]:
                problems.append(f"{s['id']}: judged later turn but no multi-turn tag")
            if not judged and "ask" not in t:
                problems.append(f"{s['id']} turn {i}: unjudged turn without ask set")
            earlier.append(t.get("ask") or rel or set())


check("grocery", set(GID))
check("movies", set(MID))
seen = Counter(s["id"] for d in SC for s in SC[d])
problems += [f"duplicate id {k}" for k, v in seen.items() if v > 1]


def dump(domain, path):
    with open(path, "w", encoding="utf-8") as fh:
        for s in SC[domain]:
            turns = []
            for t in s["turns"]:
                o = {"user": t["user"]}
                if t.get("relevant") is not None and t["relevant"]:
                    o["relevant"] = sorted(t["relevant"])
                if t.get("forbidden") is not None and t["forbidden"]:
                    o["forbidden"] = sorted(t["forbidden"])
                turns.append(o)
            fh.write(json.dumps({"id": s["id"], "tags": s["tags"], "turns": turns}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    for d, fn in (("grocery", "grocery.jsonl"), ("movies", "movies.jsonl")):
        dump(d, os.path.join(args.out, fn))
        fam = Counter(tag for s in SC[d] for tag in s["tags"])
        print(f"{d}: {len(SC[d])} scenarios; tags: {dict(sorted(fam.items()))}")
    for d in SC:
        for s in SC[d]:
            desc = [f"R{len(t.get('relevant') or ())}/F{len(t.get('forbidden') or ())}"
                    if ("relevant" in t or "forbidden" in t) else "-" for t in s["turns"]]
            print(f"  {s['id']:38s} {' '.join(desc)}")
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print("  ", p)
        raise SystemExit(1)
    print("all checks passed")

#!/usr/bin/env python3
"""Generator for the held-out-4 scenario set (grocery + ReDial movies).

Every relevant / forbidden list is computed from predicates over the catalog
fields and texts; no ids are typed in by hand.

Usage:
  python make.py [--movies /tmp/heldout4_movies.jsonl] [--stats]

The movie catalog must first be built with
  cd /work/main && .venv/bin/python -m retrieval convert redial-movies \
     /work/shared/datasets/redial/movies_id2info.json /tmp/heldout4_movies.jsonl \
     --mentions /work/shared/datasets/redial/movies_with_mentions.csv

Turn spec (internal): dict(user=str, rel=set|None, forb=set|None, could=set|None)
  rel/forb -> written as "relevant"/"forbidden" (sorted), only when non-empty.
  could    -> items this turn could plausibly show (used only for the
              "later turn must have more relevant items than earlier turns
              could have shown" check).  Defaults to rel.

Check: for a judged turn k with relevant set R,
  |R| - sum_{j<k} min(5, |could_j & R|) >= 1
so even if every earlier turn had shown its maximum of 5 items from R,
something relevant is left to show.
"""
import argparse
from pathlib import Path
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GROCERY = str(Path(__file__).resolve().parents[4] / "data" / "demo" / "grocery.jsonl")


def load(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ----------------------------------------------------------------- grocery
def grocery_scenarios(G):
    by_id = {g["id"]: g for g in G}
    ALL = set(by_id)

    def A(i):
        return by_id[i]["attributes"]

    def text(i):
        g = by_id[i]
        return (g["title"] + " " + g.get("description", "")).lower()

    def sel(pred):
        return {i for i in ALL if pred(i)}

    def cat(*cs):
        return sel(lambda i: A(i).get("category") in cs)

    def group(gr):
        return sel(lambda i: A(i).get("group") == gr)

    def origin(*os_):
        return sel(lambda i: A(i).get("origin") in os_)

    def maker(prefix):
        return sel(lambda i: (A(i).get("manufacturer") or "").lower().startswith(prefix.lower()))

    def word(pattern):
        rx = re.compile(pattern, re.I)
        return sel(lambda i: rx.search(text(i)) is not None)

    FRUIT, VEG, PACK = group("Fruit"), group("Vegetables"), group("Packages")
    DAIRY = cat("Milk", "Yoghurt", "Sour-Cream", "Sour-Milk")
    PLANT = cat("Oat-Milk", "Oatghurt", "Soy-Milk", "Soyghurt")
    YOG_LIKE = cat("Yoghurt", "Soyghurt", "Oatghurt")
    JUICE = cat("Juice")
    MILK = cat("Milk")
    LACTOSE_FREE = word(r"lactose[- ]free|free from lactose")
    LACTOSE = DAIRY - LACTOSE_FREE
    CITRUS_FRUIT = cat("Lemon", "Lime", "Orange", "Red-Grapefruit", "Satsumas")
    CITRUS_JUICE = JUICE & word(r"orange|grapefruit|apelsin|blodgrape|mandarin")
    ORANGE_JUICE = JUICE & word(r"orange|apelsin")
    PULP_JUICE = JUICE & word(r"with pulp|med fruktkött")
    NO_PULP_JUICE = JUICE & word(r"without pulp|utan fruktkött")
    CONCENTRATE = JUICE & (word(r"from concentrate|från koncentrat") - word(r"not from concentrate"))
    NOT_CONCENTRATE = JUICE & word(r"not from concentrate")
    ORGANIC = word(r"ecolog|organic|\beko|ekologisk|krav")
    VANILLA = word(r"vanilla|vanilj")
    SOY = word(r"\bsoy")
    SOUTH_AMERICA = origin("Argentina", "Brazil", "Chile", "Colombia", "Ecuador", "Peru")

    S = []

    def add(sid, tags, turns):
        S.append({"id": sid, "tags": tags, "turns": turns})

    def T(user, rel=None, forb=None, could=None):
        return {"user": user, "rel": rel, "forb": forb, "could": could}

    # --- plain exclusions, many phrasings -------------------------------
    add("g01-not-apple", ["exclusion", "category"], [
        T("any fruit that isn't an apple? had way too many this week",
          rel=FRUIT - cat("Apple"), forb=cat("Apple"))])
    add("g02-no-dutch-veg", ["exclusion", "origin"], [
        T("Need some veggies for the week but nothing from the Netherlands please.",
          rel=VEG - origin("The Netherlands"), forb=origin("The Netherlands"))])
    add("g03-oj-not-tropicana", ["exclusion", "brand"], [
        T("orange juice, just not tropicana",
          rel=ORANGE_JUICE - maker("Tropicana"), forb=maker("Tropicana"))])
    add("g04-avoid-spanish", ["exclusion", "origin"], [
        T("I'd rather avoid anything grown in Spain. What fruit have you got?",
          rel=FRUIT - origin("Spain"), forb=origin("Spain"))])
    add("g05-arla-nogo", ["exclusion", "brand", "noise"], [
        T("yoghurt pls. arla is a no-go for me",
          rel=YOG_LIKE - maker("Arla"), forb=maker("Arla"))])
    add("g06-except-kiwi-mango", ["exclusion", "category", "smoothie"], [
        T("Making a smoothie — any fruit except kiwi and mango, I'm allergic to both.",
          rel=FRUIT - cat("Kiwi", "Mango"), forb=cat("Kiwi", "Mango"))])
    add("g07-melon-too-big", ["exclusion", "category", "chatty"], [
        T("I live alone so melons are way too much for me lol. Other fruit ideas?",
          rel=FRUIT - cat("Melon"), forb=cat("Melon"))])

    # --- exclusion of a property of the list just shown -------------------
    add("g08-melons-all-spanish", ["exclusion", "list-property", "origin"], [
        T("got melons?", rel=cat("Melon")),
        T("oh they're all from spain huh. i try not to buy spanish, any other fruit?",
          rel=FRUIT - origin("Spain"), forb=origin("Spain"))])
    add("g09-tomatoes-dutch", ["exclusion", "list-property", "origin"], [
        T("Show me your tomatoes please", rel=cat("Tomato")),
        T("Skip the Dutch ones. Other vegetables for a salad?",
          rel=(VEG & word(r"salad|raw")) - origin("The Netherlands"),
          forb=origin("The Netherlands"))])
    add("g10-pears-italian", ["exclusion", "list-property", "origin"], [
        T("what kinds of pears do you sell", rel=cat("Pear")),
        T("Hmm that Italian one — actually no Italian produce for me at all. What other fruit then?",
          rel=FRUIT - origin("Italy") - cat("Pear"), forb=origin("Italy"))])
    add("g11-milk-all-arla", ["exclusion", "list-property", "brand"], [
        T("Which milk do you have?", rel=MILK),
        T("mostly Arla, right? I'd like a different brand, milk or yoghurt, whatever",
          rel=(MILK | cat("Yoghurt")) - maker("Arla"), forb=maker("Arla"),
          )])
    add("g12-yog-flavoured", ["exclusion", "list-property", "free-word"], [
        T("need a big tub of yoghurt", rel=YOG_LIKE),
        T("these are mostly vanilla or fruity... nothing with vanilla please",
          forb=VANILLA)])

    # --- diets / allergies, persisting over later turns ------------------
    add("g13-vegan-3turn", ["diet", "vegan", "persistence", "topic-shift"], [
        T("I'm vegan. What can I put on my cereal?", rel=PLANT, forb=DAIRY),
        T("cool. something sweet for dessert now?",
          rel=FRUIT & word(r"dessert|sweet"), forb=DAIRY),
        T("and some veg for taco night 🌮", rel=VEG, forb=DAIRY)])
    add("g14-citrus-allergy", ["diet", "allergy", "persistence", "emoji"], [
        T("allergic to citrus 🍋🚫 — fruit for snacking?",
          rel=FRUIT - CITRUS_FRUIT, forb=CITRUS_FRUIT | CITRUS_JUICE),
        T("and a juice for the kids?",
          rel=JUICE - CITRUS_JUICE, forb=CITRUS_FRUIT | CITRUS_JUICE)])
    add("g15-lactose", ["diet", "lactose", "persistence"], [
        T("I'm lactose intolerant. What milk options do I have?",
          rel=(MILK & LACTOSE_FREE) | cat("Oat-Milk", "Soy-Milk"), forb=LACTOSE),
        T("and something yoghurt-like for breakfast?",
          rel=cat("Oatghurt", "Soyghurt"), forb=LACTOSE)])
    add("g16-soy-allergy", ["diet", "allergy"], [
        T("My son has a soy allergy and can't have cow's milk either. Which drink would work?",
          rel=cat("Oat-Milk"), forb=SOY | MILK)])
    add("g17-dairy-free-nonnative", ["diet", "dairy-free", "non-native"], [
        T("I am search product without milk inside, for breakfast. Is possible?",
          rel=PLANT, forb=DAIRY)])
    add("g18-vegan-persist-topic", ["diet", "vegan", "persistence", "topic-shift", "cue"], [
        T("plant based only in this house. got anything yoghurt-ish?",
          rel=cat("Oatghurt", "Soyghurt"), forb=DAIRY),
        T("ok different question: something creamy to go with chili?",
          forb=DAIRY, could=PLANT)])

    # --- free-word exclusions (words in descriptions / titles) ----------
    add("g19-oj-no-pulp", ["free-word", "exclusion"], [
        T("orange juice but I hate the bits, no pulp please",
          rel=ORANGE_JUICE & NO_PULP_JUICE, forb=PULP_JUICE)])
    add("g20-not-concentrate", ["free-word", "exclusion"], [
        T("Which juices are NOT made from concentrate?",
          rel=NOT_CONCENTRATE, forb=CONCENTRATE)])
    add("g21-milk-no-organic", ["free-word", "exclusion"], [
        T("milk, but skip the organic/eko ones, they're a rip-off",
          rel=MILK - ORGANIC, forb=ORGANIC & PACK)])
    add("g22-yog-no-vanilla", ["free-word", "exclusion", "noise"], [
        T("yogurt but no vanila, im so over it",
          rel=YOG_LIKE - VANILLA, forb=VANILLA)])
    add("g23-raw-no-cooking", ["free-word", "exclusion"], [
        T("Veg I can eat raw in a salad — nothing that has to be cooked.",
          rel=(VEG & word(r"\braw\b|salad")) - word(r"always eaten cooked"),
          forb=word(r"always eaten cooked"))])
    add("g24-sweet-not-sour", ["free-word", "exclusion"], [
        T("sweet fruit please, nothing sour or bitter",
          rel=(FRUIT & word(r"\bsweet")) - word(r"\b(sour|bitter|tart)\b|\bacid"),
          forb=FRUIT & word(r"\b(sour|bitter|tart)\b"))])

    # --- wanted attributes: origin / brand / Swedish titles -------------
    add("g25-south-america", ["attribute", "origin"], [
        T("anything from South America? fruit-wise", rel=FRUIT & SOUTH_AMERICA)])
    add("g26-swedish-veg", ["attribute", "origin", "emoji"], [
        T("swedish vegetables please, support local 🇸🇪", rel=VEG & origin("Sweden"))])
    add("g27-alpro", ["attribute", "brand", "terse"], [
        T("alpro?", rel=maker("Alpro"))])
    add("g28-filmjolk-oatly", ["attribute", "brand", "swedish", "topic-shift"], [
        T("har ni filmjölk?", rel=cat("Sour-Milk")),
        T("and anything by Oatly", rel=maker("Oatly"))])
    add("g29-god-morgon", ["attribute", "brand"], [
        T("Do you carry the God Morgon juices? Love those.", rel=maker("God Morgon"))])

    # --- topic shifts ---------------------------------------------------
    add("g30-apples-then-potatoes", ["topic-shift", "cue"], [
        T("Need apples for a pie", rel=cat("Apple")),
        T("ok moving on — potatoes?", rel=cat("Potato"))])
    add("g31-terse-shifts", ["topic-shift", "no-cue", "terse"], [
        T("kiwi", rel=cat("Kiwi")),
        T("oat drink", rel=cat("Oat-Milk")),
        T("carrots", rel=cat("Carrots"))])
    add("g32-no-spain-ratatouille", ["exclusion", "persistence", "topic-shift", "origin"], [
        T("No Spanish produce please. Some fruit?",
          rel=FRUIT - origin("Spain"), forb=origin("Spain")),
        T("now veg for a ratatouille",
          rel=VEG - origin("Spain"), forb=origin("Spain"))])
    add("g33-no-peppers-then-fruit", ["exclusion", "persistence", "topic-shift"], [
        T("veg for a stir fry, skip the peppers they give me heartburn",
          rel=VEG - cat("Pepper"), forb=cat("Pepper")),
        T("btw what about fruit for after dinner",
          rel=FRUIT, forb=cat("Pepper"))])

    # --- retractions ----------------------------------------------------
    add("g34-retract-peppers", ["retraction", "exclusion"], [
        T("Veggies for a stir fry but no peppers, my daughter hates them",
          rel=VEG - cat("Pepper"), forb=cat("Pepper")),
        T("actually scratch that, she's at her dad's this week. peppers are fine — show me bell peppers",
          rel=cat("Pepper"))])
    add("g35-retract-italy", ["retraction", "origin"], [
        T("Fruit please, nothing from Italy", rel=FRUIT - origin("Italy"), forb=origin("Italy")),
        T("oh wait, Italian is fine after all. Do you have peaches or nectarines?",
          rel=cat("Peach", "Nectarine"))])
    add("g36-retract-dairy", ["retraction", "diet"], [
        T("dairy free stuff pls, my sister is visiting", rel=PLANT, forb=DAIRY),
        T("never mind the dairy-free thing, she cancelled 🙄 what yoghurts have you got?",
          rel=cat("Yoghurt"))])

    # --- references to items just shown (first turn names one item) -----
    add("g37-conference-same-country", ["reference", "origin"], [
        T("Do you have Conference pears?", rel=cat("Pear") & word(r"conference"),
          could=cat("Pear")),
        T("nice. what else do you have from the same country?",
          rel=origin("The Netherlands") - word(r"conference"))])
    add("g38-avocado-from-there", ["reference", "origin", "terse"], [
        T("avocado?", rel=cat("Avocado"), could=FRUIT),
        T("where's it from? anything else from there", rel=origin("Peru") - cat("Avocado"))])
    add("g39-granny-country", ["reference", "origin", "noise"], [
        T("lookin for granny smith apples", rel=word(r"granny smith"), could=cat("Apple")),
        T("what else u got from the same country as those",
          rel=origin("Italy") - word(r"granny smith"))])
    add("g40-valio-plant", ["reference", "diet"], [
        T("Is there Valio vanilla yoghurt?", rel=maker("Valio"),
          could=cat("Yoghurt") | VANILLA),
        T("Something like that but plant-based?", rel=cat("Soyghurt", "Oatghurt"),
          forb=DAIRY)])

    # --- refinements -----------------------------------------------------
    add("g41-dairy-organic-only", ["refinement"], [
        T("show me dairy stuff", rel=DAIRY),
        T("only the organic ones please", forb=DAIRY - ORGANIC, could=DAIRY)])
    add("g42-juice-big-pack", ["refinement", "size"], [
        T("juice for a big family breakfast", rel=JUICE),
        T("only the big 2 litre packs", forb=JUICE & sel(lambda i: A(i).get("size") == "1l"))])

    # --- controls: negation word, nothing ruled out ----------------------
    add("g43-cant-remember-green-apple", ["control", "negation-word"], [
        T("I can't remember the name — green apple, quite sour?", rel=word(r"granny smith"))])
    add("g44-nothing-beats-peach", ["control", "negation-word"], [
        T("Nothing beats a ripe peach in summer. Got any?", rel=cat("Peach"))])
    add("g45-not-vegan-oatly", ["control", "negation-word", "diet-word"], [
        T("i'm not vegan or anything, i just really like oat milk", rel=cat("Oat-Milk"))])
    add("g46-dont-cook-snack", ["control", "negation-word"], [
        T("I don't cook much. What's good for a quick snack?", rel=word(r"snack"))])
    add("g47-not-sure-melon", ["control", "negation-word", "emoji"], [
        T("not sure what I want... maybe melon? 🍈", rel=cat("Melon"))])

    # --- noise ----------------------------------------------------------
    add("g48-zuchini-typo", ["noise", "typo"], [
        T("hav u got zuchini", rel=cat("Zucchini"))])
    add("g49-mash-nonnative", ["noise", "non-native", "free-word"], [
        T("I search a good potato for make the mash", rel=cat("Potato") & word(r"mash"))])

    return S, ALL


# ------------------------------------------------------------------ movies
def movie_scenarios(M):
    by_id = {m["id"]: m for m in M}
    ALL = set(by_id)

    def A(i):
        return by_id[i]["attributes"]

    def text(i):
        m = by_id[i]
        return (m["title"] + " " + m.get("description", "")).lower()

    def sel(pred):
        return {i for i in ALL if pred(i)}

    def genre(*gs):  # all of the given genres
        return sel(lambda i: all(g in A(i).get("genre", []) for g in gs))

    def anygenre(*gs):
        return sel(lambda i: any(g in A(i).get("genre", []) for g in gs))

    def star(name):
        return sel(lambda i: name in A(i).get("star", []))

    def director(*names):
        return sel(lambda i: any(n in A(i).get("director", []) for n in names))

    def writer(name):
        return sel(lambda i: name in A(i).get("writer", []))

    def years(lo=None, hi=None):
        def ok(i):
            y = A(i).get("year")
            if y is None:
                return False
            return (lo is None or y >= lo) and (hi is None or y <= hi)
        return sel(ok)

    def outside(lo=None, hi=None, tol=1):
        """Movies clearly outside [lo, hi]: at least tol+1 years away (dated only)."""
        def bad(i):
            y = A(i).get("year")
            if y is None:
                return False
            return (lo is not None and y < lo - tol) or (hi is not None and y > hi + tol)
        return sel(bad)

    def word(pattern):
        rx = re.compile(pattern, re.I)
        return sel(lambda i: rx.search(text(i)) is not None)

    def titled(pattern):
        rx = re.compile(pattern, re.I)
        return sel(lambda i: rx.search(by_id[i]["title"]) is not None)

    def named(title, director_name):
        """All catalog entries of one film (ReDial has dated/undated duplicates)."""
        rx = re.compile(r"^" + re.escape(title) + r"( \(\d{4}\))?$", re.I)
        return sel(lambda i: rx.match(by_id[i]["title"]) is not None
                   and director_name in A(i).get("director", []))

    ZOMBIE = word(r"zombie")
    ALIEN = word(r"\baliens?\b|extraterrestrial")
    # "avengers" alone also names a 1998 spy film and kung-fu films: only count
    # it when the text also points at the Marvel team.
    SUPERHERO = (word(r"super ?-?heroe?s?|super-?heroines?|batman|superman|spider-man|x-men|"
                      r"captain marvel|marvel one-shots|justice league")
                 | (word(r"\bavengers\b") & word(r"marvel|stark|ultron|infinity|captain america|mightiest heroes")))
    DOG = word(r"\b(dogs?|pupp(y|ies))\b")
    # Christmas: relevant sets avoid any mention; forbidden only where the
    # film is set at / about Christmas (not e.g. "born on the original christmas").
    SANTA = r"\bsanta( claus|'s|\b(?! (clara|cruz|anna|monica|fe|barbara)\b))"
    CHRISTMAS_ANY = word(r"christmas|xmas|grinch|" + SANTA)
    CHRISTMAS = (titled(r"christmas|xmas|grinch")
                 | word(r"christmas (eve|day|vacation|holidays?|party|spirit|celebration|truce|presents|carol)|"
                        r"for christmas|in time for christmas|on christmas|ruin christmas|christmas-themed|"
                        r"santa claus|\bsanta's|department store santa|killed by santa|santa and the elves"))
    # Illness tear-jerkers: relevant sets avoid any mention; forbidden only the
    # clear cases (someone has cancer / is terminally ill / a dying person).
    DYING_ANY = word(r"cancer|terminal|\bdying\b|\bdies\b|illness|disease")
    DYING = word(r"cancer|terminal(ly)? ill|terminal illness|"
                 r"\bdying (\w+ ){0,2}(man|woman|mother|father|son|daughter|friend|wife|husband|girl|boy|"
                 r"agent|gunfighter|millionaire|master)\b|learns that he is dying|\bis dying\b")

    S = []

    def add(sid, tags, turns):
        S.append({"id": sid, "tags": tags, "turns": turns})

    def T(user, rel=None, forb=None, could=None):
        return {"user": user, "rel": rel, "forb": forb, "could": could}

    # --- exclusions, many phrasings -------------------------------------
    add("m01-comedy-no-romance", ["exclusion", "genre"], [
        T("Looking for a comedy, but please no romance, not in the mood for that.",
          rel=genre("comedy") - genre("romance"), forb=genre("romance"))])
    add("m02-horror-no-zombies", ["exclusion", "free-word", "emoji"], [
        T("horror movie but nothing with zombies 🧟‍♂️ i've seen them all",
          rel=genre("horror") - ZOMBIE, forb=ZOMBIE)])
    add("m03-thriller-no-cage", ["exclusion", "actor", "noise"], [
        T("thriller pls, no nicolas cage lol", rel=genre("thriller") - star("Nicolas Cage"),
          forb=star("Nicolas Cage"))])
    add("m04-animated-no-singing", ["exclusion", "genre"], [
        T("An animated film that isn't a musical? My kid can't stand the singing.",
          rel=genre("animation") - anygenre("musical", "music"), forb=genre("musical"))])
    add("m05-scifi-no-aliens", ["exclusion", "free-word"], [
        T("I want sci-fi but no aliens please, something more grounded",
          rel=genre("sci-fi") - ALIEN, forb=ALIEN)])
    add("m06-action-no-capes", ["exclusion", "free-word", "slang"], [
        T("action flick, but I'm burnt out on superhero stuff. no capes",
          rel=genre("action") - SUPERHERO, forb=SUPERHERO)])
    add("m07-war-not-older-2000", ["exclusion", "year-range"], [
        T("war movie, nothing older than 2000",
          rel=genre("war") & years(2000), forb=outside(lo=2000))])
    add("m08-music-not-docs", ["exclusion", "genre"], [
        T("Anything but documentaries — I want a film about music or musicians.",
          rel=genre("music") - genre("documentary"), forb=genre("documentary"))])
    add("m09-no-horror-no-scifi", ["exclusion", "genre", "chatty"], [
        T("ok so my gf hates horror and i hate sci-fi, we need something funny for tonight",
          rel=genre("comedy") - anygenre("horror", "sci-fi"), forb=anygenre("horror", "sci-fi"))])
    add("m10-comedy-no-christmas", ["exclusion", "free-word"], [
        T("It's July. Give me a comedy that is not a Christmas movie please",
          rel=genre("comedy") - CHRISTMAS_ANY, forb=CHRISTMAS)])

    # --- exclusion of a property of the list just shown -------------------
    add("m11-burton-without-depp", ["exclusion", "list-property", "director", "actor"], [
        T("Tim Burton films?", rel=director("Tim Burton")),
        T("half of these have Johnny Depp and I can't stand him. any without him?",
          rel=director("Tim Burton") - star("Johnny Depp"), forb=star("Johnny Depp"))])
    add("m12-carpenter-not-80s", ["exclusion", "list-property", "year-range"], [
        T("john carpenter movies", rel=director("John Carpenter")),
        T("these are all so 80s. Not into 80s stuff — any horror from other decades?",
          rel=genre("horror") - years(1980, 1989) - sel(lambda i: A(i).get("year") is None),
          forb=years(1980, 1989))])
    add("m13-sandler-someone-else", ["exclusion", "list-property", "actor"], [
        T("adam sandler comedies 😂", rel=star("Adam Sandler") & genre("comedy")),
        T("ok that's too much Sandler. same vibe, someone else",
          rel=genre("comedy") - star("Adam Sandler"), forb=star("Adam Sandler"))])
    add("m14-war-all-old", ["exclusion", "list-property", "year-range"], [
        T("Recommend me some war films.", rel=genre("war")),
        T("Those look pretty old. Only stuff from after 2005 please.",
          rel=genre("war") & years(2006), forb=outside(lo=2006))])

    # --- exclusions persisting over later turns / topic changes ----------
    add("m15-no-horror-3turn", ["exclusion", "persistence", "topic-shift"], [
        T("No horror at all, I'm a total wimp. Something with aliens?",
          rel=(genre("sci-fi") & word(r"\baliens?\b|extraterrestrial")) - genre("horror"),
          forb=genre("horror")),
        T("ok now something funny", rel=genre("comedy") - genre("horror"), forb=genre("horror")),
        T("and one for date night", rel=genre("romance") - genre("horror"), forb=genre("horror"))])
    add("m16-no-cruise-3turn", ["exclusion", "persistence", "actor", "year-range"], [
        T("Not a Tom Cruise fan at all. Action movies?",
          rel=genre("action") - star("Tom Cruise"), forb=star("Tom Cruise")),
        T("what about sci-fi then", rel=genre("sci-fi") - star("Tom Cruise"),
          forb=star("Tom Cruise")),
        T("any 90s sci-fi?", rel=(genre("sci-fi") & years(1990, 1999)) - star("Tom Cruise"),
          forb=star("Tom Cruise") | outside(1990, 1999))])
    add("m17-no-tarantino-western", ["exclusion", "persistence", "director", "topic-shift", "cue"], [
        T("I want a crime movie but nothing by Tarantino, too gory for me",
          rel=genre("crime") - director("Quentin Tarantino"), forb=director("Quentin Tarantino")),
        T("new idea: a western", rel=genre("western") - director("Quentin Tarantino"),
          forb=director("Quentin Tarantino"))])
    add("m18-no-dogs-family", ["exclusion", "persistence", "free-word"], [
        T("family movie for tonight, but nothing with dogs — my kid just lost ours 😢",
          rel=genre("family") - DOG, forb=DOG & anygenre("family", "animation")),
        T("maybe an animated one?", rel=genre("animation") - DOG,
          forb=DOG & anygenre("family", "animation"))])
    add("m19-no-dying-romance", ["exclusion", "free-word", "persistence"], [
        T("romantic movie but no tearjerkers where someone has cancer or is dying pls",
          rel=genre("romance") - DYING_ANY, forb=DYING),
        T("something a bit more recent, after 2010?",
          rel=(genre("romance") & years(2011)) - DYING_ANY, forb=DYING | outside(lo=2011))])

    # --- year ranges ------------------------------------------------------
    add("m20-mystery-before-1980", ["year-range"], [
        T("a mystery made before 1980", rel=genre("mystery") & years(hi=1979),
          forb=outside(hi=1979))])
    add("m21-action-comedy-05-10", ["year-range"], [
        T("Action comedy, somewhere between 2005 and 2010.",
          rel=genre("action", "comedy") & years(2005, 2010), forb=outside(2005, 2010))])
    add("m22-early-2000s-romcom", ["year-range", "slang"], [
        T("early 2000s romcom 💕", rel=genre("romance", "comedy") & years(2000, 2004),
          forb=outside(2000, 2004, tol=1))])
    add("m23-seventies-crime", ["year-range"], [
        T("seventies crime films — the gritty ones", rel=genre("crime") & years(1970, 1979),
          forb=outside(1970, 1979))])
    add("m24-born-95-drama", ["year-range", "chatty"], [
        T("I'm born in '95. Show me a drama that's older than me",
          rel=genre("drama") & years(hi=1994), forb=outside(hi=1994))])

    # --- wanted director / actor / writer --------------------------------
    add("m25-hitchcock", ["attribute", "director", "terse"], [
        T("hitchcock", rel=director("Alfred Hitchcock"))])
    add("m26-coen-brothers", ["attribute", "director"], [
        T("Anything by the Coen brothers?", rel=director("Joel Coen", "Ethan Coen"))])
    add("m27-kubrik-typo", ["attribute", "director", "typo"], [
        T("kubrik movies?", rel=director("Stanley Kubrick"))])
    add("m28-spielberg-no-indy", ["attribute", "director", "exclusion"], [
        T("Spielberg, but not the Indiana Jones ones",
          rel=director("Steven Spielberg") - titled(r"indiana jones"),
          forb=titled(r"indiana jones"))])
    add("m29-leo", ["attribute", "actor", "slang"], [
        T("somethin w/ leo dicaprio", rel=star("Leonardo DiCaprio"))])
    add("m30-the-rock", ["attribute", "actor", "slang", "emoji"], [
        T("any movies with the rock? 💪", rel=star("Dwayne Johnson"))])
    add("m31-jackie-chan-nonnative", ["attribute", "actor", "non-native"], [
        T("I search film with Jackie Chan, the funny ones is better",
          rel=star("Jackie Chan"))])
    add("m32-sorkin", ["attribute", "writer"], [
        T("I love Aaron Sorkin's dialogue. Films he wrote?", rel=writer("Aaron Sorkin"))])

    # --- topic shifts -----------------------------------------------------
    add("m33-cartoon-then-crime", ["topic-shift", "no-cue"], [
        T("cartoon for my 6yo", rel=genre("animation")),
        T("gritty crime drama for after she's asleep", rel=genre("crime", "drama"))])
    add("m34-comedy-then-docs", ["topic-shift", "cue"], [
        T("some feel-good comedy", rel=genre("comedy")),
        T("switching gears completely — any documentaries about war or history?",
          rel=genre("documentary") & anygenre("war", "history"))])

    # --- retractions ------------------------------------------------------
    add("m35-retract-ferrell", ["retraction", "actor"], [
        T("comedy but no Will Ferrell", rel=genre("comedy") - star("Will Ferrell"),
          forb=star("Will Ferrell")),
        T("actually I take that back, Ferrell's fine. show me his movies",
          rel=star("Will Ferrell"))])
    add("m36-retract-old-westerns", ["retraction", "year-range"], [
        T("nothing before 2000 please. a western?", rel=genre("western") & years(2000),
          forb=outside(lo=2000)),
        T("eh scratch that, old is fine. classic westerns from the 60s?",
          rel=genre("western") & years(1960, 1969), forb=outside(1960, 1969))])
    add("m37-retract-animation", ["retraction", "genre"], [
        T("No animated stuff. A fantasy adventure?",
          rel=genre("fantasy", "adventure") - genre("animation"), forb=genre("animation")),
        T("Oh, the kids are joining after all, so animated is OK now. Animated fantasy?",
          rel=genre("animation", "fantasy"))])

    # --- references to items just shown ---------------------------------
    MATRIX = named("The Matrix", "Lana Wachowski")
    add("m38-matrix-directors-actor", ["reference", "director", "actor"], [
        T("have you got the matrix", rel=MATRIX, could=director("Lana Wachowski")),
        T("more from the same directors", rel=director("Lana Wachowski", "Lilly Wachowski") - MATRIX),
        T("and something else with the lead actor",
          rel=star("Keanu Reeves") - MATRIX)])
    JAWS = named("Jaws", "Steven Spielberg")
    add("m39-jaws-director", ["reference", "director"], [
        T("Jaws", rel=JAWS, could=director("Steven Spielberg")),
        T("other films by that director?", rel=director("Steven Spielberg") - JAWS)])
    TITANIC = named("Titanic", "James Cameron")
    add("m40-titanic-actress", ["reference", "actor"], [
        T("Do you have Titanic, the one from 1997?", rel=TITANIC,
          could=star("Kate Winslet") | star("Leonardo DiCaprio")),
        T("What else has the lead actress been in?", rel=star("Kate Winslet") - TITANIC)])
    GROUNDHOG = named("Groundhog Day", "Harold Ramis")
    add("m41-groundhog-newer", ["reference", "year-range"], [
        T("Groundhog Day?", rel=GROUNDHOG, could=genre("comedy") & star("Bill Murray")),
        T("something like that but newer than that one",
          rel=genre("comedy") & years(1994), forb=outside(lo=1994))])
    PULP = named("Pulp Fiction", "Quentin Tarantino")
    add("m42-pulp-same-year", ["reference", "year-range"], [
        T("looking for pulp fiction", rel=PULP, could=director("Quentin Tarantino")),
        T("what else came out the same year as it?",
          rel=years(1994, 1994) - PULP, forb=outside(1994, 1994))])

    # --- refinements ------------------------------------------------------
    add("m43-horror-80s-funny", ["refinement", "year-range", "genre"], [
        T("horror", rel=genre("horror")),
        T("only from the 80s", rel=genre("horror") & years(1980, 1989), forb=outside(1980, 1989)),
        T("and funny too, like horror-comedy",
          rel=genre("horror", "comedy") & years(1980, 1989), forb=outside(1980, 1989))])
    add("m44-crime-deniro", ["refinement", "actor"], [
        T("a crime movie", rel=genre("crime")),
        T("one with De Niro in it", rel=genre("crime") & star("Robert De Niro"))])

    # --- controls: negation word, nothing ruled out ----------------------
    add("m45-nothing-beats-hanks", ["control", "negation-word", "actor"], [
        T("nothing beats a Tom Hanks movie, what have you got with him?",
          rel=star("Tom Hanks"))])
    add("m46-never-tired-heist", ["control", "negation-word", "free-word"], [
        T("I never get tired of heist movies. Recommend one?", rel=word(r"heist"))])
    add("m47-not-sure-musical", ["control", "negation-word"], [
        T("not sure what I'm in the mood for... maybe a musical?", rel=genre("musical"))])
    add("m48-havent-seen-inception", ["control", "negation-word", "named-item"], [
        T("No, I haven't seen Inception yet. Do you have it?",
          rel=named("Inception", "Christopher Nolan"))])
    add("m49-cant-go-wrong-western", ["control", "negation-word"], [
        T("can't go wrong with a good western imo", rel=genre("western"))])
    add("m50-dont-mind-old", ["control", "negation-word", "year-range"], [
        T("I don't mind old movies at all — a black and white film noir maybe?",
          rel=genre("film-noir"))])

    return S, ALL


# ------------------------------------------------------------- finalising
def finalize(scen, ALL, stats=False):
    out = []
    problems = []
    for s in scen:
        turns = []
        history = []  # could-sets of earlier turns
        for k, t in enumerate(s["turns"]):
            rel = set(t["rel"] or ())
            forb = set(t["forb"] or ())
            judged = t["rel"] is not None or t["forb"] is not None
            if judged and not rel and not forb:
                problems.append(f"{s['id']} turn {k}: judged but empty")
            if t["rel"] is not None and not rel:
                problems.append(f"{s['id']} turn {k}: relevant predicate matched nothing")
            if t["forb"] is not None and not forb:
                problems.append(f"{s['id']} turn {k}: forbidden predicate matched nothing")
            if rel & forb:
                problems.append(f"{s['id']} turn {k}: relevant/forbidden overlap {sorted(rel & forb)[:5]}")
            unknown = (rel | forb) - ALL
            if unknown:
                problems.append(f"{s['id']} turn {k}: unknown ids {sorted(unknown)[:5]}")
            if rel:
                shown_max = sum(min(5, len(c & rel)) for c in history)
                if len(rel) - shown_max < 1:
                    problems.append(f"{s['id']} turn {k}: |rel|={len(rel)} but earlier turns "
                                    f"could show {shown_max} of them")
            could = t["could"] if t["could"] is not None else rel
            if not judged and t["could"] is None:
                problems.append(f"{s['id']} turn {k}: unjudged turn needs a could-set")
            history.append(set(could))
            turn = {"user": t["user"]}
            if rel:
                turn["relevant"] = sorted(rel)
            if forb:
                turn["forbidden"] = sorted(forb)
            turns.append(turn)
            if stats:
                print(f"  {s['id']:32s} t{k} rel={len(rel):5d} forb={len(forb):5d}  {t['user'][:60]}")
        out.append({"id": s["id"], "tags": s["tags"], "turns": turns})
    ids = [s["id"] for s in out]
    if len(ids) != len(set(ids)):
        problems.append("duplicate scenario ids")
    return out, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--movies", default="/tmp/heldout4_movies.jsonl")
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()

    all_problems = []
    for name, path, builder in (("grocery", GROCERY, grocery_scenarios),
                                ("movies", args.movies, movie_scenarios)):
        cat = load(path)
        scen, ALL = builder(cat)
        if args.stats:
            print(f"== {name}: {len(scen)} scenarios")
        out, problems = finalize(scen, ALL, stats=args.stats)
        all_problems += [f"[{name}] {p}" for p in problems]
        with open(os.path.join(HERE, f"{name}.jsonl"), "w", encoding="utf-8") as fh:
            for s in out:
                fh.write(json.dumps(s, ensure_ascii=False) + "\n")
        print(f"wrote {len(out)} {name} scenarios, "
              f"{sum(1 for s in out for t in s['turns'] if 'relevant' in t or 'forbidden' in t)} judged turns")
    if all_problems:
        print("PROBLEMS:")
        for p in all_problems:
            print("  " + p)
        sys.exit(1)


if __name__ == "__main__":
    main()

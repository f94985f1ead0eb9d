#!/usr/bin/env python3
"""Generator for the held-out scenario set #3 (grocery + ReDial movies).

Every relevant / forbidden id list is computed from predicates over catalog fields and
texts; nothing is hand-picked by id.  Run:

    cd /work/main && .venv/bin/python -m retrieval convert redial-movies \
        /work/shared/datasets/redial/movies_id2info.json /tmp/heldout3_movies.jsonl \
        --mentions /work/shared/datasets/redial/movies_with_mentions.csv
    python3 /work/heldout3/make.py

Writes grocery.jsonl and movies.jsonl next to this file and prints a sanity report.
"""
import json
import os
from pathlib import Path
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GROCERY = str(Path(__file__).resolve().parents[4] / "data" / "demo" / "grocery.jsonl")
MOVIES = os.environ.get("HELDOUT3_MOVIES", "/tmp/heldout3_movies.jsonl")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- grocery helpers
G = load(GROCERY)
GID = {it["id"]: it for it in G}


def gset(pred):
    return frozenset(it["id"] for it in G if pred(it))


def ga(it, k):
    return (it.get("attributes") or {}).get(k) or ""


def cat(*names):
    names = {n.lower() for n in names}
    return gset(lambda it: ga(it, "category").lower() in names)


def grp(name):
    return gset(lambda it: ga(it, "group") == name)


def origin(*names):
    return gset(lambda it: ga(it, "origin") in names)


def known_origin_not(*names):
    return gset(lambda it: ga(it, "origin") and ga(it, "origin") not in names)


def mfr(prefix):
    return gset(lambda it: ga(it, "manufacturer").lower().startswith(prefix.lower()))


def gtext(pattern, fields=("title", "description")):
    rx = re.compile(pattern, re.I)
    return gset(lambda it: any(rx.search(it.get(f) or "") for f in fields)
                or ("manufacturer" in fields and rx.search(ga(it, "manufacturer"))))


def gdesc(pattern):
    return gtext(pattern, fields=("description",))


FRUIT, VEG, PACK = grp("Fruit"), grp("Vegetables"), grp("Packages")
JUICE = cat("Juice")
MILK = cat("Milk")
YOG = cat("Yoghurt")
DAIRY = cat("Milk", "Yoghurt", "Sour-Cream", "Sour-Milk")           # animal milk products
PLANT = cat("Oat-Milk", "Soy-Milk", "Soyghurt", "Oatghurt")          # plant based dairy substitutes
PLANT_MILK = cat("Oat-Milk", "Soy-Milk")
PLANT_GHURT = cat("Soyghurt", "Oatghurt")
LACTOSE_FREE_DAIRY = DAIRY & gtext(r"lactose[- ]free")
LACTOSE = DAIRY - LACTOSE_FREE_DAIRY                                  # dairy that contains lactose
YOG_LIKE = YOG | PLANT_GHURT
CITRUS = cat("Lemon", "Lime", "Orange", "Satsumas", "Red-Grapefruit") | (
    JUICE & gtext(r"orange|grapefruit|mandarin|apelsin|blodgrape"))
APPLE_JUICE = JUICE & gtext(r"apple|äpple")
APPLES_ANY = cat("Apple") | APPLE_JUICE
TROPICAL = cat("Mango", "Papaya", "Pineapple", "Passion-Fruit", "Banana", "Avocado")
ECO = gtext(r"ecolog|organic|\beko\b|ekologisk|krav", fields=("title", "description", "manufacturer"))
VANILLA = gtext(r"vanil")
ARLA = mfr("Arla")
TROPICANA = mfr("Tropicana")
PULP = JUICE & gtext(r"\bwith pulp|med fruktkött")
NO_PULP = JUICE & gtext(r"without pulp|utan fruktkött")
CONCENTRATE = JUICE & (gtext(r"(?<!not )from concentrate|från koncentrat"))
SOUR = gdesc(r"\bsour\b|\btart\b") | (gdesc(r"acidity|acidic") - gdesc(r"sweet"))   # clearly sour
SOURISH = gdesc(r"\bsour\b|\btart\b|acidity|acidic|\bacid\b")                        # any mention of acidity
STONE = cat("Nectarine", "Peach", "Plum")
SWEET_FRUIT = FRUIT & gdesc(r"sweet")


# ---------------------------------------------------------------- movie helpers
MV = load(MOVIES)
MID = {m["id"]: m for m in MV}


def mset(pred):
    return frozenset(m["id"] for m in MV if pred(m))


def ma(m, k):
    v = (m.get("attributes") or {}).get(k)
    return v if v is not None else []


def year(m):
    return (m.get("attributes") or {}).get("year")


def genre(*gs):
    return mset(lambda m: any(g in ma(m, "genre") for g in gs))


def has_genre_info():
    return mset(lambda m: bool(ma(m, "genre")))


def star(*names):
    return mset(lambda m: any(n in ma(m, "star") for n in names))


def director(*names):
    return mset(lambda m: any(n in ma(m, "director") for n in names))


def writer(*names):
    return mset(lambda m: any(n in ma(m, "writer") for n in names))


def years(lo=None, hi=None):
    """Movies whose known year is in [lo, hi]."""
    return mset(lambda m: year(m) is not None and (lo is None or year(m) >= lo)
                and (hi is None or year(m) <= hi))


def years_clearly_outside(lo=None, hi=None, margin=3):
    """Movies with a known year clearly outside [lo, hi] (more than `margin` years off)."""
    return mset(lambda m: year(m) is not None and (
        (lo is not None and year(m) < lo - margin) or (hi is not None and year(m) > hi + margin)))


def mtext(pattern):
    rx = re.compile(pattern, re.I)
    return mset(lambda m: bool(rx.search(m["title"] + " \n " + (m.get("description") or ""))))


def mtitle(pattern):
    rx = re.compile(pattern, re.I)
    return mset(lambda m: bool(rx.search(m["title"])))


def base_title(m):
    return re.sub(r"\s*\(\d{4}\)\s*$", "", m["title"]).strip().lower()


def named(title, star_name=None, director_name=None):
    """All catalog entries of one film (the catalog has some duplicates with/without year)."""
    t = title.lower()
    return mset(lambda m: base_title(m) == t
                and (star_name is None or star_name in ma(m, "star"))
                and (director_name is None or director_name in ma(m, "director")))


SUPERHERO = mtext(r"superhero|super-hero|super hero|\bbatman|superman|spider-man|spiderman|x-men|"
                  r"avengers:|earth's mightiest|tony stark|captain america|asgard|\bhulk\b|bruce banner|"
                  r"wonder woman|justice league|deadpool|guardians of the galaxy|ant-man|wakanda|"
                  r"doctor strange|fantastic four|aquaman|wolverine|\bmarvel\b|dc comics") - genre("biography", "documentary")


# ---------------------------------------------------------------- scenario building
def T(user, rel=None, forb=None):
    t = {"user": user}
    if rel is not None:
        t["relevant"] = sorted(rel, key=str)
    if forb is not None:
        t["forbidden"] = sorted(forb, key=str)
    return t


def S(sid, tags, *turns):
    return {"id": sid, "tags": list(tags), "turns": list(turns)}


def grocery_scenarios():
    out = []
    add = out.append

    # --- exclusions that persist over topic shifts
    no_arla = ARLA
    add(S("g01_parent_no_arla_persists", ["exclusion", "brand", "persist", "topic-shift-nocue", "parent"],
          T("Need yoghurt for the kids' lunchboxes, but nothing from Arla please, we're boycotting them atm",
            YOG_LIKE - ARLA, no_arla),
          T("great thanks. juice too", JUICE - ARLA, no_arla),
          T("and milk for my morning coffee", (MILK | PLANT_MILK) - ARLA, no_arla)))

    add(S("g02_teen_not_apple_then_tropical", ["exclusion", "category", "persist", "refinement", "noise", "teen"],
          T("any fruit thats not an apple lol", FRUIT - cat("Apple"), cat("Apple")),
          T("smth more tropical 🌴", TROPICAL, cat("Apple"))))

    add(S("g03_nonnative_lactose_milk_yoghurt_soup", ["diet", "lactose", "persist", "topic-shift-nocue", "non-native"],
          T("Hello, I want buy milk but I have the lactose intolerance. Which one I can drink?",
            LACTOSE_FREE_DAIRY | PLANT_MILK, LACTOSE),
          T("And for yoghurt? It is same problem for me.", PLANT_GHURT, LACTOSE),
          T("Thank you. Now I need also some vegetable for make a soup",
            VEG & gdesc(r"soup"), LACTOSE)))

    add(S("g04_vegan_milk_then_yoghurt", ["diet", "vegan", "dairy", "persist"],
          T("I'm vegan - which milk can I get here?", PLANT_MILK, DAIRY),
          T("cool. and something yoghurt-ish for breakfast?", PLANT_GHURT, DAIRY)))

    add(S("g05_parent_citrus_allergy_juice", ["allergy", "exclusion", "persist", "topic-shift-nocue", "parent"],
          T("My daughter is allergic to citrus fruits. What fruit can she have as a snack?",
            FRUIT - CITRUS, CITRUS),
          T("and which juices could she drink?", JUICE - CITRUS, CITRUS)))

    add(S("g06_hate_pulp", ["free-word-exclusion", "juice"],
          T("orange juice w/o the bits in it please, I hate pulp",
            NO_PULP & CITRUS, PULP)))

    add(S("g07_rule_out_concentrate_of_shown", ["exclusion-of-shown", "free-word-exclusion", "juice"],
          T("What juice do you have for breakfast?", JUICE),
          T("hmm none of the ones made from concentrate pls", JUICE - CONCENTRATE, CONCENTRATE)))

    add(S("g08_local_swedish_then_any_fruit", ["origin", "refinement", "negation-control", "retraction"],
          T("anything grown in Sweden? trying to buy local this week", origin("Sweden")),
          T("just the veg though", origin("Sweden") & VEG, FRUIT | PACK),
          T("ok and fruit, not fussed where it's from for fruit", FRUIT)))

    add(S("g09_organic_milk_not_arla_then_sour_cream", ["exclusion", "brand", "persist", "conflict", "shopper"],
          T("I'm after organic milk, but not Arla", (MILK & ECO) - ARLA, ARLA),
          T("Is there an organic sour cream as well?", None, ARLA)))

    add(S("g10_named_granny_then_same_country", ["reference", "origin", "named-item"],
          T("do you have granny smith apples?", gtext(r"granny smith", fields=("title",))),
          T("any other fruit from the same country as those?",
            (FRUIT & origin("Italy")) - gtext(r"granny smith", fields=("title",)))))

    add(S("g11_named_tropicana_then_other_brand", ["reference", "brand", "exclusion-of-shown", "named-item"],
          T("Is the Tropicana Smooth Style juice in stock?", gtext(r"smooth style", fields=("title",)) & TROPICANA),
          T("Actually I'm not a fan of that brand. What else is there to drink at breakfast?",
            (JUICE | MILK | PLANT_MILK) - TROPICANA, TROPICANA)))

    add(S("g12_salad_nothing_cooked", ["free-word-exclusion", "vegetables"],
          T("Vegetables for a summer salad. I'm not cooking anything tonight, so nothing that has to be cooked",
            VEG & gdesc(r"salad"), gdesc(r"always eaten cooked"))))

    add(S("g13_control_cant_get_enough_arla", ["negation-control", "brand"],
          T("I can't get enough of Arla's yoghurts, do you have more of those?", YOG & ARLA)))

    add(S("g14_retract_no_spain_then_melon", ["retraction", "origin", "exclusion"],
          T("Fruit for a fruit salad please, but nothing from Spain", FRUIT - origin("Spain"), origin("Spain")),
          T("oh wait, my bad, Spain is totally fine. Got any melons?", cat("Melon"))))

    add(S("g15_oat_not_oatly_then_retract", ["retraction", "brand", "exclusion", "conflict"],
          T("I need oat milk but not Oatly please", None, mfr("Oatly")),
          T("ugh ok fine, Oatly then. it's the only oat one isn't it", cat("Oat-Milk"))))

    add(S("g16_dairy_free_then_wok_cue", ["diet", "dairy", "topic-shift-cue", "persist"],
          T("we're a dairy-free household, need something to drink with breakfast", (PLANT_MILK | JUICE), DAIRY),
          T("switching gears - which veg is good for a wok or asian cooking?",
            VEG & gdesc(r"\bwok\b|asian"), DAIRY)))

    add(S("g17_teen_snacks_nothing_sour", ["free-word-exclusion", "noise", "teen"],
          T("need snacks 🍌🍎 nothing sour pls", (SWEET_FRUIT | (FRUIT & gdesc(r"snack"))) - SOURISH, SOUR)))

    add(S("g18_veg_then_nothing_imported", ["exclusion-of-shown", "origin", "refinement"],
          T("show me your vegetables", VEG),
          T("hmm. nothing imported, only swedish stuff", VEG & origin("Sweden"), VEG & known_origin_not("Sweden"))))

    add(S("g19_alpro_then_valio_yoggi", ["brand", "topic-shift-nocue"],
          T("got anything from alpro?", mfr("Alpro")),
          T("what about valio or yoggi", mfr("Valio") | mfr("Yoggi"))))

    add(S("g20_swedish_words_then_spain_fruit", ["non-native", "swedish", "topic-shift-nocue", "origin"],
          T("Hej! I look for filmjölk and gräddfil, for cooking", cat("Sour-Milk", "Sour-Cream")),
          T("what fruit do you have from spain", FRUIT & origin("Spain"))))

    add(S("g21_cant_stand_vanilla_persists", ["free-word-exclusion", "persist", "topic-shift-nocue"],
          T("yoghurt please, but I can't stand vanilla flavour", YOG_LIKE - VANILLA, VANILLA),
          T("ok and some fruit to go with it", FRUIT, VANILLA),
          T("maybe a juice as well", JUICE, VANILLA)))

    add(S("g22_control_not_organic_necessarily", ["negation-control", "parent"],
          T("quick q - bananas? doesn't have to be organic, any will do", cat("Banana"))))

    add(S("g23_no_eco_anything_persists", ["exclusion", "free-word-exclusion", "persist", "shopper"],
          T("I never buy organic or eco anything, way too pricey. Need milk.", MILK - ECO, ECO),
          T("Also need some fruit for the week", FRUIT - ECO, ECO)))

    add(S("g24_fruit_then_none_from_italy", ["exclusion-of-shown", "origin"],
          T("fruit for the weekend?", FRUIT),
          T("none from italy please", FRUIT - origin("Italy"), origin("Italy"))))

    add(S("g25_juice_then_no_tropicana", ["exclusion-of-shown", "brand", "noise"],
          T("juice?", JUICE),
          T("eh, none of the tropicana stuff", JUICE - TROPICANA, TROPICANA)))

    add(S("g26_limes_then_mash", ["topic-shift-nocue", "free-word"],
          T("limes for cocktails tonight 🍹", cat("Lime")),
          T("potatoes for mash", VEG & gdesc(r"mash"))))

    guac = cat("Avocado", "Lime", "Lemon", "Onion", "Garlic", "Tomato")
    add(S("g27_guacamole_no_onion", ["free-word", "exclusion", "refinement"],
          T("what do I need for guacamole?", guac),
          T("no onions though, my partner hates them", guac - cat("Onion"), cat("Onion"))))

    add(S("g28_apple_allergy_then_juice", ["allergy", "exclusion", "persist", "topic-shift-cue"],
          T("fruit for my lunchbox - I can't have apples, allergy", FRUIT - APPLES_ANY, APPLES_ANY),
          T("btw, what juices do you sell?", JUICE - APPLES_ANY, APPLES_ANY)))

    baking = FRUIT & gdesc(r"dessert|pastr|\bpie|cake")
    add(S("g29_baking_fruit_no_stone_fruit", ["exclusion-of-shown", "refinement", "category"],
          T("Which fruit is good for baking or desserts?", baking),
          T("no stone fruit please", baking - STONE - cat("Mango"), STONE)))

    add(S("g30_control_never_say_no_mango", ["negation-control", "noise"],
          T("I would never say no to a mango 😅 what do you have", cat("Mango"))))

    add(S("g31_typo_strawberry_then_lactose_husband", ["noise", "typo", "named-item", "diet", "lactose"],
          T("yougurt with strawbery", YOG_LIKE & gtext(r"strawberr|jordgubb")),
          T("nice. my husband is lactose intolerant, something breakfasty for him too",
            (LACTOSE_FREE_DAIRY | PLANT), LACTOSE)))

    add(S("g32_from_china_then_peru", ["origin", "topic-shift-nocue"],
          T("What do you have from China?", origin("China")),
          T("and from Peru?", origin("Peru"))))

    add(S("g33_raw_veg_no_cabbage_beet", ["free-word", "exclusion", "parent"],
          T("which vegetables can the kids eat raw?", VEG & gdesc(r"\braw\b")),
          T("not cabbage or beets, they won't touch them",
            (VEG & gdesc(r"\braw\b")) - cat("Cabbage", "Red-Beet"), cat("Cabbage", "Red-Beet"))))

    add(S("g34_arla_not_milk", ["brand", "exclusion", "non-native"],
          T("Do you have something of Arla that is not milk?", ARLA - MILK, MILK)))

    add(S("g35_control_never_tried_passion_then_exotic", ["negation-control", "reference", "named-item"],
          T("I've never tried passion fruit, do you have it?", cat("Passion-Fruit")),
          T("anything else exotic like that?", TROPICAL - cat("Passion-Fruit"))))

    add(S("g36_vegan_retracted_low_fat", ["retraction", "diet", "vegan"],
          T("vegan options for milk?", PLANT_MILK, DAIRY),
          T("sorry, it's for my mum actually and she isn't vegan - she just wants low fat milk",
            MILK & gtext(r"1[.,]5 ?%"))))

    add(S("g37_teen_burger_tomatoes", ["noise", "typo", "teen", "free-word"],
          T("tomatos for burgers 🍔🍔", cat("Tomato"))))

    sweet_ghurt = YOG_LIKE & gtext(r"vanil|strawberr|blueberr|jordgubb")
    dessert = sweet_ghurt
    add(S("g38_dessert_no_more_fruit", ["exclusion", "group", "refinement", "slang"],
          T("something sweet for dessert", (FRUIT & gdesc(r"dessert")) | sweet_ghurt),
          T("no fruit tho, had enough fruit today lol", dessert, FRUIT)))

    add(S("g39_control_nothing_fancy_regular_milk", ["negation-control", "shopper"],
          T("Don't need anything fancy, just regular milk", MILK)))

    add(S("g40_swedish_havredryck_then_vegan_ghurt", ["swedish", "non-native", "named-item", "diet", "vegan"],
          T("hej, har ni havredryck? oat drink", cat("Oat-Milk")),
          T("I'm vegan btw. something yoghurt-like, or another plant drink?", PLANT - cat("Oat-Milk"), DAIRY)))

    potato = cat("Potato") - gtext(r"sweet potato", fields=("title",))
    add(S("g41_not_dutch_veg_then_no_potatoes", ["exclusion", "origin", "persist", "category"],
          T("what veg do you have that isn't from the netherlands? want to avoid long transport",
            VEG - origin("The Netherlands"), VEG & origin("The Netherlands")),
          T("also no potatoes, we've got loads at home",
            VEG - origin("The Netherlands") - potato, (VEG & origin("The Netherlands")) | potato)))

    add(S("g42_ginger_control_no_worries_imported", ["negation-control", "origin"],
          T("no worries if it's imported, I just need fresh ginger and garlic for a curry", cat("Ginger", "Garlic"))))
    add(S("g43_except_potatoes", ["exclusion", "category"],
          T("Any vegetables except potatoes? we've got a whole sack at home", VEG - potato, potato)))

    gm = mfr("God Morgon")
    add(S("g44_juice_anything_but_god_morgon", ["exclusion", "brand", "noise"],
          T("juice, anything but god morgon", JUICE - gm, gm),
          T("also some oat or soy milk", PLANT_MILK - gm, gm)))

    add(S("g45_control_no_no_those_fine_pears", ["negation-control", "topic-shift-nocue"],
          T("apples please", cat("Apple")),
          T("no no, those look fine! I'll also need some pears", cat("Pear"))))

    add(S("g46_rather_avoid_spanish_citrus", ["exclusion", "origin", "shopper"],
          T("I'd rather avoid anything Spanish. What citrus fruit do you have?",
            (CITRUS & FRUIT) - origin("Spain"), origin("Spain"))))
    return out


def movie_scenarios():
    out = []
    add = out.append
    cage = star("Nicolas Cage")
    add(S("m01_no_cage_persists_over_topics", ["exclusion", "actor", "persist", "topic-shift-nocue", "year-range", "decade"],
          T("I can't stand Nicolas Cage. Anyway, looking for a good heist movie", mtext(r"\bheist") - cage, cage),
          T("what about 90s action?", genre("action") & years(1990, 1999) - cage, cage | years_clearly_outside(1990, 1999)),
          T("ok now something funny for tonight", genre("comedy") - cage, cage)))

    matrix = named("The Matrix", star_name="Keanu Reeves")
    wach = director("Lana Wachowski", "Lilly Wachowski")
    keanu = star("Keanu Reeves")
    add(S("m02_named_matrix_same_directors_then_no_keanu", ["reference", "named-item", "director", "exclusion"],
          T("have you got the matrix?", matrix),
          T("more stuff by the same directors", wach - matrix),
          T("something like it but without keanu this time", genre("sci-fi") & genre("action") - keanu, keanu)))

    spiel = director("Steven Spielberg")
    dino = mtext(r"dinosaur|jurassic")
    add(S("m03_spielberg_no_dinosaurs_80s", ["director", "free-word-exclusion", "decade", "refinement"],
          T("spielberg movies but not the dinosaur ones, seen those a million times", spiel - dino, dino),
          T("just the ones from the 80s", spiel & years(1980, 1989) - dino, dino | years_clearly_outside(1980, 1989))))

    h80 = genre("horror") & years(1980, 1989)
    chain = mtext(r"chain ?saw|clowns?\b")
    add(S("m04_80s_horror_no_chainsaw_clown", ["decade", "genre", "free-word-exclusion", "noise"],
          T("any good 80s horror? like proper old school", h80, years_clearly_outside(1980, 1989)),
          T("nothing with chainsaws or clowns lol", h80 - chain, chain | years_clearly_outside(1980, 1989))))

    rc = genre("comedy") & genre("romance")
    jm = star("Julia Roberts", "Meg Ryan")
    add(S("m05_romcom_between_95_05_no_julia_meg", ["year-range", "between", "genre", "exclusion", "actor"],
          T("romantic comedy, something between 1995 and 2005", rc & years(1995, 2005), years_clearly_outside(1995, 2005)),
          T("no Julia Roberts or Meg Ryan pls, I've seen all theirs", rc & years(1995, 2005) - jm,
            jm | years_clearly_outside(1995, 2005))))

    add(S("m06_recent_then_animated", ["recent", "year-range", "genre", "refinement"],
          T("what's new? anything from the last couple of years", years(2016, None), years_clearly_outside(2016, None, margin=6)),
          T("animated ones?", genre("animation") & years(2016, None), years_clearly_outside(2016, None, margin=6))))

    w = genre("western") & years(None, 1969)
    wayne = star("John Wayne")
    add(S("m07_old_westerns_not_wayne", ["before", "year-range", "genre", "exclusion", "actor"],
          T("old westerns please, anything before 1970", w, years_clearly_outside(None, 1969)),
          T("not John Wayne though, my dad's sick of him", w - wayne, wayne | years_clearly_outside(None, 1969))))

    add(S("m08_teen_sleepover_scary_not_old", ["teen", "noise", "genre", "recent", "emoji"],
          T("yo need a scary movie for a sleepover 😱 nothin too old tho", genre("horror") & years(2000, None),
            years(None, 1989))))

    add(S("m09_control_never_tired_hanks", ["negation-control", "actor"],
          T("I never get tired of Tom Hanks, what else has he done?", star("Tom Hanks"))))

    add(S("m10_control_dont_know_why_carrey", ["negation-control", "actor", "genre"],
          T("Don't know why but I'm in the mood for a Jim Carrey comedy", star("Jim Carrey") & genre("comedy"))))

    add(S("m11_control_no_particular_era_war", ["negation-control", "genre"],
          T("no particular era, I just want a good war movie", genre("war"))))

    xmas = mtext(r"christmas")
    santa = mtext(r"\bsanta\b")
    add(S("m12_christmas_no_santa", ["free-word-exclusion", "family", "parent"],
          T("christmas movie for the family but nothing with santa in it, my kids are past that",
            xmas & genre("family", "animation", "comedy") - genre("horror") - santa, santa)))

    sandler = star("Adam Sandler")
    add(S("m13_no_sandler_then_retract", ["retraction", "exclusion", "actor"],
          T("comedies please, but no Adam Sandler", genre("comedy") - sandler, sandler),
          T("lol ok my bf says Sandler is fine actually. anything with him and Drew Barrymore?",
            star("Adam Sandler") & star("Drew Barrymore"))))

    taran = director("Quentin Tarantino")
    add(S("m14_tarantino_not_western", ["director", "exclusion-of-shown", "genre"],
          T("tarantino", taran),
          T("anything of his that isn't a western?",
            taran - genre("western") - mtext(r"bounty hunter|bounty-hunter|\bwyoming\b|wild west|old west"),
            genre("western"))))

    den = star("Denzel Washington")
    add(S("m15_denzel_thriller_2000s", ["actor", "genre", "decade"],
          T("Denzel thriller from the 2000s?", den & genre("thriller", "action", "crime") & years(2000, 2009),
            years_clearly_outside(2000, 2009))))

    add(S("m16_nonnative_family_not_violent", ["non-native", "genre", "exclusion", "family"],
          T("Hello, I search a film for learn English, something easy for all the family, not violent please",
            genre("family") - genre("horror", "war"), genre("horror", "war"))))

    add(S("m17_no_superheroes_persists_cue_shift", ["free-word-exclusion", "persist", "topic-shift-cue", "decade"],
          T("I've had enough of superhero stuff. Recommend me a sci-fi film", genre("sci-fi") - SUPERHERO, SUPERHERO),
          T("ok different question, what's a good action movie from the 2010s?",
            genre("action") & years(2010, 2019) - SUPERHERO, SUPERHERO | years_clearly_outside(2010, 2019))))

    dog = mtext(r"\bdogs?\b|\bpupp(y|ies)\b") & genre("family", "animation")
    add(S("m18_dog_movie_not_animated", ["free-word", "exclusion", "genre", "parent"],
          T("a movie about a dog for my 8 year old", dog),
          T("nothing animated please, she wants real dogs", dog - genre("animation"), genre("animation"))))

    heist = mtext(r"\bheist|bank robber|rob (a|the) bank|\bbank job\b")
    add(S("m19_heist_then_funny_ones", ["free-word", "refinement", "genre"],
          T("I love a good heist movie", heist),
          T("funny ones?", heist & genre("comedy"))))

    kub = director("Stanley Kubrick")
    seen = named("2001: A Space Odyssey") | named("The Shining", director_name="Stanley Kubrick")
    add(S("m20_filmbuff_kubrick_skip_seen", ["director", "exclusion", "named-item", "film-buff"],
          T("Kubrick films please, but skip 2001 and The Shining, I've seen both way too often", kub - seen, seen)))

    add(S("m21_hitchcock_50s", ["director", "decade", "film-buff"],
          T("Hitchcock from the fifties", director("Alfred Hitchcock") & years(1950, 1959),
            years_clearly_outside(1950, 1959))))

    space = genre("sci-fi") & mtext(r"outer space|\bin space\b|deep space|space station|spaceship|spacecraft|"
                                    r"starship|space travel|astronauts?|\bgalaxy|galactic|\bmars\b|"
                                    r"another planet|distant planet|alien planet|planet of|space ?ship|space crew|spaceship")
    add(S("m22_space_then_no_horrorish", ["exclusion-of-shown", "genre", "free-word"],
          T("movies set in space", space),
          T("hmm none of the horror-ish ones, I get nightmares", space - genre("horror"), genre("horror"))))

    superbad = named("Superbad")
    teen = genre("comedy") & (mtext(r"high school|teen|\bprom\b|senior year") |
                              star("Jonah Hill", "Michael Cera", "Seth Rogen"))
    add(S("m23_teen_superbad_more_like_it", ["teen", "reference", "named-item", "noise"],
          T("is superbad on here", superbad),
          T("moreee like that 😂", teen - superbad)))

    nolove = genre("horror", "musical")
    date = genre("romance", "comedy")
    add(S("m24_date_night_no_horror_musicals_retract", ["exclusion", "persist", "decade", "retraction", "genre"],
          T("no horror, no musicals, my wife hates both. What's a good movie for date night?", date - nolove, nolove),
          T("something from the 90s maybe", date & years(1990, 1999) - nolove, nolove | years_clearly_outside(1990, 1999)),
          T("ok she says musicals are fine actually, as long as they're classics. any old ones?",
            genre("musical") & years(None, 1979) - genre("horror"), genre("horror"))))

    nolan = director("Christopher Nolan")
    bat = mtext(r"\bbatman|dark knight")
    add(S("m25_typo_nolan_not_batman", ["director", "typo", "free-word-exclusion", "exclusion-of-shown"],
          T("anything by cristopher nolan??", nolan),
          T("not batman", nolan - bat, bat)))

    toy = mtitle(r"toy story")
    add(S("m26_parent_animated_not_toy_story", ["free-word-exclusion", "genre", "parent", "persist"],
          T("animated movies for my kid but not toy story, we've watched them 100x", genre("animation") - toy, toy),
          T("ones from the last 10 years or so?", genre("animation") & years(2009, None) - toy,
            toy | years_clearly_outside(2009, None))))

    spy = mtext(r"\bspy\b|\bspies\b|espionage|secret agent|\bCIA\b|\bMI6\b|secret service")
    cruise = star("Tom Cruise")
    add(S("m27_spy_then_no_cruise", ["free-word", "exclusion-of-shown", "actor"],
          T("Mission Impossible type spy movies", spy),
          T("not tom cruise", spy - cruise, cruise)))

    add(S("m28_control_not_sure_freeman", ["negation-control", "actor"],
          T("I'm not sure what I want... maybe something with Morgan Freeman?", star("Morgan Freeman"))))

    titanic = named("Titanic", star_name="Leonardo DiCaprio")
    add(S("m29_control_not_gonna_lie_titanic_then_leo", ["negation-control", "named-item", "reference", "actor"],
          T("not gonna lie, Titanic is my all time fave. is it on here?", titanic),
          T("what else have the two leads been in?", star("Leonardo DiCaprio", "Kate Winslet") - titanic)))

    docs = genre("documentary") & years(2011, None)
    add(S("m30_docs_after_2010_no_music", ["after", "year-range", "genre", "exclusion"],
          T("documentaries made after 2010", docs, years_clearly_outside(2011, None)),
          T("not music ones", docs - genre("music"), genre("music") | years_clearly_outside(2011, None))))

    pacino = star("Al Pacino")
    d70 = genre("drama") & years(1970, 1979)
    add(S("m31_ferrell_then_70s_drama_no_pacino", ["actor", "topic-shift-cue", "decade", "exclusion"],
          T("Will Ferrell comedies", star("Will Ferrell") & genre("comedy")),
          T("cool, now something serious - a drama from the 70s", d70, years_clearly_outside(1970, 1979)),
          T("no Pacino", d70 - pacino, pacino | years_clearly_outside(1970, 1979))))

    chan = star("Jackie Chan")
    tucker = star("Chris Tucker")
    add(S("m32_nonnative_chan_not_tucker", ["non-native", "actor", "exclusion"],
          T("I like very much the films of Jackie Chan, but not the ones together with Chris Tucker", chan - tucker, tucker)))

    zomb = mtext(r"zombie|undead|walking dead")
    vamp = mtext(r"vampire|dracula")
    add(S("m33_horror_no_zombies_then_vampires", ["free-word-exclusion", "persist", "genre"],
          T("horror but NOT zombies, I'm so over zombies", genre("horror") - zomb, zomb),
          T("vampires are cool tho", vamp - zomb, zomb)))

    true_story = mtext(r"true story|based on (a |the )?true|real[- ]life") | genre("biography")
    add(S("m34_true_story_no_sports", ["free-word", "exclusion-of-shown", "genre"],
          T("something based on a true story", true_story),
          T("hmm no sports ones", true_story - genre("sport"), genre("sport"))))

    emma = star("Emma Stone")
    add(S("m35_recent_emma_stone", ["recent", "actor", "year-range"],
          T("anything recent with Emma Stone?", emma & years(2014, None), emma & years(None, 2009))))

    arnold = star("Arnold Schwarzenegger")
    a80 = genre("action") & years(1980, 1989)
    add(S("m36_80s_action_retract_year_want_arnold", ["decade", "retraction", "actor"],
          T("80s action movies", a80, years_clearly_outside(1980, 1989)),
          T("actually doesn't have to be the 80s, I just want Arnold", arnold & genre("action"))))

    robot = mtext(r"\brobots?\b|\bandroids?\b|\bcyborgs?\b")
    add(S("m37_romcom_then_robots_nocue", ["topic-shift-nocue", "free-word", "parent"],
          T("a cheesy romcom for tonight", rc),
          T("my son wants something with robots", robot)))

    add(S("m38_control_nothing_beats_willis", ["negation-control", "actor", "genre"],
          T("Nothing beats Bruce Willis in an action movie - got more of those?", star("Bruce Willis") & genre("action"))))

    pac_crime = pacino & genre("crime")
    add(S("m39_pacino_gangster_then_not_old", ["actor", "exclusion-of-shown", "after", "year-range"],
          T("Al Pacino gangster movies", pac_crime),
          T("none of the old ones, 90s onward", pac_crime & years(1990, None), years_clearly_outside(1990, None))))

    king = writer("Stephen King")
    add(S("m40_stephen_king_not_horror", ["writer", "exclusion-of-shown", "genre"],
          T("stephen king adaptations?", king),
          T("not the horror ones though", king - genre("horror"), genre("horror"))))

    foot = mtext(r"football|soccer|\bNFL\b")
    add(S("m41_sports_no_football", ["genre", "free-word-exclusion", "noise"],
          T("sports movie but not football. soccer or american, neither pls", genre("sport") - foot, foot)))

    add(S("m42_control_dont_mind_old_bw_noir", ["negation-control", "genre", "film-buff"],
          T("I don't mind old black and white stuff at all - got any film noir?", genre("film-noir"))))
    add(S("m43_keep_cruise_out_scifi_action", ["exclusion", "actor", "genre"],
          T("keep Tom Cruise out of it - sci-fi action please", genre("sci-fi") & genre("action") - cruise, cruise)))

    hc = genre("horror") & genre("comedy")
    add(S("m44_horror_comedy_excluding_before_2000", ["after", "year-range", "genre", "exclusion"],
          T("horror comedy, excluding anything from before 2000", hc & years(2000, None),
            years_clearly_outside(2000, None, margin=0))))

    coen = director("Joel Coen", "Ethan Coen")
    clooney = star("George Clooney")
    add(S("m45_coens_minus_clooney", ["director", "exclusion", "film-buff"],
          T("any Coen brothers film, minus the ones with George Clooney", coen - clooney, clooney)))

    add(S("m46_control_havent_seen_gyllenhaal", ["negation-control", "actor", "genre", "refinement"],
          T("some tense thrillers please", genre("thriller")),
          T("haven't seen any of these, they look good! any with Jake Gyllenhaal?",
            star("Jake Gyllenhaal") & genre("thriller", "mystery", "crime"))))
    stiller = star("Ben Stiller")
    add(S("m47_parent_no_stiller_over_three_topics", ["exclusion", "actor", "persist", "topic-shift-nocue", "parent"],
          T("family comedy for saturday night, just please nothing with Ben Stiller, can't stand him",
            genre("family") & genre("comedy") - stiller, stiller),
          T("my husband wants more action in it", genre("action") & genre("comedy", "adventure") - stiller, stiller),
          T("and something animated for the little one", genre("animation") - stiller, stiller)))
    return out


# ---------------------------------------------------------------- checks
def check(name, scenarios, ids, group_of=None):
    problems = []
    seen_ids = set()
    for sc in scenarios:
        if sc["id"] in seen_ids:
            problems.append(f"{sc['id']}: duplicate scenario id")
        seen_ids.add(sc["id"])
        prior = []  # (relevant, forbidden) of earlier turns
        for k, t in enumerate(sc["turns"]):
            rel = set(t.get("relevant", []))
            forb = set(t.get("forbidden", []))
            judged = "relevant" in t or "forbidden" in t
            if judged and not rel and not forb:
                problems.append(f"{sc['id']} t{k}: judged turn with empty lists")
            for i in rel | forb:
                if i not in ids:
                    problems.append(f"{sc['id']} t{k}: unknown id {i}")
            if rel & forb:
                problems.append(f"{sc['id']} t{k}: relevant & forbidden overlap {sorted(rel & forb)[:5]}")
            if "relevant" in t and not rel:
                problems.append(f"{sc['id']} t{k}: empty relevant list present")
            # worst-case consumption of this turn's relevant items by earlier turns
            if rel and prior:
                consumed = set()
                for prel, pforb in prior:
                    overlap = sorted((prel & rel) - consumed)
                    take = overlap[:5]
                    room = 5 - min(5, len(prel))
                    if room > 0:
                        pool = rel - prel - pforb - consumed - set(take)
                        if group_of is not None and prel:
                            groups = {group_of(i) for i in prel}
                            pool = {i for i in pool if group_of(i) in groups}
                        take += sorted(pool)[:room]
                    consumed |= set(take[:5])
                left = len(rel - consumed)
                if left < 1:
                    problems.append(f"{sc['id']} t{k}: relevant set ({len(rel)}) may be exhausted by earlier turns")
            prior.append((rel, forb))
    print(f"{name}: {len(scenarios)} scenarios, {sum(len(s['turns']) for s in scenarios)} turns")
    for sc in scenarios:
        sizes = [f"R{len(t.get('relevant', []))}/F{len(t.get('forbidden', []))}" for t in sc["turns"]]
        print(f"  {sc['id']:<55} {' '.join(sizes)}")
    for p in problems:
        print("  PROBLEM:", p)
    return problems


def main():
    gro = grocery_scenarios()
    mov = movie_scenarios()
    probs = check("grocery", gro, set(GID), group_of=lambda i: GID[i]["attributes"].get("group"))
    probs += check("movies", mov, set(MID))
    for fname, scs in (("grocery.jsonl", gro), ("movies.jsonl", mov)):
        with open(os.path.join(HERE, fname), "w", encoding="utf-8") as f:
            for sc in scs:
                f.write(json.dumps(sc, ensure_ascii=False) + "\n")
    if probs:
        sys.exit(1)


if __name__ == "__main__":
    main()

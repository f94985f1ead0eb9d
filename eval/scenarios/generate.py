"""Write the development conversation scenarios for ``python -m eval dialogues``.

    python -m eval.scenarios.generate [--shared ../shared/datasets] [--out eval/scenarios]

Every judged turn's ``relevant`` and ``forbidden`` items come from predicates over the
catalog's own fields and texts, written before looking at what the assistant returns:
"group is Fruit and category is not Apple", "genre has comedy and the year is in the
1990s and Adam Sandler is not in the cast". Slot values (which fruit, which actor, which
decade) are drawn from the catalog with a fixed seed, and each family of phrasing has
several templates, so the set measures the phrasing families rather than a few cases.

Two files, one per catalog:
- ``grocery.jsonl`` over the demo catalog (data/demo/grocery.jsonl);
- ``movies.jsonl`` over the ReDial movie catalog, as ``python -m retrieval convert
  redial-movies`` builds it from ../shared/datasets/redial (same ids).

Tags name the family (exclusion, exclusion-word, persistence, diet, shift, retraction,
reference, refinement, want, range, control, ...) so ``eval dialogues`` reports each.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from collections import Counter
from pathlib import Path

from retrieval.settings import DEMO_CATALOG, REPO_ROOT

HERE = Path(__file__).resolve().parent


def _load(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            r.setdefault("attributes", {})
            rows.append(r)
    return rows


def _text(r: dict) -> str:
    return f"{r['title']} {r.get('description', '')}".lower()


def _says(r: dict, word: str) -> bool:
    """The item's own words assert ``word`` (not "without word", "word-free")."""
    t = _text(r)
    for m in re.finditer(rf"\b{re.escape(word)}(?:s|es)?\b" if word.isalpha() and len(word) > 4 or word in ("green", "red")
                         else rf"\b{re.escape(word)}", t):
        before = t[max(0, m.start() - 12): m.start()]
        after = t[m.end(): m.end() + 6]
        if re.search(r"\b(?:without|no|not|utan)\s+$", before) or re.match(r"[\s-]?free", after):
            continue
        return True
    return False


def _ids(rows, pred) -> list[str]:
    return [r["id"] for r in rows if pred(r)]


def _turn(user, rows=None, relevant=None, forbidden=None) -> dict:
    t = {"user": user}
    if relevant is not None:
        t["relevant"] = _ids(rows, relevant)
    if forbidden is not None:
        t["forbidden"] = _ids(rows, forbidden)
    return t


# ---- grocery ------------------------------------------------------------------------------

def grocery_scenarios(rows: list[dict], seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    a = lambda r, k: r["attributes"].get(k)  # noqa: E731
    cat = lambda c: (lambda r: a(r, "category") == c)  # noqa: E731
    group = lambda g: (lambda r: a(r, "group") == g)  # noqa: E731
    out: list[dict] = []

    def add(tags, turns):
        out.append({"id": f"grocery-{len(out) + 1:03d}", "tags": tags, "turns": turns})

    plural = {"Apple": "apples", "Pear": "pears", "Melon": "melons", "Pepper": "peppers", "Potato": "potatoes",
              "Tomato": "tomatoes", "Juice": "juice", "Milk": "milk", "Yoghurt": "yoghurt", "Lemon": "lemons",
              "Orange": "oranges", "Banana": "bananas", "Onion": "onions", "Carrots": "carrots", "Kiwi": "kiwis",
              "Mango": "mangoes", "Avocado": "avocados", "Plum": "plums", "Peach": "peaches", "Leek": "leeks",
              "Cucumber": "cucumbers", "Garlic": "garlic", "Mushroom": "mushrooms", "Cabbage": "cabbage"}
    group_word = {"Fruit": ["fruit", "some fruit", "a fruit"], "Vegetables": ["a vegetable", "vegetables", "some veggies"]}
    counts = Counter(a(r, "category") for r in rows)
    # categories with several items inside a group, and the rest of the group beside them
    splits = [(g, c) for c, n in counts.items() for g in ("Fruit", "Vegetables")
              if n >= 2 and c in plural and any(a(r, "category") == c and a(r, "group") == g for r in rows)]
    single = ["{g}, but not {x}", "I'd like {g}, no {x} please", "{g} except {x}", "anything but {x}, I want {g}",
              "{g}? I don't like {x}", "can I get {g} without {x}", "{g}, nothing with {x}", "I hate {x}. Any {gw}?"]
    for i, (g, c) in enumerate(splits):
        tpl = single[i % len(single)]
        gw = rng.choice(group_word[g])
        text = tpl.format(g=gw, x=plural[c], gw=gw.split()[-1])
        add(["exclusion"], [_turn(text, rows, lambda r, g=g, c=c: group(g)(r) and not cat(c)(r), cat(c))])

    follow = ["no {x}", "no {x} please", "not {x}", "I don't want {x}", "anything but {x}", "except {x}", "I can't stand {x}"]
    for i, (g, c) in enumerate(splits):
        gw = group_word[g][i % 3]
        add(["exclusion", "multi-turn"], [
            {"user": f"I want {gw}" if not gw.startswith(("some", "vegetables")) else f"show me {gw}"},
            _turn(follow[i % len(follow)].format(x=plural[c]), rows, lambda r, g=g, c=c: group(g)(r) and not cat(c)(r), cat(c))])
    # persistence: the exclusion holds over a refinement and over a topic shift
    for g, c in splits[:4]:
        add(["exclusion", "persistence"], [
            {"user": f"I'm looking for {group_word[g][0]}"},
            {"user": f"no {plural[c]}"},
            _turn("something sweet", rows, None, cat(c)),
            _turn("another one please", rows, lambda r, g=g, c=c: group(g)(r) and not cat(c)(r), cat(c))])
    add(["exclusion", "persistence", "shift"], [
        {"user": "I hate apples"},
        {"user": "some fruit for dessert"},
        _turn("actually, I need a juice instead", rows, lambda r: cat("Juice")(r) and not _says(r, "apple"),
              lambda r: cat("Apple")(r) or (cat("Juice")(r) and _says(r, "apple")))])

    # free words: items whose own text asserts the word
    yoghurts = lambda r: a(r, "category") in ("Yoghurt", "Soyghurt", "Oatghurt")  # noqa: E731
    vanilla = lambda r: _says(r, "vanilla") or "vanilj" in _text(r)  # noqa: E731 (Swedish titles)
    for text in ("yoghurt without vanilla", "a yoghurt, but nothing with vanilla", "I don't like vanilla. Any yoghurt?"):
        add(["exclusion-word"], [_turn(text, rows, lambda r: yoghurts(r) and not vanilla(r), vanilla)])
    add(["exclusion-word", "multi-turn"], [{"user": "I'd like a yoghurt"},
                                           _turn("no vanilla please", rows, lambda r: yoghurts(r) and not vanilla(r), vanilla)])
    pulp_free = lambda r: cat("Juice")(r) and re.search(r"without pulp|utan fruktkött", _text(r)) is not None  # noqa: E731
    pulpy = lambda r: cat("Juice")(r) and re.search(r"with pulp|med fruktkött", _text(r)) is not None and not pulp_free(r)  # noqa: E731
    for text in ("orange juice without pulp", "a juice with no pulp please"):
        add(["exclusion-word", "without"], [_turn(text, rows, pulp_free, pulpy)])
    for x, w in (("green", "green"), ("red", "red")):
        add(["exclusion-word", "multi-turn"], [{"user": "apples please"},
                                               _turn(f"not the {x} ones", rows,
                                                     lambda r, w=w: cat("Apple")(r) and not _says(r, w),
                                                     lambda r, w=w: cat("Apple")(r) and _says(r, w))])
    add(["exclusion", "brand"], [_turn("a juice, but nothing from Tropicana", rows,
                                       lambda r: cat("Juice")(r) and a(r, "manufacturer") != "Tropicana",
                                       lambda r: a(r, "manufacturer") == "Tropicana")])
    add(["exclusion", "brand"], [_turn("some milk, not from Arla", rows,
                                       lambda r: a(r, "category") == "Milk" and not str(a(r, "manufacturer") or "").startswith("Arla"),
                                       lambda r: str(a(r, "manufacturer") or "").startswith("Arla"))])
    add(["exclusion", "origin"], [_turn("fruit, but nothing from Spain", rows,
                                        lambda r: group("Fruit")(r) and a(r, "origin") != "Spain",
                                        lambda r: a(r, "origin") == "Spain")])

    # diets
    dairy = lambda r: a(r, "category") in ("Milk", "Yoghurt", "Sour-Cream", "Sour-Milk")  # noqa: E731
    lactose_free = lambda r: _says(r, "lactose-free") or _says(r, "lactose free")  # noqa: E731
    drinks = lambda r: a(r, "category") in ("Juice", "Milk", "Soy-Milk", "Oat-Milk", "Sour-Milk")  # noqa: E731
    for text in ("vegan yoghurt", "I'm vegan, any yoghurt?", "a plant-based yoghurt please"):
        add(["diet"], [_turn(text, rows, lambda r: a(r, "category") in ("Soyghurt", "Oatghurt"), dairy)])
    for text in ("I'm vegan, something to drink?", "we are vegan. any milk?"):
        rel = (lambda r: drinks(r) and not dairy(r)) if "drink" in text else (lambda r: a(r, "category") in ("Soy-Milk", "Oat-Milk"))
        add(["diet"], [_turn(text, rows, rel, dairy)])
    for text in ("I have lactose intolerance, any drink?", "I'm lactose intolerant, I'd like some milk",
                 "I can't have lactose. Something to drink?"):
        rel = (lambda r: drinks(r) and (not dairy(r) or lactose_free(r))) if "drink" in text else (
            lambda r: a(r, "category") in ("Milk", "Soy-Milk", "Oat-Milk") and (not dairy(r) or lactose_free(r)))
        add(["diet"], [_turn(text, rows, rel, lambda r: dairy(r) and not lactose_free(r))])
    add(["diet", "persistence"], [{"user": "I'm lactose intolerant"}, {"user": "what vegetables go in a soup?"},
                                  _turn("and something to drink?", rows,
                                        lambda r: drinks(r) and (not dairy(r) or lactose_free(r)),
                                        lambda r: dairy(r) and not lactose_free(r))])
    add(["diet"], [_turn("dairy-free yoghurt", rows, lambda r: a(r, "category") in ("Soyghurt", "Oatghurt"), dairy)])
    add(["diet"], [_turn("I have a milk allergy, what can I drink?", rows, lambda r: drinks(r) and not dairy(r), dairy)])

    # topic shifts
    veg, drink = group("Vegetables"), drinks
    shifts = [("I'd like a vegetable for soup", "actually, I need a drink instead", drink),
              ("what vegetable goes in a soup?", "I have lactose intolerance, any drink?", lambda r: drinks(r) and (not dairy(r) or lactose_free(r))),
              ("show me some fruit", "forget that, now show me yoghurt", yoghurts),
              ("I want apples", "no wait, I want a vegetable", veg),
              ("something sweet for dessert", "something else: a juice", cat("Juice")),
              ("a melon please", "how about a pepper?", cat("Pepper")),
              ("potatoes for dinner", "now show me some milk", cat("Milk")),
              ("a tomato for the salad", "never mind, any juice?", cat("Juice")),
              ("yoghurt for breakfast", "actually, some fruit instead", group("Fruit")),
              ("I need garlic", "scratch that, I want pears", cat("Pear"))]
    for first, second, rel in shifts:
        add(["shift"], [{"user": first}, _turn(second, rows, rel)])

    # retractions
    add(["retraction"], [{"user": "fruit, but not apples"}, _turn("apples are fine after all", rows, cat("Apple"))])
    add(["retraction"], [{"user": "I want citrus fruit, but no lemons"}, _turn("I'd love a lemon now", rows, cat("Lemon"))])
    add(["retraction"], [{"user": "vegetables, but no potatoes"}, _turn("actually potatoes are ok", rows, cat("Potato"))])
    add(["retraction"], [{"user": "a juice, nothing from Tropicana"},
                         _turn("Tropicana is fine after all, show me their juices", rows, lambda r: a(r, "manufacturer") == "Tropicana")])

    # references to the items just shown (the first turn names one item, so it is shown first)
    # (categories with more items than one reply shows, so that new ones are left)
    juice, milk = cat("Juice"), (lambda r: a(r, "category") in ("Milk", "Soy-Milk", "Oat-Milk", "Sour-Milk"))
    refs = [("do you have Tropicana Smooth Style juice?", "not the first one, another juice", juice,
             lambda r: r["id"] == "Tropicana-Juice-Smooth"),
            ("is there any Bravo orange juice?", "I don't like the first one. Show me other juices", juice,
             lambda r: r["id"] == "Bravo-Orange-Juice"),
            ("I'd like Arla standard milk", "more like the first one", milk, None),
            ("do you have Oatly oat milk?", "something similar to the first one", milk, None),
            ("a Conference pear please", "the first one is not for me, any other fruit?", group("Fruit"),
             lambda r: r["id"] == "Conference")]
    for first, second, rel, forb in refs:
        add(["reference"], [{"user": first}, _turn(second, rows, rel, forb)])

    # refinements keep the topic
    for first, rel in (("some vegetables please", veg), ("I'd like some fruit", group("Fruit")),
                       ("a juice please", cat("Juice"))):
        add(["refinement"], [{"user": first}, _turn("another one", rows, rel)])
        add(["refinement"], [{"user": first}, _turn("show me more", rows, rel)])

    # wanted values
    add(["want"], [_turn("a yoghurt from Valio", rows, lambda r: a(r, "manufacturer") == "Valio")])
    add(["want"], [_turn("juice by Tropicana", rows, lambda r: a(r, "manufacturer") == "Tropicana")])
    add(["want"], [_turn("fruit from Spain", rows, lambda r: group("Fruit")(r) and a(r, "origin") == "Spain")])
    add(["want"], [_turn("vegetables from the Netherlands", rows, lambda r: veg(r) and a(r, "origin") == "The Netherlands")])
    add(["want"], [_turn("organic milk", rows, lambda r: a(r, "category") == "Milk" and re.search(r"organic|ecolog|krav", _text(r)) is not None)])
    add(["want", "control"], [_turn("do you have lactose-free milk?", rows, lactose_free)])

    # controls: nothing is ruled out
    controls = [("not sure, maybe apples", cat("Apple")),
                ("I can't decide between mango and papaya", lambda r: a(r, "category") in ("Mango", "Papaya")),
                ("not too sweet, like a green apple", lambda r: r["id"] == "Granny-Smith"),
                ("No, I want a juice", cat("Juice")),
                ("I'm not sure what I want, maybe a melon?", cat("Melon")),
                ("no idea, surprise me with a fruit", group("Fruit")),
                ("not bad, do you have pears?", cat("Pear"))]
    for text, rel in controls:
        add(["control"], [_turn(text, rows, rel)])
    return out


# ---- movies -------------------------------------------------------------------------------

def movie_scenarios(rows: list[dict], seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    a = lambda r, k: r["attributes"].get(k)  # noqa: E731
    has = lambda k, v: (lambda r: v in (a(r, k) or []))  # noqa: E731
    year_in = lambda lo, hi: (lambda r: a(r, "year") is not None and lo <= a(r, "year") <= hi)  # noqa: E731
    out: list[dict] = []

    def add(tags, turns):
        out.append({"id": f"movies-{len(out) + 1:03d}", "tags": tags, "turns": turns})

    stars = Counter(s for r in rows for s in a(r, "star") or [])
    directors = Counter(s for r in rows for s in a(r, "director") or [])
    top_stars = [s for s, n in stars.most_common(60) if n >= 10]
    top_directors = [d for d, n in directors.most_common(40) if n >= 7]
    rng.shuffle(top_stars)
    rng.shuffle(top_directors)
    genre_words = {"comedy": "a comedy", "horror": "a horror movie", "action": "an action movie", "drama": "a drama",
                   "thriller": "a thriller", "romance": "a romantic movie", "sci-fi": "a sci-fi movie",
                   "animation": "an animated movie", "family": "a family movie", "crime": "a crime movie",
                   "war": "a war movie", "western": "a western", "documentary": "a documentary"}
    genres = list(genre_words)

    # exclusions of a person inside a genre
    for i, star in enumerate(top_stars[:8]):
        g = next(g for g in genres if any(has("genre", g)(r) and has("star", star)(r) for r in rows)) if any(
            has("star", star)(r) for r in rows) else "drama"
        tpl = ["{g}, but no {s}", "{g} please, nothing with {s}", "I don't like {s}. Can you recommend {g}?",
               "{g} without {s}", "I can't stand {s}, I want {g}", "{g}, anything but {s}",
               "I hate {s}. {g}?", "recommend {g}, not with {s}"][i % 8]
        add(["exclusion", "person"], [_turn(tpl.format(g=genre_words[g], s=star), rows,
                                            lambda r, g=g, s=star: has("genre", g)(r) and not has("star", s)(r),
                                            has("star", star))])
    for i, d in enumerate(top_directors[:4]):
        surname = d.split()[-1]
        add(["exclusion", "person", "multi-turn"], [
            {"user": "I'd like a good movie for tonight"},
            _turn(["nothing by {d}", "no {d} movies", "I don't want anything directed by {d}", "not {d}"][i].format(d=surname if i % 2 else d),
                  rows, None, has("director", d))])
    for i, (g1, g2) in enumerate([("comedy", "romance"), ("action", "sci-fi"), ("horror", "comedy"), ("drama", "war"),
                                  ("family", "animation"), ("thriller", "crime")]):
        tpl = ["{a}, but not {b}", "{a} please, no {b}", "I want {a}, anything but {b}", "{a}? I hate {b}"][i % 4]
        bword = {"romance": "romantic ones", "sci-fi": "sci-fi", "comedy": "comedies", "war": "war movies",
                 "animation": "cartoons", "crime": "crime"}[g2]
        add(["exclusion", "genre"], [_turn(tpl.format(a=genre_words[g1], b=bword), rows,
                                           lambda r, g1=g1, g2=g2: has("genre", g1)(r) and not has("genre", g2)(r),
                                           has("genre", g2))])
    add(["exclusion", "persistence"], [{"user": "I don't like horror at all"}, {"user": "something for tonight"},
                                       _turn("another one", rows, None, has("genre", "horror")),
                                       _turn("actually, a thriller instead", rows,
                                             lambda r: has("genre", "thriller")(r) and not has("genre", "horror")(r),
                                             has("genre", "horror"))])

    # numeric ranges
    decades = [(1970, "the 70s"), (1980, "the eighties"), (1990, "the 90s"), (2000, "the 2000s"), (1980, "the 1980s")]
    for i, (lo, word) in enumerate(decades):
        g = ["horror", "comedy", "action", "animation", "sci-fi"][i]
        add(["range"], [_turn(f"{genre_words[g]} from {word}", rows,
                              lambda r, g=g, lo=lo: has("genre", g)(r) and year_in(lo, lo + 9)(r),
                              lambda r, lo=lo: a(r, "year") is not None and not lo <= a(r, "year") <= lo + 9)])
    for text, lo, hi, g in (("comedies after 2010", 2011, 2100, "comedy"), ("a drama made before 1970", 0, 1969, "drama"),
                            ("sci-fi movies between 1990 and 2000", 1990, 2000, "sci-fi"),
                            ("a thriller from 2015 or later", 2015, 2100, "thriller"),
                            ("an action movie released since 2005", 2005, 2100, "action")):
        add(["range"], [_turn(text, rows, lambda r, g=g, lo=lo, hi=hi: has("genre", g)(r) and year_in(lo, hi)(r),
                              lambda r, lo=lo, hi=hi: a(r, "year") is not None and not lo <= a(r, "year") <= hi)])
    add(["range", "multi-turn"], [{"user": "I want a horror movie"},
                                  _turn("something from the 80s", rows,
                                        lambda r: has("genre", "horror")(r) and year_in(1980, 1989)(r),
                                        lambda r: a(r, "year") is not None and not 1980 <= a(r, "year") <= 1989)])
    add(["range", "exclusion"], [_turn("an action movie, but not from the 80s", rows,
                                       lambda r: has("genre", "action")(r) and not year_in(1980, 1989)(r), year_in(1980, 1989))])

    # wanted people
    for i, star in enumerate(top_stars[8:14]):
        tpl = ["a movie with {s}", "something starring {s}", "any {s} movies?", "I love {s}, what do you have with them?",
               "films featuring {s}", "show me movies with {s}"][i]
        add(["want", "person"], [_turn(tpl.format(s=star), rows, has("star", star))])
    for i, d in enumerate(top_directors[4:9]):
        surname = d.split()[-1]
        tpl = ["something by {d}", "a movie directed by {d}", "any films by {d}?", "I like {d}'s movies, more of those"][i % 4]
        add(["want", "person"], [_turn(tpl.format(d=surname if i % 2 == 0 else d), rows, has("director", d))])

    # topic shifts
    for i, (g1, g2) in enumerate([("horror", "comedy"), ("drama", "animation"), ("war", "romance"), ("action", "documentary"),
                                  ("western", "sci-fi"), ("comedy", "thriller")]):
        cue = ["actually, {b} instead", "forget that, show me {b}", "how about {b}?", "no wait, I'd rather have {b}",
               "something else: {b}", "now I want {b}"][i]
        add(["shift"], [{"user": f"I'd like {genre_words[g1]}"},
                        _turn(cue.format(b=genre_words[g2]), rows, has("genre", g2))])

    # retraction
    add(["retraction"], [{"user": "a comedy but no Jim Carrey"},
                         _turn("Jim Carrey is fine after all", rows, has("star", "Jim Carrey"))])
    add(["retraction"], [{"user": "anything but horror"}, {"user": "something exciting"},
                         _turn("I'd love a horror movie now", rows, has("genre", "horror"))])

    # references: the first turn asks for one title by name, so it is shown first
    for title, tags in (("Toy Story (1995)", "animation"), ("The Matrix (1999)", "sci-fi"), ("Titanic (1997)", "romance")):
        movie = next((r for r in rows if r["title"] == title), None)
        if movie is None:
            continue
        name = title.rsplit(" (", 1)[0]
        add(["reference"], [{"user": f"do you have {name}?"},
                            _turn("more like the first one", rows, lambda r, t=tags, m=movie["id"]: has("genre", t)(r) and r["id"] != m)])
    # refinements
    add(["refinement"], [{"user": "a comedy from the 90s"},
                         _turn("another one", rows, lambda r: has("genre", "comedy")(r) and year_in(1990, 1999)(r),
                               lambda r: a(r, "year") is not None and not 1990 <= a(r, "year") <= 1999)])
    add(["refinement"], [{"user": "an animated movie for my kids"}, _turn("show me more", rows, has("genre", "animation"))])

    # controls
    for text, rel in (("not sure, maybe a comedy?", has("genre", "comedy")),
                      ("I can't decide between horror and sci-fi", lambda r: has("genre", "horror")(r) or has("genre", "sci-fi")(r)),
                      ("not too scary, something like a family movie", has("genre", "family")),
                      ("No, I want an action movie", has("genre", "action"))):
        add(["control"], [_turn(text, rows, rel)])
    return out


def movie_rows(shared: Path) -> list[dict]:
    """The ReDial movie catalog exactly as the product converts it (same ids and fields)."""
    from retrieval.convert import convert_redial_movies

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "movies.jsonl"
        convert_redial_movies(shared / "redial" / "movies_id2info.json", out,
                              shared / "redial" / "movies_with_mentions.csv")
        return _load(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.scenarios.generate", description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", default=str(REPO_ROOT.parent / "shared" / "datasets"), help="../shared/datasets")
    p.add_argument("--out", default=str(HERE), help="folder for grocery.jsonl and movies.jsonl")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sets = {"grocery.jsonl": grocery_scenarios(_load(DEMO_CATALOG), args.seed)}
    if Path(args.shared, "redial").is_dir():
        sets["movies.jsonl"] = movie_scenarios(movie_rows(Path(args.shared)), args.seed)
    for name, scenarios in sets.items():
        for s in scenarios:
            for t in s["turns"]:
                if "relevant" in t and not t["relevant"]:
                    raise SystemExit(f"{s['id']}: {t['user']!r} has no relevant item in the catalog: fix its predicate")
        with open(out / name, "w", encoding="utf-8") as f:
            for s in scenarios:
                f.write(json.dumps(s, ensure_ascii=False) + "\n")
        judged = sum(1 for s in scenarios for t in s["turns"] if "relevant" in t or "forbidden" in t)
        print(f"wrote {len(scenarios)} scenarios ({judged} judged turns) to {out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Session state, title mentions, likes/dislikes from words, and constraint validation."""

from __future__ import annotations

import json

import pytest

from assistant.constraints import merge, parse_json_object, to_where, validate
from assistant.feedback import classify_mentions
from assistant.mentions import TitleMatcher
from assistant.state import SessionState
from tests.tiny_llm import FakeIndex, movie_rows


@pytest.fixture(scope="module")
def redial_titles(shared_datasets):
    info = json.loads((shared_datasets / "redial" / "movies_id2info.json").read_text())
    return {k: v["name"] for k, v in info.items()}


@pytest.fixture(scope="module")
def matcher(redial_titles):
    return TitleMatcher(redial_titles)


def _names(matcher_, titles, text):
    return [titles[i] for i in matcher_.find(text)]


def test_titles_found_despite_case_punctuation_and_year(matcher, redial_titles):
    found = _names(matcher, redial_titles, "have you seen JURASSIC PARK?? or titanic (1997)")
    assert "Titanic (1997)" in found
    assert any(t.startswith("Jurassic Park") for t in found)


def test_small_typos_in_longer_titles(matcher, redial_titles):
    assert any("Godfather" in t for t in _names(matcher, redial_titles, "i loved the godfater"))
    assert any("Spider-Man" in t for t in _names(matcher, redial_titles, "spiderman was fun"))
    # the plural of a common word ending a title is a kind of film, not the title
    assert _names(matcher, redial_titles, "I am looking for scary movies.") == []
    assert any("Scary Movie" in t for t in _names(matcher, redial_titles, "I want to watch scary movie 3"))
    # while a plural of a product's name is that product
    onions = TitleMatcher({"r1": "Red Onion", "y1": "Yellow Onion"})
    assert onions.find("no red onions please") == ["r1"]
    # short words are not fuzzily matched to titles
    assert _names(matcher, redial_titles, "it was up to me to see it") == []


def test_year_in_text_picks_among_same_titles(redial_titles):
    ids = [i for i, t in redial_titles.items() if t.startswith("Titanic")]
    m = TitleMatcher({i: redial_titles[i] for i in ids})
    one = m.find("Titanic (1997)")
    assert len(one) == 1 and redial_titles[one[0]] == "Titanic (1997)"


def test_likes_and_dislikes_from_words(matcher, redial_titles):
    text = "I didn't like Titanic (1997), but Jurassic Park was great. I loved The Godfather and Jaws."
    mentions = matcher.find_mentions(text)
    feelings = {redial_titles[m.ids[0]].split(" (")[0]: f for m, f in zip(mentions, classify_mentions(text, mentions), strict=True)}
    assert feelings["Titanic"] == "rejected"
    assert feelings["Jurassic Park"] == "liked"
    assert feelings["The Godfather"] == "liked" and feelings["Jaws"] == "liked"
    text = "something like Jaws but not Titanic (1997)"
    ms = matcher.find_mentions(text)
    assert classify_mentions(text, ms) == ["liked", "rejected"]
    text = "Have you seen Jaws?"
    assert classify_mentions(text, matcher.find_mentions(text)) == ["neutral"]
    # not having seen a film is no rejection of it (ReDial users say it of what they then
    # want to see); a plain "not" still is
    for text in ("I have not seen Jaws and I need to see that.", "I never heard of Jaws, is it good?",
                 "No, I have not yet watched Jaws"):
        assert classify_mentions(text, matcher.find_mentions(text)) == ["neutral"], text
    text = "I have not seen Jaws but not Titanic (1997) please"
    assert classify_mentions(text, matcher.find_mentions(text)) == ["neutral", "rejected"]


def test_an_unseen_item_is_not_known():
    from assistant.feedback import knows_item

    assert knows_item("I have seen ", "") and knows_item("we watched ", "")
    assert not knows_item("I have not seen ", "") and not knows_item("I haven't seen ", "")
    assert not knows_item("I never watched ", "")
    assert not knows_item("I havent seen ", "") and not knows_item("not yet seen ", "")


def test_state_round_trips_through_json_and_keeps_likes_exclusive():
    s = SessionState()
    s.messages.append({"role": "user", "content": "hi"})
    s.like("a")
    s.reject("a")
    s.like("b")
    s.mark_recommended(["c", "b", "c"])
    s.constraints = [{"field": "year", "op": ">=", "value": 1990}]
    back = SessionState.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    assert back.liked == ["b"] and back.rejected == ["a"] and back.recommended == ["c", "b"]


@pytest.fixture
def movie_fields(shared_datasets):
    return FakeIndex(movie_rows(shared_datasets, 40)).fields()


def test_constraints_validated_against_catalog_fields(movie_fields):
    raw = parse_json_object('Sure! ```json\n{"constraints": ['
                            '{"field": "year", "op": ">=", "value": "1990"},'
                            '{"field": "genre", "op": "=", "value": "Comedy"},'
                            '{"field": "price", "op": "<=", "value": 3},'
                            '{"field": "year", "op": "<", "value": "recent"},'
                            '{"field": "genre", "op": "contains", "value": "telenovela"},'
                            '{"field": "year", "op": "like", "value": 2000}]}```')
    kept, dropped = validate(raw, movie_fields)
    assert kept == [{"field": "year", "op": ">=", "value": 1990},
                    {"field": "genre", "op": "contains", "value": "comedy"}]
    assert len(dropped) == 4
    assert any("price" in d for d in dropped) and any("telenovela" in d for d in dropped)
    assert to_where(kept) == {"$and": [{"year": {"$gte": 1990}}, {"genre": {"$contains": "comedy"}}]}


def test_merge_replaces_the_same_bound_and_keeps_others():
    old = [{"field": "year", "op": ">=", "value": 1990}, {"field": "year", "op": "<=", "value": 2010}]
    new = [{"field": "year", "op": ">", "value": 2000}]
    assert merge(old, new) == [{"field": "year", "op": "<=", "value": 2010}, {"field": "year", "op": ">", "value": 2000}]
    assert to_where([]) is None
    assert parse_json_object("no json here") is None


def test_single_title_words_count_only_when_no_other_document_uses_them():
    from retrieval.settings import DEMO_CATALOG

    rows = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines()]
    titles = {r["id"]: r["title"] for r in rows}
    documents = {r["id"]: f"{r['title']} {r.get('description', '')}" for r in rows}
    strict = TitleMatcher(titles, documents=documents)
    loose = TitleMatcher(titles)
    # "sweet" and "fruit" are words of two titles, but many descriptions use them too
    assert loose.find("a sweet tropical fruit")
    assert strict.find("a sweet tropical fruit") == []
    # a word only its own item uses still names it
    assert strict.find("I hate asparagus") == ["Asparagus"]


def test_json_object_with_braces_inside_strings():
    # brace counting once cut '{"label": "a } b"}' at the brace inside the string
    answer = 'Here you go: {"label": "set {x} or a } b", "items": [{"id": "7"}]} and more {prose}'
    assert parse_json_object(answer) == {"label": "set {x} or a } b", "items": [{"id": "7"}]}
    # prose in braces before the object is skipped; a broken object gives its inner one
    assert parse_json_object('{not json} then {"a": "}"}') == {"a": "}"}
    assert parse_json_object('{"a": {"b": 1}') == {"b": 1}
    assert parse_json_object("{} ") == {} and parse_json_object("[1, 2]") is None


def test_a_one_word_title_the_texts_use_often_counts_only_written_as_a_name(redial_titles):
    # "jaws", "alien", "titanic" are words many plots use: "no aliens" is no mention, but
    # "I loved Jaws" is, and so is a title with its year
    m = TitleMatcher(redial_titles, frequent=frozenset({"jaws", "alien", "aliens", "titanic"}))

    def titles(text):
        return [redial_titles[i] for x in m.find_mentions(text) for i in x.ids]

    assert any(t.startswith("Jaws") for t in titles("I really liked Jaws and Alien"))
    assert any(t.startswith("Alien") for t in titles("I really liked Jaws and Alien"))
    assert titles("Titanic (1997) is great") == ["Titanic (1997)"]
    for text in ("no aliens please", "Aliens are scary", "titanic ships sink", "a film with Titanic Brad in it"):
        assert titles(text) == [], text


def test_the_year_said_of_a_title_picks_among_same_titles_and_asking_for_it_is_no_knowing(matcher, redial_titles):
    from assistant.feedback import knows_item

    (m,) = matcher.find_mentions("do you have Titanic, the one from 1997?")
    assert [redial_titles[i] for i in m.ids] == ["Titanic (1997)"]
    assert knows_item("I loved ", ", is it in there?") is False
    assert knows_item("I loved ", ", anything like it?") is True


def test_after_seen_or_liked_a_lower_case_title_counts(redial_titles):
    # chat is typed in lower case: after "seen", "finished", "stuff like" the next words (and
    # a list going on with "and") name titles, even one-word ones and ones of everyday words
    m = TitleMatcher(redial_titles, common=frozenset({"gone", "girl", "toy", "story", "action"}),
                     frequent=frozenset({"frozen"}))

    def titles(text):
        return {redial_titles[x.ids[0]].split(" (")[0] for x in m.find_mentions(text)}

    assert titles("they've all seen frozen and moana a million times") == {"Frozen", "Moana"}
    assert titles("just finished gone girl and i'm obsessed") == {"Gone Girl"}
    assert titles("stuff like superbad? seen it obviously") == {"Superbad"}
    assert "Toy Story" in titles("i've done forrest gump, cast away and toy story")
    # without a cue the same words name nothing
    for text in ("a frozen dessert", "a girl who has gone missing",
                 "something superbad", "I like action movies"):
        assert titles(text) == set(), text
    # "owns", "obsessed with" are cues too
    assert titles("my nephew owns coco and is obsessed with zootopia") >= {"Coco", "Zootopia"}
    # a title one letter off ("seen wolf" / Teen Wolf) gives way to the title it overlaps
    assert titles("we've seen wolf of wall street twice") == {"The Wolf of Wall Street"}
    # words that only ask for more are no typo of a title (The Others)
    assert titles("seen it. the others?") == set()


def test_a_word_in_capitals_for_emphasis_is_no_title_a_title_in_capitals_is(redial_titles):
    m = TitleMatcher(redial_titles)

    def titles(text):
        return {redial_titles[i].split(" (")[0] for x in m.find_mentions(text) for i in x.ids}

    # "Obsessed", "Unbroken", "Speed" are titles; shouted in a lower-case message they are emphasis
    assert "Unbroken" not in titles("my phone screen is UNBROKEN somehow, anything for a long flight")
    assert "Obsessed" not in titles("she is totally OBSESSED with horses, what would she like")
    # a one-word title written in capitals by the catalog stays one ("JFK")
    assert "JFK" in titles("have you got JFK? my dad keeps asking")
    # a message written all in capitals is no emphasis
    assert "Unbroken" in titles("I LOVED UNBROKEN")

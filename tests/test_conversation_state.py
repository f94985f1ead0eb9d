"""The conversation's state through the real chat over the demo catalog (ChromaDB + the
real MiniLM encoder, retrieval only): the guarantee that excluded items never come back
over several turns, in any mode; conflicts named; the constraints in the Reply, the
Python API (``Chat.constraints`` / ``remove_constraint``) and the JSON round trip; an LLM
adds to what the user's words set and never drops it."""

from __future__ import annotations

import json
import re

import pytest

from assistant import Recommender, ScriptedLLM
from retrieval.errors import InputError

pytestmark = pytest.mark.model


@pytest.fixture
def rec(demo_index):
    settings, index = demo_index
    return Recommender.from_settings(settings, index=index)


def _category(rec, reply):
    return [r.metadata.get("category") for r in reply.items]


def test_exclusions_hold_over_turns_topic_shifts_and_refinements(rec):
    chat = rec.chat()
    first = chat.send("I want a fruit, but no apples")
    assert first.text.startswith("Understood: no apples.")
    assert first.items and "Apple" not in _category(rec, first)
    assert all(r.metadata.get("group") == "Fruit" for r in first.items)
    for message in ("something sweet", "another one please", "actually, a juice instead", "more like the first one"):
        reply = chat.send(message)
        assert reply.items, message
        # no apple, and no juice whose own words say apple (a pineapple is no apple)
        assert "Apple" not in _category(rec, reply), message
        assert not any(re.search(r"\bapple", (r.title + " " + (r.metadata.get("title") or "")).lower().replace("ä", "a"))
                       for r in reply.items), (message, [r.title for r in reply.items])
    assert [c["label"] for c in reply.constraints] == ["not: Apple"]


def test_a_diet_filters_what_the_request_finds(rec):
    reply = rec.chat().send("vegan yoghurt")
    assert set(_category(rec, reply)[:3]) <= {"Soyghurt", "Oatghurt"}
    assert not {"Yoghurt", "Milk", "Sour-Milk", "Sour-Cream"} & set(_category(rec, reply))
    reply = rec.chat().send("I have lactose intolerance, any drink?")
    ids = [r.id for r in reply.items]
    assert not {"Arla-Standard-Milk", "Arla-Medium-Fat-Milk", "Garant-Ecological-Standard-Milk"} & set(ids)
    assert all(r.metadata.get("category") in ("Juice", "Soy-Milk", "Oat-Milk") or "lactose" in r.title.lower()
               for r in reply.items), ids


def test_a_narrowing_message_filters_the_list_it_was_shown(rec):
    chat = rec.chat()
    shown = [r.id for r in chat.send("apples please").items]
    assert len(shown) == 5
    narrowed = chat.send("not the green ones")
    assert "Granny-Smith" not in [r.id for r in narrowed.items]
    # the apples that are not green may come back: the user filtered the list
    assert {r.id for r in narrowed.items} & set(shown)


def test_shown_items_that_still_fit_stay_unless_others_are_asked_for(rec):
    chat = rec.chat()
    shown = {r.id for r in chat.send("a juice for breakfast").items}
    # a condition added in passing filters the list: the juices that fit may stay
    kept = {r.id for r in chat.send("oh and I'd prefer nothing with pulp, thanks").items}
    assert kept & shown
    # a question about the list answers from it
    among = {r.id for r in chat.send("which of those is not from concentrate?").items}
    assert among & (shown | kept)
    # asking for others leaves out everything shown so far
    others = {r.id for r in chat.send("any other ones?").items}
    assert others and not others & (shown | kept | among)


def test_when_nothing_new_fits_the_items_shown_that_fit_come_back_before_a_condition_goes(rec):
    chat = rec.chat()
    first = [r.id for r in chat.send("Alpro products please").items]
    alpro = [i for i in first if i.startswith("Alpro-")]
    assert len(alpro) >= 3
    reply = chat.send("anything else from that brand?")
    # every Alpro item was shown: they come back, no other brand takes their place
    assert reply.items and all(r.id.startswith("Alpro-") for r in reply.items), [r.id for r in reply.items]
    assert any("not shown you yet" in n for n in reply.notices), reply.notices
    assert [c["label"] for c in reply.constraints] == ["manufacturer: Alpro"]


def test_conflicting_conditions_are_named_and_exclusions_never_relaxed(rec):
    chat = rec.chat()
    reply = chat.send("a yoghurt from Valio, but nothing with vanilla")
    # Valio has only a vanilla yoghurt: the wanted brand gives way, the exclusion does not
    assert reply.items and not any("vanil" in (r.title + r.metadata.get("category", "")).lower() for r in reply.items)
    assert any("manufacturer: Valio" in n and "closest" in n for n in reply.notices), reply.notices
    assert "Valio-Vanilla-Yoghurt" not in [r.id for r in reply.items]


def test_constraints_api_removes_one_and_round_trips(rec):
    chat = rec.chat()
    reply = chat.send("fruit from Spain, no melons")
    labels = [c["label"] for c in chat.constraints]
    assert labels == ["not: Melon", "origin: Spain"] == [c["label"] for c in reply.constraints]
    assert all(r.metadata.get("origin") == "Spain" and r.metadata.get("category") != "Melon" for r in reply.items)
    chat.feedback(reply.items[0].id, liked=False)
    item_chip = chat.constraints[-1]
    assert item_chip["kind"] == "item" and item_chip["label"] == f"not: {reply.items[0].title}"

    resumed = rec.chat(state=json.loads(json.dumps(chat.state.to_dict())))
    assert resumed.constraints == chat.constraints
    removed = resumed.remove_constraint(resumed.constraints[0]["id"])
    assert removed["label"] == "not: Melon"
    resumed.remove_constraint(item_chip["id"])
    assert resumed.state.rejected == [] and [c["label"] for c in resumed.constraints] == ["origin: Spain"]
    melons = resumed.send("a melon")
    assert "Melon" in _category(rec, melons)
    with pytest.raises(InputError, match="no condition 'c-nope'"):
        resumed.remove_constraint("c-nope")


def test_an_llm_adds_conditions_but_never_drops_the_users(demo_index):
    settings, index = demo_index
    # the LLM reads "no apples" as wanting apples, and proposes a category of its own
    llm = ScriptedLLM({"constraints": json.dumps({"constraints": [
        {"field": "category", "op": "=", "value": "Apple"},
        {"field": "group", "op": "=", "value": "Fruit"}]}),
        "query_rewrite": '{"query": "apples"}', "explanation": "A fruit."}, prefer=["Apple"])
    rec = Recommender.from_settings(settings.replace(enable_llm=True), index=index, llm=llm)
    chat = rec.chat()
    reply = chat.send("fruit, but no apples")
    assert reply.mode == "llm"
    kinds = {c["label"]: (c["kind"], c["source"]) for c in chat.constraints}
    assert kinds["not: Apple"] == ("exclude", "user")
    assert kinds["group: Fruit"] == ("filter", "llm")
    # the LLM's "category = Apple" conflicts with the exclusion: apples still never shown
    assert reply.items == [] or "Apple" not in _category(rec, reply)
    second = chat.send("something sweet")
    assert "Apple" not in _category(rec, second) and "not: Apple" in [c["label"] for c in second.constraints]

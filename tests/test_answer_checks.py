"""Each LLM task's answer is checked before use; a failed check falls back for that task
alone and is counted in the reply (scripted LLM answers of the kinds weak models give)."""

from __future__ import annotations

import json

import pytest

from assistant import Recommender, ScriptedLLM
from assistant.answer_checks import (
    CheckCounts,
    check_constraints,
    check_reason,
    check_rewrite,
    fallback_rates,
)
from tests.tiny_llm import FakeIndex, grocery_rows


@pytest.fixture(scope="module")
def rows(shared_datasets):
    return grocery_rows(shared_datasets, 30)


def _fields(rows):
    return FakeIndex(rows).fields()


# ---- the checks on their own -------------------------------------------------------------------


def test_constraints_answer_must_be_the_asked_json_valid_for_the_catalog(rows):
    fields = _fields(rows)
    good = check_constraints('{"constraints": [{"field": "kind", "op": "=", "value": "fruit"}]}', fields)
    assert good.ok and good.value[0]["value"] == "Fruit"  # the catalog's own spelling
    assert check_constraints('{"constraints": []}', fields).ok  # none stated: a valid answer
    # what a 135M model answers: the template back, prose, an empty object, nonsense fields
    for answer, why in [
        ('{"constraints": [{"field": "price", "op": "<=", "value": 3}]}', "example"),
        ("Sure! Here are the constraints you asked for.", "not a JSON object"),
        ('{"want": ["fruit"], "exclude": ["apple"]}', '"constraints" list'),
        ('{"constraints": [{"field": "sport", "op": "=", "value": "Soccer"}]}', "no entry is valid"),
    ]:
        checked = check_constraints(answer, fields)
        assert not checked.ok and why in checked.problem, (answer, checked)
    # one valid entry among invalid ones: the valid one is kept, the others dropped
    mixed = check_constraints(json.dumps({"constraints": [
        {"field": "kind", "op": "=", "value": "Fruit"}, {"field": "origin", "op": "=", "value": "Atlantis"}]}),
        fields)
    assert mixed.ok and [c["field"] for c in mixed.value] == ["kind"]


def test_rewrite_must_stay_with_the_conversation_words():
    said = ["I want something sweet and tropical for a smoothie", "Here is what I would suggest: 1. Mango"]
    assert check_rewrite('{"query": "sweet tropical fruit smoothie"}', said).value == "sweet tropical fruit smoothie"
    assert check_rewrite('```json\n{"query": "tropical mango"}\n```', said).ok  # a fence is fine
    for answer, why in [('{"query": "Soccer Bangladesh 2021"}', "strays"),
                        ('{"query": ""}', "not {"),
                        ("tropical fruit", "not {"),
                        ('{"query": "please show me some"}', "no content words")]:
        checked = check_rewrite(answer, said)
        assert not checked.ok and why in checked.problem, (answer, checked)


def test_reason_must_be_one_line_naming_the_items_facts():
    facts = ["Mango Class 1", "Fruit", "Brazil", "Mango has a sweet, aromatic taste and a juicy orange pulp.",
             "ca 300g"]
    assert check_reason("A sweet, juicy mango from Brazil, as you asked.", facts).ok
    assert check_reason("Weighs about 300g and tastes sweet.", facts).ok  # a number from the facts
    for text, why in [
        ("", "empty"),
        ("Great choice!", "too short"),
        ("It is a wonderful choice for you today.", "names none"),
        ("A sweet mango for only 2 dollars.", "states 2"),
        ("A sweet mango.\n2. Dragon fruit g999", "several lines"),
        ("B: a sweet mango from Brazil", "markup"),
        ("sweet mango " * 40, "characters long (at most 300"),
    ]:
        checked = check_reason(text, facts, ["something sweet"])
        assert not checked.ok and why in checked.problem, (text, checked)


def test_counts_and_rates():
    counts = CheckCounts()
    counts.record("reason", check_reason("A sweet mango from Brazil.", ["Mango", "sweet"]))
    counts.record("reason", check_reason("Nice.", ["Mango"]))
    counts.record("rank")
    assert counts.failed == 1
    d = counts.to_dict()
    assert d["reason"]["asked"] == 2 and d["reason"]["failed"] == 1 and "too short" in d["reason"]["why"][0]
    rates = fallback_rates([d, {"reason": {"asked": 2, "failed": 2, "why": []}}])
    assert rates["reason"] == {"asked": 4, "failed": 3, "rate": 0.75}
    assert rates["rank"]["rate"] == 0.0


# ---- through the chat: each failed task falls back alone ------------------------------------


def test_failed_checks_fall_back_per_task_and_are_counted(settings, rows):
    index = FakeIndex(rows)
    llm = ScriptedLLM({
        "constraints": '{"constraints": [{"field": "price", "op": "<=", "value": 3}]}',  # the example
        "query_rewrite": '{"query": "Soccer Bangladesh 2021"}',  # nothing the user said
        "explanation": "A great pick, only 5 dollars today!",  # an invented price
    }, prefer=["Mango"])
    rec = Recommender.from_settings(settings.replace(candidate_count=12, top_k=3), index=index, llm=llm)
    chat = rec.chat()
    events = list(chat.stream("something sweet and tropical"))
    reply = events[-1].data
    # ranking still came from the LLM (its task passed); the others fell back
    assert reply.mode == "llm" and reply.items[0].title.startswith("Mango")
    checks = reply.llm_checks
    assert checks["constraints"] == {"asked": 1, "failed": 1, "why": [checks["constraints"]["why"][0]]}
    assert "example" in checks["constraints"]["why"][0]
    assert checks["rewrite"]["failed"] == 1 and "strays" in checks["rewrite"]["why"][0]
    assert checks["rank"] == {"asked": 1, "failed": 0, "why": []}
    assert checks["reason"]["asked"] == 3 and checks["reason"]["failed"] == 3
    # the fallbacks: no constraint from the LLM, the user's words searched, evidence reasons
    assert not chat.state.constraints
    assert "soccer" not in reply.query.lower() and "tropical" in reply.query.lower()
    assert all("dollars" not in r.reason for r in reply.items)
    # tokens already streamed for a refused reason are reset before the replacement
    resets = [e for e in events if e.type == "status" and e.data.get("reset")]
    assert {e.data["reset"] for e in resets} == {r.id for r in reply.items}
    assert any("did not pass their checks" in n for n in reply.notices)
    # said once per session; counted every turn
    again = chat.send("and something else sweet")
    assert not any("did not pass" in n for n in again.notices) and again.llm_checks["rewrite"]["failed"] == 1


def test_good_answers_are_used_and_counted_as_passed(settings, rows):
    index = FakeIndex(rows)
    llm = ScriptedLLM({
        "constraints": '{"constraints": [{"field": "kind", "op": "=", "value": "Fruit"}]}',
        "query_rewrite": '{"query": "sweet tropical fruit"}',
        "explanation": "A sweet fruit, as you asked.",
    }, prefer=["Mango"])
    rec = Recommender.from_settings(settings.replace(candidate_count=12, top_k=3), index=index, llm=llm)
    reply = rec.chat().send("something sweet and tropical")
    assert {t: c["failed"] for t, c in reply.llm_checks.items()} == {
        "constraints": 0, "rewrite": 0, "rank": 0, "reason": 0}
    assert reply.query.startswith("sweet tropical fruit")
    assert all(r.reason == "A sweet fruit, as you asked." for r in reply.items)
    assert not reply.notices


def test_no_llm_no_checks(settings, rows):
    rec = Recommender.from_settings(settings.replace(enable_llm=False, candidate_count=12, top_k=3),
                                    index=FakeIndex(rows))
    assert rec.chat().send("apples").llm_checks == {}

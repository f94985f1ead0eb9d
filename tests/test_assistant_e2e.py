"""End to end over the demo catalog: the real index (ChromaDB + the real MiniLM text
encoder, no CLIP, no captions) and the assistant in retrieval-only mode."""

from __future__ import annotations

import pytest

from assistant import Recommender

pytestmark = pytest.mark.model


def test_demo_catalog_conversation_without_llm(demo_index):
    settings, index = demo_index
    rec = Recommender.from_settings(settings, index=index)
    chat = rec.chat()
    catalog = set(index.titles())
    granny = next(i for i, t in index.titles().items() if "Granny Smith" in t)

    first = chat.send("a sweet apple for desserts, but not Granny Smith")
    assert first.mode == "retrieval" and len(first.notices) == 1
    assert len(first.items) == settings.top_k
    assert chat.state.rejected == [granny]
    ids = [r.id for r in first.items]
    assert set(ids) <= catalog and granny not in ids
    # "sweet ... desserts" is in its description; Red Delicious ("sweet taste") ties with it
    # on the request alone ("a sweet apple for desserts": the exclusion is not search words)
    assert any("Golden Delicious" in r.title for r in first.items[:2])
    assert all(r.reason and r.evidence for r in first.items)
    assert "\u201cdessert" in first.items[0].reason or "\u201csweet\u201d" in first.items[0].reason

    second = chat.send("more like that")
    assert not set(ids) & {r.id for r in second.items}
    assert granny not in {r.id for r in second.items} and second.notices == []
    assert set(second.timings) >= {"retrieve", "rank", "explain"}


def test_llm_constraints_filter_the_real_index(demo_index):
    import json

    from assistant import ScriptedLLM

    settings, index = demo_index
    llm = ScriptedLLM({"query_rewrite": '{"query": "fresh green fruit"}',
                       "constraints": json.dumps({"constraints": [
                           {"field": "group", "op": "=", "value": "fruit"},
                           {"field": "origin", "op": "=", "value": "Atlantis"}]}),
                       "explanation": "Fresh fruit, as you asked."}, prefer=["Lime"])
    rec = Recommender.from_settings(settings.replace(enable_llm=True), index=index, llm=llm)
    chat = rec.chat()
    reply = chat.send("some fresh green fruit")
    assert reply.mode == "llm" and not reply.notices
    # the unknown origin was dropped; "fruit" became the catalog's own spelling "Fruit"
    assert [(c["field"], c["value"]) for c in chat.state.constraints] == [("group", "Fruit")]
    assert all(r.metadata["group"] == "Fruit" for r in reply.items)
    assert "Lime" in reply.items[0].title
    # every fruit of the catalog (fewer than settings.candidate_count) was ranked in one pass
    fruit = [i for i, c in index.get(list(index.titles())).items() if c.metadata.get("group") == "Fruit"]
    ranking = [c for c in llm.calls if c["method"] == "score_labels"]
    assert len(ranking) == 1 and len(ranking[0]["labels"]) == len(fruit) < settings.candidate_count

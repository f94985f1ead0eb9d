"""A new search channel is one new module: a ``Channel`` subclass, registered. Here a
trivial one ("alphabetical": every item in title order) is registered from inside the
test and reaches ``channel_hits``, the settings, ``stats``, the fusion and its fitting
without any other edit."""

from __future__ import annotations

import pytest

from retrieval.channels import Channel, Search, channel, names, register, unregister
from retrieval.fusion import save_fusion
from retrieval.settings import Settings
from retrieval.types import Query


class Alphabetical(Channel):
    """Every item passing the filter, by title A to Z (runs whatever the query holds)."""

    name = "alphabetical"

    def find(self, search: Search):
        table = search.index.table()
        ranked = sorted((m.get("title", ""), i) for i, m in table.items() if search.keep(i))
        return [(i, 1.0, {"title": t}) for t, i in ranked][:search.depth]


@pytest.fixture
def alphabetical():
    register(Alphabetical())
    try:
        yield
    finally:
        unregister("alphabetical")


def test_the_registry_holds_the_built_in_channels_in_their_fixed_order():
    assert names()[:4] == ("dense", "clip_text", "clip_image", "collab")
    assert {"keyword", "attribute", "similar", "shared", "named", "dialogues", "popularity"} <= set(names())
    with pytest.raises(ValueError, match="already registered"):
        register(channel("dense"))
    with pytest.raises(KeyError, match="unknown channel 'nope'"):
        channel("nope")


@pytest.mark.model
def test_a_channel_registered_in_a_test_is_searched_fused_and_fitted(demo_index, alphabetical, tmp_path):
    settings, index = demo_index
    assert names()[-1] == "alphabetical"  # after the built-in channels
    titles = index.titles()
    apples = {i for i, m in index.table().items() if m.get("category") == "Apple"}
    first = min(apples, key=lambda i: titles[i])

    hits = index.channel_hits(Query(text="something sweet", where={"category": "Apple"}, exclude={first}))
    assert list(hits)[-1] == "alphabetical"
    found = [i for i, _, _ in hits["alphabetical"]]
    assert found == sorted(apples - {first}, key=lambda i: titles[i])

    # the settings and the fusion file accept its weight; stats lists it
    Settings.load(env={}, fusion_weights={"alphabetical": 2.0})
    assert index.stats()["channels"]["alphabetical"] is True
    only = {c: 0.0 for c in names()} | {"alphabetical": 1.0}
    index.use_weights(only)
    try:
        top = index.search(Query(text="something sweet", where={"category": "Apple"}, k=3))
        assert [c.id for c in top] == sorted(apples, key=lambda i: titles[i])[:3]
        assert [e.channel for e in top[0].evidence] == ["alphabetical"]
    finally:
        index.use_weights(None)
    assert save_fusion(tmp_path, only, {}).is_file()

    # fusion fitting sees it like any channel: a fitted weight of its own
    from eval.datasets import Message, Turn
    from eval.fit import active_channels, fit_fusion
    from eval.systems import TurnHits

    order = sorted(titles, key=lambda i: titles[i])
    turns = [Turn(id=str(n), dialogue=str(n), context=[Message("user", "hi")], targets=[order[n]],
                  mentioned=[]) for n in range(3)]
    # the dense channel finds every item but the targets: only the new channel helps
    hits = [TurnHits({"dense": order[3:], "alphabetical": order}, 0.0) for _ in turns]
    channels = active_channels(hits)
    assert channels == ["dense", "alphabetical"]
    weights, _, _ = fit_fusion(turns, hits, channels, "recall@10", (60,))
    assert weights["alphabetical"] > weights["dense"]


def test_candidate_count_keeps_its_former_name_in_files_and_the_environment(tmp_path):
    assert Settings.load(env={"CHATREC_CANDIDATES": "12"}).candidate_count == 12
    toml = tmp_path / "s.toml"
    toml.write_text("[search]\ncandidates = 14\n", encoding="utf-8")
    assert Settings.load(toml, env={}).candidate_count == 14
    assert Settings.load(toml, env={"CHATREC_CANDIDATE_COUNT": "16"}).candidate_count == 16

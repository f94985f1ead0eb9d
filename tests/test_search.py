"""Hybrid search over the real demo catalog: channels, filters, exclusion, evidence, fusion,
photo queries through a tiny real open_clip model, lookups, and concurrent use."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from retrieval.channels.keyword import KeywordIndex
from retrieval.errors import InputError
from retrieval.fakes import FakeTextEncoder
from retrieval.filters import adapt_to_lists, normalise_where, where_matches
from retrieval.fusion import FUSION_FILE, fuse, load_fusion, save_fusion
from retrieval.index import CatalogIndex
from retrieval.models import ModelHub
from retrieval.settings import DEMO_CATALOG, Settings
from retrieval.types import ChannelHit, Query

TEXT_ONLY = {"enable_clip": False, "enable_captions": False, "enable_transcripts": False}


def demo_catalog():
    if not DEMO_CATALOG.is_file():
        pytest.skip(f"demo catalog {DEMO_CATALOG} not built yet")
    return DEMO_CATALOG


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> CatalogIndex:
    """The demo catalog with the real MiniLM encoder (CLIP and captions off)."""
    settings = Settings.load(env={}, data_dir=str(tmp_path_factory.mktemp("search") / "data"), **TEXT_ONLY)
    return CatalogIndex.build(settings, demo_catalog(), progress=False)


# ---- the demo catalog ---------------------------------------------------------------------


@pytest.mark.model
def test_described_product_comes_first_with_evidence(index):
    results = index.search(Query(text="sweet yellow apple, good for desserts"))
    assert results[0].id == "Golden-Delicious"
    assert len(results) == index.settings.candidate_count
    top = results[0]
    channels = {h.channel: h for h in top.evidence}
    assert {"dense", "keyword"} <= set(channels)
    assert all(h.rank >= 1 for h in top.evidence)
    assert "dessert" in channels["keyword"].detail["words"]
    assert top.title.startswith("Apple Golden Delicious")
    assert top.image and top.image.endswith("Golden-Delicious.jpg")
    assert "desserts" in top.document and top.metadata["category"] == "Apple"
    assert "content_hash" not in top.metadata
    assert [c.score for c in results] == sorted((c.score for c in results), reverse=True)


@pytest.mark.model
def test_named_title_is_found_by_keyword(index):
    top = index.search(Query(text="do you have golden delicious?", k=3))[0]
    assert top.id == "Golden-Delicious"
    keyword = next(h for h in top.evidence if h.channel == "keyword")
    assert keyword.rank == 1 and keyword.detail["title"] is True


@pytest.mark.model
def test_where_restricts_every_channel(index):
    results = index.search(Query(text="orange juice", where={"category": "Apple"}, k=10))
    assert results and all(c.metadata["category"] == "Apple" for c in results)
    hits = index.channel_hits(Query(text="orange juice", where={"group": {"$in": ["Vegetables"]}}))
    for channel, ranked in hits.items():
        assert all(index.get([i])[i].metadata["group"] == "Vegetables" for i, _, _ in ranked), channel


@pytest.mark.model
def test_selective_filter_is_searched_exactly_in_memory(index):
    # a filter leaving few items is searched over their vectors in memory, not by
    # Chroma's filtered search (a scan of the collection): same neighbours, same order
    shallow = CatalogIndex.open(index.settings.replace(channel_depth=5, candidate_count=5, top_k=5), index.hub)
    apples = {i for i, m in shallow.table().items() if m["category"] == "Apple"}
    calls = []
    original = shallow.store.query

    def spy(kind, vector, n, where=None):
        calls.append(where)
        return original(kind, vector, n, where)
    shallow.store.query = spy
    hits = shallow.channel_hits(Query(text="orange juice with pulp", where={"category": "Apple"}))
    assert calls == []
    assert len(hits["dense"]) == min(5, len(apples)) and {i for i, _, _ in hits["dense"]} <= apples
    vector = shallow.text_encoder().encode(["orange juice with pulp"])[0]
    chroma = original("docs", vector, 5, {"category": "Apple"})
    assert [i for i, _, _ in hits["dense"]] == [i for i, _ in chroma]
    assert [s for _, s, _ in hits["dense"]] == pytest.approx([s for _, s in chroma], abs=1e-5)


@pytest.mark.model
def test_filter_matching_nothing_runs_no_vector_query(index):
    calls = []
    original = index.store.query
    index.store.query = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        hits = index.channel_hits(Query(text="orange juice", where={"category": "No such category"}))
    finally:
        index.store.query = original
    assert calls == [] and all(not ranked for ranked in hits.values())


@pytest.mark.model
def test_exclude_removes_ids_and_keeps_the_count(index):
    first = index.search(Query(text="sweet yellow apple, good for desserts", k=5))
    again = index.search(Query(text="sweet yellow apple, good for desserts", k=5,
                               exclude={first[0].id, first[1].id}))
    assert len(again) == 5
    assert {first[0].id, first[1].id}.isdisjoint(c.id for c in again)
    assert again[0].id == first[2].id


@pytest.mark.model
def test_bad_filters_are_input_errors(index):
    with pytest.raises(InputError, match=r"\$like"):
        index.search(Query(text="milk", where={"category": {"$like": "Mil"}}))
    with pytest.raises(InputError):
        index.search(Query(text="milk", where={"category": ["Milk", "Juice"]}))


@pytest.mark.model
def test_lookups(index):
    assert index.count() == 81
    titles = index.titles()
    assert len(titles) == 81 and titles["Golden-Delicious"].startswith("Apple Golden")
    got = index.get(["Golden-Delicious", "no-such-item"])
    assert list(got) == ["Golden-Delicious"] and got["Golden-Delicious"].score == 0.0
    fields = index.fields()
    assert fields["category"].type == "str" and "Apple" in fields["category"].values
    assert {"title", "image", "content_hash"}.isdisjoint(fields)
    stats = index.stats()
    assert stats["items"] == 81 and stats["channels"]["dense"] and not stats["channels"]["clip_image"]
    assert stats["fusion"]["source"] == "prior" and stats["fusion"]["weights"]["named"] == 1.0


@pytest.mark.model
def test_concurrent_searches_agree_with_sequential_ones(index):
    queries = ["sweet yellow apple", "oat milk", "orange juice", "a vegetable for soup"] * 3
    expected = {q: [c.id for c in index.search(Query(text=q, k=10))] for q in set(queries)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda q: [c.id for c in index.search(Query(text=q, k=10))], queries))
    assert got == [expected[q] for q in queries]


@pytest.mark.model
def test_learned_weights_file_changes_the_fusion(index):
    query = Query(text="golden delicious", k=5)
    before = index.search(query)
    save_fusion(index.settings.index_dir, {"keyword": 0.0}, {"fitted_on": "test"})
    try:
        fresh = CatalogIndex.open(index.settings, index.hub)
        after = fresh.search(query)
        assert {h.channel for c in after for h in c.evidence} == {"dense"}
        assert fresh.stats()["fusion"]["source"] == "fusion.json"
        assert {h.channel for c in before for h in c.evidence} == {"dense", "keyword"}
    finally:
        (index.settings.index_dir / FUSION_FILE).unlink()


@pytest.mark.model
def test_weights_can_be_overridden_in_process(index):
    query = Query(text="golden delicious", k=5)
    try:
        index.use_weights({"dense": 0.0})
        assert {h.channel for c in index.search(query) for h in c.evidence} == {"keyword"}
        assert index.stats()["fusion"]["source"] == "override"
    finally:
        index.use_weights(None)
    assert index.stats()["fusion"]["source"] == "prior"


# ---- photos through CLIP ------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_index(tmp_path_factory, tiny_clip_dir) -> CatalogIndex:
    """Twelve demo products with a tiny real open_clip model (random weights, real code)."""
    rows = [json.loads(line) for line in demo_catalog().read_text().splitlines()[:12]]
    for row in rows:
        row["image"] = str(DEMO_CATALOG.parent / row["image"])
    root = tmp_path_factory.mktemp("clip")
    catalog = root / "twelve.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows))
    settings = Settings.load(env={}, data_dir=str(root / "data"), clip_model=str(tiny_clip_dir),
                             enable_captions=False, enable_transcripts=False)
    hub = ModelHub(settings, overrides={"text": FakeTextEncoder()})
    return CatalogIndex.build(settings, catalog, hub=hub, progress=False)


@pytest.mark.model
def test_photo_query_reaches_the_pictured_item(clip_index):
    photo = DEMO_CATALOG.parent / "images" / "Granny-Smith.jpg"
    hits = clip_index.channel_hits(Query(image=str(photo)))
    assert set(hits) == {"clip_image"}
    first_id, score, detail = hits["clip_image"][0]
    assert first_id == "Granny-Smith" and score == pytest.approx(1.0, abs=1e-4)
    assert detail == {"photo": True, "via": "image"}
    results = clip_index.search(Query(image=str(photo), text="green apple", k=5))
    assert results[0].id == "Granny-Smith"
    assert {"clip_image", "clip_text", "dense"} <= {h.channel for h in results[0].evidence}


@pytest.mark.model
def test_photo_from_a_store_shelf_and_pil_input(clip_index, shared_datasets):
    from PIL import Image

    val = (shared_datasets / "grocery" / "val.txt").read_text().split()[0].strip(",")
    with Image.open(shared_datasets / "grocery" / val.lstrip("/")) as img:
        hits = clip_index.channel_hits(Query(image=img.copy(), where={"category": "Apple"}))
    assert hits["clip_image"] and all(
        clip_index.get([i])[i].metadata["category"] == "Apple" for i, _, _ in hits["clip_image"])


@pytest.mark.model
def test_unreadable_photo_is_an_input_error(clip_index, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    with pytest.raises(InputError, match="bad.jpg"):
        clip_index.search(Query(image=str(bad)))


# ---- fusion ---------------------------------------------------------------------------------


def test_fuse_weighted_rrf_by_hand():
    fused = fuse({"dense": [("a", 0.9, {}), ("b", 0.8, {}), ("c", 0.7, {})],
                  "keyword": [("c", 5.0, {"words": ["x"]}), ("a", 1.0, {})]},
                 {"dense": 1.0, "keyword": 2.0}, rrf_k=10)
    scores = {i: s for i, s, _ in fused}
    assert scores["a"] == pytest.approx(1 / 11 + 2 / 12)
    assert scores["b"] == pytest.approx(1 / 12)
    assert scores["c"] == pytest.approx(1 / 13 + 2 / 11)
    assert [i for i, _, _ in fused] == ["c", "a", "b"]
    evidence = dict((i, e) for i, _, e in fused)["c"]
    assert evidence == [ChannelHit("keyword", 1, 5.0, {"words": ["x"]}), ChannelHit("dense", 3, 0.7, {})]


def test_fuse_zero_weight_skips_a_channel_and_ties_are_deterministic():
    fused = fuse({"dense": [("b", 1.0, {}), ("a", 0.5, {})], "popularity": [("a", 1.0, {})],
                  "keyword": [("a", 1.0, {}), ("b", 1.0, {})]},
                 {"popularity": 0}, rrf_k=60)
    assert [i for i, _, _ in fused] == ["a", "b"]  # equal scores: both best rank 1, then id
    assert all(h.channel != "popularity" for _, _, e in fused for h in e)
    assert fuse({}, None, 60) == []
    assert [i for i, _, _ in fuse({"dense": [("x", 1, {}), ("y", 1, {})]}, {}, 60, limit=1)] == ["x"]


def test_fusion_file_round_trip_and_bad_file(tmp_path):
    assert load_fusion(tmp_path) is None
    save_fusion(tmp_path, {"dense": 1.5, "collab": 0.25}, {"recall@10": 0.3})
    assert load_fusion(tmp_path) == {"dense": 1.5, "collab": 0.25}
    (tmp_path / FUSION_FILE).write_text('{"weights": {"dense": -1}}')
    with pytest.warns(UserWarning, match="fusion.json"):
        assert load_fusion(tmp_path) is None
    with pytest.raises(ValueError):
        save_fusion(tmp_path, {"telepathy": 1.0}, {})


# ---- filters and keywords in memory ----------------------------------------------------------


def test_where_matches_follows_chroma_semantics():
    meta = {"price": 3, "genre": ["drama", "romance"], "title": "Up"}
    assert where_matches({"price": {"$lte": 3}}, meta)
    assert not where_matches({"price": {"$gt": 3}}, meta)
    assert where_matches({"$or": [{"price": 9}, {"genre": {"$contains": "drama"}}]}, meta)
    assert not where_matches({"$and": [{"price": 3}, {"genre": {"$not_contains": "drama"}}]}, meta)
    assert not where_matches({"year": {"$gte": 2000}}, meta)  # missing field never compares
    assert where_matches({"year": {"$ne": 2000}}, meta)
    with pytest.raises(InputError):
        where_matches({"price": {"$near": 3}}, meta)


def test_filters_are_normalised_for_chroma():
    assert normalise_where({"a": 1, "b": {"$gt": 2, "$lt": 5}}) == {
        "$and": [{"a": 1}, {"$and": [{"b": {"$gt": 2}}, {"b": {"$lt": 5}}]}]}
    assert normalise_where({}) is None
    assert adapt_to_lists({"genre": "drama"}, {"genre"}) == {"genre": {"$contains": "drama"}}
    assert adapt_to_lists({"genre": {"$in": ["a", "b"]}}, {"genre"}) == {
        "$or": [{"genre": {"$contains": "a"}}, {"genre": {"$contains": "b"}}]}
    assert adapt_to_lists({"year": 1999}, {"genre"}) == {"year": 1999}


def test_keyword_index_reads_titles_in_documents_without_boosting_them():
    # documents hold their titles, as the index writes them
    kw = KeywordIndex([("m1", "The Matrix", "The Matrix.\nA hacker learns the truth about reality."),
                       ("m2", "Reality Bites", "Reality Bites.\nFriends after college."),
                       ("m3", "Heat", "Heat.\nA thief and a detective; the matrix of crime.")])
    hits = {h[0]: h[2] for h in kw.find("something like the matrix please", 5)}
    assert hits == {"m1": {"words": ["matrix"], "title": True}, "m3": {"words": ["matrix"]}}
    assert [h[0] for h in kw.find("matrix", 5, keep=lambda i: i != "m1")] == ["m3"]
    # a word that happens to be a title is no stronger than the same word in a plot: the
    # film holding both words asked for comes first ("Weekend" used to)
    records = [("w", "Weekend", "Weekend.\nTwo strangers meet at a club and talk all night."),
               ("s", "Star Trek", "Star Trek.\nA crew explores outer space."),
               ("h", "Heat", "Heat.\nA thief and a detective.")]
    asked = "a space movie, he puts one on every weekend"
    assert [h[0] for h in KeywordIndex(records).find(asked, 5)] == ["s", "w"]
    assert [h[0] for h in KeywordIndex(records, title_boost=3.0).find(asked, 5)] == ["w", "s"]
    assert kw.find("", 5) == []

"""The fast paths of a search, each against the plain computation it replaces, on a slice
of the real ReDial movie catalog with the real MiniLM encoder and a collaborative model
fitted on the real dev dialogues:

- keyword and attribute channels filtered by one boolean mask (and cut to their best
  ``n`` by a partial sort) give what the per-id ``keep`` test and the full sort give;
- the ``similar`` channel, from the vectors held in memory, gives what Chroma's own
  vectors give;
- a dense search in memory, whichever route it takes (the whole table, the filter's rows,
  a projection then an exact pool), gives the filter's true nearest neighbours;
- the channels that run beside the query encoding give what they give inline.
"""

from __future__ import annotations

import random
from concurrent.futures import Future

import numpy as np
import pytest

from retrieval.channels import channel
from retrieval.filters import normalise_where
from retrieval.types import Query
from tests.movie_slice import movie_slice, movie_slice_index

N_MOVIES = 400
TEXTS = ["a funny horror movie with zombies", "romantic comedies from the nineties please",
         "something like star wars, space adventure", "a sad drama about a family",
         "animated movies for kids", "thriller with a twist ending", "anything with tom hanks"]
FILTERS = [{"genre": "horror"}, {"genre": "comedy"}, {"year": {"$gte": 1990}}, {"year": {"$lt": 1980}},
           {"genre": {"$in": ["drama", "war"]}, "year": {"$gte": 2000}}, {"genre": "no such genre"}]


@pytest.fixture(scope="module")
def movies(tmp_path_factory, shared_datasets):
    redial = shared_datasets / "redial"
    folder = tmp_path_factory.mktemp("movies")
    catalog, _, keep = movie_slice(folder, redial, N_MOVIES)
    return movie_slice_index(catalog, folder / "data", redial, keep)


def _where(index, where):
    from retrieval.filters import adapt_to_lists

    return adapt_to_lists(normalise_where(where), {n for n, f in index.fields().items() if f.type == "list"})


def _exact_reference(index, vector, where=None):
    """Every vector Chroma stores scored exactly against ``vector``, best first, ties in
    storage order, as ``(id, cosine)``; only items passing ``where`` (Chroma's own filter)."""
    col = index.store.collection("docs")
    stored = col.get(include=["embeddings"], where=where or None)
    matrix = np.asarray(stored["embeddings"], dtype=np.float32).reshape(len(stored["ids"]), -1)
    sims = matrix @ vector / np.linalg.norm(matrix, axis=1) / np.linalg.norm(vector)
    return [(stored["ids"][k], float(sims[k])) for k in np.argsort(-sims, kind="stable")]


def _keep(index, mask):
    row = index.columns().row
    return lambda i: i in row and bool(mask[row[i]])


def test_masked_keyword_and_attribute_channels_match_the_per_id_filter(movies):
    rng = random.Random(3)
    columns, keywords, attributes = movies.columns(), channel("keyword").structure(movies), channel("attribute").structure(movies)
    ids = columns.ids
    checked = 0
    for text in TEXTS:
        for where in FILTERS + [None]:
            mask = columns.mask(_where(movies, where)).copy()
            mask[[rng.randrange(len(ids)) for _ in range(5)]] = False  # some excluded ids
            for n in (5, 30, 100):
                # keep= takes the full sort and the per-id test: the reference
                assert keywords.find(text, n, allowed=mask) == keywords.find(text, n, keep=_keep(movies, mask))
                tiebreak = ids[::7]
                assert attributes.find(text, n, allowed=mask, tiebreak=tiebreak) == \
                    attributes.find(text, n, keep=_keep(movies, mask), tiebreak=tiebreak)
                checked += bool(keywords.find(text, n, allowed=mask))
    assert checked > 20  # the texts really found something


def test_attribute_partial_sort_keeps_ties_in_full_order_without_prior(movies):
    from retrieval.channels.attribute import AttributeIndex

    plain = AttributeIndex(movies.table())  # no popularity prior: ties by tiebreak, then catalog order
    ids = plain.ids
    for text in TEXTS:
        for tiebreak in (None, ids[::-3][:50]):
            full = plain.find(text, len(ids), tiebreak=tiebreak)
            for n in (1, 10, 60):
                assert plain.find(text, n, tiebreak=tiebreak) == full[:n]


def test_similar_from_memory_matches_an_exact_search_of_chromas_vectors(movies):
    col = movies.store.collection("docs")
    liked_sets = [movies.columns().ids[k:k + 3] for k in (0, 40, 200)] + [[movies.columns().ids[9], "unknown"]]
    for liked in liked_sets:
        hits = movies.channel_hits(Query(text="", liked=liked))["similar"]
        got = col.get(ids=[i for i in liked if i != "unknown"], include=["embeddings"])
        vector = np.mean(np.asarray(got["embeddings"], dtype=np.float32), axis=0)
        vector /= np.linalg.norm(vector)
        expected = [i for i, _ in _exact_reference(movies, vector) if i not in liked][:100]
        assert [i for i, _, _ in hits] == expected
        assert {d["liked"] for _, _, d in hits} == {got["ids"][0]}


ROUTES = {  # (FULL_SCAN_ROWS, GATHER_ROWS) forcing each route of VectorTable.nearest
    "full scan": (20_000, 5_000), "gathered rows": (0, 5_000), "two stages": (0, 0)}


@pytest.mark.parametrize("route", list(ROUTES))
def test_dense_search_in_memory_finds_the_true_nearest_matches(movies, monkeypatch, route):
    """Each route of the in-memory search against every vector Chroma stores for the items
    passing the filter (Chroma's own filter), scored exactly: the same items, in the same
    order, the same scores. The two-stage route re-scores a pool larger than this catalog
    here: exact too."""
    from retrieval import vectors as vectors_module

    full, gather = ROUTES[route]
    monkeypatch.setattr(vectors_module, "FULL_SCAN_ROWS", full)
    monkeypatch.setattr(vectors_module, "GATHER_ROWS", gather)
    encoder = movies.text_encoder()
    compared = 0
    for text in TEXTS[:4]:
        vector = encoder.encode([text])[0]
        for where in FILTERS[:5] + [None]:
            normalised = _where(movies, where) if where else None
            mask = movies.columns().mask(normalised)
            hits = movies.channel_hits(Query(text=text, where=where))["dense"]
            reference = _exact_reference(movies, vector, normalised)
            assert len(hits) == min(100, int(mask.sum()))
            assert [i for i, _, _ in hits] == [i for i, _ in reference][:len(hits)]
            assert [s for _, s, _ in hits] == pytest.approx([s for _, s in reference][:len(hits)], abs=1e-5)
            compared += len(hits)
    assert compared > 1000


def test_two_stage_search_keeps_most_of_the_true_nearest_and_scores_them_exactly(movies, monkeypatch):
    """With a pool smaller than the catalog the projection decides which rows are
    re-scored: most of the true 20 nearest must be among them, every score exact, the
    filter kept, best first."""
    from retrieval import vectors as vectors_module

    monkeypatch.setattr(vectors_module, "pool_size", lambda depth: 5 * depth)
    movies.columns()  # loads the table and its vectors
    table = vectors_module.VectorTable(movies.vectors().vectors.copy())
    monkeypatch.setattr(vectors_module, "FULL_SCAN_ROWS", 0)
    monkeypatch.setattr(vectors_module, "GATHER_ROWS", 0)
    encoder = movies.text_encoder()
    vectors = table.vectors
    overlaps = []
    for text in TEXTS:
        q = encoder.encode([text])[0]
        for where in (None, {"genre": "comedy"}, {"year": {"$gte": 1990}}):
            mask = movies.columns().mask(_where(movies, where) if where else None)
            found = table.nearest(q, 20, None if where is None else mask)
            sims = vectors @ q
            true = set(np.argsort(-np.where(mask, sims, -np.inf), kind="stable")[:20].tolist())
            assert len(found) == 20 and all(mask[r] for r, _ in found)
            assert [s for _, s in found] == pytest.approx([float(sims[r]) for r, _ in found], abs=1e-5)
            assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
            overlaps.append(len(true & {r for r, _ in found}) / 20)
    # 100 of 400 rows re-scored: a blind pool would hold a quarter of the true nearest
    assert np.mean(overlaps) >= 0.8, overlaps


def test_side_channels_in_a_thread_match_inline(movies, monkeypatch):
    class Inline:
        def submit(self, fn, *args):
            done = Future()
            done.set_result(fn(*args))
            return done

    queries = [Query(text=t, where=w, liked=movies.columns().ids[:2], k=20) for t in TEXTS[:3] for w in FILTERS[:3]]
    threaded = [movies.channel_hits(q) for q in queries]
    monkeypatch.setattr(movies, "_side_pool", lambda: Inline())
    inline = [movies.channel_hits(q) for q in queries]
    assert threaded == inline
    assert all(list(a) == list(b) for a, b in zip(threaded, inline, strict=True))  # same channel order


def test_an_error_in_a_side_channel_reaches_the_caller(movies, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("keyword channel broke")

    monkeypatch.setattr(channel("keyword").structure(movies), "find", broken)
    with pytest.raises(RuntimeError, match="keyword channel broke"):
        movies.channel_hits(Query(text="a funny horror movie"))


def test_largest_scores_are_the_partial_sorts(movies):
    """vectors.largest (threshold from a strided sample, then a small partial sort) picks
    the same positions as a full sort, with rows filtered out (-inf), with few rows left,
    and when the sample's threshold lets too few through (the full partial sort runs)."""
    from retrieval.vectors import largest

    columns = movies.columns()  # loads the table and its vectors
    matrix = movies.vectors().vectors
    encoder = movies.text_encoder()
    for text in TEXTS:
        sims = matrix @ encoder.encode([text])[0]
        for where in (None, {"genre": "comedy"}, {"genre": "horror"}, {"genre": "no such genre"}):
            mask = columns.mask(_where(movies, where) if where else None)
            scores = np.where(mask, sims, -np.inf).astype(np.float32)
            for k in (1, 5, 20, 24, 200, 400, 500):
                got = largest(scores, k)
                expected = np.argsort(-scores, kind="stable")[:min(k, len(scores))]
                assert len(got) == len(expected)
                # the same scores (positions may differ only among equal scores)
                assert sorted(scores[got].tolist()) == sorted(scores[expected].tolist())
    # the sample (every 50th of 4,000 for k=10) holds the single largest score: its
    # threshold passes only that one, so the full partial sort runs
    scores = np.arange(4000, dtype=np.float32) / 4000
    scores[0] = 10.0
    assert sorted(largest(scores, 10).tolist()) == [0] + list(range(3991, 4000))
    # and a sample that misses the large scores passes many: still exact
    scores = np.zeros(4000, dtype=np.float32)
    scores[1::2] = np.arange(2000, dtype=np.float32)
    assert sorted(largest(scores, 10).tolist()) == list(range(3981, 4001, 2))

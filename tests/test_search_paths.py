"""The fast paths of a search, each against the plain computation it replaces, on a slice
of the real ReDial movie catalog with the real MiniLM encoder and a collaborative model
fitted on the real dev dialogues:

- keyword and attribute channels filtered by one boolean mask (and cut to their best
  ``n`` by a partial sort) give what the per-id ``keep`` test and the full sort give;
- the ``similar`` channel, from the vectors held in memory, gives what Chroma's own
  vectors give;
- a filtered dense search, whichever way it is planned (exact in memory, an over-fetch
  sized to the filter, the exact fallback), gives the filter's true nearest neighbours;
- the channels that run beside the query encoding give what they give inline.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import Future

import numpy as np
import pytest

from retrieval import index as index_module
from retrieval.search import normalise_where
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
    from retrieval.search import adapt_to_lists

    return adapt_to_lists(normalise_where(where), {n for n, f in index.fields().items() if f.type == "list"})


def _keep(index, mask):
    row = index.columns().row
    return lambda i: i in row and bool(mask[row[i]])


def test_masked_keyword_and_attribute_channels_match_the_per_id_filter(movies):
    rng = random.Random(3)
    columns, keywords, attributes = movies.columns(), movies.keyword_index(), movies.attribute_index()
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
    from retrieval.search import AttributeIndex

    plain = AttributeIndex(movies.table())  # no popularity prior: ties by tiebreak, then catalog order
    ids = plain.ids
    for text in TEXTS:
        for tiebreak in (None, ids[::-3][:50]):
            full = plain.find(text, len(ids), tiebreak=tiebreak)
            for n in (1, 10, 60):
                assert plain.find(text, n, tiebreak=tiebreak) == full[:n]


def test_similar_from_memory_matches_chroma_vectors(movies):
    col = movies.store.collection("docs")
    liked_sets = [movies.columns().ids[k:k + 3] for k in (0, 40, 200)] + [[movies.columns().ids[9], "unknown"]]
    for liked in liked_sets:
        hits = movies.channel_hits(Query(text="", liked=liked))["similar"]
        got = col.get(ids=[i for i in liked if i != "unknown"], include=["embeddings"])
        vector = np.mean(np.asarray(got["embeddings"], dtype=np.float32), axis=0)
        vector /= np.linalg.norm(vector)
        expected = [i for i, _ in movies.store.query("docs", vector, 100 + len(liked)) if i not in liked][:100]
        assert [i for i, _, _ in hits] == expected
        assert {d["liked"] for _, _, d in hits} == {got["ids"][0]}


@pytest.mark.parametrize("exact_limit", [10_000, 0])
def test_filtered_dense_search_finds_the_true_nearest_matches(movies, monkeypatch, exact_limit):
    """exact_limit 0 forces the over-fetch plan (sized to the filter) and its exact
    fallback; on a catalog this small Chroma's filtered search is exact: the reference."""
    monkeypatch.setattr(index_module, "EXACT_LIMIT", exact_limit)
    encoder = movies.text_encoder()
    plans = Counter()
    for text in TEXTS[:4]:
        vector = encoder.encode([text])[0]
        for where in FILTERS[:5]:
            normalised = _where(movies, where)
            mask = movies.columns().mask(normalised)
            plan = movies._plan("docs", mask, 100, 60)
            plans["exact" if plan == "exact" else "over-fetch"] += 1
            hits = movies.channel_hits(Query(text=text, where=where))["dense"]
            reference = movies.store.query("docs", vector, 100, normalised)
            assert [i for i, _, _ in hits] == [i for i, _ in reference][:len(hits)]
            # exact: the whole depth; an over-fetch: at least the 60 the fusion needs
            assert len(hits) == min(100, int(mask.sum())) if plan == "exact" else len(hits) >= 60
            assert [s for _, s, _ in hits] == pytest.approx([s for _, s in reference][:len(hits)], abs=1e-5)
    assert plans["exact"] > 0 and (plans["over-fetch"] == 0) == bool(exact_limit)


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

    monkeypatch.setattr(movies.keyword_index(), "find", broken)
    with pytest.raises(RuntimeError, match="keyword channel broke"):
        movies.channel_hits(Query(text="a funny horror movie"))

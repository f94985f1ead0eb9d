"""The recommendation channels added for conversations about known items, on real data:
``attribute`` (the query names a genre / category), ``similar`` (documents nearest the
liked items') and ``collab_log`` (an outside interaction log, MovieLens, kept apart from
the catalog's own log). A slice of the ReDial movie catalog and the grocery demo catalog."""

from __future__ import annotations

import csv
import json

import pytest

from retrieval.channels import names
from retrieval.channels.attribute import AttributeIndex
from retrieval.channels.named import NamedValuesIndex
from retrieval.channels.shared import SharedValuesIndex
from retrieval.collab import CollabModel, read_interactions
from retrieval.convert import convert_movielens
from retrieval.index import CatalogIndex
from retrieval.settings import DEMO_CATALOG, Settings
from retrieval.text import words
from retrieval.types import Query
from tests.movie_slice import movie_slice, movie_slice_index

N_MOVIES = 150


@pytest.fixture(scope="module")
def redial(shared_datasets):
    return shared_datasets / "redial"


@pytest.fixture(scope="module")
def movies(tmp_path_factory, redial):
    """The ReDial movies mentioned most in the dev dialogues: catalog path, id2info, ids."""
    return movie_slice(tmp_path_factory.mktemp("movies"), redial, N_MOVIES)


@pytest.fixture(scope="module")
def movie_index(tmp_path_factory, movies, redial):
    """The movie slice with the real MiniLM encoder and, as its own log, the dev dialogues."""
    path, _, keep = movies
    return movie_slice_index(path, tmp_path_factory.mktemp("idx") / "data", redial, keep)


def test_new_channels_are_known_settings_channels():
    assert {"attribute", "similar", "collab_log", "shared", "named"} <= set(names())
    Settings.load(env={}, fusion_weights={"attribute": 0.5, "similar": 1.0, "collab_log": 2.0})


# ---- attribute ----------------------------------------------------------------------------


@pytest.mark.model
def test_attribute_index_matches_genres_whole_words_and_plurals(movie_index):
    attrs = AttributeIndex(movie_index.table())
    named = dict(attrs.named("any good comedies? or sci-fi, but no warm romantic stuff"))
    assert named[("comedy",)] == [("genre", "comedy")]
    assert named[("sci", "fi")] == [("genre", "sci-fi")]
    # "warm" does not name "war", "romantic" is not "romance": whole words only
    assert all(("genre", "war") not in v and ("genre", "romance") not in v for v in named.values())
    # casts and directors have hundreds of values: they are not attributes
    assert not attrs.named("Tom Hanks Steven Spielberg")


@pytest.mark.model
def test_attribute_hits_have_the_named_values_most_first_then_prior(movie_index):
    table = movie_index.table()
    attrs = AttributeIndex(table)
    hits = attrs.find("a fun adventure movie, maybe an action adventure", 100)
    assert hits and all("adventure" in table[i]["genre"] for i, _, _ in hits
                        if "action" not in table[i]["genre"])
    both = [i for i in table if {"action", "adventure"} <= set(table[i]["genre"])]
    assert both, "the slice should hold action adventures"
    assert {i for i, _, _ in hits[:len(both)]} == set(both)
    assert sorted(hits[0][2]["values"]) == ["genre=action", "genre=adventure"]
    # within the same number of values, the prior decides
    horror = [i for i in table if "horror" in table[i]["genre"] and "comedy" not in table[i]["genre"]]
    attrs.set_prior(list(reversed(horror)))
    only = [i for i, _, _ in attrs.find("horror", 100) if "comedy" not in table[i]["genre"]]
    assert only == list(reversed(horror))


@pytest.mark.model
def test_attribute_channel_in_search_ranks_by_popularity(movie_index):
    table = movie_index.table()
    hits = movie_index.channel_hits(Query(text="I would love a good comedy"))["attribute"]
    assert hits and all("comedy" in table[i]["genre"] for i, _, _ in hits)
    pop = movie_index.collab_model().pop_ids
    ranks = [pop.index(i) for i, _, _ in hits if i in pop]
    assert ranks == sorted(ranks)
    assert movie_index.channel_hits(Query(text="hello there"))["attribute"] == []


def test_attribute_channel_on_grocery_categories(tmp_path):
    if not DEMO_CATALOG.is_file():
        pytest.skip(f"demo catalog {DEMO_CATALOG} not built yet")
    items = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines() if line.strip()]
    table = {it["id"]: {"title": it["title"], **it.get("attributes", {})} for it in items}
    hits = AttributeIndex(table).find("which apples do you have?", 50)
    apples = {i for i, meta in table.items() if meta.get("category") == "Apple"}
    assert apples and {i for i, _, _ in hits} >= apples
    assert {i for i, _, _ in hits[:len(apples)]} == apples


# ---- similar ------------------------------------------------------------------------------


@pytest.mark.model
def test_similar_channel_finds_content_neighbours_without_the_seeds(movie_index):
    table = movie_index.table()
    # chosen by id, not by storage order (which follows the ingest's batching)
    seeds = sorted(i for i, m in table.items() if "animation" in m.get("genre", []))[:3]
    hits = movie_index.channel_hits(Query(liked=seeds, exclude=set(seeds[:1])))["similar"]
    ids = [i for i, _, _ in hits]
    assert ids and not set(seeds) & set(ids)
    assert len(ids) == len(set(ids)) <= movie_index.settings.channel_depth
    # more like these: animated films are far more frequent among the nearest documents
    # than in the catalog
    top = ids[:10]
    share = sum("animation" in m.get("genre", []) for m in table.values()) / len(table)
    assert sum("animation" in table[i].get("genre", []) for i in top) / len(top) >= max(3 * share, 0.3)
    assert hits[0][2]["liked"] in seeds
    scores = [s for _, s, _ in hits]
    assert scores == sorted(scores, reverse=True)
    assert "similar" not in movie_index.channel_hits(Query(text="anything"))


# ---- collab_log ---------------------------------------------------------------------------


@pytest.mark.model
def test_collab_log_from_movielens_is_a_separate_model(movie_index, movies, shared_datasets, tmp_path):
    _, id2info, keep = movies
    ml = shared_datasets / "movielens-small"
    out = convert_movielens(ml / "ratings.csv", ml / "links.csv", id2info, tmp_path / "ml.csv")
    assert out.rows > 1000
    log = CollabModel.fit(read_interactions(out.path), keep, min_rating=4.0)
    assert log.meta["min_rating"] == 4.0 and len(log) > 50
    # saved under its own name beside the index; the catalog's own model is untouched
    index_dir = movie_index.settings.index_dir
    log.save(index_dir, "collab_log")
    assert (index_dir / "collab_log.npz").is_file() and not (index_dir / "collab.npz").exists()
    loaded = CollabModel.load(index_dir, "collab_log")
    assert loaded.item_ids == log.item_ids
    with pytest.raises(ValueError, match="unknown collaborative model name"):
        CollabModel.load(index_dir, "other")
    reopened = CatalogIndex.open(movie_index.settings, movie_index.hub)
    seed = log.item_ids[0]
    hits = reopened.channel_hits(Query(liked=[seed], exclude={seed}))
    assert "collab_log" in hits and "collab" not in hits  # no catalog log saved
    assert [i for i, _, _ in hits["collab_log"]] == [i for i, _, _ in log.neighbours([seed], 100)][:len(hits["collab_log"])]
    assert all(d["liked"] == seed for _, _, d in hits["collab_log"])
    reopened.use_collab_model(None, channel="collab_log")
    assert "collab_log" not in reopened.channel_hits(Query(liked=[seed]))
    with pytest.raises(ValueError):
        reopened.use_collab_model(None, channel="dense")
    with (tmp_path / "ml.csv").open() as f:
        assert next(csv.reader(f)) == ["user", "item", "rating"]


@pytest.mark.model
def test_search_fuses_every_new_channel_with_evidence(movie_index):
    table = movie_index.table()
    seeds = [i for i, m in table.items() if "horror" in m.get("genre", [])][:2]
    found = movie_index.search(Query(text="I want another horror film", liked=seeds, exclude=set(seeds), k=20))
    assert found and not set(seeds) & {c.id for c in found}
    channels = {h.channel for c in found for h in c.evidence}
    assert {"attribute", "similar", "collab"} <= channels
    assert sum("horror" in c.metadata.get("genre", []) for c in found[:10]) >= 5
    assert movie_index.stats()["channels"]["attribute"] is True


# ---- shared -------------------------------------------------------------------------------


def _values(meta: dict) -> set[tuple[str, str]]:
    out = set()
    for key, value in meta.items():
        if key in ("title", "image", "content_hash") or isinstance(value, bool):
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str):
                out.add((key, v))
    return out


@pytest.mark.model
def test_shared_channel_scores_rare_shared_values_by_idf(movie_index):
    import math
    from collections import Counter

    import numpy as np

    table = movie_index.table()
    held = Counter(v for meta in table.values() for v in _values(meta))
    n = len(table)
    # a director with at least three films in the slice: the others must come first
    director = next(d for (k, d), c in held.most_common() if k == "director" and c >= 3)
    films = sorted(i for i, m in table.items() if director in m.get("director", []))
    seed = films[0]
    index = SharedValuesIndex(table)
    hits = index.find([seed], 100)
    ids = [i for i, _, _ in hits]
    assert seed not in ids
    assert set(films[1:]) <= set(ids)
    for item_id, score, detail in hits:
        # the score is the idf of the values it shares with the seed, common ones left out
        shared = [v for v in _values(table[item_id]) & _values(table[seed])
                  if 2 <= held[v] <= 0.05 * n and not any(c.isdigit() for c in v[1])]
        assert score == pytest.approx(sum(math.log(n / held[v]) for v in shared))
        assert detail["liked"] == seed and detail["values"]
        assert all(held[tuple(label.split("=", 1))] <= 0.05 * n for label in detail["values"])
    assert [s for _, s, _ in hits] == sorted((s for _, s, _ in hits), reverse=True)
    # a genre most of the slice has is too common to share; a filter is applied
    common = {f"genre={g}" for (k, g), c in held.items() if k == "genre" and c > 0.05 * n}
    assert common and not common & {v for _, _, d in hits for v in d["values"]}
    allowed = np.array([meta.get("year", 0) >= 2000 for meta in table.values()])  # rows in table order
    assert all(table[i]["year"] >= 2000 for i, _, _ in index.find([seed], 100, allowed=allowed))
    assert index.find(["not-an-id"], 10) == []


def test_shared_channel_on_grocery_shares_brands_and_origins_not_sizes():
    if not DEMO_CATALOG.is_file():
        pytest.skip(f"demo catalog {DEMO_CATALOG} not built yet")
    items = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines() if line.strip()]
    table = {it["id"]: {"title": it["title"], **it.get("attributes", {})} for it in items}
    index = SharedValuesIndex(table)
    oatly = sorted(i for i, m in table.items() if m.get("manufacturer") == "Oatly")
    assert len(oatly) >= 2
    hits = index.find(oatly[:1], 10)
    assert set(oatly[1:]) <= {i for i, _, _ in hits}
    assert "manufacturer=Oatly" in hits[0][2]["values"]
    # two products of the same size are not alike for it
    sizes = {}
    for i, m in table.items():
        sizes.setdefault(m.get("size"), []).append(i)
    pair = next(ids for size, ids in sizes.items() if size and len(ids) == 2)
    assert not any(label.startswith("size=") for _, _, d in index.find(pair[:1], 50) for label in d["values"])


@pytest.mark.model
def test_shared_channel_in_search_ties_follow_popularity_and_explain(movie_index):
    from assistant.explain import reason_from_evidence

    table = movie_index.table()
    pop = movie_index.collab_model().pop_ids
    seeds = pop[:2]
    hits = movie_index.channel_hits(Query(liked=seeds, exclude=set(seeds)))["shared"]
    assert hits and not set(seeds) & {i for i, _, _ in hits}
    # equal scores are ordered by the popularity prior
    for (a, sa, _), (b, sb, _) in zip(hits, hits[1:], strict=False):
        if sa == sb and a in pop and b in pop:
            assert pop.index(a) < pop.index(b)
    assert "shared" not in movie_index.channel_hits(Query(text="anything"))
    found = movie_index.search(Query(liked=seeds, exclude=set(seeds), k=50))
    shared = next(c for c in found if any(h.channel == "shared" for h in c.evidence))
    detail = next(h.detail for h in shared.evidence if h.channel == "shared")
    reason = reason_from_evidence(shared, "", [], {i: m["title"] for i, m in table.items()})
    field, value = detail["values"][0].split("=", 1)
    assert f"same {field} ({value})" in reason and table[detail["liked"]]["title"] in reason


# ---- named --------------------------------------------------------------------------------


@pytest.mark.model
def test_named_channel_finds_the_people_a_message_names(movie_index):
    from collections import Counter

    table = movie_index.table()
    stars = Counter(s for m in table.values() for s in m.get("star", []))
    star = next(s for s, c in stars.most_common() if c >= 2 and len(s.split()) == 2)
    directors = Counter(d for m in table.values() for d in m.get("director", []))
    director = next(d for d, c in directors.most_common() if len(d.split()) >= 2)
    index = NamedValuesIndex(table)
    # whole words, any case, punctuation around; a first name alone names nobody
    message = f"anything with {star.upper()}? or by {director.lower()}!"
    assert set(index.named(message)) == {tuple(words(star)), tuple(words(director))}
    assert index.find(f"anything with {star.split()[0]}?", 10) == []
    hits = index.find(message, 100)
    having = {i for i, m in table.items() if star in m.get("star", []) or director in m.get("director", [])}
    assert {i for i, _, _ in hits} == having
    both = {i for i, m in table.items() if star in m.get("star", []) and director in m.get("director", [])}
    assert {i for i, _, _ in hits[:len(both)]} == both
    for item_id, score, detail in hits:
        labels = {f"star={star}", f"director={director}"} & set(detail["values"])
        assert len(labels) == score and all(label.split("=", 1)[1] in table[item_id].get(label.split("=")[0], [])
                                            for label in labels)
    # genres have few values: the attribute channel's, not names
    assert not index.named("a sci-fi movie, a romantic comedy")


@pytest.mark.model
def test_named_channel_ignores_accents_and_follows_the_prior(movie_index):
    from assistant.explain import reason_from_evidence

    table = {"a": {"title": "A", "star": ["Penélope Cruz"]}, "b": {"title": "B", "star": ["Penélope Cruz"]},
             "c": {"title": "C", "star": ["Javier Bardem"]}}
    index = NamedValuesIndex(table, min_values=1)
    assert [i for i, _, _ in index.find("films with penelope cruz", 5)] == ["a", "b"]
    index.set_prior(["b", "a"])
    assert [i for i, _, _ in index.find("films with penelope cruz", 5)] == ["b", "a"]
    # in search, with evidence and a reason naming it
    pop = movie_index.collab_model().pop_ids
    star = next(s for s in movie_index.table()[pop[0]].get("star", []) if len(s.split()) >= 2)
    found = movie_index.search(Query(text=f"I am a big fan of {star}", k=20))
    named = [c for c in found if any(h.channel == "named" for h in c.evidence)]
    assert named and all(star in c.metadata.get("star", []) for c in named)
    reason = reason_from_evidence(named[0], "", [], {})
    assert f"star ({star}) you named" in reason


# ---- the assistant does not spend slots on items already talked about ----------------------


@pytest.mark.model
def test_assistant_excludes_items_mentioned_earlier_but_not_named_now(movie_index, monkeypatch):
    from assistant import Recommender
    from assistant.chat import Chat
    from assistant.state import SessionState

    queries = []
    search = movie_index.search
    monkeypatch.setattr(movie_index, "search", lambda q: queries.append(q) or search(q))
    settings = movie_index.settings.replace(enable_llm=False, candidate_count=20, top_k=10)
    rec = Recommender.from_settings(settings, index=movie_index, hub=movie_index.hub)
    table = movie_index.table()
    seed = movie_index.collab_model().pop_ids[0]
    genre = table[seed]["genre"][0]
    title = table[seed]["title"].rsplit(" (", 1)[0]
    # the user talked about it in an earlier message (it is not something we recommended)
    state = SessionState(messages=[{"role": "user", "content": f"I saw {title} last week"}])
    state.mention(seed)
    chat = Chat.from_state(rec, state)
    again = chat.send(f"any {genre} movies?")
    assert seed in queries[-1].exclude and seed in queries[-1].liked
    assert again.items and seed not in {r.id for r in again.items}
    # named in this message it is a request by name: no longer excluded
    chat.send(f"do you have {title}?")
    assert seed not in queries[-1].exclude
    chat.send(f"I want {title}")
    assert seed not in queries[-1].exclude
    # ... unless the message says the user knows it already
    for said in (f"I watched {title} yesterday, any other {genre} film?", f"{title} was great, more please",
                 f"I like {title}", f"something like {title}?"):
        chat.send(said)
        assert seed in queries[-1].exclude, said


@pytest.mark.model
def test_prepare_builds_the_lazy_parts_and_changes_no_result(movie_index):
    reopened = CatalogIndex.open(movie_index.settings, movie_index.hub)
    reopened.use_collab_model(movie_index.collab_model())
    structures = ("keyword", "attribute", "shared", "named")  # what the channels build
    assert reopened._table is None and not reopened._built
    reopened.prepare()
    built = (reopened._table, *(reopened._built.get(name) for name in structures), reopened._fields)
    assert all(part is not None for part in built)
    # the same index opened again, without prepare: the same results, built lazily
    lazy = CatalogIndex.open(movie_index.settings, movie_index.hub)
    lazy.use_collab_model(movie_index.collab_model())
    pop = movie_index.collab_model().pop_ids
    query = Query(text="a comedy with Tom Hanks", liked=pop[:2], exclude=set(pop[:2]), k=20)
    found = [c.id for c in reopened.search(query)]
    assert found and found == [c.id for c in lazy.search(query)]
    # the search used what prepare built: nothing was rebuilt
    assert all(a is b for a, b in zip(built, (reopened._table, *(reopened._built[name] for name in structures),
                                              reopened._fields), strict=True))

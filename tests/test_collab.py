"""The collaborative model: a hand-made log with known neighbours, and a real MovieLens slice."""

import csv
import json
import time

import numpy as np
import pytest

from retrieval.collab import CollabModel, read_interactions
from retrieval.errors import CatalogError

# two tastes: A and B always together, C and D always together; E alone with A once
LOG = [
    ("u1", "A", 5), ("u1", "B", 4),
    ("u2", "A", 4), ("u2", "B", 5),
    ("u3", "A", 5), ("u3", "B", 5), ("u3", "E", 1),
    ("u4", "C", 4), ("u4", "D", 4),
    ("u5", "C", 5), ("u5", "D", 3),
    ("u6", "C", 4), ("u6", "D", 5), ("u6", "X", 5),  # X is not in the catalog
]
CATALOG = {"A", "B", "C", "D", "E", "F"}


def test_known_neighbours_and_seed():
    model = CollabModel.fit(LOG, CATALOG, lam=1.0, min_count=1)
    assert model.neighbours(["A"], 1)[0][:1] == ("B",)
    assert model.neighbours(["C"], 1)[0][0] == "D"
    # seeds are never returned; each hit names the seed that contributed most
    both = model.neighbours(["A", "C"], 10)
    ids = [i for i, _, _ in both]
    assert "A" not in ids and "C" not in ids
    assert dict((i, seed) for i, _, seed in both)["B"] == "A"
    assert dict((i, seed) for i, _, seed in both)["D"] == "C"
    # items of the other taste are not neighbours (EASE weight <= 0 is dropped)
    assert "C" not in [i for i, _, _ in model.neighbours(["A"], 10)]
    assert model.neighbours(["unknown"], 5) == []
    assert model.neighbours([], 5) == []


def test_popularity_counts_users_and_ignores_outside_items():
    model = CollabModel.fit(LOG, CATALOG, min_count=1)
    pop = model.popular(10)
    assert [i for i, _ in pop][:4] == ["A", "B", "C", "D"]
    assert pop[0][1] == pytest.approx(3 / 6)  # 3 of 6 users
    assert "X" not in [i for i, _ in pop] and "F" not in [i for i, _ in pop]
    assert model.meta["users"] == 6 and model.meta["items_seen"] == 5


def test_min_count_and_min_rating():
    model = CollabModel.fit(LOG, CATALOG, min_count=2)
    assert "E" not in model.item_ids  # one interaction: no neighbours, still popular
    assert "E" in [i for i, _ in model.popular(10)]
    liked = CollabModel.fit(LOG, CATALOG, min_count=1, min_rating=3)
    assert "E" not in [i for i, _ in liked.popular(10)]  # rated 1


def test_save_load_round_trip(tmp_path):
    assert CollabModel.load(tmp_path) is None
    model = CollabModel.fit(LOG, CATALOG, lam=1.0, min_count=1)
    model.save(tmp_path)
    again = CollabModel.load(tmp_path)
    assert again.neighbours(["A", "C"], 10) == model.neighbours(["A", "C"], 10)
    assert again.popular(10) == model.popular(10)
    assert json.loads((tmp_path / "collab.json").read_text())["method"] == "ease"
    (tmp_path / "collab.npz").write_bytes(b"not a model")
    with pytest.raises(CatalogError, match="collab.npz"):
        CollabModel.load(tmp_path)


def test_no_overlap_is_a_clear_error():
    with pytest.raises(CatalogError, match="none of the 2 catalog items"):
        CollabModel.fit([("u", "zz", None)], {"a", "b"})


def test_read_interactions(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item,rating\nu1,A,4.5\nu2,B,\n")
    assert read_interactions(path) == [("u1", "A", 4.5), ("u2", "B", None)]
    path.write_text("u1,A,good\n")
    with pytest.raises(CatalogError, match="log.csv:1"):
        read_interactions(path)


def test_real_movielens_slice(shared_datasets):
    """MovieLens ratings of 200 users mapped to ReDial ids: the sequels find each other."""
    info = json.loads((shared_datasets / "redial" / "movies_id2info.json").read_text())
    imdb = {}
    for movie_id, entry in info.items():
        imdb.setdefault(entry.get("imdb_id"), movie_id)
    with (shared_datasets / "movielens-small" / "links.csv").open() as f:
        ml_to_redial = {r["movieId"]: imdb["tt" + r["imdbId"].zfill(7)]
                        for r in csv.DictReader(f) if "tt" + r["imdbId"].zfill(7) in imdb}
    rows = []
    with (shared_datasets / "movielens-small" / "ratings.csv").open() as f:
        for r in csv.DictReader(f):
            if int(r["userId"]) > 200:
                break
            if r["movieId"] in ml_to_redial:
                rows.append((r["userId"], ml_to_redial[r["movieId"]], float(r["rating"])))
    start = time.perf_counter()
    model = CollabModel.fit(rows, set(info), min_count=5)
    assert time.perf_counter() - start < 30
    empire, jedi, star_wars = "197690", "94852", imdb["tt0076759"]
    top = [i for i, _, _ in model.neighbours([empire], 10)]
    assert jedi in top and star_wars in top
    toy_story, toy_story_2 = "80067", "75881"
    assert toy_story_2 in [i for i, _, _ in model.neighbours([toy_story], 10)]
    assert np.all(np.diff([s for _, s, _ in model.neighbours([empire], 50)]) <= 0)

"""Dataset converters on the real shared datasets."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest

from retrieval.catalog import read_catalog
from retrieval.convert import convert_grocery, convert_movielens, convert_redial_movies
from retrieval.errors import CatalogError, InputError


def test_grocery_gives_81_items_with_images(tmp_path: Path, shared_datasets: Path):
    result = convert_grocery(shared_datasets / "grocery", tmp_path / "out")
    assert result.rows == 81 and result.notes == []
    assert result.path == tmp_path / "out" / "grocery.jsonl"

    read = read_catalog(result.path)
    assert read.problems == []
    items = {i.id: i for i in read.items}
    assert len(items) == 81
    assert all(i.image is not None and i.image.is_file() for i in items.values())
    golden = items["Golden-Delicious"]
    assert golden.title == "Apple Golden Delicious Class 1"
    assert golden.description == ("Golden Delicious has a white juicy pulp and a greenish yellow shell. "
                                  "The taste is mellow and sweet, making Golden Delicious suitable for desserts.")
    assert golden.attributes == {"category": "Apple", "group": "Fruit", "origin": "Italy", "size": "ca 180g"}
    assert golden.image == (tmp_path / "out" / "images" / "Golden-Delicious.jpg").resolve()
    src = shared_datasets / "grocery/iconic-images-and-descriptions/Fruit/Apple/Golden-Delicious/Golden-Delicious_Iconic.jpg"
    assert golden.image.read_bytes() == src.read_bytes()
    # the information file of Granny-Smith starts with a byte-order mark
    assert items["Granny-Smith"].title == "Apple Granny Smith Class 1"
    # Cabbage's information file is named Cabbage-Information.txt
    assert items["Cabbage"].title == "Cabbage White Import Class 1"
    milk = items["Arla-Standard-Milk"].attributes
    assert milk == {"category": "Milk", "group": "Packages", "manufacturer": "Arla Ko", "size": "1l",
                    "origin": "Sweden"}
    assert {i.attributes["group"] for i in items.values()} == {"Fruit", "Vegetables", "Packages"}
    assert all(i.description for i in items.values())
    # image paths in the file are relative, so the folder can move
    first = json.loads(result.path.read_text(encoding="utf-8").splitlines()[0])
    assert first["image"] == "images/Golden-Delicious.jpg"


def test_grocery_without_classes_csv(tmp_path: Path):
    with pytest.raises(CatalogError, match="classes.csv"):
        convert_grocery(tmp_path, tmp_path / "out")


def test_shipped_demo_catalog_matches_the_converter(tmp_path: Path, shared_datasets: Path):
    from retrieval.settings import DEMO_CATALOG

    result = convert_grocery(shared_datasets / "grocery", tmp_path)
    assert result.path.read_text(encoding="utf-8") == DEMO_CATALOG.read_text(encoding="utf-8")
    assert (DEMO_CATALOG.parent / "LICENSE").read_text().startswith("MIT License")


def test_redial_movies_cover_every_mentioned_movie(tmp_path: Path, shared_datasets: Path):
    redial = shared_datasets / "redial"
    result = convert_redial_movies(redial / "movies_id2info.json", tmp_path / "movies.jsonl",
                                   mentions_csv=redial / "movies_with_mentions.csv")
    assert result.rows == 6924
    assert result.counts == {"with_info": 6583, "title_only": 341}
    read = read_catalog(result.path)
    assert read.problems == []
    items = {i.id: i for i in read.items}
    assert len(items) == 6924
    pari = items["100026"]
    assert pari.title == "Pari (1995)"
    assert pari.description.startswith("Haunted by a book found in her dead brother's room")
    assert pari.attributes == {"year": 1995, "genre": ["drama", "romance"], "director": ["Dariush Mehrjui"],
                               "writer": ["J.D. Salinger", "Dariush Mehrjui"],
                               "star": ["Niki Karimi", "Khosro Shakibai", "Ali Mosaffa"],
                               "imdb_id": "tt0114092"}
    # no year in the name: no year attribute rather than a guess
    assert "year" not in items["100043"].attributes
    assert items["100043"].attributes["genre"] == ["adventure", "comedy", "sci-fi"]
    # movies only in movies_with_mentions.csv: title (URL-unquoted, spaces collapsed) and year
    mentions = {}
    with (redial / "movies_with_mentions.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            mentions[row["movieId"]] = row["movieName"]
    title_only = [i for i in items.values() if "imdb_id" not in i.attributes]
    assert len(title_only) == 341
    assert all(i.description == "" and set(i.attributes) <= {"year"} for i in title_only)
    headhunter = items["75796"]
    assert mentions["75796"] == "Headhunter  (2009)"
    assert headhunter.title == "Headhunter (2009)" and headhunter.attributes == {"year": 2009}
    assert not any("%3F" in i.title or "%22" in i.title for i in items.values())
    assert sum(1 for i in items.values() if "year" in i.attributes) > 6000
    assert all(isinstance(i.attributes.get("year", 0), int) for i in items.values())


def test_redial_movies_without_mentions_and_bad_output(tmp_path: Path, shared_datasets: Path):
    info = shared_datasets / "redial" / "movies_id2info.json"
    assert convert_redial_movies(info, tmp_path / "m.jsonl").rows == 6583
    with pytest.raises(InputError, match=r"\.jsonl"):
        convert_redial_movies(info, tmp_path / "m.csv")
    with pytest.raises(CatalogError, match="does not exist"):
        convert_redial_movies(tmp_path / "missing.json", tmp_path / "m.jsonl")


def test_movielens_ratings_map_to_redial_ids(tmp_path: Path, shared_datasets: Path):
    ml = shared_datasets / "movielens-small"
    info_path = shared_datasets / "redial" / "movies_id2info.json"
    # a slice of the real ratings keeps the test quick
    ratings = tmp_path / "ratings.csv"
    with (ml / "ratings.csv").open(encoding="utf-8") as f:
        ratings.write_text("".join(itertools.islice(f, 3001)), encoding="utf-8")

    result = convert_movielens(ratings, ml / "links.csv", info_path, tmp_path / "log" / "ml.csv")
    assert 0 < result.rows < 3000
    assert result.rows + result.counts["dropped_ratings"] == 3000
    with result.path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["user", "item", "rating"] and len(rows) == result.rows
    info = json.loads(info_path.read_text(encoding="utf-8"))
    assert all(r["item"] in info for r in rows)
    # MovieLens movie 1 is Toy Story, imdbId 0114709 -> tt0114709
    toy_story = {k for k, v in info.items() if v["imdb_id"] == "tt0114709"}
    first = rows[0]
    assert first == {"user": "1", "item": min(toy_story, key=int), "rating": "4.0"}
    assert info[first["item"]]["name"].startswith("Toy Story")


def test_movielens_with_no_overlap_is_an_error(tmp_path: Path, shared_datasets: Path):
    ml = shared_datasets / "movielens-small"
    links = tmp_path / "links.csv"
    links.write_text("movieId,imdbId,tmdbId\n1,9999999,1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="matched"):
        convert_movielens(ml / "ratings.csv", links, shared_datasets / "redial" / "movies_id2info.json",
                          tmp_path / "out.csv")

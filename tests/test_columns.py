"""``retrieval.columns``: a filter evaluated over the whole table at once must give, row by
row, exactly what :func:`retrieval.filters.where_matches` gives. Checked on the real ReDial
movie catalog (years, genre and star lists, directors) and the grocery demo catalog, with
filters drawn from their own values, plus a few hand-made rows for the type corners real
catalogs rarely hit (bools next to ints, mixed lists, missing fields)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from retrieval.catalog import read_catalog
from retrieval.columns import Columns
from retrieval.convert import convert_redial_movies
from retrieval.errors import InputError
from retrieval.filters import adapt_to_lists, normalise_where, where_matches
from retrieval.settings import DEMO_CATALOG
from retrieval.store import to_metadata

N_MOVIES = 1500
OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$not_contains")


def _metas(items):
    return [{**to_metadata(it.attributes), "title": it.title, "image": "", "content_hash": "x"} for it in items]


@pytest.fixture(scope="module")
def movies(tmp_path_factory, shared_datasets):
    info = json.loads((shared_datasets / "redial" / "movies_id2info.json").read_text(encoding="utf-8"))
    keep = dict(list(info.items())[:N_MOVIES])
    folder = tmp_path_factory.mktemp("movies")
    (folder / "id2info.json").write_text(json.dumps(keep), encoding="utf-8")
    convert_redial_movies(folder / "id2info.json", folder / "movies.jsonl")
    items = read_catalog(folder / "movies.jsonl").items
    return [it.id for it in items], _metas(items)


@pytest.fixture(scope="module")
def grocery():
    items = read_catalog(DEMO_CATALOG).items
    return [it.id for it in items], _metas(items)


def _targets(metas, key):
    values = []
    for m in metas:
        v = m.get(key)
        values.extend(v if isinstance(v, list) else [v] if v is not None else [])
    return values


def _random_filter(rng, metas, keys, depth=0):
    if depth < 2 and rng.random() < 0.25:
        join = rng.choice(["$and", "$or"])
        return {join: [_random_filter(rng, metas, keys, depth + 1) for _ in range(rng.randint(1, 3))]}
    key = rng.choice(keys)
    values = _targets(metas, key) or ["nothing"]
    op = rng.choice(OPS)
    pick = rng.choice(values)
    if op in ("$in", "$nin"):
        target = [rng.choice(values) for _ in range(rng.randint(1, 3))] + (["absent"] if rng.random() < 0.3 else [])
    elif op in ("$contains", "$not_contains") and isinstance(pick, str) and len(pick) > 3 and rng.random() < 0.5:
        start = rng.randrange(len(pick) - 2)
        target = pick[start:start + rng.randint(1, 3)]  # a substring of a text value
    elif op in ("$gt", "$gte", "$lt", "$lte") and rng.random() < 0.2:
        target = rng.choice(["1999", True, 2.5])  # non-numbers: nothing compares
    else:
        target = pick
    return {key: {op: target}} if rng.random() < 0.8 or op != "$eq" else {key: target}


def _check(ids, metas, filters):
    columns = Columns(ids, metas)
    for where in filters:
        expected = np.array([where_matches(where, m) for m in metas])
        got = columns.mask(where)
        assert np.array_equal(got, expected), (where, int(got.sum()), int(expected.sum()))
        assert np.array_equal(columns.mask(where), expected)  # the cached mask too


@pytest.mark.parametrize("catalog", ["movies", "grocery"])
def test_masks_match_where_matches_on_real_catalogs(catalog, request):
    ids, metas = request.getfixturevalue(catalog)
    keys = sorted({k for m in metas for k in m if k not in ("content_hash", "image")}) + ["no_such_field"]
    rng = random.Random(7)
    filters = [_random_filter(rng, metas, keys) for _ in range(300)]
    list_fields = {k for m in metas for k, v in m.items() if isinstance(v, list)}
    # the filters the index really evaluates: normalised, list equality as membership
    filters += [adapt_to_lists(normalise_where(f), list_fields) for f in filters[:150]]
    _check(ids, metas, filters)


def test_masks_match_on_type_corners():
    metas = [
        {"n": 1, "flag": True, "tags": ["a", "b"], "mixed": ["x", 3, 2.5]},
        {"n": 1.0, "flag": 1, "tags": ["b"], "mixed": "x-ray"},
        {"n": True, "flag": False, "tags": [], "mixed": 3},
        {"n": 2 ** 60, "tags": ["a"]},
        {"n": -4.5, "flag": 0, "mixed": [True, 1]},
        {},
    ]
    ids = [f"r{i}" for i in range(len(metas))]
    filters = [{"n": {op: t}} for op in OPS if op not in ("$in", "$nin")
               for t in (1, 1.0, True, 0, 2 ** 60, -4.5, "1", None)]
    filters += [{k: {op: [1, "a", True]}} for k in ("n", "flag", "tags", "mixed") for op in ("$in", "$nin")]
    filters += [{k: {op: t}} for k in ("tags", "mixed", "flag", "missing") for op in OPS
                if op not in ("$in", "$nin") for t in ("a", "x", 3, True, 2.5)]
    filters += [{"$and": []}, {"$or": []}, {"n": {}}, {"tags": ["a"]},
                {"n": 1, "tags": {"$contains": "a"}}, {"mixed": {"$eq": ["x", 3, 2.5]}}]
    _check(ids, metas, filters)


def test_unknown_operator_is_an_input_error(grocery):
    ids, metas = grocery
    with pytest.raises(InputError, match=r"\$like"):
        Columns(ids, metas).mask({"category": {"$like": "App"}})


def test_mask_cache_is_bounded_and_masks_are_read_only(grocery):
    from retrieval import columns as module

    ids, metas = grocery
    columns = Columns(ids, metas)
    for year in range(module.MASK_CACHE + 10):
        columns.mask({"category": f"c{year}"})
    assert len(columns._masks) == module.MASK_CACHE
    mask = columns.mask({"category": "Apple"})
    assert not mask.flags.writeable and 0 < mask.sum() < len(ids)

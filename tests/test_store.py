"""The ChromaDB store: model recorded per collection, batched writes, hashes in one call,
list metadata, names prefixed by the index."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.errors import IndexMismatch
from retrieval.store import Store, to_metadata


def vectors(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_collection_records_its_model_and_refuses_another(settings):
    store = Store(settings)
    assert store.collection("docs") is None
    store.collection("docs", "enc-a", 8, create=True)
    assert store.model_of("docs") == ("enc-a", 8)
    reopened = Store(settings)
    reopened.collection("docs", "enc-a", 8)  # same model: fine
    with pytest.raises(IndexMismatch) as err:
        reopened.collection("docs", "enc-b", 16)
    message = str(err.value)
    assert "'enc-a'" in message and "'enc-b'" in message
    assert "--reindex" in message and str(settings.index_dir) in message


def test_names_are_prefixed_by_the_index(settings):
    other = settings.replace(index_name="movies")
    assert Store(settings).name("docs") != Store(other).name("docs")
    assert Store(other).name("images").endswith("movies_images")
    with pytest.raises(ValueError):
        Store(settings).name("nonsense")


def test_upsert_in_batches_hashes_in_one_get_and_delete(settings, monkeypatch):
    store = Store(settings.replace(upsert_batch_size=4))
    col = store.collection("docs", "enc", 8, create=True)
    calls = {"upsert": 0, "get": 0}
    cls = type(col)
    for name in calls:
        original = getattr(cls, name)

        def spy(self, *a, _name=name, _original=original, **k):
            calls[_name] += 1
            return _original(self, *a, **k)
        monkeypatch.setattr(cls, name, spy)
    ids = [f"item-{i}" for i in range(10)]
    metas = [{"title": f"T{i}", "content_hash": f"h{i}", "price": i} for i in range(10)]
    store.upsert("docs", ids, vectors(10), metas, [f"doc {i}" for i in range(10)])
    assert calls["upsert"] == 3  # 4 + 4 + 2
    hashes = store.hashes("docs")
    assert calls["get"] == 1 and hashes == {f"item-{i}": f"h{i}" for i in range(10)}
    store.delete("docs", ["item-0", "item-1", "never-there"])
    assert store.count("docs") == 8
    got = store.get(["item-5", "nope"])
    assert got == {"item-5": ({"title": "T5", "content_hash": "h5", "price": 5}, "doc 5")}


def test_query_returns_cosine_similarity_and_filters_lists(settings):
    store = Store(settings)
    store.collection("docs", "enc", 8, create=True)
    v = vectors(3)
    metas = [to_metadata({"genre": ["drama", "romance"]}), to_metadata({"genre": ["comedy"]}),
             to_metadata({"genre": "drama"})]
    store.upsert("docs", ["a", "b", "c"], v, metas)
    hits = store.query("docs", v[0], 3)
    assert hits[0][0] == "a" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    only = store.query("docs", v[1], 3, where={"genre": {"$contains": "drama"}})
    assert {i for i, _ in only} == {"a"}  # "c" holds a string, not a list
    assert store.get(["a"])["a"][0]["genre"] == ["drama", "romance"]


def test_iter_records_pages_through_everything(settings):
    store = Store(settings)
    store.collection("docs", "enc", 8, create=True)
    store.upsert("docs", [f"i{n}" for n in range(7)], vectors(7), [{"title": str(n)} for n in range(7)],
                 [f"d{n}" for n in range(7)])
    records = list(store.iter_records("docs", documents=True, page=3))
    assert sorted(r[0] for r in records) == [f"i{n}" for n in range(7)]
    assert all(r[2] == "d" + r[1]["title"] for r in records)


def test_drop_removes_every_collection(settings):
    store = Store(settings)
    for kind in ("docs", "images", "docs_clip"):
        store.collection(kind, "m", 8, create=True)
    store.drop()
    assert all(Store(settings).collection(k) is None for k in ("docs", "images", "docs_clip"))


def test_metadata_conversion():
    meta = to_metadata({"year": 1999, "price": 2.5, "ok": True, "genre": ["a", "b"], "empty": [],
                        "none": None, "mixed": [1, "x"], "nums": [1, 2.5], "nested": {"k": 1},
                        "nan": float("nan")})
    assert meta == {"year": 1999, "price": 2.5, "ok": True, "genre": ["a", "b"], "mixed": ["1", "x"],
                    "nums": [1.0, 2.5], "nested": '{"k": 1}'}

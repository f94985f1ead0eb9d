"""Fixtures for the assistant's tests: a tiny random-weight chat model saved with a real
tokenizer and chat template, real catalog rows, and a small in-memory index over them.

Registered through ``pytest_plugins`` in ``tests/conftest.py``. Nothing is downloaded: the
tokenizer is a byte-level BPE trained in a second on the grocery descriptions, and the
model is a two-layer Qwen2 built from a config (:mod:`assistant.llm.tiny`), saved with
``save_pretrained`` and loaded back through the same ``AutoModelForCausalLM`` path users take.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from retrieval.filters import where_matches
from retrieval.types import Candidate, ChannelHit, Query


def grocery_rows(datasets: Path, n: int = 20) -> list[dict[str, Any]]:
    """The first ``n`` grocery products as catalog-like rows (id, title, description,
    attributes: category, kind, origin), read from the real Grocery Store Dataset."""
    root = datasets / "grocery"
    rows = []
    with open(root / "classes.csv", newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            if len(rows) >= n:
                break
            image = root / rec["Iconic Image Path (str)"].lstrip("/")
            desc_path = root / rec["Product Description Path (str)"].lstrip("/")
            info_path = Path(str(desc_path).replace("_Description.txt", "_Information.txt"))
            description = desc_path.read_text(encoding="utf-8").strip() if desc_path.exists() else ""
            title = rec["Class Name (str)"].replace("-", " ")
            origin = ""
            if info_path.exists():
                m = re.search(r"Country and volume:\s*([^,\n]+)", info_path.read_text(encoding="utf-8"))
                origin = m.group(1).strip() if m else ""
            kind = image.relative_to(root / "iconic-images-and-descriptions").parts[0]
            rows.append({
                "id": f"g{int(rec['Class ID (int)']):03d}",
                "title": title,
                "description": description,
                "attributes": {"category": rec["Coarse Class Name (str)"], "kind": kind,
                               "origin": origin},
                "image": str(image) if image.exists() else None,
            })
    return rows


def movie_rows(datasets: Path, n: int = 40) -> list[dict[str, Any]]:
    """The first ``n`` ReDial movies with a plot, as catalog rows: year (int) from the
    title, genre (list), director, star."""
    info = json.loads((datasets / "redial" / "movies_id2info.json").read_text(encoding="utf-8"))
    rows = []
    for movie_id, m in info.items():
        year = re.search(r"\((\d{4})\)\s*$", m["name"])
        if not m.get("plot") or not year or not m.get("genre"):
            continue
        rows.append({"id": movie_id, "title": m["name"].strip(), "description": m["plot"],
                     "attributes": {"year": int(year.group(1)), "genre": list(m["genre"]),
                                    "director": ", ".join(m.get("director") or [])},
                     "image": None})
        if len(rows) >= n:
            break
    return rows


class FakeFieldInfo:
    """Same attributes as retrieval.index.FieldInfo."""

    def __init__(self, name, type, values=None, min=None, max=None):
        self.name, self.type, self.values, self.min, self.max = name, type, values or [], min, max


class FakeIndex:
    """An in-memory stand-in for ``retrieval.index.CatalogIndex`` over real rows: the same
    methods, word-overlap scoring as the "keyword" channel, exact where-filtering."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = {r["id"]: r for r in rows}
        self.queries: list[Query] = []

    def _doc(self, r):
        attrs = " ".join(f"{k}: {v}" for k, v in r["attributes"].items())
        return f"{r['title']}. {r['description']} {attrs}"

    def _meta(self, r):
        return {**r["attributes"], "title": r["title"], "image": r.get("image") or ""}

    def _candidate(self, r, score=0.0, evidence=None):
        return Candidate(id=r["id"], title=r["title"], score=score, metadata=self._meta(r),
                         document=self._doc(r), image=r.get("image"), evidence=evidence or [])

    def search(self, query: Query) -> list[Candidate]:
        self.queries.append(query)
        words = set(re.findall(r"[a-z]+", query.text.lower()))
        scored = []
        for i, r in enumerate(self.rows.values()):
            if r["id"] in query.exclude or not where_matches(query.where, self._meta(r)):
                continue
            doc_words = set(re.findall(r"[a-z]+", self._doc(r).lower()))
            hit = sorted(words & doc_words)
            # a small prior keeps the order total and deterministic
            scored.append((len(hit) + 1.0 / (i + 2), r, hit))
        scored.sort(key=lambda t: -t[0])
        out = []
        for rank, (score, r, hit) in enumerate(scored[: query.k or 30], start=1):
            ev = [ChannelHit("keyword", rank, float(len(hit)), {"words": hit})] if hit else []
            if query.image is not None:
                ev.append(ChannelHit("clip_image", rank, 0.5, {"photo": True}))
            out.append(self._candidate(r, score, ev))
        return out

    def get(self, ids) -> dict[str, Candidate]:
        return {i: self._candidate(self.rows[i]) for i in ids if i in self.rows}

    def titles(self) -> dict[str, str]:
        return {i: r["title"] for i, r in self.rows.items()}

    def fields(self) -> dict[str, FakeFieldInfo]:
        names = sorted({k for r in self.rows.values() for k in r["attributes"]})
        out = {}
        for name in names:
            vals = [r["attributes"].get(name) for r in self.rows.values() if name in r["attributes"]]
            if all(isinstance(v, list) for v in vals):
                flat = sorted({str(x) for v in vals for x in v})
                out[name] = FakeFieldInfo(name, "list", flat[:50])
            elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                kind = "int" if all(isinstance(v, int) for v in vals) else "float"
                out[name] = FakeFieldInfo(name, kind, None, min(vals), max(vals))
            else:
                out[name] = FakeFieldInfo(name, "str", sorted(set(map(str, vals)))[:50])
        return out

    def count(self) -> int:
        return len(self.rows)


def build_tiny_llm(datasets: Path, folder: Path) -> Path:
    """Save a random-weight two-layer Qwen2 chat model whose tokenizer was trained on the
    grocery texts to ``folder``."""
    from assistant.llm.tiny import build_tiny_chat_model

    texts = [f"{r['title']} {r['description']}" for r in grocery_rows(datasets, 81)]
    return build_tiny_chat_model(folder, texts)


@pytest.fixture(scope="session")
def tiny_llm_path(tmp_path_factory, shared_datasets) -> Path:
    """Folder of a tiny random-weight Qwen2 chat model (config, weights, tokenizer)."""
    return build_tiny_llm(shared_datasets, tmp_path_factory.mktemp("tiny-llm"))


@pytest.fixture
def movie_index(shared_datasets) -> FakeIndex:
    """A fake CatalogIndex over 40 real ReDial movies (year, genre, director)."""
    return FakeIndex(movie_rows(shared_datasets, 40))


@pytest.fixture
def grocery_index(shared_datasets) -> FakeIndex:
    """A fake CatalogIndex over the first 20 real grocery products."""
    return FakeIndex(grocery_rows(shared_datasets, 20))

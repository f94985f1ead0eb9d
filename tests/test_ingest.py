"""The ingest pipeline on the real demo catalog (81 grocery products with photos), with the
real MiniLM text encoder: idempotency, re-embedding exactly what changed, pruning, model
mismatch, broken pictures, the manifest and the collaborative model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from retrieval.errors import IndexMismatch, IndexMissing
from retrieval.fakes import FakeClipEncoder, FakeTextEncoder
from retrieval.index import CatalogIndex
from retrieval.ingest import build_document, ingest, read_manifest
from retrieval.models import ModelHub
from retrieval.settings import DEMO_CATALOG, Settings
from retrieval.store import Store
from retrieval.types import Item, Query

TEXT_ONLY = {"enable_clip": False, "enable_captions": False, "enable_transcripts": False}


class CountingEncoder:
    """Wraps an encoder and records every text it was asked to encode."""

    def __init__(self, inner):
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts.extend(texts)
        return self.inner.encode(texts)


def demo_rows() -> list[dict]:
    if not DEMO_CATALOG.is_file():
        pytest.skip(f"demo catalog {DEMO_CATALOG} not built yet")
    rows = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:  # absolute pictures, so the copy can live anywhere
        if row.get("image"):
            row["image"] = str((DEMO_CATALOG.parent / row["image"]).resolve())
    return rows


def write_catalog(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def minilm():
    """The real bundled MiniLM encoder, loaded once for the module."""
    return ModelHub(Settings.load(env={}, **TEXT_ONLY)).text_encoder()


@pytest.fixture(scope="module")
def base(tmp_path_factory, minilm):
    """The demo catalog ingested once; tests copy its data folder and work on the copy."""
    root = tmp_path_factory.mktemp("base")
    settings = Settings.load(env={}, data_dir=str(root / "data"), **TEXT_ONLY)
    catalog = write_catalog(root / "catalog.jsonl", demo_rows())
    report = ingest(settings, catalog, hub=ModelHub(settings, overrides={"text": minilm}), progress=False)
    return settings, catalog, report


@pytest.fixture
def copy(base, tmp_path, minilm):
    """(settings, catalog, encoder, hub) on a private copy of the ingested demo index."""
    settings, catalog, _ = base
    shutil.copytree(settings.data_dir, tmp_path / "data")
    mine = settings.replace(data_dir=str(tmp_path / "data"))
    encoder = CountingEncoder(minilm)
    return mine, catalog, encoder, ModelHub(mine, overrides={"text": encoder})


@pytest.mark.model
def test_first_ingest_adds_every_demo_item(base):
    settings, _, report = base
    assert (report.items_total, report.added, report.updated, report.unchanged) == (81, 81, 0, 0)
    assert report.problems == [] and report.skipped == 0
    assert Store(settings).count("docs") == 81
    assert {"read", "encode_text", "diff"} <= set(report.stage_seconds)


@pytest.mark.model
def test_second_ingest_writes_nothing(copy, monkeypatch):
    settings, catalog, encoder, hub = copy
    upserts = []
    original = Store.upsert
    monkeypatch.setattr(Store, "upsert", lambda self, *a, **k: upserts.append(a) or original(self, *a, **k))
    report = ingest(settings, catalog, hub=hub, progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, 81, 0)
    assert upserts == [] and encoder.texts == []
    assert Store(settings).count("docs") == 81


@pytest.mark.model
def test_changing_one_description_reembeds_exactly_that_item(copy, tmp_path):
    settings, _, encoder, hub = copy
    rows = demo_rows()
    rows[5]["description"] = "A brand new description about a crunchy winter treat."
    catalog = write_catalog(tmp_path / "edited.jsonl", rows)
    report = ingest(settings, catalog, hub=hub, progress=False)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 80)
    assert len(encoder.texts) == 1 and "crunchy winter treat" in encoder.texts[0]
    stored = Store(settings).get([rows[5]["id"]])[rows[5]["id"]][1]
    assert "crunchy winter treat" in stored


@pytest.mark.model
def test_prune_removes_a_deleted_row(copy, tmp_path):
    settings, _, _, hub = copy
    rows = demo_rows()
    gone = rows.pop(0)["id"]
    catalog = write_catalog(tmp_path / "fewer.jsonl", rows)
    kept = ingest(settings, catalog, hub=hub, progress=False)
    assert (kept.removed, kept.stale) == (0, 1)
    assert Store(settings).count("docs") == 81
    pruned = ingest(settings, catalog, hub=hub, prune=True, progress=False)
    assert (pruned.removed, pruned.unchanged) == (1, 80)
    assert Store(settings).count("docs") == 80
    hits = CatalogIndex.open(settings, hub).search(Query(text="golden delicious apple", k=80))
    assert gone not in {c.id for c in hits}


@pytest.mark.model
def test_another_text_model_raises_index_mismatch(copy):
    settings, catalog, _, _ = copy
    other = ModelHub(settings, overrides={"text": FakeTextEncoder(model_id="other-encoder")})
    with pytest.raises(IndexMismatch) as err:
        ingest(settings, catalog, hub=other, progress=False)
    message = str(err.value)
    assert "all-MiniLM-L6-v2" in message and "other-encoder" in message and "--reindex" in message
    with pytest.raises(IndexMismatch):
        CatalogIndex.open(settings, other)
    report = ingest(settings, catalog, hub=other, reindex=True, progress=False)
    assert report.added == 81
    assert Store(settings).model_of("docs") == ("other-encoder", 256)


def test_open_before_ingest_says_how_to_build(settings):
    hub = ModelHub(settings, overrides={"text": FakeTextEncoder()})
    with pytest.raises(IndexMissing, match="python -m retrieval ingest"):
        CatalogIndex.open(settings, hub)


@pytest.mark.model
def test_manifest_records_the_catalog_and_models(base):
    settings, catalog, _ = base
    manifest = read_manifest(settings)
    assert manifest["catalog"] == str(catalog.resolve())
    assert manifest["counts"]["docs"] == 81
    assert manifest["models"]["text"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_broken_picture_is_a_problem_and_the_item_is_still_indexed(settings, tmp_path):
    rows = demo_rows()[:4]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    rows[2]["image"] = str(broken)
    catalog = write_catalog(tmp_path / "small.jsonl", rows)
    for clip in (None, FakeClipEncoder()):
        s = settings.replace(data_dir=str(tmp_path / f"data-{clip is not None}"), enable_captions=False,
                             enable_transcripts=False, enable_clip=clip is not None)
        hub = ModelHub(s, overrides={"text": FakeTextEncoder(), "clip": clip})
        report = ingest(s, catalog, hub=hub, progress=False)
        assert report.added == 4
        [problem] = report.problems
        assert (problem.file, problem.line, problem.field, problem.item_id) == (
            str(catalog), 3, "image", rows[2]["id"])
        store = Store(s)
        meta, _ = store.get([rows[2]["id"]])[rows[2]["id"]]
        assert meta["image"] == ""
        if clip is not None:
            assert store.count("images") == 3 and store.count("docs_clip") == 4
        again = ingest(s, catalog, hub=hub, progress=False)
        assert again.unchanged == 4


def test_clip_vectors_are_made_once_per_changed_item(settings, tmp_path):
    rows = demo_rows()[:6]
    catalog = write_catalog(tmp_path / "six.jsonl", rows)
    s = settings.replace(enable_captions=False, enable_transcripts=False)
    clip = FakeClipEncoder()
    hub = ModelHub(s, overrides={"text": FakeTextEncoder(), "clip": clip})
    ingest(s, catalog, hub=hub, progress=False)
    store = Store(s)
    assert (store.count("images"), store.count("docs_clip")) == (6, 6)
    assert store.model_of("images") == ("fake-clip", 64)
    calls = clip.calls
    ingest(s, catalog, hub=hub, progress=False)
    assert clip.calls == calls  # nothing changed, nothing encoded
    rows[1]["image"] = None
    ingest(s, write_catalog(tmp_path / "six.jsonl", rows), hub=hub, progress=False)
    assert store.count("images") == 5  # the removed picture's vector went with it


def test_interaction_log_fits_the_collaborative_model(settings, tmp_path):
    rows = demo_rows()[:6]
    catalog = write_catalog(tmp_path / "six.jsonl", rows)
    ids = [r["id"] for r in rows]
    # users who buy the first item also buy the second: its strongest neighbour
    lines = ["user,item"] + [f"u{u},{ids[0]}" for u in range(8)] + [f"u{u},{ids[1]}" for u in range(8)]
    lines += [f"u{u},{ids[u % 4 + 2]}" for u in range(8, 20)]
    log = tmp_path / "log.csv"
    log.write_text("\n".join(lines) + "\n")
    s = settings.replace(**TEXT_ONLY)
    hub = ModelHub(s, overrides={"text": FakeTextEncoder()})
    report = ingest(s, catalog, hub=hub, interactions=log, progress=False)
    assert "collab" in report.stage_seconds
    index = CatalogIndex.open(s, hub)
    hits = index.channel_hits(Query(liked=[ids[0]]))
    assert hits["collab"][0][0] == ids[1] and hits["collab"][0][2] == {"liked": ids[0]}
    assert hits["popularity"]


def test_document_holds_title_description_attributes_and_media_text():
    item = Item(id="m1", title="Amélie", description="A shy waitress helps others",
                attributes={"genre": ["comedy", "romance"], "year": 2001, "colour": True})
    doc = build_document(item, caption="a woman smiling", transcript="bonjour")
    assert doc.splitlines() == ["Amélie.", "A shy waitress helps others.",
                                "genre: comedy, romance; year: 2001; colour: yes.",
                                "Picture: a woman smiling.", "Audio: bonjour."]

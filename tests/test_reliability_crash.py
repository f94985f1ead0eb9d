"""Crash safety: ``python -m retrieval ingest`` killed with SIGKILL at seeded random points
of its run, again and again, each time over a changed catalog (rows edited, pictures
removed, rows added and dropped); then run once more to the end.

The index must then hold exactly the catalog's items in every collection, with no
duplicates and no stale vectors: record for record (ids, metadata with content hashes,
documents, vectors) it must equal a clean build of the same catalog in a fresh folder.
And it must survive the restart: a fresh process opens it and searches it.

Kill points are chosen by stage and progress (read from the progress bars on stderr)
plus a seeded random delay, so they land spread over the writes, not all in start-up.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.ingest import ingest
from retrieval.models import ModelHub
from retrieval.settings import Settings
from retrieval.store import KINDS, Store
from tests import faults

pytestmark = pytest.mark.model

SEED = 20261123
# (progress bar, share of it done) at which each run is killed, in run order; the last
# one waits past the vectors into pruning and the manifest
KILL_AT = [("CLIP image vectors", 0.3), ("text vectors", 0.1), ("text vectors", 0.7),
           ("CLIP text vectors", 0.5), ("CLIP text vectors", 1.0)]
_BAR = re.compile(r"(CLIP image vectors|CLIP text vectors|text vectors):\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)")


def catalog_version(k: int) -> list[dict]:
    """Version ``k`` of the demo catalog: seeded edits of real rows (descriptions changed,
    pictures dropped), some rows left out, and rows that exist only in this version."""
    rng = random.Random(SEED + k)
    out = []
    for row in faults.demo_rows():
        if rng.random() < 0.1:
            continue  # dropped in this version (prune must remove it, or nothing if absent)
        row = dict(row)
        if rng.random() < 0.5:
            row["description"] = f"{row['description']} Batch {k}."
        if rng.random() < 0.1:
            row.pop("image", None)
        out.append(row)
    for row in rng.sample(faults.demo_rows(), 3):  # items only this version has
        out.append(dict(row, id=f"{row['id']}-v{k}", title=f"{row['title']} (version {k})"))
    return out


def _env(data: Path, clip: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATREC_")}
    env.update(CHATREC_DATA_DIR=str(data), CHATREC_CLIP_MODEL=str(clip), CHATREC_CLIP_PRETRAINED="",
               CHATREC_ENABLE_CAPTIONS="false", CHATREC_ENABLE_TRANSCRIPTS="false",
               CHATREC_ENABLE_LLM="false", CHATREC_UPSERT_BATCH_SIZE="4", CHATREC_IMAGE_BATCH_SIZE="4",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(faults.REPO))
    return env


def _settings(data: Path, clip: Path) -> Settings:
    return Settings.load(env={}, data_dir=str(data), clip_model=str(clip), clip_pretrained="",
                         enable_captions=False, enable_transcripts=False, enable_llm=False,
                         upsert_batch_size=4, image_batch_size=4)


def ingest_killed(catalog: Path, env: dict, bar: str, share: float, delay: float) -> dict:
    """Run the CLI ingest and SIGKILL it once ``bar`` shows ``share`` done (plus ``delay``
    seconds). Returns what happened: killed or finished first, and where it was."""
    proc = subprocess.Popen([faults.PYTHON, "-m", "retrieval", "ingest", str(catalog), "--prune"],
                            cwd=faults.REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    chunks: list[bytes] = []

    def pump():
        while data := os.read(proc.stderr.fileno(), 65536):
            chunks.append(data)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    where = "start-up"
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            text = b"".join(chunks).decode("utf-8", "replace")
            bars = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in _BAR.finditer(text)}
            done, total = bars.get(bar, (0, 0))
            if total and done >= share * total:
                where = f"{bar} {done}/{total}"
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        code = proc.wait(timeout=60)
        reader.join(timeout=10)
    stderr = b"".join(chunks).decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr[-3000:]
    return {"killed": code == -signal.SIGKILL, "code": code, "where": where, "stderr": stderr}


def _records(settings: Settings) -> dict[str, dict[str, tuple]]:
    """Every record of every collection: {kind: {id: (metadata, document, vector)}}."""
    store = Store(settings)
    out = {}
    for kind in KINDS:
        col = store.collection(kind)
        got = col.get(include=["metadatas", "documents", "embeddings"])
        assert len(got["ids"]) == len(set(got["ids"])), f"duplicate ids in {kind}"
        docs = got["documents"] if got["documents"] is not None else [None] * len(got["ids"])
        out[kind] = {i: (m, d, np.asarray(e)) for i, m, d, e in
                     zip(got["ids"], got["metadatas"], docs, got["embeddings"], strict=True)}
    return out


def test_ingest_killed_at_random_points_recovers_exactly(tmp_path, tiny_clip_dir, loaded_models):
    data = tmp_path / "data"
    env = _env(data, tiny_clip_dir)
    catalog = tmp_path / "catalog.jsonl"
    rng = random.Random(SEED)
    runs = []
    for k, (bar, share) in enumerate(KILL_AT, start=1):
        faults.write_jsonl(catalog, catalog_version(k))
        runs.append(ingest_killed(catalog, env, bar, share, delay=rng.uniform(0.0, 0.3)))
    killed = [r for r in runs if r["killed"]]
    print("kill points:", [(r["where"], r["code"]) for r in runs])
    # the kills really landed inside the writes (a run may at most finish first once)
    assert len(killed) >= len(KILL_AT) - 1, [(r["where"], r["code"]) for r in runs]
    assert all(r["where"] != "start-up" for r in killed)

    # the final catalog, ingested to the end (here, in this process: same code, and it
    # saves a start-up of torch and the models)
    final_rows = catalog_version(len(KILL_AT) + 1)
    faults.write_jsonl(catalog, final_rows)
    settings = _settings(data, tiny_clip_dir)
    ingest(settings, catalog, hub=ModelHub(settings, models=loaded_models), progress=False, prune=True)

    ids = {r["id"] for r in final_rows}
    with_image = {r["id"] for r in final_rows if r.get("image")}
    recovered = _records(settings)
    assert set(recovered["docs"]) == ids
    assert set(recovered["docs_clip"]) == ids
    assert set(recovered["images"]) == with_image

    # record for record equal to a clean build of the same catalog
    clean_settings = _settings(tmp_path / "clean", tiny_clip_dir)
    ingest(clean_settings, catalog, hub=ModelHub(clean_settings, models=loaded_models), progress=False)
    clean = _records(clean_settings)
    for kind in KINDS:
        assert set(recovered[kind]) == set(clean[kind]), kind
        for item_id, (meta, doc, vec) in clean[kind].items():
            got_meta, got_doc, got_vec = recovered[kind][item_id]
            assert got_meta == meta, f"{kind}/{item_id}: stale metadata or content hash"
            assert got_doc == doc, f"{kind}/{item_id}: stale document"
            assert np.allclose(got_vec, vec, atol=1e-5), f"{kind}/{item_id}: stale vector"

    # the index survives the restart: a fresh process opens it and searches it
    found = subprocess.run([faults.PYTHON, "-m", "retrieval", "search", "green apple", "-k", "5", "--json"],
                           cwd=faults.REPO, env=env, capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stderr[-3000:]
    results = json.loads(found.stdout)
    assert len(results) == 5 and {r["id"] for r in results} <= ids
    # and it is consistent: one more ingest has nothing to do
    again = ingest(settings, catalog, hub=ModelHub(settings, models=loaded_models), progress=False, prune=True)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(ids))


def test_a_picture_whose_vector_a_killed_run_deleted_comes_back(tmp_path, tiny_clip_dir):
    """The state a run leaves when killed after deleting a dropped picture's vector but
    before the item's CLIP record took the new state (found by the random kills above, at
    'CLIP image vectors 24/69'): the catalog then brings the picture back, the hashes agree
    with the stored CLIP record again, and the picture's vector must still be rebuilt."""
    data = tmp_path / "data"
    catalog = tmp_path / "catalog.jsonl"
    rows = faults.demo_rows()[:6]
    faults.write_jsonl(catalog, rows)
    settings = _settings(data, tiny_clip_dir)
    ingest(settings, catalog, hub=ModelHub(settings), progress=False)
    pictured = [r["id"] for r in rows if r.get("image")]
    assert len(pictured) >= 2
    lost = pictured[0]
    Store(settings).delete("images", [lost])  # what the killed run left behind

    ingest(settings, catalog, hub=ModelHub(settings), progress=False)
    recovered = _records(settings)
    assert set(recovered["images"]) == set(pictured)
    clean_settings = _settings(tmp_path / "clean", tiny_clip_dir)
    ingest(clean_settings, catalog, hub=ModelHub(clean_settings), progress=False)
    clean = _records(clean_settings)
    np.testing.assert_allclose(recovered["images"][lost][2], clean["images"][lost][2], atol=1e-5)

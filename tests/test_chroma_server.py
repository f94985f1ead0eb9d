"""Server mode: a real ``chroma run`` process, reached through ``chromadb.HttpClient``;
two catalogs share it under their index names."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.fakes import FakeTextEncoder
from retrieval.index import CatalogIndex
from retrieval.ingest import ingest
from retrieval.models import ModelHub
from retrieval.settings import DEMO_CATALOG, Settings
from retrieval.store import Store
from retrieval.types import Query
from tests.processes import free_port, stop

pytestmark = pytest.mark.server


def chroma_cli() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.is_file() else shutil.which("chroma")




@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(host, port) of a Chroma server on a free port, stopped after the module."""
    cli = chroma_cli()
    if cli is None:
        pytest.skip("the chroma command-line tool is not installed (it comes with pip install chromadb)")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = open(folder / "server.log", "wb")
    proc = subprocess.Popen([cli, "run", "--path", str(folder / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        import chromadb

        deadline = time.monotonic() + 60
        while True:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"chroma server did not start: {(folder / 'server.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        stop(proc, 10)
        log.close()


def catalog_of(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_ingest_and_search_through_the_server(server, tmp_path):
    if not DEMO_CATALOG.is_file():
        pytest.skip(f"demo catalog {DEMO_CATALOG} not built yet")
    host, port = server
    rows = [json.loads(line) for line in DEMO_CATALOG.read_text().splitlines() if line.strip()]
    for row in rows:
        row["image"] = str(DEMO_CATALOG.parent / row["image"])
    fruit = catalog_of(tmp_path / "fruit.jsonl", [r for r in rows if r["attributes"]["group"] == "Fruit"])
    other = catalog_of(tmp_path / "other.jsonl", [r for r in rows if r["attributes"]["group"] != "Fruit"])
    base = Settings.load(env={}, data_dir=str(tmp_path / "data"), chroma_host=host, chroma_port=port,
                         enable_clip=False, enable_captions=False, enable_transcripts=False)
    indexes = {}
    for name, catalog in (("fruit", fruit), ("other", other)):
        settings = base.replace(index_name=name)
        hub = ModelHub(settings, overrides={"text": FakeTextEncoder()})
        report = ingest(settings, catalog, hub=hub, progress=False)
        assert report.added == len(catalog.read_text().splitlines())
        assert ingest(settings, catalog, hub=hub, progress=False).unchanged == report.added
        indexes[name] = CatalogIndex.open(settings, hub)
    assert "Chroma server" in Store(base.replace(index_name="fruit")).where
    # no embedded folder: the vectors live in the server
    assert not (base.replace(index_name="fruit").index_dir / "chroma").exists()
    n_fruit = len(fruit.read_text().splitlines())
    assert indexes["fruit"].count() == n_fruit
    assert indexes["other"].count() == len(rows) - n_fruit
    top = indexes["fruit"].search(Query(text="golden delicious apple", k=3))[0]
    assert top.id == "Golden-Delicious"
    assert all(c.metadata["group"] != "Fruit" for c in indexes["other"].search(Query(text="apple", k=20)))

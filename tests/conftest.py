"""Fixtures every test module may use. Nothing here downloads anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrieval.settings import REPO_ROOT, Settings

# fixture modules: tiny random-weight models built on the fly (nothing downloaded)
pytest_plugins = ["tests.tiny_llm", "tests.tiny_models"]

# Never reach a model hub from the tests: a missing model must fail fast and clearly.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data folder is a fresh temporary directory, built without
    reading the user's environment or settings file."""
    return Settings.load(env={}, data_dir=str(tmp_path / "data"))


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory):
    """``(settings, CatalogIndex)`` over the committed demo catalog: ChromaDB and the real
    MiniLM text encoder; no CLIP, captions, transcripts or LLM."""
    from retrieval.index import CatalogIndex
    from retrieval.settings import DEMO_CATALOG

    if not DEMO_CATALOG.exists():
        pytest.fail(f"the demo catalog {DEMO_CATALOG} is missing from the checkout")
    s = Settings.load(env={}, data_dir=str(tmp_path_factory.mktemp("demo") / "data"), enable_clip=False,
                      enable_captions=False, enable_transcripts=False, enable_llm=False)
    return s, CatalogIndex.build(s, DEMO_CATALOG, progress=False)

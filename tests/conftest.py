"""Fixtures every test module may use. Nothing here downloads anything.

Markers (pyproject.toml): ``model`` for a test that builds or runs a real or tiny model
(PyTorch or CTranslate2), itself or through a fixture; ``browser``, ``server``, ``slow``.
The ``model`` marker is checked (tests/model_marker.py): a test without it that builds or
runs a model, or uses a fixture that built one, errors with a message saying so. The
default run (and CI) runs every test but the ``slow`` ones; the quick loop is
``pytest -m "not slow and not model and not browser and not server"`` (a ``-m`` of one's own
replaces the default ``not slow``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrieval.settings import REPO_ROOT, Settings

# fixture modules: tiny random-weight models built on the fly (nothing downloaded)
pytest_plugins = ["tests.tiny_llm", "tests.tiny_models", "tests.model_marker"]

# Never reach a model hub from the tests: a missing model must fail fast and clearly.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
# variables that ask the tests for something (not settings): kept
TEST_SWITCHES = {"CHATREC_UPDATE_SCREENSHOT"}


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The shared datasets folder (``../shared/datasets`` beside the checkout). A test that
    needs it fails without it: a skip would pass a suite that tested half of itself."""
    if not SHARED_DATASETS.is_dir():
        pytest.fail(f"the shared datasets are missing: {SHARED_DATASETS} is not a folder, and "
                    "this test reads real data from it. Put the datasets there (the ReDial, "
                    "grocery and MovieLens files listed in its README.md).", pytrace=False)
    return SHARED_DATASETS


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """No test reads the user's chatrec settings or writes into their data folder:
    ``CHATREC_*`` variables are cleared and ``XDG_DATA_HOME`` (the default data folder's
    parent) points into the session's temporary folder. Tests set what they need with
    ``monkeypatch``."""
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("CHATREC_") and k not in TEST_SWITCHES]:
            mp.delenv(key)
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
        yield


@pytest.fixture(scope="session")
def loaded_models():
    """The models this test session has loaded, for the hubs that ask to share them:
    ``ModelHub(settings, models=loaded_models)`` loads each model (real or tiny) once a
    session instead of once a test. Hubs without it load their own."""
    from retrieval.models import LoadedModels

    return LoadedModels()


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

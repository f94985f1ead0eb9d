"""Fixtures every test module may use. Nothing here downloads anything.

Markers (pyproject.toml): ``model`` for a test that builds or loads a real or tiny model
(PyTorch or CTranslate2), itself or through a fixture; ``browser``, ``server``, ``slow``.
The ``model`` marker is checked: a test without it that builds a model, or uses a fixture
that did, errors with a message saying so. ``pytest -m "not model and not browser and not
server"`` is the quick loop; the default run (and CI) runs them all but ``slow``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
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


# ---- the ``model`` marker, checked ----------------------------------------------------------------
# Models are counted where they are built: every torch.nn.Module and every faster-whisper
# WhisperModel (CTranslate2). The counting is installed when those packages are first imported,
# so a test that imports nothing heavy pays nothing.
_built = [0]


def _count_inits(cls) -> None:
    init = cls.__init__

    def counted(self, *args, **kwargs):
        _built[0] += 1
        init(self, *args, **kwargs)

    cls.__init__ = counted


_WATCHED = {"torch": lambda m: _count_inits(m.nn.Module),
            "faster_whisper": lambda m: _count_inits(m.WhisperModel)}


class _ModelWatch(importlib.abc.MetaPathFinder):
    """Counts models from the moment torch / faster_whisper are imported."""

    def find_spec(self, name, path, target=None):
        # find_spec is also called only to ask whether a package is there (transformers
        # does): the counting starts when the module is really executed
        if name not in _WATCHED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            patch = _WATCHED.pop(name, None)
            if patch is not None:
                patch(module)

        spec.loader.exec_module = exec_module
        return spec


for _name in [n for n in _WATCHED if n in sys.modules]:  # imported before this file
    _WATCHED.pop(_name)(sys.modules[_name])
sys.meta_path.insert(0, _ModelWatch())
# fixture definitions that built a model (any test using one needs the model marker)
_MODEL_FIXTURES: set[int] = set()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    before = _built[0]
    try:
        return (yield)
    finally:
        if _built[0] != before:
            _MODEL_FIXTURES.add(id(fixturedef))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    item._models_before = _built[0]
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    if item.get_closest_marker("model") is not None:
        return result
    built = _built[0] != item._models_before
    fixtures = [name for name, defs in item._fixtureinfo.name2fixturedefs.items()
                if any(id(d) in _MODEL_FIXTURES for d in defs)]
    if built or fixtures:
        why = f"it uses the fixture(s) {', '.join(fixtures)}, which built one" if fixtures \
            else "it built one"
        pytest.fail(f"{item.nodeid} needs a model ({why}) but is not marked: add "
                    "@pytest.mark.model (tests/conftest.py explains the markers)", pytrace=False)
    return result


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

"""The ``model`` marker, checked (a pytest plugin loaded by tests/conftest.py): a test not
marked ``model`` that builds a model, or uses a fixture that built one, errors with a
message saying which marker to add.

Models are counted where they are built: every ``torch.nn.Module`` and every faster-whisper
``WhisperModel`` (CTranslate2). The counting is installed when those packages are first
imported, so a test that imports nothing heavy pays nothing. A model built in a subprocess
(a CLI or the app started by a test) is not seen: mark those tests by hand.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

import pytest

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

"""Catalog -> documents -> vectors -> ChromaDB, and hybrid search over them.

The names below are imported on first use, so ``import retrieval`` stays quick (no
chromadb, torch or transformers until a search or an ingest needs them).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CatalogIndex": "retrieval.index",
    "FieldInfo": "retrieval.index",
    "ingest": "retrieval.ingest",
    "IngestReport": "retrieval.ingest",
    "Query": "retrieval.types",
    "Candidate": "retrieval.types",
    "ChannelHit": "retrieval.types",
    "Item": "retrieval.types",
    "Problem": "retrieval.types",
    "Settings": "retrieval.settings",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'retrieval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

"""Timing of named stages, shared by ingest, the chat turn and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stopwatch(into: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds spent in the block to ``into[name]`` (also when it raises)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        into[name] = into.get(name, 0.0) + time.perf_counter() - start

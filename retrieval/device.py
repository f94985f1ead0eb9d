"""The device every model runs on: the one rule that turns the ``device`` setting into a
torch device string.

A leaf module (it imports nothing from the project), so the model wrappers in
:mod:`retrieval.encoders` and :mod:`retrieval.media`, the hub in :mod:`retrieval.models`
and the local LLM in :mod:`assistant.llm.local` all use it without importing each other.
"""

from __future__ import annotations

import warnings


def resolve_device(setting: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a CUDA GPU is usable, else ``"cpu"``; ``"cuda"`` or
    ``"cuda:N"`` without a usable GPU warns and falls back to ``"cpu"``. Anything else is a
    :class:`ValueError` naming the accepted values."""
    setting = (setting or "auto").strip().lower()
    if setting == "cpu":
        return "cpu"
    import torch  # lazily: importing torch takes seconds

    available = torch.cuda.is_available()
    if setting == "auto":
        return "cuda" if available else "cpu"
    if setting == "cuda" or setting.startswith("cuda:"):
        if available:
            return setting
        warnings.warn(f"device {setting!r} was asked for but no CUDA GPU is usable; using cpu",
                      stacklevel=2)
        return "cpu"
    raise ValueError(f"device must be auto, cpu, cuda or cuda:N, not {setting!r}")

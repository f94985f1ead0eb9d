"""The learned weight of the retrieval order in the LLM's ranking, per LLM.

``python -m eval fit`` learns ``llm_rank_mix`` for the configured LLM from logged
conversations (:mod:`eval.fit_llm`) and saves it here, beside ``fusion.json``: one entry per
model id, so a weak model is weighted down by evidence and a change of model does not
inherit another model's trust. The assistant reads it through
:meth:`assistant.recommender.Recommender.llm_rank_mix`; without an entry for the active
model the setting ``llm_rank_mix`` holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MIX_FILE = "llm_mix.json"


def load_mix(index_dir: str | Path, model_id: str) -> float | None:
    """The mix fitted for ``model_id``, or None (no file, no entry, or a damaged file)."""
    entry = load_mix_entry(index_dir, model_id)
    mix = entry.get("mix") if entry else None
    return float(mix) if isinstance(mix, (int, float)) and 0.0 <= mix <= 1.0 else None


def load_mix_entry(index_dir: str | Path, model_id: str) -> dict[str, Any] | None:
    """The whole entry (``mix`` and what it was fitted on) for ``model_id``, or None."""
    path = Path(index_dir) / MIX_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = (data.get("models") or {}).get(model_id) if isinstance(data, dict) else None
    return entry if isinstance(entry, dict) else None


def save_mix(index_dir: str | Path, model_id: str, mix: float, meta: dict[str, Any]) -> Path:
    """Record ``mix`` for ``model_id`` (other models' entries stay); returns the file."""
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"llm_rank_mix must be between 0 and 1, not {mix}")
    path = Path(index_dir) / MIX_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data.setdefault("models", {})[model_id] = {"mix": mix, "meta": meta}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return path

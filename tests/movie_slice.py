"""A slice of the real ReDial movie catalog for search tests: the movies the dev dialogues
mention most (so the collaborative logs know them), and an index of them with the real
MiniLM encoder whose collaborative model is fitted on the dev dialogues."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from eval.datasets import redial_dialogues
from retrieval.collab import CollabModel
from retrieval.convert import convert_redial_movies
from retrieval.index import CatalogIndex
from retrieval.settings import Settings

TEXT_ONLY = {"enable_clip": False, "enable_captions": False, "enable_transcripts": False}


def movie_slice(folder: Path, redial: Path, n: int) -> tuple[Path, Path, list[str]]:
    """The ``n`` most mentioned movies having a genre, as ``folder/movies.jsonl`` (the
    project's catalog format); returns it, the id2info subset it came from, and the ids."""
    counts = Counter(i for _, ids in redial_dialogues(redial / "dev_dialogues.jsonl") for i in ids)
    info = json.loads((redial / "movies_id2info.json").read_text(encoding="utf-8"))
    keep = [i for i, _ in counts.most_common() if i in info and info[i].get("genre")][:n]
    (folder / "id2info.json").write_text(json.dumps({i: info[i] for i in keep}), encoding="utf-8")
    convert_redial_movies(folder / "id2info.json", folder / "movies.jsonl")
    return folder / "movies.jsonl", folder / "id2info.json", keep


def dialogue_split(folder: Path, redial: Path, first: int, then: int, others: int) -> tuple[Path, Path, Path]:
    """The first ``first`` dev dialogues and the ``then`` after them as two ReDial files,
    and a catalog of every movie either mentions plus ``others`` movies neither does:
    ``(first file, then file, catalog)``."""
    from eval.datasets import MENTION

    lines = (redial / "dev_dialogues.jsonl").read_text(encoding="utf-8").splitlines()
    head, tail = folder / "first.jsonl", folder / "then.jsonl"
    head.write_text("\n".join(lines[:first]) + "\n", encoding="utf-8")
    tail.write_text("\n".join(lines[first:first + then]) + "\n", encoding="utf-8")
    mentioned = set(MENTION.findall("\n".join(lines[:first + then])))
    convert_redial_movies(redial / "movies_id2info.json", folder / "all.jsonl")
    rows = [json.loads(x) for x in (folder / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    keep = [r for r in rows if r["id"] in mentioned] + [r for r in rows if r["id"] not in mentioned][:others]
    catalog = folder / "movies.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in keep), encoding="utf-8")
    return head, tail, catalog


def movie_slice_index(catalog: Path, data_dir: Path, redial: Path, keep: list[str]) -> CatalogIndex:
    """``catalog`` ingested into ``data_dir`` (text only), searching with an EASE model of
    the dev dialogues restricted to ``keep``."""
    settings = Settings.load(env={}, data_dir=str(data_dir), **TEXT_ONLY)
    index = CatalogIndex.build(settings, catalog, progress=False)
    rows = [(f"d{d}", i, None) for d, ids in redial_dialogues(redial / "dev_dialogues.jsonl") for i in ids]
    index.use_collab_model(CollabModel.fit(rows, keep))
    return index

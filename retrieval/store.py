"""ChromaDB storage for one catalog index: embedded (a folder) or a Chroma server.

Four collections per index, each in cosine space:

- ``docs``: every item's document through the text encoder (dense channel);
- ``images``: CLIP image vectors of items that have a picture;
- ``docs_clip``: every item's document through CLIP's text tower, so a photo query can
  reach items without a picture;
- ``frames``: CLIP image vectors of the keyframes of items with a video, one record per
  frame (``<item id>#<n>``, metadata ``item_id``, ``frame``, ``time``;
  :mod:`retrieval.video_ingest`).

Each collection records the model id and vector size that made it in its metadata
(``_model``, ``_dim``); opening it with another model raises :class:`IndexMismatch`,
since vectors of two models cannot be compared.

Every record's metadata holds the item's scalar attributes, ``title``, ``image`` (path or
"") and ``content_hash`` (what the vector was made from; ingest skips unchanged items).
List attributes are stored as Chroma 1.x lists (filterable with ``$contains``); an empty
list is left out (Chroma refuses it) and a list of mixed types is stored as strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import IndexMismatch
from .settings import Settings

KINDS = ("docs", "images", "docs_clip", "frames")
REINDEX_HINT = ("re-index with: python -m retrieval ingest CATALOG --reindex "
                "(or delete the folder {where})")


class Store:
    """The ChromaDB collections of one index (``settings.index_name``)."""

    def __init__(self, settings: Settings):
        import chromadb  # a second to import: only when an index is opened
        self.settings = settings
        if settings.chroma_host:
            self.where = f"the Chroma server {settings.chroma_host}:{settings.chroma_port}"
            self.client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port)
        else:
            path = settings.index_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            self.where = str(settings.index_dir)
            self.client = chromadb.PersistentClient(path=str(path))
        self._collections: dict[str, Any] = {}
        try:
            self._max_batch = int(self.client.get_max_batch_size())
        except Exception:  # older servers do not say; Chroma's documented floor
            self._max_batch = 5000

    # ---- collections ------------------------------------------------------------------

    def name(self, kind: str) -> str:
        """The Chroma collection name of ``kind``: prefixed by the index name, so several
        catalogs can share one server."""
        if kind not in KINDS:
            raise ValueError(f"unknown collection kind {kind!r} (known: {', '.join(KINDS)})")
        return f"chatrec_{self.settings.index_name}_{kind}"

    def collection(self, kind: str, model_id: str | None = None, dim: int | None = None,
                   create: bool = False):
        """The collection ``kind``, or None when it does not exist and ``create`` is false.

        With ``model_id`` (and ``dim``), checks that the collection was made by that model
        and raises :class:`IndexMismatch` otherwise; ``create`` makes a missing one that
        records them.
        """
        col = self._collections.get(kind)
        if col is None:
            col = self._open(kind)
            if col is None and create:
                if model_id is None or dim is None:
                    raise ValueError("creating a collection needs the model id and dim")
                col = self.client.get_or_create_collection(
                    self.name(kind), embedding_function=None,
                    metadata={"_model": model_id, "_dim": int(dim)},
                    configuration={"hnsw": {"space": "cosine"}})
            if col is None:
                return None
            self._collections[kind] = col
        if model_id is not None:
            self.check_model(kind, col, model_id, dim)
        return col

    def _open(self, kind: str):
        try:
            # embedding_function=None: vectors always come from our encoders, and Chroma's
            # default one would try to download a model
            return self.client.get_collection(self.name(kind), embedding_function=None)
        except Exception as e:
            if _is_not_found(e):
                return None
            raise

    def check_model(self, kind: str, col, model_id: str, dim: int | None) -> None:
        meta = col.metadata or {}
        made_by, made_dim = meta.get("_model"), meta.get("_dim")
        if made_by != model_id or (dim is not None and made_dim is not None and int(made_dim) != int(dim)):
            raise IndexMismatch(
                f"the {kind!r} collection of index {self.settings.index_name!r} was made by "
                f"model {made_by!r} (dim {made_dim}), but {model_id!r} (dim {dim}) is configured: "
                "their vectors cannot be compared; " + REINDEX_HINT.format(where=self.where))

    def model_of(self, kind: str) -> tuple[str | None, int | None]:
        """(model id, dim) recorded in the collection ``kind``; (None, None) if absent."""
        col = self.collection(kind)
        if col is None:
            return None, None
        meta = col.metadata or {}
        return meta.get("_model"), meta.get("_dim")

    def forget_collections(self) -> None:
        """Open the collections again on next use (after an ingest changed them)."""
        self._collections.clear()

    def drop(self) -> None:
        """Delete every collection of this index (``--reindex``)."""
        for kind in KINDS:
            if self._open(kind) is not None:
                self.client.delete_collection(self.name(kind))
        self._collections.clear()

    # ---- records ----------------------------------------------------------------------

    def count(self, kind: str = "docs") -> int:
        col = self.collection(kind)
        return 0 if col is None else int(col.count())

    def hashes(self, kind: str) -> dict[str, str]:
        """``{id: content_hash}`` of every record of ``kind``, fetched in one call."""
        return {i: m.get("content_hash", "") for i, m in self.metadatas(kind).items()}

    def metadatas(self, kind: str) -> dict[str, dict]:
        """``{id: metadata}`` of every record of ``kind``, fetched in one call."""
        col = self.collection(kind)
        if col is None:
            return {}
        got = col.get(include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def upsert(self, kind: str, ids: list[str], embeddings, metadatas: list[dict],
               documents: list[str] | None = None) -> None:
        """Write records in batches of ``settings.upsert_batch_size`` (the collection must
        exist: open it with ``collection(kind, model, dim, create=True)`` first)."""
        col = self.collection(kind)
        if col is None:
            raise RuntimeError(f"collection {kind!r} must be created before upserting")
        size = max(1, min(self.settings.upsert_batch_size, self._max_batch))
        for start in range(0, len(ids), size):
            end = start + size
            col.upsert(ids=ids[start:end], embeddings=embeddings[start:end],
                       metadatas=metadatas[start:end],
                       documents=None if documents is None else documents[start:end])

    def delete(self, kind: str, ids: Iterable[str]) -> None:
        col = self.collection(kind)
        ids = list(ids)
        if col is None or not ids:
            return
        size = max(1, self._max_batch)
        for start in range(0, len(ids), size):
            col.delete(ids=ids[start:start + size])

    def query(self, kind: str, embedding, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """The ``n`` nearest records to one vector as ``(id, cosine similarity)``, best first."""
        col = self.collection(kind)
        if col is None or n <= 0:
            return []
        got = col.query(query_embeddings=[embedding], n_results=n, where=where or None,
                        include=["distances"])
        ids, dists = got["ids"][0], got["distances"][0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)]

    def get(self, ids: list[str], kind: str = "docs", documents: bool = True) -> dict[str, tuple[dict, str]]:
        """``{id: (metadata, document)}`` of the given ids (unknown ids are left out)."""
        col = self.collection(kind)
        if col is None or not ids:
            return {}
        include = ["metadatas", "documents"] if documents else ["metadatas"]
        got = col.get(ids=list(ids), include=include)
        docs = got.get("documents") or [""] * len(got["ids"])
        return {i: (m or {}, d or "") for i, m, d in zip(got["ids"], got["metadatas"], docs, strict=True)}

    def iter_records(self, kind: str = "docs", documents: bool = False,
                     page: int = 5000) -> Iterator[tuple[str, dict, str]]:
        """Every ``(id, metadata, document)`` of ``kind`` (document "" unless asked for),
        fetched a page at a time."""
        col = self.collection(kind)
        if col is None:
            return
        include = ["metadatas", "documents"] if documents else ["metadatas"]
        offset = 0
        while True:
            got = col.get(include=include, limit=page, offset=offset)
            docs = got.get("documents") or [""] * len(got["ids"])
            for i, m, d in zip(got["ids"], got["metadatas"], docs, strict=True):
                yield i, m or {}, d or ""
            if len(got["ids"]) < page:
                return
            offset += page


    def load_all(self, kind: str = "docs", page: int = 5000):
        """Every record of ``kind`` in one pass, as ``(ids, metadatas, documents, vectors)``
        (vectors a float32 ``(n, dim)`` array), fetched a page at a time in Chroma's
        storage order (the order :meth:`iter_records` and ``get`` by ids return)."""
        import numpy as np

        ids: list[str] = []
        metas: list[dict] = []
        docs: list[str] = []
        blocks = []
        col = self.collection(kind)
        offset = 0
        while col is not None:
            got = col.get(include=["metadatas", "documents", "embeddings"], limit=page, offset=offset)
            ids.extend(got["ids"])
            metas.extend(m or {} for m in got["metadatas"])
            docs.extend(d or "" for d in (got.get("documents") or [""] * len(got["ids"])))
            if len(got["ids"]):
                blocks.append(np.asarray(got["embeddings"], dtype=np.float32))
            if len(got["ids"]) < page:
                break
            offset += page
        dim = blocks[0].shape[1] if blocks else 0
        vectors = np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)
        return ids, metas, docs, vectors


def _is_not_found(e: Exception) -> bool:
    name = type(e).__name__
    text = str(e).lower()
    return name in ("NotFoundError", "InvalidCollectionException") or "does not exist" in text or "not found" in text


def to_metadata(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes as Chroma metadata: scalars as is, lists as lists (empty ones and None
    left out, mixed types as strings), anything else as JSON text."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        key = str(key)
        if value is None:
            continue
        if isinstance(value, (bool, int, float, str)):
            if isinstance(value, float) and value != value:  # NaN cannot be filtered on
                continue
            out[key] = value
        elif isinstance(value, (list, tuple, set)):
            values = [v for v in value if v is not None]
            if not values:
                continue
            kinds = {type(v) for v in values}
            if len(kinds) == 1 and kinds <= {bool, int, float, str}:
                out[key] = list(values)
            elif kinds <= {int, float}:
                out[key] = [float(v) for v in values]
            else:
                out[key] = [v if isinstance(v, str) else json.dumps(v) for v in values]
        else:
            out[key] = json.dumps(value, default=str)
    return out

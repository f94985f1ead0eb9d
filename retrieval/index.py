"""The façade the assistant, the evaluation and the app use: one ingested catalog, searchable.

``CatalogIndex.open(settings)`` opens what ``python -m retrieval ingest`` built; ``search``
runs the channels of a :class:`Query`, fuses them and returns :class:`Candidate` objects
with their evidence. Everything a search needs (collections, encoders, the collaborative
model, the metadata table and the title index) is loaded once and kept, and every lazy
load is guarded by a lock, so one index serves concurrent chat sessions.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import STORE_KEYS
from .errors import IndexMissing, InputError, ModelUnavailable
from .filters import adapt_to_lists, normalise_where
from .fusion import PRIOR_WEIGHTS, fuse, load_fusion, load_fusion_meta
from .settings import Settings
from .types import Candidate, Query
from .vectors import VectorTable

# FieldInfo lists at most this many distinct values of a text field (the most frequent)
FIELD_VALUES_CAP = 50
# the collections of CLIP vectors (pictures, documents, video keyframes)
CLIP_KINDS = ("images", "docs_clip", "frames")


@dataclass
class FieldInfo:
    """A filterable metadata field: its type ("str", "int", "float", "bool", "list"), up to
    50 distinct values of text and list fields (most frequent first), min / max of numbers,
    and how many items have it."""

    name: str
    type: str
    values: list[Any] = field(default_factory=list)
    min: float | None = None
    max: float | None = None
    count: int = 0


class CatalogIndex:
    """One catalog's index. Build with :meth:`open` (or :meth:`build` to ingest first)."""

    def __init__(self, settings: Settings, hub=None):
        from .store import Store

        if hub is None:
            from .models import ModelHub
            hub = ModelHub(settings)
        self.settings = settings
        self.hub = hub
        self.store = Store(settings)
        self._lock = threading.RLock()
        self._pool = None
        self._encode_locks = {"text": threading.Lock(), "clip": threading.Lock()}
        self._reset()

    # ---- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings, hub=None) -> CatalogIndex:
        """Open the index of ``settings``. Raises :class:`IndexMissing` when nothing was
        ingested and :class:`IndexMismatch` when it was built with another text model."""
        index = cls(settings, hub)
        if index.store.count("docs") == 0:
            raise IndexMissing(
                f"the index {settings.index_name!r} ({index.store.where}) is empty: build it with "
                "python -m retrieval ingest CATALOG (for the demo: python -m retrieval ingest "
                "data/demo/grocery.jsonl)")
        index.text_encoder()  # loads the encoder and checks it made the index
        return index

    @classmethod
    def build(cls, settings: Settings, catalog_path: str | Path, hub=None, **ingest_args) -> CatalogIndex:
        """Ingest ``catalog_path`` (see :func:`retrieval.ingest.ingest`) and open the result."""
        index = cls(settings, hub)
        index.ingest(catalog_path, **ingest_args)
        return cls.open(settings, index.hub)

    def _reset(self) -> None:
        self._text = None
        self._clip: Any = False  # False: not looked up yet; None: no CLIP channels
        self._clip_note: str | None = None
        self._collab: Any = False
        self._collab_log: Any = False
        self._dialogues: Any = False
        self._own_text = None
        self._built: dict[str, Any] = {}
        self._table: dict[str, dict] | None = None
        self._documents: dict[str, str] = {}
        self._columns = None
        self._vectors: VectorTable | None = None
        self._fields: dict[str, FieldInfo] | None = None
        self._weights: dict[str, float] | None = None
        self._weights_source = ""
        self._rrf_k: int | None = None
        self._counts: dict[str, int] | None = None
        self.store.forget_collections()

    # ---- lazily loaded parts --------------------------------------------------------------

    def text_encoder(self):
        with self._lock:
            if self._text is None:
                text = self.hub.text_encoder()
                self.store.collection("docs", text.model_id, text.dim)
                self._text = text
            return self._text

    def clip_encoder(self):
        """The CLIP encoder when the index has CLIP vectors and CLIP is enabled, else None."""
        with self._lock:
            if self._clip is False:
                self._clip = None
                if not self.settings.enable_clip:
                    self._clip_note = "CLIP disabled in settings (enable_clip)"
                elif all(self.store.collection(k) is None for k in CLIP_KINDS):
                    self._clip_note = "the index has no CLIP vectors (ingest with enable_clip on)"
                else:
                    try:
                        clip = self.hub.clip()
                    except ModelUnavailable as e:
                        clip = None
                        self._clip_note = str(e)
                        warnings.warn(f"CLIP channels off: {e}", stacklevel=3)
                    if clip is not None:
                        for kind in CLIP_KINDS:
                            if self.store.collection(kind) is not None:
                                self.store.collection(kind, clip.model_id, clip.dim)
                        self._clip = clip
            return self._clip

    def collab_model(self):
        with self._lock:
            if self._collab is False:
                from .collab import CollabModel
                self._collab = CollabModel.load(self.settings.index_dir)
            return self._collab

    def collab_log_model(self):
        """The model of an outside interaction log (``collab_log.npz`` beside the index,
        saved by ``python -m eval fit --interactions``), or None."""
        with self._lock:
            if self._collab_log is False:
                from .collab import CollabModel
                self._collab_log = CollabModel.load(self.settings.index_dir, "collab_log")
            return self._collab_log

    def dialogue_index(self):
        """The logged conversations of the ``dialogues`` channel (``dialogues.npz`` beside
        the index, written by ``ingest --conversations``; ``retrieval.dialogues``), or None.
        A log encoded by another text model than the index's is left out, with a warning."""
        with self._lock:
            if self._dialogues is False:
                from .dialogues import DialogueIndex

                log = DialogueIndex.load(self.settings.index_dir)
                if log is not None and log.model_id != self.text_encoder().model_id:
                    warnings.warn(f"dialogues channel off: the conversation log was encoded with "
                                  f"{log.model_id!r}, the index with {self.text_encoder().model_id!r}; "
                                  "run python -m retrieval ingest CATALOG to re-encode it", stacklevel=3)
                    log = None
                self._dialogues = log
            return self._dialogues

    def use_dialogues(self, log) -> None:
        """Search the ``dialogues`` channel with ``log`` (a ``DialogueIndex`` or None)
        instead of the saved one, e.g. one without a cross-validation fold's conversations."""
        with self._lock:
            self._dialogues = log

    def built(self, name: str, build, popularity_ties: bool = False):
        """The structure ``build(table)`` made from the metadata table for channel
        ``name``, built on first use and kept. ``popularity_ties``: its ties follow the
        popularity order of the collaborative models in use (a
        ``channels.values.PopularityTieBreak``; set again only when those models change)."""
        self._load_table()
        with self._lock:
            structure = self._built.get(name)
            if structure is None:
                structure = self._built[name] = build(self._table)
            if popularity_ties:
                collab, log = self.collab_model(), self.collab_log_model()
                structure.set_prior((collab.pop_ids if collab else []) + (log.pop_ids if log else []),
                                    key=(id(collab), id(log)))
            return structure

    def table(self) -> dict[str, dict]:
        """``{id: metadata}`` of every item, loaded once with the documents and their
        vectors (rows in the same order everywhere)."""
        self._load_table()
        return self._table

    def _load_table(self) -> None:
        with self._lock:
            if self._table is None:

                from .columns import Columns

                ids, metas, docs, vectors = self.store.load_all("docs")
                # rows in Chroma's storage order everywhere: table, documents, columns,
                # vectors, so one boolean mask over the rows serves every channel
                self._columns = Columns(ids, metas)
                self._vectors = VectorTable(vectors)
                self._documents = dict(zip(ids, docs, strict=True))
                self._table = dict(zip(ids, metas, strict=True))

    def documents(self) -> dict[str, str]:
        """``{id: document}`` of every item (the text the text encoder read), table order."""
        self._load_table()
        return self._documents

    def columns(self):
        """The metadata table as :class:`retrieval.columns.Columns` (filters as masks)."""
        self._load_table()
        return self._columns

    def vectors(self) -> VectorTable:
        """The document vectors in memory (the text encoder in use's), rows in table order."""
        self._load_table()
        return self._vectors

    def weights(self) -> dict[str, float]:
        """Channel weights: ``fusion.json`` beside the index when present, else
        ``settings.fusion_weights``, else :data:`retrieval.fusion.PRIOR_WEIGHTS`; a
        channel none of them names weighs 1.0."""
        with self._lock:
            if self._weights is None:
                learned = load_fusion(self.settings.index_dir)
                self._rrf_k = None
                if learned is not None:
                    self._weights, self._weights_source = learned, "fusion.json"
                    # weights are fitted for one rrf_k: search with the same one
                    fitted = load_fusion_meta(self.settings.index_dir).get("rrf_k")
                    if isinstance(fitted, int) and not isinstance(fitted, bool) and fitted > 0:
                        self._rrf_k = fitted
                elif self.settings.fusion_weights:
                    self._weights, self._weights_source = dict(self.settings.fusion_weights), "settings"
                else:
                    self._weights, self._weights_source = dict(PRIOR_WEIGHTS), "prior"
            return self._weights

    def rrf_k(self) -> int:
        """The fusion's ``rrf_k``: the one ``fusion.json`` was fitted with, else the settings'."""
        self.weights()
        return self._rrf_k or self.settings.rrf_k

    def use_collab_model(self, model, channel: str = "collab") -> None:
        """Search with ``model`` (a ``CollabModel`` or None) instead of the saved one, e.g.
        one fitted on a cross-validation fold; ``channel`` "collab_log" sets the outside
        log's model instead of the catalog's own."""
        with self._lock:
            if channel == "collab":
                self._collab = model
            elif channel == "collab_log":
                self._collab_log = model
            else:
                raise ValueError(f"no collaborative model for channel {channel!r} (collab, collab_log)")

    def use_text_encoder(self, encoder, vectors=None) -> None:
        """Search with ``encoder`` and the document ``vectors`` it made (rows in the
        table's order) instead of the index's own, in this process (e.g. an encoder
        fine-tuned on a cross-validation fold); None goes back to the index's own."""
        self._load_table()
        with self._lock:
            if self._own_text is None:
                self._own_text = (self.text_encoder(), self._vectors)
            if encoder is None:
                self._text, self._vectors = self._own_text
            else:
                if vectors is None or len(vectors) != len(self._columns.ids):
                    raise ValueError("use_text_encoder needs one document vector per item, in table order")
                self._text, self._vectors = encoder, VectorTable(vectors)

    def use_query_encoder(self, encoder) -> None:
        """Encode query texts with ``encoder`` from now on, in this process: the same model
        as the document vectors' (e.g. one holding the queries' vectors computed ahead in
        batches, as the evaluation does). ``text_encoder()`` returns it."""
        self.text_encoder()
        with self._lock:
            self._text = encoder

    def use_weights(self, weights: dict[str, float] | None, source: str = "override",
                    rrf_k: int | None = None) -> None:
        """Fuse with ``weights`` (channels not named weigh 1.0; 0 skips a channel) and
        ``rrf_k`` (None: the settings'); None goes back to ``fusion.json`` / settings / the prior."""
        with self._lock:
            self._weights = None if weights is None else {c: float(w) for c, w in weights.items()}
            self._rrf_k = rrf_k if weights is not None else None
            self._weights_source = source if weights is not None else ""

    # ---- search ---------------------------------------------------------------------------

    def search(self, query: Query) -> list[Candidate]:
        """The fused candidates of ``query``, best first (``query.k`` or
        ``settings.candidate_count`` of them), each with its per-channel evidence."""
        hits = self.channel_hits(query)
        k = query.k or self.settings.candidate_count
        top = fuse(hits, self.weights(), self.rrf_k(), limit=k)
        table = self.table()
        # documents are in memory (loaded with the table): no Chroma round trip per search
        return [_candidate(item_id, table.get(item_id, {}), self._documents.get(item_id, ""), score, evidence)
                for item_id, score, evidence in top]

    def channel_hits(self, query: Query, channels: Iterable[str] | None = None,
                     vector=None) -> dict[str, list[tuple[str, float, dict]]]:
        """Each channel's ranked hits for ``query``, in the registry's order
        (``retrieval.channels``). ``channels``: the names to run (None: every channel
        weighted above 0); a channel the query gives nothing to search with is left out.
        ``vector``: the query text's dense vector when already computed."""
        from .channels import Search
        from .channels import channels as registered

        text = (query.text or "").strip()
        for name, value in (("text", text), ("context", (query.context or "").strip())):
            if len(value) > self.settings.max_message_chars:
                raise InputError(f"query {name} has {len(value)} characters; the limit is "
                                 f"{self.settings.max_message_chars} (max_message_chars)")
        where = normalise_where(query.where)
        if where:
            where = adapt_to_lists(where, {n for n, f in self.fields().items() if f.type == "list"})
        exclude = set(query.exclude or ())
        depth = self.settings.channel_depth
        if channels is None:
            weights = self.weights()
            running = frozenset(c.name for c in registered() if weights.get(c.name, 1.0) > 0)
        else:
            running = frozenset(channels)

        columns = self.columns()
        row_of = columns.row
        # one mask over the catalog's rows: the filter and the exclusions (None: all pass)
        allowed = columns.mask(where) if where else None
        if exclude:
            allowed = allowed.copy() if allowed is not None else columns.mask(None).copy()
            allowed[[row_of[i] for i in exclude if i in row_of]] = False

        def keep(item_id: str) -> bool:
            r = row_of.get(item_id)
            return r is not None and (allowed is None or bool(allowed[r]))

        search = Search(index=self, query=query, text=text, where=where, allowed=allowed, keep=keep,
                        depth=depth, fetch=depth + len(exclude),
                        # enough filtered hits per channel for the fusion to fill the k candidates well
                        enough=min(depth, 2 * (query.k or self.settings.candidate_count)),
                        running=running, vector=vector)
        todo = [c for c in registered() if c.name in running and c.runs(search)]
        later = [c for c in todo if c.after(search)]
        encoding = [c for c in todo if (c.needs_vector or c.encodes) and c not in later]
        side = [c for c in todo if c not in later and c not in encoding]

        def run_side() -> dict[str, list]:
            """The channels that encode nothing."""
            return {c.name: c.find(search) for c in side}

        # while the query is encoded (torch, on one thread, mostly outside the GIL) the
        # other channels run on a second thread: on two cores they cost no wall time
        pending = self._side_pool().submit(run_side) if encoding else None
        hits: dict[str, list] = {}
        try:
            for channel in encoding:
                if channel.needs_vector and search.vector is None:
                    search.vector = self.encode_query("text", lambda encoder: encoder.encode([text])[0])
                hits[channel.name] = channel.find(search)
        except BaseException as e:
            # not left running behind the error
            if pending is not None:
                futures.wait([pending])
            if isinstance(e, ValueError) and not isinstance(e, InputError) and (
                    "where" in str(e).lower() or "operator" in str(e).lower()):  # Chroma refusing a filter
                raise InputError(f"invalid filter {query.where!r}: {e}") from None
            raise
        hits.update(pending.result() if pending is not None else run_side())
        search.hits = hits
        for channel in later:
            hits[channel.name] = channel.find(search)
        # the channels in the registry's order, whichever thread found them
        return {c.name: hits[c.name] for c in todo}

    def encode_query(self, model: str, encode):
        """``encode(encoder)`` with the ``text`` or ``clip`` encoder, one query at a time
        per model (the encoders are not thread-safe)."""
        encoder = self.text_encoder() if model == "text" else self.clip_encoder()
        with self._encode_locks[model]:
            return encode(encoder)

    def _side_pool(self):
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chatrec-channels")
            return self._pool

    def nearest(self, kind: str, vector, search, keep=None, per_item: int = 1) -> list[tuple[str, float]]:
        """``(id, similarity)`` of the records of collection ``kind`` nearest ``vector``
        that pass ``search.keep`` (the filter, the exclusions), at most ``search.depth``.
        ``keep`` tests record ids instead and ``per_item`` scales the numbers, for
        collections holding several records per item (video keyframes).

        The document vectors are searched in memory (:class:`retrieval.vectors.VectorTable`:
        exact up to 20,000 items, any filter at no extra cost). CLIP's collections are
        searched in Chroma: without a filter one query of ``search.fetch`` neighbours; with
        one, an unfiltered over-fetch of ``4 * fetch`` filtered here (Chroma's own filtered
        search scans the whole collection: ``python -m eval bench search``), and Chroma's
        filtered search only when that found fewer than ``search.enough``."""
        where, keep = search.where, keep or search.keep
        depth, fetch, enough = search.depth * per_item, search.fetch * per_item, search.enough * per_item
        if kind == "docs" and self._vectors is not None and len(self._vectors) == len(self._columns.ids):
            ids = self._columns.ids
            return [(ids[r], sc) for r, sc in self._vectors.nearest(vector, depth, search.allowed)]
        count = self.collection_count(kind)
        if where:
            n = min(count, 4 * fetch)
            found = [(i, sc) for i, sc in self.store.query(kind, vector, n, None) if keep(i)]
            if len(found) >= enough or n >= count:
                return found[:depth]
            found = self.store.query(kind, vector, min(fetch, count), where)
        else:
            found = self.store.query(kind, vector, min(fetch, count), None)
        return [(i, sc) for i, sc in found if keep(i)][:depth]

    def collection_count(self, kind: str) -> int:
        """How many records collection ``kind`` holds (read once: counts change only by ingest)."""
        # Chroma wants n_results <= the collection size
        with self._lock:
            if self._counts is None:
                self._counts = {k: self.store.count(k) for k in ("docs", *CLIP_KINDS)}
            return self._counts[kind]

    # ---- lookups --------------------------------------------------------------------------

    def get(self, ids: list[str]) -> dict[str, Candidate]:
        """Candidates (score 0, no evidence) of the given ids; unknown ids are left out."""
        return {i: _candidate(i, meta, doc, 0.0, []) for i, (meta, doc) in self.store.get(list(ids)).items()}

    def titles(self) -> dict[str, str]:
        """``{id: title}`` of every item."""
        return {i: m.get("title", "") for i, m in self.table().items()}

    def count(self) -> int:
        return self.collection_count("docs")

    def fields(self) -> dict[str, FieldInfo]:
        """The filterable metadata fields with their types and values (computed once)."""
        with self._lock:
            if self._fields is None:
                self._fields = _fields(self.table().values())
            return self._fields

    def prepare(self) -> None:
        """Build now what search builds on first use (the table and its vectors, each
        channel's structures, the filter fields): at 100,000 items that is tens of seconds
        the first user would otherwise wait. The app calls it on a background thread at
        start-up; a search meanwhile waits for the part it needs."""
        from .channels import channels

        self.table()
        self._vectors.prepare()
        for channel in channels():
            channel.prepare(self)
        self.fields()

    def stats(self) -> dict[str, Any]:
        """Counts, models, channels and fusion weights, for the CLI and the app."""
        from .channels import channels
        from .ingest import read_manifest

        clip = self.clip_encoder()
        weights = self.weights()
        collab = self.collab_model()
        text = self.text_encoder()
        return {
            "index_name": self.settings.index_name,
            "location": self.store.where,
            "items": self.count(),
            "collections": {k: self.collection_count(k) for k in ("docs", *CLIP_KINDS)},
            "models": {"text": text.model_id, "clip": clip.model_id if clip else None,
                       "collab": repr(collab) if collab else None},
            "channels": {c.name: c.available(self) for c in channels()},
            "clip_note": self._clip_note,
            "fusion": {"weights": {c.name: weights.get(c.name, 1.0) for c in channels()},
                       "source": self._weights_source, "rrf_k": self.rrf_k()},
            "manifest": read_manifest(self.settings),
        }

    def ingest(self, catalog_path: str | Path, prune: bool = False, progress: bool = True, **kwargs):
        """Ingest (or update from) a catalog into this index; see :func:`retrieval.ingest.ingest`.
        Cached tables, counts and models are refreshed afterwards."""
        from .ingest import ingest

        with self._lock:
            try:
                return ingest(self.settings, catalog_path, hub=self.hub, prune=prune,
                              progress=progress, **kwargs)
            finally:
                self._reset()


def _candidate(item_id: str, meta: dict, document: str, score: float, evidence) -> Candidate:
    meta = {k: v for k, v in meta.items() if k != "content_hash"}
    return Candidate(id=item_id, title=str(meta.get("title", "")), score=float(score),
                     metadata=meta, document=document, image=meta.get("image") or None,
                     evidence=list(evidence))


def _fields(metas) -> dict[str, FieldInfo]:
    kinds: dict[str, set[str]] = {}
    values: dict[str, Counter] = {}
    numbers: dict[str, list[float]] = {}
    counts: Counter = Counter()
    for meta in metas:
        for key, value in meta.items():
            if key in STORE_KEYS:
                continue
            counts[key] += 1
            kind = ("list" if isinstance(value, list) else "bool" if isinstance(value, bool)
                    else "int" if isinstance(value, int) else "float" if isinstance(value, float) else "str")
            kinds.setdefault(key, set()).add(kind)
            if kind in ("int", "float"):
                nums = numbers.setdefault(key, [float("inf"), float("-inf")])
                nums[0], nums[1] = min(nums[0], value), max(nums[1], value)
            elif kind == "list":
                values.setdefault(key, Counter()).update(v for v in value if isinstance(v, (str, int, float)))
            elif kind in ("str", "bool"):
                values.setdefault(key, Counter())[value] += 1
    out = {}
    for key, ks in sorted(kinds.items()):
        if ks <= {"int"}:
            kind = "int"
        elif ks <= {"int", "float"}:
            kind = "float"
        elif len(ks) == 1:
            kind = next(iter(ks))
        else:
            kind = "list" if "list" in ks else "str"
        info = FieldInfo(name=key, type=kind, count=counts[key])
        if kind in ("int", "float"):
            lo, hi = numbers[key]
            info.min, info.max = (int(lo), int(hi)) if kind == "int" else (lo, hi)
        elif key in values:
            info.values = [v for v, _ in values[key].most_common(FIELD_VALUES_CAP)]
        out[key] = info
    return out

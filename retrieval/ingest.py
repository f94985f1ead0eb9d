"""The ingest pipeline: catalog -> documents -> vectors -> ChromaDB, idempotently.

Stages (each timed in the report): read the catalog; caption images and transcribe audio
(cached by content hash, left out with one warning when those models are missing or
disabled); keyframes and sound of videos (:mod:`retrieval.video_ingest`); build one
document per item; hash what each vector is made from and skip items
whose hash is already stored (one ``get`` for all hashes); encode the changed documents in
batches and upsert them in batches; CLIP vectors of changed items' pictures, documents and
video frames;
prune removed items on request; fit the collaborative model from an interaction log.

A second ingest of the same catalog writes nothing; editing one row re-embeds that row only.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .catalog import STORE_KEYS
from .dialogues import DIALOGUES_FILE
from .errors import ModelUnavailable
from .settings import Settings
from .store import KINDS, Store, to_metadata
from .timing import stopwatch
from .types import Item, Problem, ReadCount
from .video_ingest import delete_frames, embed_frames, read_videos, stored_frames

MANIFEST = "manifest.json"
# bump when the document layout changes, so every item is re-embedded once
DOC_FORMAT = 1


@dataclass
class IngestReport:
    """What one ingest did. ``skipped`` counts catalog rows refused by validation, so
    ``rows == items_total + skipped``; ``stale`` counts indexed items no longer in the
    catalog (left in place without prune); ``reads`` says where the records of every file
    read went (the catalog first, then the interaction log)."""

    catalog: str
    # catalog rows read (blank lines not counted)
    rows: int = 0
    items_total: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    stale: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    models: dict[str, str | None] = field(default_factory=dict)
    reads: list[ReadCount] = field(default_factory=list)
    # videos read (keyframes extracted or found in the cache) and frames CLIP-encoded
    videos: int = 0
    frames_encoded: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingest(settings: Settings, catalog_path: str | Path, hub=None, prune: bool = False,
           progress: bool = True, interactions: str | Path | None = None,
           reindex: bool = False, media_root: str | Path | None = None,
           conversations: str | Path | None = None) -> IngestReport:
    """Ingest ``catalog_path`` into the index of ``settings`` and return a report.

    hub: a ``ModelHub`` (made from ``settings`` when None). prune: delete indexed items no
    longer in the catalog. interactions: a ``user,item[,rating]`` CSV; fits the
    collaborative model saved beside the index. reindex: drop the index first (needed
    after changing a model). media_root: media paths must lead inside this folder
    (uploaded catalogs; see :func:`~retrieval.catalog.read_catalog`). conversations: a
    conversation log (ReDial or JSONL) for the ``dialogues`` channel, indexed beside the
    index (a log indexed before is re-encoded when the text model changed). Raises
    :class:`IndexMismatch` when the index was built with other models,
    :class:`CatalogError` when the catalog cannot be read at all.
    """
    from .catalog import read_catalog

    started = time.perf_counter()
    report = IngestReport(catalog=str(catalog_path))
    stages = report.stage_seconds
    if hub is None:
        from .models import ModelHub
        hub = ModelHub(settings)

    with stopwatch(stages, "read"):
        read = read_catalog(catalog_path, media_root=media_root)
        items = _unique(read.items, report.problems)
        report.problems.extend(read.problems)
        # rows refused by the reader, plus repeated ids (the reader already drops them;
        # _unique guards catalogs built in code)
        repeated = len(read.items) - len(items)
        report.skipped = read.skipped + repeated
        report.items_total = len(items)
        report.rows = read.rows
        count = read.count or ReadCount(str(catalog_path), records=read.rows, accepted=len(read.items),
                                        reported=read.skipped)
        count.accepted -= repeated
        count.reported += repeated
        report.reads.append(count)

    with stopwatch(stages, "open"):
        store = Store(settings)
        if reindex:
            store.drop()
        text = hub.text_encoder()
        store.collection("docs", text.model_id, text.dim, create=True)
        clip = _clip_encoder(hub, settings)
        if clip is not None:
            for kind in ("images", "docs_clip", "frames"):
                store.collection(kind, clip.model_id, clip.dim, create=True)
        report.models = {"text": text.model_id, "clip": clip.model_id if clip else None}

    with stopwatch(stages, "media"):
        digests = _digest_media(items, report.problems, content=clip is not None)
        captions, transcripts = _media_text(settings, hub, items, digests, progress, report)
    with stopwatch(stages, "video"):
        videos = read_videos(settings, hub, items, progress, report.problems)
        report.videos = len(videos)

    metas: dict[str, dict] = {}
    documents: dict[str, str] = {}
    for item in items:
        has_image = str(item.image) in digests if item.image else False
        documents[item.id] = build_document(item, captions.get(str(item.image)) if has_image else None,
                                            transcripts.get(str(item.audio)) if item.audio else None,
                                            videos[item.id].lines() if item.id in videos else ())
        meta = to_metadata(item.attributes)
        # a video's poster frame is the card picture of an item without one
        poster = videos[item.id].media.poster_frame.path if item.id in videos and not has_image else ""
        meta.update(title=item.title, image=str(item.image) if has_image else poster)
        metas[item.id] = meta

    with stopwatch(stages, "diff"):
        old_docs = store.hashes("docs")
        old_clip_meta = store.metadatas("docs_clip") if clip is not None else {}
        old_clip = {i: m.get("content_hash", "") for i, m in old_clip_meta.items()}
        old_images = store.hashes("images") if clip is not None else {}
        doc_hash = {i.id: _hash("doc", DOC_FORMAT, text.model_id, documents[i.id], metas[i.id])
                    for i in items}
        clip_hash = {}
        if clip is not None:
            clip_hash = {i.id: _hash("clip", DOC_FORMAT, clip.model_id, documents[i.id], metas[i.id],
                                     digests.get(str(i.image)) if i.image else None) for i in items}
        doc_changed = [i for i in items if old_docs.get(i.id) != doc_hash[i.id]]
        clip_changed = [i for i in items if clip is not None and (old_clip.get(i.id) != clip_hash[i.id]
                                                                   or _image_lost(i, old_clip_meta, old_images))]
        touched = {i.id for i in doc_changed} | {i.id for i in clip_changed}
        report.added = sum(1 for i in items if i.id not in old_docs)
        report.updated = sum(1 for i in touched if i in old_docs)
        report.unchanged = report.items_total - report.added - report.updated
        catalog_ids = {i.id for i in items}
        # every collection, not only docs: a run killed after writing a new item's image
        # vector but before its document leaves that vector behind for a later prune
        indexed = set(old_docs) | set(old_clip) | set(old_images) | set(stored_frames(store))
        gone = sorted(indexed - catalog_ids)

    # pictures first: a picture PIL cannot decode is known before the documents are
    # written, so no record points at it (the stored hash stays that of the declared row,
    # so the next ingest does not retry it)
    # items whose picture is their video's poster frame (already among its frames)
    posters = {i.id for i in items if i.id in videos and metas[i.id]["image"] != str(i.image)}
    if clip is not None:
        with stopwatch(stages, "encode_images"):
            broken = _embed_images(store, clip, clip_changed, metas, clip_hash, settings, progress,
                                   report.problems, posters=posters)
        with stopwatch(stages, "encode_frames"):
            report.frames_encoded = embed_frames(store, clip, videos, [i.id for i in items], metas, settings,
                                                 progress, report.problems, {i.id: i for i in items})
    else:
        with stopwatch(stages, "check_images"):
            broken = {i.id for i in doc_changed if metas[i.id]["image"] and i.id not in posters
                      and _load_image(i, report.problems, verify=True) is None}
    for item_id in broken:
        metas[item_id]["image"] = ""

    with stopwatch(stages, "encode_text"):
        _embed_texts(store, "docs", text.encode, doc_changed, documents, metas, doc_hash,
                     settings, progress, "text vectors", with_documents=True)
    if clip is not None:
        with stopwatch(stages, "encode_clip_text"):
            _embed_texts(store, "docs_clip", clip.encode_texts, clip_changed, documents, metas,
                         clip_hash, settings, progress, "CLIP text vectors", with_documents=False)

    if gone:
        if prune:
            with stopwatch(stages, "prune"):
                delete_frames(store, gone)
                for kind in KINDS:
                    store.delete(kind, gone)
                report.removed = len(gone)
        else:
            report.stale = len(gone)

    if interactions is not None:
        with stopwatch(stages, "collab"):
            _fit_collab(settings, interactions, [i.id for i in items], report)

    if conversations is not None or (settings.index_dir / DIALOGUES_FILE).is_file():
        with stopwatch(stages, "dialogues"):
            _index_conversations(settings, conversations, text, items, progress, report)

    report.problems = _dedupe(report.problems)
    report.seconds = time.perf_counter() - started
    _write_manifest(settings, store, report)
    return report


# ---- documents --------------------------------------------------------------------------


def build_document(item: Item, caption: str | None = None, transcript: str | None = None,
                   video: Sequence[str] = ()) -> str:
    """The text embedded for an item, one sentence per line: title, description,
    attributes ("genre: drama, romance; year: 1999"), the picture's caption, the
    audio's transcript and the video's lines (:func:`retrieval.video.video_lines`). Each line ends with a full stop: sentence encoders weigh
    unterminated fragments run together noticeably worse."""
    lines = [item.title.strip()]
    if item.description and item.description.strip():
        lines.append(item.description.strip())
    attributes = []
    for key, value in item.attributes.items():
        if key in STORE_KEYS or value is None or value == "" or value == []:
            continue
        if isinstance(value, (list, tuple, set)):
            value = ", ".join(str(v) for v in value if v is not None)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        attributes.append(f"{key}: {value}")
    if attributes:
        lines.append("; ".join(attributes))
    if caption and caption.strip():
        lines.append(f"Picture: {caption.strip()}")
    if transcript and transcript.strip():
        lines.append(f"Audio: {transcript.strip()}")
    lines.extend(video)
    return "\n".join(_sentence(line) for line in lines)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _hash(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _unique(items: Sequence[Item], problems: list[Problem]) -> list[Item]:
    """Items with distinct ids; a repeated id keeps the first row and is reported."""
    seen: dict[str, Item] = {}
    for item in items:
        if item.id in seen:
            file, line = item.source or ("", None)
            first = seen[item.id].source
            problems.append(Problem(file, line, "id", f"duplicate id {item.id!r} (first at line "
                                    f"{first[1] if first else '?'}); row skipped", "error", item.id))
            continue
        seen[item.id] = item
    return list(seen.values())


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        # the same broken picture is met by the captioner and by CLIP: report it once
        key = (p.file, p.line, p.field, p.item_id) if p.item_id else (p.file, p.line, p.field, p.reason)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# ---- media ------------------------------------------------------------------------------


def _digest_media(items: Sequence[Item], problems: list[Problem], content: bool) -> dict[str, str]:
    """``{path: digest}`` of every image and audio file that can be read; an unreadable
    file is a problem for its row and is left out (the item is still indexed by its text).
    ``content``: sha1 of the bytes (the CLIP vectors depend on them); otherwise only
    the file is checked, since no vector is made from its bytes (its caption and
    transcript enter the document, which is hashed)."""
    out: dict[str, str] = {}
    for item in items:
        for field_name, path in (("image", item.image), ("audio", item.audio)):
            if not path or str(path) in out:
                continue
            try:
                if content:
                    out[str(path)] = hashlib.sha1(Path(path).read_bytes()).hexdigest()
                else:
                    with open(path, "rb"):
                        out[str(path)] = ""
            except OSError as e:
                file, line = item.source or ("", None)
                problems.append(Problem(file, line, field_name, f"cannot read {path}: {e.strerror or e}; "
                                        "indexed without it", "warning", item.id))
    return out


def _media_text(settings: Settings, hub, items: Sequence[Item], digests: dict[str, str],
                progress: bool, report: IngestReport) -> tuple[dict[str, str], dict[str, str]]:
    """Captions of the pictures and transcripts of the audio, through the media cache."""
    images = [str(i.image) for i in items if i.image and str(i.image) in digests]
    audio = [str(i.audio) for i in items if i.audio and str(i.audio) in digests]
    if not (settings.enable_captions and images) and not (settings.enable_transcripts and audio):
        return {}, {}
    from .media import MediaCache, MediaText

    media = MediaText(hub, MediaCache(settings.cache_dir), progress=progress)
    by_path: dict[str, Item] = {}
    for item in items:
        for path in (item.image, item.audio):
            if path:
                by_path.setdefault(str(path), item)
    out = []
    for kind, enabled, paths, field_name in (("captions", settings.enable_captions, images, "image"),
                                             ("transcripts", settings.enable_transcripts, audio, "audio")):
        texts: dict = {}
        if enabled and paths:
            try:
                texts = getattr(media, kind)(paths)
            except ModelUnavailable as e:
                warnings.warn(f"{kind} left out: {e}", stacklevel=3)
            # problems are (path, reason) and reset by each call: take them now
            for path, reason in getattr(media, "problems", []):
                item = by_path.get(str(path))
                file, line = item.source if item is not None and item.source else (str(path), None)
                report.problems.append(Problem(file, line, field_name, f"{reason}; indexed without "
                                               f"its {kind[:-1]}", "warning", item.id if item else None))
        out.append({str(k): v for k, v in texts.items()})
    return out[0], out[1]


def _load_image(item: Item, problems: list[Problem], verify: bool = False):
    """The item's picture as an RGB PIL image (None and a problem when PIL cannot read it).
    ``verify`` only checks the file, without decoding all of it."""
    from PIL import Image

    try:
        with Image.open(item.image) as img:
            if verify:
                img.verify()
                return True
            # decode JPEGs at reduced size: CLIP looks at 224 px, and this is most of the cost
            img.draft("RGB", (448, 448))
            return img.convert("RGB")
    except Exception as e:  # PIL raises many kinds for a bad file
        file, line = item.source or ("", None)
        problems.append(Problem(file, line, "image", f"cannot decode {item.image}: {e}; "
                                "indexed by its text only", "warning", item.id))
        return None


# ---- vectors ----------------------------------------------------------------------------


def _chunks(seq: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def _bar(total: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="item", disable=not progress or total == 0)


def _embed_texts(store: Store, kind: str, encode, changed: Sequence[Item], documents, metas,
                 hashes, settings: Settings, progress: bool, desc: str, with_documents: bool) -> None:
    # encode one upsert batch at a time: bounded memory, and the encoder batches inside.
    # Sorted by length first: the encoder pads each batch to its longest text, and chunks
    # cut from catalog order mix lengths (~10% slower on ReDial movies, bench ingest)
    changed = sorted(changed, key=lambda i: len(documents[i.id]))
    with _bar(len(changed), desc, progress) as bar:
        for chunk in _chunks(changed, settings.upsert_batch_size):
            ids = [i.id for i in chunk]
            texts = [documents[i] for i in ids]
            store.upsert(kind, ids, encode(texts), [dict(metas[i], content_hash=hashes[i]) for i in ids],
                         texts if with_documents else None)
            bar.update(len(chunk))


def _image_lost(item: Item, old_clip_meta: dict[str, dict], old_images: dict[str, str]) -> bool:
    """The stored CLIP record says the item's picture was embedded, but no image vector of
    that state is there. A run killed after deleting a dropped picture's vector and before
    its CLIP record took the new state leaves this; if the next catalog brings the picture
    back, the hashes agree again and only this check re-embeds it."""
    meta = old_clip_meta.get(item.id)
    return bool(item.image and meta and meta.get("image") == str(item.image)
                and old_images.get(item.id) != meta.get("content_hash"))


def _embed_images(store: Store, clip, changed: Sequence[Item], metas, hashes, settings: Settings,
                  progress: bool, problems: list[Problem], posters: set[str] = frozenset()) -> set[str]:
    """CLIP vectors of the changed items' pictures; returns the ids whose picture broke.
    ``posters``: items whose picture is a video's poster frame, already among its frames."""
    with_image = [i for i in changed if metas[i.id]["image"] and i.id not in posters]
    without = [i.id for i in changed if not metas[i.id]["image"] or i.id in posters]
    broken: set[str] = set()
    # decoding pictures is most of this stage's CPU time and PIL releases the GIL while
    # decoding: a few threads keep the encoder fed
    workers = max(1, min(8, os.cpu_count() or 1))
    with _bar(len(with_image), "CLIP image vectors", progress) as bar, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        for chunk in _chunks(with_image, settings.image_batch_size):
            loaded = list(zip(chunk, pool.map(lambda i: _load_image(i, problems), chunk), strict=True))
            good = [(i, img) for i, img in loaded if img is not None]
            broken.update(i.id for i, img in loaded if img is None)
            if good:
                vectors = clip.encode_images([img for _, img in good])
                store.upsert("images", [i.id for i, _ in good], vectors,
                             [dict(metas[i.id], content_hash=hashes[i.id]) for i, _ in good])
            bar.update(len(chunk))
    # an item whose picture was removed or broke must not keep its old image vector
    store.delete("images", without + sorted(broken))
    return broken


def _clip_encoder(hub, settings: Settings):
    """The CLIP encoder, or None when disabled or unavailable (then one warning)."""
    if not settings.enable_clip:
        return None
    try:
        return hub.clip()
    except ModelUnavailable as e:
        warnings.warn(f"CLIP vectors left out: {e}", stacklevel=3)
        return None


# ---- after the vectors ----------------------------------------------------------------------


def _fit_collab(settings: Settings, interactions, item_ids: list[str], report: IngestReport) -> None:
    from .collab import CollabModel, read_interaction_log

    if isinstance(interactions, (str, Path)):
        log = read_interaction_log(interactions)
        # a bad line is reported like a bad catalog row, and the rest of the log is used
        report.problems.extend(log.problems)
        report.reads.append(log.count)
        rows = log.rows
    else:
        rows = interactions
    from .fusion import FUSION_FILE

    fitted_for = CollabModel.saved_meta(settings.index_dir).get("source")
    if fitted_for and (settings.index_dir / FUSION_FILE).is_file():
        # python -m eval fit saved the model its fusion weights were fitted with
        warnings.warn(f"the collaborative model fitted from {fitted_for} (saved by python -m eval fit, "
                      "its fusion weights fitted with it) is replaced by one of the --interactions log: "
                      "run python -m eval fit again", stacklevel=3)
    model = CollabModel.fit(rows, item_ids)
    model.save(settings.index_dir)
    report.models["collab"] = f"{model!r} from {interactions if isinstance(interactions, (str, Path)) else 'rows'}"


def _index_conversations(settings: Settings, conversations, text, items, progress: bool,
                         report: IngestReport) -> None:
    """The ``dialogues`` channel's log: ``conversations`` indexed (unchanged turns keep
    their vectors), or the log indexed before re-encoded if the text model changed."""
    from .dialogues import ingest_conversations, reencode

    if conversations is not None:
        done = ingest_conversations(settings.index_dir, conversations, text,
                                    titles={i.id: i.title for i in items}, progress=progress)
    else:
        done = reencode(settings.index_dir, text, progress=progress)
    if done is not None:
        report.models["dialogues"] = done.summary()


def _write_manifest(settings: Settings, store: Store, report: IngestReport) -> None:
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "catalog": str(Path(report.catalog).resolve()) if report.catalog else None,
        "index_name": settings.index_name,
        "chroma": store.where,
        "items": store.count("docs"),
        "counts": {k: store.count(k) for k in KINDS},
        "models": report.models,
        "last_ingest": {k: v for k, v in report.to_dict().items() if k not in ("problems",)},
        "problems": len(report.problems),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = settings.index_dir / MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


def read_manifest(settings: Settings) -> dict | None:
    """The manifest of the last ingest, or None."""
    path = settings.index_dir / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None




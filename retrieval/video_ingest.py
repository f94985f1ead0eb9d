"""The video stage of ingest: catalog rows with a ``video`` field.

:func:`read_videos` extracts each video's keyframes and audio track (:mod:`retrieval.video`,
cached by content), transcribes the audio track with the transcriber voice messages use
and captions the frames, both through :class:`~retrieval.media.MediaText` (cached by
content too). A video that cannot be used is a warning naming the file and the reason, and
its row is indexed without it; the rest of the catalog is not touched.

:func:`embed_frames` writes one CLIP vector per keyframe to the ``frames`` collection, with
the item's metadata and ``item_id``, ``frame`` and ``time``: a photo (or CLIP text) query
reaches an item through its best-matching frame, never through a mean of its frames, which
would match none of them. Frame records are ``<item id>#<n>``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelUnavailable
from .media_checks import VideoError
from .types import Item, Problem
from .video import VideoMedia, extract, video_lines

FRAMES = "frames"


@dataclass
class ItemVideo:
    """One catalog item's video, read."""

    media: VideoMedia
    transcript: str = ""
    captions: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The lines it adds to the item's document."""
        return video_lines(self.transcript, self.captions)


def frame_id(item_id: str, n: int) -> str:
    return f"{item_id}#{n}"


def item_of_frame(record_id: str) -> str:
    """The item id of a frame record (item ids may hold '#': the last one separates)."""
    return record_id.rsplit("#", 1)[0]


def read_videos(settings, hub, items: Sequence[Item], progress: bool,
                problems: list[Problem]) -> dict[str, ItemVideo]:
    """``{item id: ItemVideo}`` for the items whose video could be read; each other video
    is a warning in ``problems`` naming it and why."""
    from tqdm.auto import tqdm

    with_video = [i for i in items if i.video]
    if not with_video:
        return {}
    out: dict[str, ItemVideo] = {}

    def one(item: Item):
        try:
            return item, extract(item.video, settings, sound=settings.enable_transcripts), None
        except VideoError as e:
            return item, None, str(e)

    # ffmpeg runs in its own process: two at a time keep both cores of a small machine busy
    workers = max(1, min(2, os.cpu_count() or 1))
    with tqdm(total=len(with_video), desc="videos", unit="video", disable=not progress) as bar, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        for item, media, why in pool.map(one, with_video):
            name = Path(item.video).name
            if media is None:
                _warn(problems, item, f"{why} The row is indexed without its video.")
            else:
                out[item.id] = ItemVideo(media)
                if media.note:
                    _warn(problems, item, f"The video {name} is damaged ({media.note}); indexed with the "
                                          f"{len(media.frames)} frame(s) that could be read.")
                if not media.info.has_audio:
                    _warn(problems, item, f"The video {name} has no audio track: indexed by its frames only.")
            bar.update(1)
    _video_texts(settings, hub, out, {i.id: i for i in with_video}, progress, problems)
    return out


def _warn(problems: list[Problem], item: Item, reason: str) -> None:
    file, line = item.source or ("", None)
    problems.append(Problem(file, line, "video", reason, "warning", item.id))


def _video_texts(settings, hub, videos: dict[str, ItemVideo], items: dict[str, Item], progress: bool,
                 problems: list[Problem]) -> None:
    """Transcripts of the audio tracks and captions of the frames, through the media cache."""
    audio = {v.media.audio: i for i, v in videos.items() if v.media.audio}
    frames = {f.path: i for i, v in videos.items() for f in v.media.frames}
    want_text = settings.enable_transcripts and audio
    want_captions = settings.enable_captions and frames
    if not (want_text or want_captions):
        return
    from .media import MediaCache, MediaText

    media = MediaText(hub, MediaCache(settings.cache_dir), progress=progress)
    for kind, paths, enabled in (("transcripts", audio, want_text), ("captions", frames, want_captions)):
        if not enabled:
            continue
        try:
            texts = getattr(media, kind)(list(paths))
        except ModelUnavailable as e:  # MediaText warns itself; a hub may still raise
            texts = {}
            import warnings
            warnings.warn(f"video {kind} left out: {e}", stacklevel=3)
        for path, reason in media.problems:
            item = items[paths[path]]
            what = "sound" if kind == "transcripts" else "frame"
            _warn(problems, item, f"The video {Path(item.video).name}: {reason} (its {what}); indexed without it.")
        for path, text in texts.items():
            video = videos[paths[path]]
            if kind == "transcripts":
                video.transcript = text
        if kind == "captions":
            for video in videos.values():
                video.captions = [texts[f.path] for f in video.media.frames if texts.get(f.path)]


# ---- the frames collection ---------------------------------------------------------------


def frames_hash(clip_model: str, video: ItemVideo, meta: dict[str, Any]) -> str:
    """What an item's frame records are made from: the CLIP model, the frames (content and
    extraction parameters) and the metadata copied onto each."""
    text = json.dumps(["frames", clip_model, video.media.key, meta], sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def stored_frames(store) -> dict[str, dict[str, str]]:
    """``{item id: {frame record id: content hash}}`` of the frames collection."""
    out: dict[str, dict[str, str]] = {}
    if store.collection(FRAMES) is None:
        return out
    for record_id, meta, _ in store.iter_records(FRAMES):
        item_id = str(meta.get("item_id", item_of_frame(record_id)))
        out.setdefault(item_id, {})[record_id] = meta.get("content_hash", "")
    return out


def embed_frames(store, clip, videos: dict[str, ItemVideo], item_ids: Sequence[str],
                 metas: dict[str, dict], settings, progress: bool, problems: list[Problem],
                 items: dict[str, Item]) -> int:
    """CLIP vectors of the keyframes of items whose frames changed; frames of items that no
    longer have a (readable) video are deleted. Returns how many frames were encoded."""
    from PIL import Image
    from tqdm.auto import tqdm

    old = stored_frames(store)
    want = {i: frames_hash(clip.model_id, videos[i], metas[i]) for i in item_ids if i in videos}
    changed = [i for i, h in want.items()
               if set(old.get(i, {}).values()) != {h} or len(old.get(i, {})) != len(videos[i].media.frames)]
    # stale records: of changed items, and of catalog items without a video now
    stale = [rid for i in list(changed) + [i for i in item_ids if i not in want] for rid in old.get(i, {})]
    store.delete(FRAMES, stale)
    todo = [(i, n, f) for i in changed for n, f in enumerate(videos[i].media.frames)]
    done = 0
    with tqdm(total=len(todo), desc="CLIP frame vectors", unit="frame", disable=not progress or not todo) as bar:
        for start in range(0, len(todo), settings.image_batch_size):
            chunk = todo[start:start + settings.image_batch_size]
            images, keep = [], []
            for i, n, f in chunk:
                try:
                    with Image.open(f.path) as img:
                        images.append(img.convert("RGB"))
                    keep.append((i, n, f))
                except Exception as e:  # a cache file removed or damaged under us
                    _warn(problems, items[i], f"The video {Path(items[i].video).name}: frame {n} cannot be "
                                              f"read from the cache ({e}); left out.")
            if images:
                vectors = clip.encode_images(images)
                store.upsert(FRAMES, [frame_id(i, n) for i, n, _ in keep], vectors,
                             [dict(metas[i], content_hash=want[i], item_id=i, frame=n, time=f.time)
                              for i, n, f in keep])
                done += len(keep)
            bar.update(len(chunk))
    return done


def delete_frames(store, item_ids: Sequence[str]) -> None:
    """Remove every frame record of these items (prune)."""
    gone = set(item_ids)
    store.delete(FRAMES, [rid for i, recs in stored_frames(store).items() if i in gone for rid in recs])

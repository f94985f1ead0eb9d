"""``clip_text`` and ``clip_image``: the query text through CLIP's text tower, and the
query photo through its image tower, each against the pictures (``images``) and the
documents in CLIP space (``docs_clip``), the two lists merged by rank."""

from __future__ import annotations

from ..media_checks import load_image
from .base import Channel, Hit, Search
from .registry import register


class ClipText(Channel):
    name = "clip_text"
    position = 20
    encodes = True

    def runs(self, search: Search) -> bool:
        return bool(search.text) and search.index.clip_encoder() is not None

    def find(self, search: Search) -> list[Hit]:
        index = search.index
        vector = index.encode_query("clip", lambda clip: clip.encode_texts([search.text])[0])
        return clip_hits(search, vector, {})

    def available(self, index) -> bool:
        return index.clip_encoder() is not None


class ClipImage(Channel):
    name = "clip_image"
    position = 30
    encodes = True

    def runs(self, search: Search) -> bool:
        return search.query.image is not None and search.index.clip_encoder() is not None

    def find(self, search: Search) -> list[Hit]:
        index = search.index
        image = load_image(search.query.image, index.settings, draft=(448, 448))
        vector = index.encode_query("clip", lambda clip: clip.encode_images([image])[0])
        return clip_hits(search, vector, {"photo": True})

    def available(self, index) -> bool:
        return index.clip_encoder() is not None


def clip_hits(search: Search, vector, detail: dict) -> list[Hit]:
    """The nearest pictures (their own and their videos' keyframes) and CLIP documents,
    merged by rank; ``detail`` added to each."""
    index = search.index
    # pictures first, then frames, then documents: ties of rank go to the stronger evidence
    lists = {"image": index.nearest("images", vector, search)}
    frames: dict[str, int] = {}
    if index.collection_count("frames"):
        lists["frame"] = frame_hits(search, vector, frames)
    lists["text"] = index.nearest("docs_clip", vector, search)
    return [(i, sc, {**detail, **d, **({"frame": frames[i]} if d["via"] == "frame" else {})})
            for i, sc, d in merge_by_rank(lists, search.depth)]


def frame_hits(search: Search, vector, best_frame: dict[str, int]) -> list[tuple[str, float]]:
    """Items by their best-matching video keyframe: the nearest frame records, each item
    at its first (most similar) frame, i.e. the max over its frames; that frame's number
    lands in ``best_frame``."""
    from ..video_ingest import item_of_frame

    per_item = max(1, search.index.settings.video_max_frames)
    found = search.index.nearest("frames", vector, search, keep=lambda r: search.keep(item_of_frame(r)),
                                 per_item=per_item)
    out: list[tuple[str, float]] = []
    for record_id, score in found:
        item_id = item_of_frame(record_id)
        if item_id not in best_frame:
            best_frame[item_id] = int(record_id.rsplit("#", 1)[1])
            out.append((item_id, score))
    return out[:search.depth]


def merge_by_rank(lists: dict[str, list[tuple[str, float]]], n: int) -> list[Hit]:
    """One list from several of the same channel (e.g. CLIP against pictures and against
    documents, whose similarity scales differ): each id at its best rank, ties in the
    order the lists are given; detail says which list (``via``) found it."""
    best: dict[str, tuple[int, int, float, str]] = {}
    for order, (via, hits) in enumerate(lists.items()):
        for rank, (item_id, score) in enumerate(hits):
            key = (rank, order, score, via)
            if item_id not in best or key[:2] < best[item_id][:2]:
                best[item_id] = key
    ranked = sorted(best.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
    return [(item_id, score, {"via": via}) for item_id, (_, _, score, via) in ranked[:n]]


register(ClipText())
register(ClipImage())

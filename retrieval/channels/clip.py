"""``clip_text`` and ``clip_image``: the query text through CLIP's text tower, and the
query photo through its image tower, each against the pictures (``images``) and the
documents in CLIP space (``docs_clip``), the two lists merged by rank."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
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
        image = load_query_image(search.query.image, index.settings.max_image_pixels)
        vector = index.encode_query("clip", lambda clip: clip.encode_images([image])[0])
        return clip_hits(search, vector, {"photo": True})

    def available(self, index) -> bool:
        return index.clip_encoder() is not None


def clip_hits(search: Search, vector, detail: dict) -> list[Hit]:
    """The nearest pictures and CLIP documents, merged by rank; ``detail`` added to each."""
    lists = {via: search.index.nearest(kind, vector, search)
             for via, kind in (("image", "images"), ("text", "docs_clip"))}
    return [(i, sc, {**detail, **d}) for i, sc, d in merge_by_rank(lists, search.depth)]


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


def load_query_image(image: Any, max_pixels: int):
    """A query photo (path or PIL image) as RGB; :class:`InputError` when it cannot be read."""
    from PIL import Image

    if isinstance(image, Image.Image):
        img = image
    else:
        try:
            with Image.open(image) as f:
                if f.width * f.height > max_pixels:
                    raise InputError(f"photo {image} has {f.width}x{f.height} pixels; the limit is "
                                     f"{max_pixels} (max_image_pixels)")
                f.draft("RGB", (448, 448))
                img = f.convert("RGB")
        except InputError:
            raise
        except Exception as e:
            raise InputError(f"cannot read the photo {image}: {e}") from None
    return img if img.mode == "RGB" else img.convert("RGB")


register(ClipText())
register(ClipImage())

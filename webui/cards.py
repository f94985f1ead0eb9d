"""Recommendation cards as HTML: the item's picture (a small inline JPEG, so no folder
has to be served), its title, a few facts and the reason it was recommended."""

from __future__ import annotations

import base64
import html
import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant import Recommendation

THUMB_PIXELS = 192
MAX_FACTS = 4
# metadata the index keeps for itself, not facts about the item
_HIDDEN = {"title", "image", "audio", "content_hash", "description", "document", "id"}


@lru_cache(maxsize=1024)
def _thumbnail(path: str, mtime: float) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.draft("RGB", (THUMB_PIXELS * 2, THUMB_PIXELS * 2))  # fast JPEG decode
            img = img.convert("RGB")
            img.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=82)
    except (OSError, ValueError, SyntaxError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def thumbnail_data_uri(path: str | Path | None) -> str | None:
    """A small JPEG of the picture as a data URI, or None when there is no readable picture."""
    if not path:
        return None
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError:
        return None
    return _thumbnail(str(p), mtime)


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_value(v) for v in value[:5])
    return str(value)


# shown first when an item has them; the other attributes follow in name order
_FIRST = ("category", "price", "brand", "year", "genre", "rating", "size", "origin")


def key_facts(metadata: dict[str, Any], limit: int = MAX_FACTS) -> list[tuple[str, str]]:
    """Up to ``limit`` (name, value) pairs worth showing: the common facts first, then the
    rest by name, so every card lists its facts in the same order."""
    facts = []
    metadata = metadata or {}
    order = [n for n in _FIRST if n in metadata] + sorted(n for n in metadata if n not in _FIRST)
    for name in order:
        value = metadata[name]
        if name in _HIDDEN or name.startswith("_") or value in (None, "", [], ()):
            continue
        if isinstance(value, str) and len(value) > 60:
            continue  # long free text belongs to the description, not to a fact line
        facts.append((name.replace("_", " "), _format_value(value)))
        if len(facts) == limit:
            break
    return facts


def card_html(item: Recommendation, position: int) -> str:
    """One recommendation's card; ``position`` is 1-based."""
    title = html.escape(str(item.title or item.id))
    reason = html.escape(str(item.reason or ""))
    uri = thumbnail_data_uri(item.image)
    picture = (
        f'<img class="rec-img" src="{uri}" alt="{title}">'
        if uri
        else '<div class="rec-img rec-noimg">no picture</div>'
    )
    facts = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
        for k, v in key_facts(item.metadata or {})
    )
    item_id = html.escape(str(item.id), quote=True)
    return (
        f'<div class="rec-card" data-item-id="{item_id}">{picture}'
        f'<div class="rec-body"><div class="rec-title">{position}. {title}</div>'
        f'<ul class="rec-facts">{facts}</ul><div class="rec-reason">{reason}</div></div></div>'
    )


CSS = """
.rec-slot {border:1px solid var(--border-color-primary); border-radius:10px; padding:8px;
           max-width:240px;}
.rec-card {display:flex; flex-direction:column; gap:6px;}
.rec-img {width:100%; height:150px; object-fit:contain; border-radius:8px; background:#fff;}
.rec-noimg {display:flex; align-items:center; justify-content:center; background:#eee;
            color:#888; font-size:12px;}
.rec-title {font-weight:600;}
.rec-facts {margin:0; padding-left:16px; font-size:12px;}
.rec-reason {font-size:13px; font-style:italic;}
#status {min-height:1.5em; font-size:13px; color:var(--body-text-color-subdued);}
#chips {gap:6px; flex-wrap:wrap;}
.chip {flex:0 0 auto !important; border-radius:999px !important; font-size:12px !important;
       padding:2px 10px !important;}
"""

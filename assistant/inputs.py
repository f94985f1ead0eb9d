"""Checks on chat inputs against the limits in settings, by content, not file name.

The text limit lives here; photos and voice messages are checked by
:mod:`retrieval.media_checks` (their one home, shared with the index's photo queries),
re-exported so the chat and the web page reach every input check through the assistant.
"""

from __future__ import annotations

from retrieval.errors import InputError
from retrieval.media import SAMPLE_RATE
from retrieval.media_checks import (
    check_size,
    check_voice_file,
    is_video,
    load_audio,
    load_image,
    sniff_kind,
)
from retrieval.video import load_video_message as load_video

__all__ = ["SAMPLE_RATE", "check_size", "check_text", "check_voice_file", "is_video", "load_audio",
           "load_image", "load_video", "sniff_kind"]


def check_text(text: str | None, settings) -> str:
    """The message, stripped; refused when longer than ``max_message_chars``."""
    text = (text or "").strip()
    if len(text) > settings.max_message_chars:
        raise InputError(f"the message is {len(text)} characters long; the limit is "
                         f"{settings.max_message_chars} (setting max_message_chars)")
    return text

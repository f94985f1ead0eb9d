"""Checks on files that come from the browser, by content and never by name.

A photo must decode as an image within the pixel limit, a voice message must be audio
(ffprobe finds an audio stream) no longer than ``settings.max_audio_seconds``, and both
must fit in ``settings.max_upload_bytes``. A catalog's media zip is extracted without
trusting any name or size written in it. Every refusal is an :class:`InputError` whose
message can be shown to the person as it is.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from retrieval.errors import InputError

# Leading bytes of the audio containers browsers record and people upload.
_AUDIO_MAGIC = (b"RIFF", b"ID3", b"OggS", b"fLaC", b"\x1aE\xdf\xa3", b"#!AMR")


def _size_mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def check_size(path: str | Path, limit: int, what: str) -> int:
    """The file's size in bytes; :class:`InputError` when it is over ``limit``."""
    size = Path(path).stat().st_size
    if size > limit:
        raise InputError(
            f"The {what} is {_size_mb(size)}, over the limit of {_size_mb(limit)}. "
            "Please send a smaller file."
        )
    if size == 0:
        raise InputError(f"The {what} is empty.")
    return size


def sniff_kind(path: str | Path) -> str:
    """'image', 'audio' or 'unknown', from the file's first bytes (not its name)."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypavif", b"ftypmif1"):
        return "image"
    if head.startswith(_AUDIO_MAGIC) or head[4:8] == b"ftyp":
        return "audio"
    # MPEG audio frame sync without an ID3 tag
    if len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "audio"
    return "unknown"


def load_image(path: str | Path, settings: Any):
    """Open an uploaded photo as an RGB PIL image after checking size, content and pixels."""
    from PIL import Image, UnidentifiedImageError

    check_size(path, settings.max_upload_bytes, "photo")
    try:
        with Image.open(path) as probe:
            width, height = probe.size
            # a decompression bomb is refused before its pixels are decoded
            if width * height > settings.max_image_pixels:
                raise InputError(
                    f"The photo is {width}x{height} pixels, over the limit of "
                    f"{settings.max_image_pixels:,} pixels. Please send a smaller one."
                )
            probe.verify()
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB")
    except InputError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses it before our check sees the size
        raise InputError("The photo has too many pixels, far over the limit of "
                         f"{settings.max_image_pixels:,} pixels. Please send a smaller one.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InputError(
            "That file is not a photo I can read (it may be damaged or in an "
            f"unsupported format: {type(e).__name__}). Try a JPEG or PNG."
        ) from None


def audio_duration(path: str | Path) -> float:
    """Seconds of audio in the file according to ffprobe; :class:`InputError` if none."""
    if shutil.which("ffprobe") is None:
        raise InputError("Voice messages need ffmpeg (ffprobe was not found on this machine).")
    cmd = [
        "ffprobe",
        "-v",
        "error",
        "-select_streams",
        "a:0",
        "-show_entries",
        "stream=codec_type:format=duration",
        "-of",
        "json",
        str(path),
    ]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        info = json.loads(out.stdout or "{}")
    except (subprocess.TimeoutExpired, json.JSONDecodeError):
        info = {}
    streams = info.get("streams") or []
    duration = (info.get("format") or {}).get("duration")
    if not streams or duration in (None, "N/A"):
        raise InputError(
            "That file is not a voice message I can play (no audio found in it). "
            "Try a WAV, MP3, OGG or WebM recording."
        )
    return float(duration)


def check_audio(path: str | Path, settings: Any, workdir: str | Path) -> Path:
    """Check an uploaded or recorded voice message and copy it to a file named by us.

    Returns the copy's path inside ``workdir`` (the original name is never used)."""
    check_size(path, settings.max_upload_bytes, "voice message")
    if sniff_kind(path) != "audio":
        raise InputError(
            "That file is not a voice message I can play. Try a WAV, MP3, OGG or WebM recording."
        )
    seconds = audio_duration(path)
    if seconds > settings.max_audio_seconds:
        raise InputError(
            f"The voice message is {seconds:.0f} s long, over the limit of "
            f"{settings.max_audio_seconds:.0f} s. Please send a shorter one."
        )
    Path(workdir).mkdir(parents=True, exist_ok=True)
    copy = Path(workdir) / f"voice-{uuid.uuid4().hex}"
    shutil.copyfile(path, copy)
    return copy


def sniff_catalog_format(path: str | Path) -> str:
    """'.jsonl' or '.csv' from the first non-blank character of an uploaded catalog."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if b"\x00" in head:
        raise InputError("The catalog must be a JSONL or CSV text file; this one is binary.")
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if not text:
        raise InputError("The catalog file is empty.")
    return ".jsonl" if text.startswith("{") else ".csv"


def safe_extract_zip(
    zip_path: str | Path, dest: str | Path, max_bytes: int, max_files: int = 20_000
) -> list[Path]:
    """Extract a media zip into ``dest`` and return the files written.

    Refuses absolute names, ``..`` parts, links and anything outside ``dest``, and stops
    once more than ``max_bytes`` were actually written (sizes in the zip's own directory
    are not trusted) or there are more than ``max_files`` members."""
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise InputError("The media file is not a valid zip archive.") from None
    written: list[Path] = []
    total = 0
    with archive:
        members = archive.infolist()
        if len(members) > max_files:
            raise InputError(
                f"The zip holds {len(members):,} entries, over the limit of {max_files:,}."
            )
        for info in members:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise InputError(f"The zip entry {name!r} points outside its folder; refused.")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise InputError(f"The zip entry {name!r} is a link; links are refused.")
            target = (dest / name).resolve()
            if not target.is_relative_to(dest):
                raise InputError(f"The zip entry {name!r} points outside its folder; refused.")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > max_bytes:
                        raise InputError(
                            f"The zip unpacks to more than {_size_mb(max_bytes)}; refused."
                        )
                    out.write(chunk)
            written.append(target)
    return written

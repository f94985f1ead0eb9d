"""Checks on files that come from the browser, by content and never by name.

Photos and voice messages are checked by :mod:`retrieval.media_checks` (their one home,
reached through :mod:`assistant.inputs`); a voice message is then copied under a name of
our own. A catalog's media zip is extracted without
trusting any name or size written in it. Every refusal is an :class:`InputError` whose
message can be shown to the person as it is.
"""

from __future__ import annotations

import shutil
import stat
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from assistant import InputError
from assistant.inputs import check_size, check_voice_file, is_video, load_image, sniff_kind

__all__ = ["check_audio", "check_size", "is_video", "load_image", "safe_extract_zip",
           "sniff_catalog_format", "sniff_kind"]


def _size_mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def check_audio(path: str | Path, settings: Any, workdir: str | Path) -> Path:
    """Check an uploaded or recorded voice message (:func:`retrieval.media_checks.check_voice_file`)
    and copy it to a file named by us: returns the copy's path inside ``workdir`` (the
    original name is never used)."""
    check_voice_file(path, settings)
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

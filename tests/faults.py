"""Helpers that make bad inputs for the reliability tests, from real files where real
files exist: damaged copies of the demo catalog's photos, a decompression bomb, audio
that is silent, cut short or far too long, a catalog saved in the wrong encoding, a zip
that tries to write outside its folder. Every helper is deterministic (seeded).

Nothing here is a fixture; the tests call these functions with a ``tmp_path``.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
import wave
import zipfile
import zlib
from pathlib import Path
from typing import Any

from retrieval.settings import DEMO_CATALOG, REPO_ROOT

PYTHON = str(Path(__import__("sys").executable))
REPO = REPO_ROOT


# ---- the real rows everything starts from ------------------------------------------------------


def demo_rows(n: int | None = None) -> list[dict[str, Any]]:
    """Rows of the demo grocery catalog (data/demo/grocery.jsonl), image paths made
    absolute so a copy of the catalog can live in any folder."""
    if not DEMO_CATALOG.is_file():
        import pytest

        pytest.skip(f"demo catalog {DEMO_CATALOG} not built yet")
    rows = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if row.get("image"):
            row["image"] = str((DEMO_CATALOG.parent / row["image"]).resolve())
    return rows[:n] if n else rows


def write_jsonl(path: Path, rows: list[dict[str, Any] | str | bytes]) -> Path:
    """A JSONL file: dicts are dumped, str / bytes lines written as they are (bad lines)."""
    out = bytearray()
    for row in rows:
        if isinstance(row, dict):
            out += json.dumps(row, ensure_ascii=False).encode("utf-8")
        elif isinstance(row, str):
            out += row.encode("utf-8")
        else:
            out += row
        out += b"\n"
    path.write_bytes(bytes(out))
    return path


def write_csv(path: Path, rows: list[dict[str, Any]], encoding: str = "utf-8") -> Path:
    """A CSV catalog (id, title, description, image, category, origin) in ``encoding``."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "title", "description", "image", "category", "origin"])
    for r in rows:
        attrs = r.get("attributes", {})
        writer.writerow([r["id"], r["title"], r.get("description", ""), r.get("image", ""),
                         attrs.get("category", ""), attrs.get("origin", "")])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


# ---- broken pictures ------------------------------------------------------------------------------


def truncated_copy(src: Path, dst: Path, keep: float = 0.5) -> Path:
    """The first ``keep`` share of a real file's bytes (a download cut short)."""
    data = Path(src).read_bytes()
    dst.write_bytes(data[: max(1, int(len(data) * keep))])
    return dst


def corrupt_jpeg(src: Path, dst: Path, seed: int = 0) -> Path:
    """A real JPEG whose header bytes (after the start marker) are overwritten with noise:
    the file starts like a JPEG but no decoder can identify it."""
    rng = random.Random(seed)
    data = bytearray(Path(src).read_bytes())
    end = min(len(data), 400)
    data[2:end] = bytes(rng.randrange(256) for _ in range(end - 2))
    dst.write_bytes(bytes(data))
    return dst


def corrupt_png(src: Path, dst: Path) -> Path:
    """A real photo re-saved as PNG with its pixel data damaged and the checksum left
    stale: Pillow opens it (the header is fine) and fails while decoding."""
    from PIL import Image

    with Image.open(src) as img:
        img.convert("RGB").save(dst, format="PNG")
    data = bytearray(dst.read_bytes())
    at = data.index(b"IDAT") + 4
    for i in range(at + 10, min(len(data) - 20, at + 200)):
        data[i] ^= 0x5A
    dst.write_bytes(bytes(data))
    return dst


def text_file(dst: Path, text: str = "This is not a picture, it is a shopping list: milk, eggs.\n") -> Path:
    """A text file, whatever ``dst``'s name claims (photo.jpg ...)."""
    dst.write_text(text, encoding="utf-8")
    return dst


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb_png(dst: Path, side: int = 20_000) -> Path:
    """A valid 1-bit PNG of ``side`` x ``side`` pixels (400 M by default, over twice
    Pillow's MAX_IMAGE_PIXELS, so opening it raises DecompressionBombError) that takes
    about 50 KB on disk. Decoded as RGB it would need ``3 * side**2`` bytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    dst.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body)
                    + _png_chunk(b"IEND", b""))
    return dst


def big_png(dst: Path, width: int, height: int) -> Path:
    """A real, small-on-disk PNG with many pixels (under Pillow's own bomb limit): for
    the project's own ``max_image_pixels`` limit."""
    from PIL import Image

    Image.new("L", (width, height), 128).save(dst, format="PNG", optimize=True)
    return dst


# ---- audio ------------------------------------------------------------------------------------------


def speech_wav(dst: Path, text: str = "I would like something sweet for dessert") -> Path:
    """Real speech from espeak-ng (16 kHz mono WAV); falls back to a tone when espeak-ng
    is missing, so the file is still real audio."""
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(dst), text], check=True, capture_output=True)
        return dst
    return tone_wav(dst, 2.0)


def _wav(dst: Path, samples: bytes, rate: int = 16_000) -> Path:
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples)
    return dst


def silent_wav(dst: Path, seconds: float = 2.0, rate: int = 16_000) -> Path:
    """A valid WAV of digital silence."""
    return _wav(dst, b"\x00\x00" * int(seconds * rate), rate)


def tone_wav(dst: Path, seconds: float, rate: int = 16_000) -> Path:
    """A valid WAV of a quiet 440 Hz tone."""
    import math

    frames = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    return _wav(dst, frames, rate)


def long_silent_wav(dst: Path, seconds: float, rate: int = 8_000) -> Path:
    """A long but valid WAV (low rate keeps the file small)."""
    return _wav(dst, b"\x00\x00" * int(seconds * rate), rate)


def truncated_wav(src: Path, dst: Path, keep_bytes: int = 30) -> Path:
    """A WAV cut inside its 44-byte header: nothing left to decode."""
    return truncated_copy(src, dst, keep=keep_bytes / max(1, Path(src).stat().st_size))


# ---- archives ----------------------------------------------------------------------------------------


def zip_with(dst: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    """A zip whose entries have exactly the given names (``../x``, ``/etc/x`` ...), plus
    optional symlink entries ``{name: target}``."""
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            z.writestr(info, target)
    return dst


# ---- processes --------------------------------------------------------------------------------------


from tests.processes import free_port  # noqa: E402,F401  (the tests call faults.free_port)


def listing(folder: Path) -> set[str]:
    """Names directly inside ``folder`` (for before/after comparisons of a temp dir)."""
    try:
        return {p.name for p in Path(folder).iterdir()}
    except FileNotFoundError:
        return set()

"""Checks on a photo or a voice message someone hands in, by content and never by name.

The one home for these checks: the chat (:mod:`assistant.inputs`), the web page's uploads
(:mod:`webui.uploads`) and a photo query to the index (:meth:`retrieval.index.Index.search`)
all use them, so a file is refused the same way, with the same message, wherever it comes
in. A photo must decode as an image (Pillow opens and verifies it) within
``max_image_pixels``; a voice message must be audio (ffmpeg decodes it, ffprobe finds an
audio stream) no longer than ``max_audio_seconds``; both must fit in ``max_upload_bytes``.
A video (a catalog row's or a chat message's) must have a video stream ffprobe reads, within
``video_max_bytes``, ``video_max_pixels`` and ``video_max_seconds`` (:func:`probe_video`,
:func:`check_video_limits`; :mod:`retrieval.video` extracts its frames and sound).

Every refusal is an :class:`~retrieval.errors.InputError` whose message names the file, what
is wrong, the setting that sets the limit and what to do, and can be shown to the person
as it is.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .media import SAMPLE_RATE, is_silent, to_mono

# Leading bytes of the audio containers browsers record and people upload.
_AUDIO_MAGIC = (b"RIFF", b"ID3", b"OggS", b"fLaC", b"\x1aE\xdf\xa3", b"#!AMR")
_PHOTO_FORMATS = "Send a JPEG, PNG or WebP file."
_AUDIO_FORMATS = "Send a WAV, MP3, OGG, M4A or WebM recording."


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _named(what: str, source: Any) -> str:
    """``"The photo cat.jpg"`` for a file, ``"The photo"`` for bytes or arrays."""
    if isinstance(source, (str, Path)):
        return f"The {what} {Path(source).name}"
    return f"The {what}"


def _setting(name: str) -> str:
    return f" (setting {name})" if name else ""


def check_size(path: str | Path, limit: int, what: str, setting: str = "") -> int:
    """The file's size in bytes; :class:`InputError` when it is empty or over ``limit``
    (``setting`` names the setting that sets the limit, for the message)."""
    size = Path(path).stat().st_size
    if size > limit:
        raise InputError(f"{_named(what, path)} is {_size(size)}, over the limit of {_size(limit)}"
                         f"{_setting(setting)}. Please send a smaller file.")
    if size == 0:
        raise InputError(f"{_named(what, path)} is empty.")
    return size


def read_upload(data: Any, what: str, settings) -> bytes:
    """Bytes of an upload given as bytes or a path, within ``max_upload_bytes``."""
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        if len(raw) > settings.max_upload_bytes:
            raise InputError(f"The {what} is {_size(len(raw))}, over the limit of "
                             f"{_size(settings.max_upload_bytes)} (setting max_upload_bytes). "
                             "Please send a smaller file.")
        if not raw:
            raise InputError(f"The {what} is empty.")
        return raw
    path = Path(data)
    if not path.is_file():
        raise InputError(f"The {what} {path} does not exist; check the path.")
    check_size(path, settings.max_upload_bytes, what, "max_upload_bytes")
    return path.read_bytes()


def sniff_kind(path: str | Path) -> str:
    """``'image'``, ``'audio'`` or ``'unknown'``, from the file's first bytes (not its name)."""
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


# ---- photos ----------------------------------------------------------------------------------


def load_image(image: Any, settings, draft: tuple[int, int] | None = None):
    """A verified RGB PIL image from a path, bytes, a PIL image or an HxW(x3) array.

    ``draft`` lets Pillow decode a JPEG at a reduced scale no smaller than that size (the
    index's photo queries: CLIP looks at 224 pixels)."""
    import numpy as np
    from PIL import Image

    if isinstance(image, np.ndarray):  # e.g. what a web UI hands over
        try:
            image = Image.fromarray(image.astype(np.uint8) if image.dtype != np.uint8 else image)
        except (TypeError, ValueError) as e:
            raise InputError(f"The photo array of shape {image.shape} is not an image ({e}).") from None
    if isinstance(image, Image.Image):
        _check_pixels(image.size, image, settings)
        return image if image.mode == "RGB" else image.convert("RGB")
    raw = read_upload(image, "photo", settings)
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            _check_pixels(probe.size, image, settings)  # before any pixel is decoded
            probe.verify()  # checks the file's structure without decoding every pixel
        img = Image.open(io.BytesIO(raw))
        if draft:
            img.draft("RGB", draft)
        img.load()
    except InputError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses it before our own check sees the size
        raise InputError(f"{_named('photo', image)} has too many pixels, far over the limit of "
                         f"{settings.max_image_pixels:,} pixels (setting max_image_pixels). "
                         "Please send a smaller one.") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{_named('photo', image)} is not a photo I can read: not a readable image, "
                         f"perhaps damaged or in an unsupported format ({type(e).__name__}: {e}). "
                         + _PHOTO_FORMATS) from None
    return img.convert("RGB")


def _check_pixels(size: tuple[int, int], source: Any, settings) -> None:
    w, h = size
    if w * h > settings.max_image_pixels:
        raise InputError(f"{_named('photo', source)} is {w}x{h} pixels, over the limit of "
                         f"{settings.max_image_pixels:,} pixels (setting max_image_pixels). "
                         "Please send a smaller one.")


# ---- voice messages --------------------------------------------------------------------------


def probe_streams(path: str | Path, select: str) -> tuple[list[dict], float | None]:
    """``(streams, duration in seconds)`` that ffprobe finds in the file for the stream
    selector ``select`` (``"a:0"`` the first audio stream, ``"v:0"`` the first video
    stream); no streams and ``None`` when it reads nothing. Decodes no samples."""
    if shutil.which("ffprobe") is None:
        raise InputError("Voice and video messages need ffmpeg, which is not installed "
                         "(ffprobe was not found on this machine: apt install ffmpeg).")
    cmd = ["ffprobe", "-v", "error", "-select_streams", select,
           "-show_entries", "stream=codec_type:format=duration", "-of", "json", str(path)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        info = json.loads(out.stdout or "{}")
    except (subprocess.TimeoutExpired, json.JSONDecodeError):
        info = {}
    duration = (info.get("format") or {}).get("duration")
    return list(info.get("streams") or []), None if duration in (None, "N/A") else float(duration)


def check_voice_file(path: str | Path, settings) -> float:
    """Seconds of a voice message kept as a file (the web page's uploads and recordings),
    checked without decoding it: size, audio by its first bytes, an audio stream that
    ffprobe finds, and the length limit. Silence is left to :func:`load_audio`."""
    check_size(path, settings.max_upload_bytes, "voice message", "max_upload_bytes")
    if sniff_kind(path) != "audio":
        _not_audio(path, "it does not start like an audio file")
    streams, seconds = probe_streams(path, "a:0")
    if not streams or seconds is None:
        _not_audio(path, "no audio found in it")
    if seconds > settings.max_audio_seconds:
        _too_long(path, seconds, settings)
    return seconds


def load_audio(audio: Any, settings):
    """16 kHz mono float32 samples of a voice message (path, bytes, 16 kHz float samples,
    or a ``(sample_rate, samples)`` pair as web UIs record it), refused
    when it cannot be decoded, is silent-empty or lasts longer than ``max_audio_seconds``."""
    import numpy as np

    if isinstance(audio, tuple) and len(audio) == 2 and isinstance(audio[1], np.ndarray):
        rate = int(audio[0])
        if rate > 0 and len(audio[1]) / rate > settings.max_audio_seconds:
            _too_long(audio, len(audio[1]) / rate, settings)  # before resampling it
        samples = _to_16k(rate, audio[1])
    elif isinstance(audio, np.ndarray):
        try:  # 16 kHz float samples; two channels are mixed down, never interleaved
            samples = to_mono(audio)
        except ValueError as e:
            raise InputError(f"The voice message samples cannot be read as audio: {e}.") from None
    else:
        raw = read_upload(audio, "voice message", settings)
        if not shutil.which("ffmpeg"):
            raise InputError("Voice messages need ffmpeg, which is not installed (apt install ffmpeg).")
        # decode at most a little past the limit: a long file is refused without decoding it all
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "pipe:0", "-t",
               str(settings.max_audio_seconds + 1), "-f", "s16le", "-ac", "1", "-acodec",
               "pcm_s16le", "-ar", str(SAMPLE_RATE), "pipe:1"]
        proc = subprocess.run(cmd, input=raw, capture_output=True, check=False)
        if proc.returncode != 0 or not proc.stdout:
            why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            _not_audio(audio, why[-1] if why else "ffmpeg found no audio in it")
        samples = np.frombuffer(proc.stdout, np.int16).astype(np.float32) / 32768.0
    seconds = len(samples) / SAMPLE_RATE
    if seconds > settings.max_audio_seconds:
        _too_long(audio, None, settings)  # decoding stopped just past the limit
    if len(samples) == 0:
        raise InputError(f"{_named('voice message', audio)} is empty.")
    if is_silent(samples):
        raise InputError(f"{_named('voice message', audio)} is silent ({seconds:.1f} s with nothing "
                         "recorded); check the microphone and record again, or type your message.")
    return samples


def _not_audio(source: Any, why: str) -> None:
    raise InputError(f"{_named('voice message', source)} could not be decoded as audio ({why}): "
                     "it is not a voice message I can play. " + _AUDIO_FORMATS)


def _too_long(source: Any, seconds: float | None, settings) -> None:
    limit = settings.max_audio_seconds
    length = f" ({seconds:.0f} s)" if seconds is not None else ""
    raise InputError(f"{_named('voice message', source)} lasts more than {limit:g} seconds{length}: "
                     f"over the limit of {limit:g} s (setting max_audio_seconds). "
                     "Please send a shorter one.")


def _to_16k(rate: int, data):
    """Mono float32 at 16 kHz from samples of any rate, integer or float, mono or stereo."""
    import numpy as np

    if rate <= 0:
        raise InputError(f"The voice message has an invalid sample rate {rate}.")
    x = np.asarray(data)
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    x = x.astype(np.float32)
    if x.ndim == 2:  # (samples, channels)
        x = x.mean(axis=1)
    if rate != SAMPLE_RATE and len(x):
        # linear interpolation is enough for speech recognition input
        n = int(round(len(x) * SAMPLE_RATE / rate))
        x = np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)
    return x


# ---- videos ----------------------------------------------------------------------------------

VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov")
_VIDEO_FORMATS = "Send an MP4, WebM, MKV or MOV video."
# the boxes an MP4 / MOV file starts with (bytes 4-8)
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"}


class VideoError(InputError):
    """A video that cannot be used; the message names the file and says why."""


@dataclass
class VideoInfo:
    """What ffprobe says of a video file."""

    size: int
    duration: float
    width: int
    height: int
    has_audio: bool
    codec: str = ""


def probe_video(path: str | Path) -> VideoInfo:
    """The streams of a video file, read from its headers without decoding it (PyAV, the
    libraries ffmpeg is made of, in this process: a tenth of an ffprobe run's cost);
    :class:`VideoError` when it is empty, cut short, text, not a video ffmpeg can read or
    has no video stream."""
    import av

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise VideoError(f"{_named('video', path)} cannot be read: {e.strerror or e}.") from None
    if size == 0:
        raise VideoError(f"{_named('video', path)} is empty (0 bytes).")
    head = _head(path)
    if _is_text(head):  # ffmpeg would read it as a video of the text (its "tty" format)
        raise VideoError(f"{_named('video', path)} is not a video I can read, it holds text. " + _VIDEO_FORMATS)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            streams = list(container.streams)
            duration = (container.duration or 0) / 1_000_000  # in AV_TIME_BASE units
            video = [s for s in streams if s.type == "video" and not _cover_picture(s)]
            has_audio = any(s.type == "audio" for s in streams)
            if video:
                v = video[0]
                width, height = int(v.codec_context.width or 0), int(v.codec_context.height or 0)
                codec = str(v.codec_context.name or "")
                if not duration and v.duration and v.time_base:
                    duration = float(v.duration * v.time_base)
    except av.error.FFmpegError as e:
        if head[4:8] in _MP4_BOXES:  # an MP4 / MOV that ffmpeg cannot open: its index is missing
            raise VideoError(f"{_named('video', path)} is cut short: its MP4/MOV index (the moov atom) "
                             "is missing. Copy or export the video again.") from None
        why = str(getattr(e, "strerror", "") or e).split(": '")[0]
        raise VideoError(f"{_named('video', path)} is not a video I can read ({why[:160]}). "
                         + _VIDEO_FORMATS) from None
    if not video:
        raise VideoError(f"{_named('video', path)} has no video stream"
                         + (" (audio only: send it as a voice message)." if has_audio else "."))
    return VideoInfo(size=size, duration=max(0.0, float(duration)), width=width, height=height,
                     has_audio=has_audio, codec=codec)


def _cover_picture(stream) -> bool:
    """A still picture attached to an audio file (album art) is a video stream of one frame."""
    import av

    return bool(int(stream.disposition) & int(av.stream.Disposition.attached_pic))


def is_video(path: str | Path) -> bool:
    """Whether the file holds a moving picture (a cover picture in an audio file is not one):
    tells a video upload from a voice message, whose containers are the same."""
    try:
        return probe_video(path) is not None
    except VideoError:
        return False


def check_video_limits(info: VideoInfo, source: Any, settings, max_seconds: float | None = None) -> None:
    """:class:`VideoError` naming the setting when the video is too large, of too high a
    resolution or too long. ``max_seconds`` overrides ``video_max_seconds`` (a video message
    is held to the voice message limit as well)."""
    name = _named("video", source)
    if info.size > settings.video_max_bytes:
        raise VideoError(f"{name} is {_size(info.size)}, over the limit of {_size(settings.video_max_bytes)}"
                         f"{_setting('video_max_bytes')}. Please send a smaller file.")
    pixels = info.width * info.height
    if pixels > settings.video_max_pixels:
        raise VideoError(f"{name} is {info.width}x{info.height} = {pixels:,} pixels a frame, over the limit "
                         f"of {settings.video_max_pixels:,}{_setting('video_max_pixels')}. "
                         "Please send a smaller one.")
    limit = settings.video_max_seconds if max_seconds is None else max_seconds
    setting = "video_max_seconds" if max_seconds is None else "video_max_seconds, max_audio_seconds"
    if info.duration > limit:
        raise VideoError(f"{name} lasts {info.duration:.1f} s, over the limit of {limit:g} s"
                         f"{_setting(setting)}. Please send a shorter one.")


def _head(path: Path, n: int = 512) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text) and all(c.isprintable() or c in "\r\n\t" for c in text)

"""Checks on chat inputs against the limits in settings, by content, not file name.

Photos are opened and verified with Pillow; voice messages are decoded with ffmpeg (as
openai-whisper does) to 16 kHz mono samples, so a renamed or truncated file is refused
with a clear :class:`~retrieval.errors.InputError` before any model sees it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

from retrieval.errors import InputError
from retrieval.media import SAMPLE_RATE, is_silent, to_mono


def check_text(text: str | None, settings) -> str:
    """The message, stripped; refused when longer than ``max_message_chars``."""
    text = (text or "").strip()
    if len(text) > settings.max_message_chars:
        raise InputError(f"the message is {len(text)} characters long; the limit is "
                         f"{settings.max_message_chars} (setting max_message_chars)")
    return text


def _read_upload(data: Any, what: str, settings) -> bytes:
    """Bytes of an upload given as bytes or a path, within ``max_upload_bytes``."""
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
    else:
        path = Path(data)
        if not path.is_file():
            raise InputError(f"the {what} {path} does not exist")
        size = path.stat().st_size
        if size > settings.max_upload_bytes:
            raise InputError(f"the {what} {path.name} is {size:,} bytes; the limit is "
                             f"{settings.max_upload_bytes:,} (setting max_upload_bytes)")
        raw = path.read_bytes()
    if len(raw) > settings.max_upload_bytes:
        raise InputError(f"the {what} is {len(raw):,} bytes; the limit is {settings.max_upload_bytes:,} "
                         f"(setting max_upload_bytes)")
    if not raw:
        raise InputError(f"the {what} is empty")
    return raw


def load_image(image: Any, settings):
    """A verified RGB PIL image from a path, bytes, a PIL image or an HxW(x3) array."""
    import numpy as np
    from PIL import Image

    if isinstance(image, np.ndarray):  # e.g. what a web UI hands over
        try:
            image = Image.fromarray(image.astype(np.uint8) if image.dtype != np.uint8 else image)
        except (TypeError, ValueError) as e:
            raise InputError(f"the photo array of shape {image.shape} is not an image ({e})") from None
    if isinstance(image, Image.Image):
        _check_pixels(image.size, settings)
        return image.convert("RGB")
    raw = _read_upload(image, "photo", settings)
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            _check_pixels(probe.size, settings)
            probe.verify()  # checks the file's structure without decoding every pixel
        img = Image.open(io.BytesIO(raw))
        img.load()
    except InputError:
        raise
    except Image.DecompressionBombError:
        # Pillow refuses before our own check can look at the size
        raise InputError(f"the photo has far more pixels than the limit of {settings.max_image_pixels:,} "
                         "(setting max_image_pixels)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"the photo is not a readable image ({type(e).__name__}: {e}); "
                         "send a JPEG, PNG or WebP file") from None
    return img.convert("RGB")


def _check_pixels(size: tuple[int, int], settings) -> None:
    w, h = size
    if w * h > settings.max_image_pixels:
        raise InputError(f"the photo is {w}x{h} = {w * h:,} pixels; the limit is "
                         f"{settings.max_image_pixels:,} (setting max_image_pixels)")


def load_audio(audio: Any, settings):
    """16 kHz mono float32 samples of a voice message (path, bytes, 16 kHz float samples,
    or a ``(sample_rate, samples)`` pair as web UIs record it), refused
    when it cannot be decoded, is silent-empty or lasts longer than ``max_audio_seconds``."""
    import numpy as np

    if isinstance(audio, tuple) and len(audio) == 2 and isinstance(audio[1], np.ndarray):
        rate = int(audio[0])
        if rate > 0 and len(audio[1]) / rate > settings.max_audio_seconds:
            _too_long(settings)  # before resampling minutes of audio
        samples = _to_16k(rate, audio[1])
    elif isinstance(audio, np.ndarray):
        try:  # 16 kHz float samples; two channels are mixed down, never interleaved
            samples = to_mono(audio)
        except ValueError as e:
            raise InputError(f"the voice message samples cannot be read as audio: {e}") from None
    else:
        raw = _read_upload(audio, "voice message", settings)
        if not shutil.which("ffmpeg"):
            raise InputError("voice messages need ffmpeg, which is not installed (apt install ffmpeg)")
        # decode at most a little past the limit: a long file is refused without decoding it all
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "pipe:0", "-t",
               str(settings.max_audio_seconds + 1), "-f", "s16le", "-ac", "1", "-acodec",
               "pcm_s16le", "-ar", str(SAMPLE_RATE), "pipe:1"]
        proc = subprocess.run(cmd, input=raw, capture_output=True, check=False)
        if proc.returncode != 0 or not proc.stdout:
            why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise InputError("the voice message could not be decoded as audio"
                             + (f" ({why[-1]})" if why else "") + "; send WAV, MP3, OGG or M4A")
        samples = np.frombuffer(proc.stdout, np.int16).astype(np.float32) / 32768.0
    seconds = len(samples) / SAMPLE_RATE
    if seconds > settings.max_audio_seconds:
        _too_long(settings)
    if len(samples) == 0:
        raise InputError("the voice message is empty")
    if is_silent(samples):
        raise InputError(f"the voice message is silent ({seconds:.1f} s with nothing recorded); "
                         "check the microphone and record again, or type your message")
    return samples


def _too_long(settings) -> None:
    raise InputError(f"the voice message lasts more than {settings.max_audio_seconds:g} seconds, the "
                     "limit (setting max_audio_seconds); send a shorter one")


def _to_16k(rate: int, data):
    """Mono float32 at 16 kHz from samples of any rate, integer or float, mono or stereo."""
    import numpy as np

    if rate <= 0:
        raise InputError(f"the voice message has an invalid sample rate {rate}")
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

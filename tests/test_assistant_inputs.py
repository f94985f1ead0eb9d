"""Chat input limits, checked by content: Pillow verifies photos, ffmpeg decodes audio."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from assistant.inputs import SAMPLE_RATE, check_text, load_audio, load_image
from retrieval.errors import InputError


def _wav(seconds: float, rate: int = 22050) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                               for i in range(n)))
    return buf.getvalue()


@pytest.fixture
def photo(shared_datasets):
    return next((shared_datasets / "grocery" / "iconic-images-and-descriptions").rglob("*_Iconic.jpg"))


def test_text_limit(settings):
    s = settings.replace(max_message_chars=10)
    assert check_text("  hello  ", s) == "hello"
    with pytest.raises(InputError, match="limit is 10"):
        check_text("x" * 11, s)


def test_real_photo_from_path_and_bytes(settings, photo):
    img = load_image(photo, settings)
    assert img.mode == "RGB" and img.size[0] > 0
    assert load_image(photo.read_bytes(), settings).size == img.size


def test_photo_checked_by_content_not_extension(settings, tmp_path, photo):
    fake = tmp_path / "not-a-photo.jpg"
    fake.write_text("this is text, not a JPEG")
    with pytest.raises(InputError, match="not a readable image"):
        load_image(fake, settings)
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(photo.read_bytes()[:200])
    with pytest.raises(InputError):
        load_image(truncated, settings)


def test_photo_size_and_pixel_limits(settings, photo):
    with pytest.raises(InputError, match="max_upload_bytes"):
        load_image(photo, settings.replace(max_upload_bytes=100))
    with pytest.raises(InputError, match="max_image_pixels"):
        load_image(photo, settings.replace(max_image_pixels=1000))


def test_audio_is_decoded_to_16khz_samples(settings, tmp_path):
    path = tmp_path / "voice.bin"  # the name says nothing; the content is a WAV file
    path.write_bytes(_wav(1.5))
    samples = load_audio(path, settings)
    assert samples.dtype.name == "float32"
    assert abs(len(samples) / SAMPLE_RATE - 1.5) < 0.05 and 0.1 < abs(samples).max() <= 1.0


def test_audio_limits_and_garbage(settings, tmp_path):
    with pytest.raises(InputError, match="max_audio_seconds"):
        load_audio(_wav(3.0), settings.replace(max_audio_seconds=2.0))
    with pytest.raises(InputError, match="could not be decoded"):
        load_audio(b"\x00\x01 definitely not audio" * 50, settings)
    with pytest.raises(InputError, match="does not exist"):
        load_audio(tmp_path / "missing.ogg", settings)


def test_web_ui_shapes_of_photo_and_audio(settings, photo):
    import numpy as np
    from PIL import Image

    arr = np.asarray(Image.open(photo).convert("RGB"))
    assert load_image(arr, settings).size == (arr.shape[1], arr.shape[0])
    stereo = (np.ones((44100, 2)) * 1000).astype(np.int16)  # one second at 44.1 kHz
    samples = load_audio((44100, stereo), settings)
    assert len(samples) == SAMPLE_RATE and samples.dtype.name == "float32"
    assert abs(float(samples[100]) - 1000 / 32767) < 1e-4
    with pytest.raises(InputError, match="max_audio_seconds"):
        load_audio((8000, np.zeros(8000 * 5, np.float32)), settings.replace(max_audio_seconds=2.0))


def test_stereo_sample_arrays_are_mixed_down_not_interleaved(settings):
    import numpy as np

    t = np.arange(16000) / 16000
    left = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    samples = load_audio(np.stack([left, left], axis=1), settings)
    assert samples.shape == (16000,) and np.allclose(samples, left)
    with pytest.raises(InputError, match="silent"):
        load_audio(np.zeros((16000, 2), np.float32), settings)
    with pytest.raises(InputError, match="cannot be read as audio"):
        load_audio(np.zeros((2, 2, 2), np.float32), settings)

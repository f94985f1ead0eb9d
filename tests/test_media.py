"""Captions and transcripts through the real model code (tiny random-weight BLIP and
whisper), the content-hash cache, and how MediaText copes with missing models and
broken files."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retrieval.errors import ModelUnavailable
from retrieval.fakes import FakeCaptioner
from retrieval.media import BlipCaptioner, MediaCache, MediaText, WhisperTranscriber, file_sha256
from retrieval.models import ModelHub

# random weights never stop on their own: keep whisper's decoding short and greedy
FAST_WHISPER = {"sample_len": 8, "temperature": 0.0, "language": "en"}
ICONIC = "grocery/iconic-images-and-descriptions"


def _photos(shared: Path, n: int) -> list[Path]:
    photos = sorted((shared / ICONIC / "Fruit").rglob("*_Iconic.jpg"))[:n]
    assert len(photos) == n
    return photos


def _counting(monkeypatch, obj, method: str) -> list[int]:
    """Wrap obj.method (the real one) so the test can count calls; undone after the test
    (hubs share loaded models)."""
    calls = [0]
    real = getattr(obj, method)

    def wrapper(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, method, wrapper)
    return calls


@pytest.fixture(scope="session")
def spoken_wav(tmp_path_factory) -> Path:
    """A real spoken sentence, synthesised by espeak-ng."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "request.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "I would like some sweet yellow apples"],
                   check=True, capture_output=True)
    return path


# ---- the cache --------------------------------------------------------------------------


def test_media_cache_round_trip_and_persistence(tmp_path):
    cache = MediaCache(tmp_path)
    cache.put("h1", "model-a", "caption", "a red apple")
    cache.put_many({f"h{i}": f"text {i}" for i in range(2, 1200)}, "model-a", "caption")
    again = MediaCache(tmp_path)  # a new process would see the same file
    assert again.get("h1", "model-a", "caption") == "a red apple"
    assert again.get("h1", "model-b", "caption") is None  # another model: a miss
    assert again.get("h1", "model-a", "transcript") is None
    found = again.get_many([f"h{i}" for i in range(1, 1300)], "model-a", "caption")
    assert len(found) == 1199 and found["h1000"] == "text 1000"
    assert len(again) == 1199


# ---- captions -----------------------------------------------------------------------------


def test_blip_captions_real_photos_and_cache_hits(settings, tiny_blip_dir, shared_datasets, tmp_path,
                                                  monkeypatch, loaded_models):
    hub = ModelHub(settings.replace(caption_model=str(tiny_blip_dir), caption_batch_size=2), models=loaded_models)
    captioner = hub.captioner()
    assert isinstance(captioner, BlipCaptioner) and captioner.model_id == str(tiny_blip_dir)
    calls = _counting(monkeypatch, captioner, "caption")
    photos = _photos(shared_datasets, 3)
    # the same picture under another name is captioned once
    copy = tmp_path / "copy.jpg"
    shutil.copy(photos[0], copy)
    media = MediaText(hub, progress=False)
    first = media.captions([*photos, copy])
    assert set(first) == {str(p) for p in [*photos, copy]}
    assert all(isinstance(t, str) and t.strip() for t in first.values())
    assert first[str(copy)] == first[str(photos[0])]
    assert calls[0] == 2  # 3 distinct images in batches of 2
    assert media.problems == []
    # a second run, even from a fresh MediaText, never reaches the model
    second = MediaText(hub, progress=False).captions(photos)
    assert calls[0] == 2
    assert second == {str(p): first[str(p)] for p in photos}
    cached = MediaCache(settings.cache_dir).get(file_sha256(photos[1]), str(tiny_blip_dir), "caption")
    assert cached == first[str(photos[1])]


def test_blip_accepts_grey_images_and_paths(tiny_blip_dir, shared_datasets):
    captioner = BlipCaptioner(str(tiny_blip_dir), "cpu", batch_size=4, max_new_tokens=5)
    photo = _photos(shared_datasets, 1)[0]
    out = captioner.caption([Image.new("L", (40, 30), 90), photo])
    assert len(out) == 2 and all(isinstance(t, str) for t in out)


def test_broken_and_missing_images_are_reported_not_raised(settings, tiny_blip_dir, shared_datasets, tmp_path,
                                                           loaded_models):
    hub = ModelHub(settings.replace(caption_model=str(tiny_blip_dir)), models=loaded_models)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg")
    missing = tmp_path / "missing.jpg"
    good = _photos(shared_datasets, 1)[0]
    media = MediaText(hub, progress=False)
    out = media.captions([broken, good, missing])
    assert list(out) == [str(good)]
    reasons = dict(media.problems)
    assert set(reasons) == {str(broken), str(missing)}
    assert "cannot decode the image" in reasons[str(broken)]
    assert "cannot read the file" in reasons[str(missing)]


def test_missing_caption_model_warns_once_and_returns_cached(settings, shared_datasets):
    s = settings.replace(caption_model="nobody-here/no-captioner")
    hub = ModelHub(s)
    photos = _photos(shared_datasets, 3)
    cache = MediaCache(s.cache_dir)
    cache.put(file_sha256(photos[0]), "nobody-here/no-captioner", "caption", "a cached caption")
    media = MediaText(hub, cache, progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = media.captions(photos)
        again = media.captions(photos[1:])
    assert out == {str(photos[0]): "a cached caption"} and again == {}
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "nobody-here/no-captioner" in message and "python -m retrieval prefetch" in message
    with pytest.raises(ModelUnavailable):
        hub.captioner()


def test_captions_switched_off_and_fake_captioner(settings, shared_datasets):
    photos = _photos(shared_datasets, 2)
    off = MediaText(ModelHub(settings.replace(enable_captions=False), {"caption": FakeCaptioner()}),
                    progress=False)
    assert off.captions(photos) == {}
    fake = FakeCaptioner()
    out = MediaText(ModelHub(settings, {"caption": fake}), progress=False).captions(photos)
    assert all(t.startswith("a photo of something ") for t in out.values()) and fake.calls == 1


# ---- transcripts ----------------------------------------------------------------------------


def test_whisper_checkpoint_through_the_hub(settings, tiny_whisper_path, spoken_wav, loaded_models):
    import whisper

    hub = ModelHub(settings.replace(whisper_model=str(tiny_whisper_path)), models=loaded_models)
    assert {s.role: s.state for s in hub.status()}["whisper"] == "available"
    transcriber = hub.transcriber()
    assert isinstance(transcriber, WhisperTranscriber)
    assert transcriber.model_id == str(tiny_whisper_path)
    assert isinstance(transcriber.transcribe(spoken_wav, **FAST_WHISPER), str)
    samples = whisper.load_audio(str(spoken_wav))  # 16 kHz mono float32
    assert samples.dtype == np.float32 and len(samples) > 16_000
    assert isinstance(transcriber.transcribe(samples, **FAST_WHISPER), str)
    stereo = np.stack([samples, samples], axis=1)
    assert isinstance(transcriber.transcribe(stereo, **FAST_WHISPER), str)
    with pytest.raises(ValueError, match="1-D"):
        transcriber.transcribe(np.zeros((2, 2, 2), dtype=np.float32))


def test_transcripts_cache_and_corrupt_audio(settings, tiny_whisper_path, spoken_wav, tmp_path,
                                             monkeypatch):
    transcriber = WhisperTranscriber(str(tiny_whisper_path), "cpu", **FAST_WHISPER)
    calls = _counting(monkeypatch, transcriber, "transcribe")
    hub = ModelHub(settings, overrides={"whisper": transcriber})
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(range(256)) * 4)
    media = MediaText(hub, progress=False)
    out = media.transcripts([spoken_wav, corrupt])
    assert list(out) == [str(spoken_wav)] and isinstance(out[str(spoken_wav)], str)
    assert len(media.problems) == 1 and media.problems[0][0] == str(corrupt)
    assert "cannot transcribe the audio" in media.problems[0][1]
    assert calls[0] == 2
    # cached: the good file is not transcribed again (the corrupt one is retried)
    again = media.transcripts([spoken_wav])
    assert again == out and calls[0] == 2

"""One home for photo and voice checks: the chat, the web page's uploads and the index's
photo queries refuse a bad file with the same message, naming the file and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import inputs
from retrieval.errors import InputError
from retrieval.media_checks import check_voice_file, load_audio, load_image, sniff_kind
from retrieval.settings import DEMO_CATALOG
from tests import faults
from webui import uploads

PHOTO = DEMO_CATALOG.parent / "images" / "Granny-Smith.jpg"


def _message(call) -> str:
    with pytest.raises(InputError) as e:
        call()
    return str(e.value)


def test_every_door_uses_the_same_checks():
    assert inputs.load_image is load_image and uploads.load_image is load_image
    assert inputs.load_audio is load_audio and uploads.sniff_kind is sniff_kind


def test_unreadable_photo_names_the_file_and_what_to_send(settings, tmp_path):
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(PHOTO.read_bytes()[:300])  # a JPEG cut short
    message = _message(lambda: load_image(bad, settings))
    assert "holiday.jpg" in message and "not a photo I can read" in message
    assert "Send a JPEG, PNG or WebP file" in message
    # the web page and the chat say the same thing
    assert _message(lambda: uploads.load_image(bad, settings)) == message


def test_photo_limits_name_the_file_and_the_setting(settings):
    message = _message(lambda: load_image(PHOTO, settings.replace(max_image_pixels=100)))
    assert message.startswith("The photo Granny-Smith.jpg is ") and "(setting max_image_pixels)" in message
    message = _message(lambda: load_image(PHOTO, settings.replace(max_upload_bytes=1000)))
    assert "Granny-Smith.jpg" in message and "over the limit of 1,000 bytes (setting max_upload_bytes)" in message


def test_index_draft_decodes_a_jpeg_smaller_but_not_below_the_size(settings):
    full = load_image(PHOTO, settings)
    small = load_image(PHOTO, settings, draft=(64, 64))
    assert small.mode == "RGB" and 64 <= small.size[0] <= full.size[0]


def test_voice_file_checks_name_the_file(settings, tmp_path):
    long = faults.silent_wav(tmp_path / "my memo.wav", 2.5)
    message = _message(lambda: check_voice_file(long, settings.replace(max_audio_seconds=1.0)))
    assert "my memo.wav" in message and "over the limit of 1 s (setting max_audio_seconds)" in message
    # a file kept as a file is not decoded: a silent one passes here and is refused when read
    assert check_voice_file(long, settings) == pytest.approx(2.5, abs=0.05)
    assert "is silent" in _message(lambda: load_audio(long, settings))
    photo_as_voice = tmp_path / "memo.wav"
    photo_as_voice.write_bytes(PHOTO.read_bytes())
    for check in (lambda: check_voice_file(photo_as_voice, settings), lambda: load_audio(photo_as_voice, settings)):
        message = _message(check)
        assert "memo.wav could not be decoded as audio" in message and "WAV, MP3" in message


def test_a_missing_system_program_is_not_a_pip_install(monkeypatch):
    from retrieval import video_demo
    from retrieval.errors import MissingProgram, require_program

    assert require_program("sh")  # present: its path
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingProgram) as e:
        video_demo.speak("hello", Path("/tmp/never-written.wav"))
    message = str(e.value)
    assert "'espeak-ng' is needed for spoken narration" in message
    assert "apt install espeak-ng" in message and "pip" not in message

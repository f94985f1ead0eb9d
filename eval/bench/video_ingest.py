"""``python -m eval bench ingest --videos N``: ingest of a catalog with videos against the bare
cost of the same work, measured in the same run.

The catalog: the demo's first ``N`` products, each with a video of its photo and the next
product's while espeak-ng reads its title and description (:mod:`retrieval.video_demo`,
made before any timing). Ingest reads every video (keyframes, poster, audio track), CLIP-
encodes each keyframe, transcribes each sound track with the speech model voice messages
use, and embeds the documents (MiniLM and CLIP's text tower).

The bare cost of that work, with the libraries called directly: one ffmpeg run per video
decoding the same frames (same scaling and scene selection) and the sound (16 kHz mono WAV),
the open_clip image tower on those frames, the speech model's own ``transcribe`` on the
sound (faster-whisper's ``WhisperModel``, same weights and options), and the text encoders
on the same documents. Throughputs are videos per second; the ratio is ingest's over the
bare one's (1.0 = no overhead). CPU times count ffmpeg's (child processes) too. Captions are
off in both (a separate model with its own cache). A second row does the same without the
sound (transcripts off, no audio decoded on either side): the transcription, the largest
shared cost, no longer hides the pipeline's own.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from . import common


def cpu_with_children() -> float:
    """CPU seconds of this process and of its finished children (ffmpeg)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measure_videos(n: int, scratch: Path, clip_overrides: dict[str, Any], repeat: int, quiet: bool,
                   bare_factory, sound: bool = True) -> dict[str, Any]:
    """One row of ``bench ingest``: ``n`` videos, bare work against ingest (``sound``:
    transcripts on, and the bare side decodes and transcribes the sound too)."""
    from retrieval.ingest import build_document, ingest
    from retrieval.media import read_pcm_wav
    from retrieval.models import ModelHub
    from retrieval.settings import DEMO_CATALOG, Settings
    from retrieval.video import video_lines
    from retrieval.video_demo import make_video_catalog

    common.say(f"videos: making {n} videos from the demo's photos and espeak-ng narration", quiet)
    catalog = scratch.parent / "video-catalog" / "catalog.jsonl"
    if not catalog.is_file():  # both rows ingest the same videos
        catalog = make_video_catalog(DEMO_CATALOG, catalog.parent, n)
    base = {"enable_captions": False, "enable_transcripts": sound, "enable_clip": True,
            "speech_backend": "faster-whisper", **clip_overrides}
    settings = Settings.load(env={}, data_dir=str(scratch / "run0"), **base)
    hub = ModelHub(settings)
    from retrieval.catalog import read_catalog

    items = read_catalog(catalog).items
    bare = bare_factory(settings, hub, True)
    speech = hub.transcriber()
    opts = {"beam_size": 5, "condition_on_previous_text": False}
    if not speech.multilingual:
        opts["language"] = "en"

    def bare_run() -> int:
        frames_seen = 0
        with tempfile.TemporaryDirectory(prefix="chatrec-bare-video-") as tmp:
            frames, documents = [], []
            for k, item in enumerate(items):
                folder = Path(tmp) / str(k)
                folder.mkdir()
                wav = _decode(item.video, folder, settings, sound)
                got = sorted(folder.glob("f_*.jpg"))
                frames += got
                frames_seen += len(got)
                transcript = ""
                if sound:
                    samples = read_pcm_wav(wav)  # the numpy read of a 16 kHz PCM WAV
                    segments, _ = speech._model.transcribe(samples, vad_filter=speech.vad, **opts)
                    transcript = " ".join(" ".join(s.text.strip() for s in segments).split())
                documents.append(build_document(item, video=video_lines(transcript, [])))
            bare.encode(documents, frames)
        return frames_seen

    common.say(f"videos: warming up the models on {min(2, n)} videos", quiet)
    bare_warm = items
    items = bare_warm[: min(2, n)]
    bare_run()
    items = bare_warm
    raws, firsts, seconds, stages, cpu_ratios, frames = [], [], [], [], [], 0
    for run in range(repeat):
        common.say(f"videos: bare ffmpeg + encoders on {n} videos (run {run + 1}/{repeat})", quiet)
        raw_cpu = cpu_with_children()
        raw_s, frames = common.timed(bare_run)
        raw_cpu = cpu_with_children() - raw_cpu
        run_settings = settings.replace(data_dir=str(scratch / f"run{run}"))
        shutil.rmtree(run_settings.data_dir, ignore_errors=True)
        common.say("videos: ingest", quiet)
        first_cpu = cpu_with_children()
        first_s, report = common.timed(ingest, run_settings, catalog, hub=hub, progress=False)
        first_cpu = cpu_with_children() - first_cpu
        if report.added != n or report.videos != n:
            raise RuntimeError(f"ingest of {catalog} added {report.added} items and read {report.videos} "
                               f"videos of {n}: {report.problems[:5]}")
        started = time.perf_counter()
        again = ingest(run_settings, catalog, hub=hub, progress=False)
        second_s = time.perf_counter() - started
        if again.added or again.updated or again.frames_encoded:
            raise RuntimeError(f"re-ingest of the unchanged {catalog} re-did work: {again.to_dict()}")
        raws.append(raw_s)
        firsts.append(first_s)
        seconds.append(second_s)
        cpu_ratios.append(raw_cpu / first_cpu if first_cpu else 0.0)
        stages.append({k: round(v, 3) for k, v in report.stage_seconds.items()})
        frames_ingested = report.frames_encoded
        shutil.rmtree(run_settings.data_dir, ignore_errors=True)
    ratios = sorted(r / f for r, f in zip(raws, firsts, strict=True))
    raw_s, first_s, second_s = _median(raws), _median(firsts), _median(seconds)
    return {
        "catalog": f"demo videos ({'frames + sound' if sound else 'frames only'}, {frames_ingested} frames)",
        "items": n,
        "clip": hub.model_id("clip"),
        "raw_items_per_s": round(n / raw_s, 2), "ingest_items_per_s": round(n / first_s, 2),
        "ratio": round(_median(ratios), 3), "cpu_ratio": round(_median(cpu_ratios), 3),
        "first_s": round(first_s, 2), "second_s": round(second_s, 3),
        "second_pct": round(100 * second_s / first_s, 2),
        "bare_frames": frames, "speech": hub.model_id("whisper"),
        "runs": {"raw_s": raws, "first_s": firsts, "second_s": seconds, "stage_seconds": stages},
    }


def _decode(video: Path, folder: Path, settings, sound: bool = True) -> Path:
    """The bare decode: ffmpeg's scene-cut frames at the size ingest uses, and the sound."""
    from retrieval.video import FRAME_SIDE

    scale = (f"scale='min({FRAME_SIDE},iw)':'min({FRAME_SIDE},ih)'"
             ":force_original_aspect_ratio=decrease:force_divisible_by=2")
    select = f"select='eq(n\\,0)+gt(scene\\,{settings.video_scene_threshold})'"
    wav = folder / "sound.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(video), "-vf", f"{scale},{select}",
                    "-fps_mode", "vfr", "-frames:v", str(settings.video_max_frames), "-q:v", "3",
                    str(folder / "f_%03d.jpg"),
                    *(["-map", "0:a:0", "-ac", "1", "-ar", "16000", str(wav)] if sound else [])],
                   check=True, capture_output=True)
    return wav


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2

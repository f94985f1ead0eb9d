"""Videos to frames and sound, with ffmpeg: keyframes, the audio track and the poster frame,
cached by content.

The checks (:func:`~retrieval.media_checks.probe_video`: empty, cut short, not a video, no
video stream; :func:`~retrieval.media_checks.check_video_limits`: the ``video_max_*``
settings) live with the photo and voice checks in :mod:`retrieval.media_checks` and raise
:class:`~retrieval.media_checks.VideoError` naming the file. :func:`extract` then decodes
the video once: one ffmpeg run scales the frames down, keeps those that start a new scene
(ffmpeg's scene score above ``video_scene_threshold``), keeps evenly spaced frames beside
them as the fallback for a video with no cut (one long shot), and writes the audio track as
16 kHz mono WAV for the transcriber. At most ``video_max_frames`` frames are kept: the
first and the strongest cuts. The poster frame (the card picture of an item without one)
is the kept frame with the most detail, i.e. the largest JPEG: a black or faded frame
compresses to almost nothing.

Everything lands in ``cache_dir/video/<sha256>-<parameters>-<s|n>/`` (with the sound or
without it) with a ``video.json``, so an unchanged video is decoded once, whoever asks
(ingest or a chat message).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import require_program
from .media import SAMPLE_RATE, file_sha256
from .media_checks import VideoError, VideoInfo, check_video_limits, probe_video

__all__ = ["Frame", "VideoError", "VideoInfo", "VideoMedia", "VideoMessage", "extract",
           "load_video_message", "video_lines"]
# frames are scaled to fit this square before anything else: CLIP looks at 224 px and
# captioners at 384, and scene detection on small frames is several times cheaper
FRAME_SIDE = 448
# bump when the extraction changes, so cached frames are made again
EXTRACT_FORMAT = 2
# cut frames written before the strongest are chosen (a video of noise cuts every frame)
CUTS_PER_FRAME = 8
# fallback: at most one evenly spaced frame per second of video
EVEN_SPACING_S = 1.0


@dataclass
class Frame:
    """One kept frame: the JPEG, its time in the video and its scene score (0 for the first
    frame and for evenly spaced ones)."""

    path: str
    time: float
    score: float = 0.0


@dataclass
class VideoMedia:
    """The frames and sound of one video, as cached."""

    sha256: str
    info: VideoInfo
    frames: list[Frame]
    # index into frames
    poster: int
    # "scenes" (cuts found) or "even" (the fallback)
    how: str
    # 16 kHz mono 16-bit WAV of the first audio track, None without one
    audio: str | None = None
    # what ffmpeg said while decoding a damaged file that still gave frames
    note: str = ""
    folder: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def poster_frame(self) -> Frame:
        return self.frames[self.poster]

    @property
    def key(self) -> str:
        """What the frames are made from: content and extraction parameters (not whether
        the sound was kept: the frames are the same)."""
        return Path(self.folder).name.rsplit("-", 1)[0]


def _ffmpeg() -> None:
    require_program("ffmpeg", "videos")


def _last_line(text: str) -> str:
    """The last thing ffmpeg said, without its "[mov,mp4,... @ 0x55d0...]" source tag."""
    lines = [re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", ln.strip()) for ln in text.splitlines() if ln.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 200 else line[:197] + "..."


def _parameters(settings) -> str:
    text = json.dumps([EXTRACT_FORMAT, FRAME_SIDE, settings.video_max_frames,
                       settings.video_scene_threshold])
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def extract(path: str | Path, settings, sha256: str | None = None,
            max_seconds: float | None = None, sound: bool = True) -> VideoMedia:
    """The keyframes, poster and audio track of a video, from the cache when this content
    was extracted before with the same settings; :class:`VideoError` when the video is
    unusable or over a limit. ``sha256``: the file's, when already known. ``sound=False``
    leaves the audio track out (nothing will transcribe it; a cached extraction with it
    serves as well)."""
    path = Path(path)
    sha = sha256 or _sha(path)
    base = Path(settings.cache_dir) / "video" / f"{sha}-{_parameters(settings)}"
    folders = [Path(f"{base}-s")] + ([] if sound else [Path(f"{base}-n")])
    for folder in folders:
        cached = _load(folder)
        if cached is not None:
            # the limits may have been lowered since: a cached video is held to them too
            check_video_limits(cached.info, path, settings, max_seconds)
            return cached
    folder = folders[-1]
    _ffmpeg()
    info = probe_video(path)
    check_video_limits(info, path, settings, max_seconds)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        media = _decode(path, info, work, settings, sound)
        media.sha256 = sha
        _save(media, work, folder)
        try:
            os.replace(work, folder)
        except OSError:  # another process cached it meanwhile: theirs is as good
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    loaded = _load(folder)
    if loaded is None:  # pragma: no cover - only if the cache folder vanished under us
        raise VideoError(f"The frames of the video {path.name} could not be stored in the cache "
                         f"folder {folder.parent}.")
    return loaded


def _sha(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as e:
        raise VideoError(f"The video {path.name} cannot be read: {e.strerror or e}.") from None


def _decode(path: Path, info: VideoInfo, work: Path, settings, sound: bool = True) -> VideoMedia:
    """One ffmpeg run: scene cuts and evenly spaced frames from one decode, and the sound."""
    n = settings.video_max_frames
    even = max(1, min(n, int(info.duration // EVEN_SPACING_S) if info.duration else n))
    rate = f"{even}/{info.duration:.3f}" if info.duration else "1"
    scale = (f"scale='min({FRAME_SIDE},iw)':'min({FRAME_SIDE},ih)'"
             ":force_original_aspect_ratio=decrease:force_divisible_by=2")
    graph = (f"[0:v:0]{scale},split=2[s][e];"
             f"[s]select='eq(n\\,0)+gt(scene\\,{settings.video_scene_threshold})',"
             f"metadata=print:file={_filter_path(work / 'scenes.txt')}[cuts];"
             f"[e]fps=fps={rate}[even]")
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(path), "-filter_complex", graph,
           "-map", "[cuts]", "-fps_mode", "vfr", "-frames:v", str(n * CUTS_PER_FRAME), "-q:v", "3",
           str(work / "cut_%04d.jpg"),
           "-map", "[even]", "-frames:v", str(even), "-q:v", "3", str(work / "even_%04d.jpg")]
    if info.has_audio and sound:
        # 16-bit PCM WAV: the transcriber reads it without a decoder (media.read_pcm_wav)
        cmd += ["-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
                str(work / "audio.wav")]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    said = _last_line(proc.stderr.decode("utf-8", "replace"))
    cuts = _cut_frames(work)
    evens = [Frame(str(p), i * info.duration / even if info.duration else float(i))
             for i, p in enumerate(sorted(work.glob("even_*.jpg")))]
    if not cuts and not evens:
        raise VideoError(f"The video {path.name} has no frame ffmpeg could decode "
                         f"({said or 'ffmpeg gave no frames'}). Copy or export the video again.")
    if len(cuts) >= 2:
        # the first frame, then the strongest cuts, in time order
        kept = [cuts[0]] + sorted(sorted(cuts[1:], key=lambda f: -f.score)[: n - 1], key=lambda f: f.time)
        how, drop = "scenes", evens + cuts
    else:
        kept, how, drop = (evens or cuts), "even", evens + cuts
    for f in drop:
        if f not in kept:
            Path(f.path).unlink(missing_ok=True)
    frames = []
    for i, f in enumerate(kept):  # stable names: frame_00.jpg ...
        target = work / f"frame_{i:02d}.jpg"
        os.replace(f.path, target)
        frames.append(Frame(target.name, round(f.time, 3), round(f.score, 4)))
    sizes = [(work / f.path).stat().st_size for f in frames]
    audio = work / "audio.wav"
    has_sound = info.has_audio and sound and audio.is_file() and audio.stat().st_size > 0
    note = said if (proc.returncode != 0 or said) else ""
    return VideoMedia(sha256="", info=info, frames=frames, poster=sizes.index(max(sizes)), how=how,
                      audio=audio.name if has_sound else None, note=note)


def _filter_path(path: Path) -> str:
    # inside a filter graph ':' ',' and '\'' are syntax: escape them
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,").replace("'", "\\'")


def _cut_frames(work: Path) -> list[Frame]:
    """The scene-cut frames written, with the times and scores ffmpeg printed for them."""
    times, scores = [], []
    try:
        text = (work / "scenes.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        if line.startswith("frame:"):
            t = line.split("pts_time:")[-1].strip() if "pts_time:" in line else "0"
            times.append(float(t) if _is_number(t) else 0.0)
            scores.append(0.0)
        elif line.startswith("lavfi.scene_score=") and scores:
            scores[-1] = float(line.split("=", 1)[1] or 0.0)
    paths = sorted(work.glob("cut_*.jpg"))
    return [Frame(str(p), times[i] if i < len(times) else 0.0, scores[i] if i < len(scores) else 0.0)
            for i, p in enumerate(paths)]


def _save(media: VideoMedia, work: Path, folder: Path) -> None:
    data = asdict(media)
    data.pop("folder", None)
    (work / "video.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def _load(folder: Path) -> VideoMedia | None:
    try:
        data = json.loads((folder / "video.json").read_text(encoding="utf-8"))
        frames = [Frame(str(folder / f["path"]), f["time"], f["score"]) for f in data["frames"]]
        if not frames or not all(Path(f.path).is_file() for f in frames):
            return None
        audio = str(folder / data["audio"]) if data.get("audio") else None
        return VideoMedia(sha256=data["sha256"], info=VideoInfo(**data["info"]), frames=frames,
                          poster=int(data["poster"]), how=data["how"], audio=audio,
                          note=data.get("note", ""), folder=str(folder), extra=data.get("extra") or {})
    except (OSError, KeyError, TypeError, ValueError):
        return None


def video_lines(transcript: str | None, captions: list[str]) -> list[str]:
    """The lines a video adds to its item's document: what is said in it, what its frames
    show (captions in time order, each once)."""
    lines = []
    if transcript and transcript.strip():
        lines.append(f"Video: {transcript.strip()}")
    seen = [c.strip() for c in dict.fromkeys(c.strip() for c in captions if c and c.strip())]
    if seen:
        lines.append("Video frames: " + "; ".join(seen))
    return lines


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# ---- video messages ----------------------------------------------------------------------------


@dataclass
class VideoMessage:
    """A video sent in the chat: the frame that goes through the photo path, the sound that
    goes through the voice path, and what to show of it."""

    name: str
    # the poster frame, checked as a photo (RGB PIL image), and its JPEG in the cache
    frame: Any
    frame_path: str
    frame_time: float
    frames: int
    # 16 kHz mono samples of the sound; None without an audio track or when it is silent
    samples: Any = None
    # why there is no sound to listen to, for a notice ("" when there is)
    no_sound: str = ""

    def shown(self) -> dict[str, Any]:
        """What a reply says of the video: the frame used and where it is."""
        return {"name": self.name, "frame": self.frame_path, "time": self.frame_time,
                "frames": self.frames, "no_sound": self.no_sound}


def load_video_message(video: Any, settings) -> VideoMessage:
    """A chat video (a path or bytes) checked and read: :class:`VideoError` when it is not
    a usable video or over a limit (``video_max_*``, and ``max_audio_seconds`` for its
    length, since its sound is a voice message). Its frames are cached like a catalog's."""
    from .media import is_silent, read_pcm_wav
    from .media_checks import check_size, load_image

    limit_s = min(settings.video_max_seconds, settings.max_audio_seconds)
    if isinstance(video, (bytes, bytearray)):
        raw = bytes(video)
        if len(raw) > settings.video_max_bytes:
            raise VideoError(f"The video is {len(raw):,} bytes, over the limit of "
                             f"{settings.video_max_bytes:,} (setting video_max_bytes). Please send a smaller file.")
        folder = Path(settings.cache_dir) / "video"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".upload", delete=False) as f:
            f.write(raw)
        try:
            media = extract(f.name, settings, max_seconds=limit_s)
        finally:
            Path(f.name).unlink(missing_ok=True)
        name = "video"
    else:
        path = Path(video)
        if not path.is_file():
            raise VideoError(f"The video {path} does not exist; check the path.")
        check_size(path, settings.video_max_bytes, "video", "video_max_bytes")
        media = extract(path, settings, max_seconds=limit_s)
        name = path.name
    poster = media.poster_frame
    samples, no_sound = None, ""
    if media.audio is None:
        no_sound = f"The video {name} has no sound; I searched with its picture."
    else:
        samples = read_pcm_wav(media.audio)
        if samples is None or is_silent(samples):  # nothing was said: the picture still counts
            samples, no_sound = None, f"Nothing is said in the video {name}; I searched with its picture."
    return VideoMessage(name=name, frame=load_image(poster.path, settings), frame_path=poster.path,
                        frame_time=poster.time, frames=len(media.frames), samples=samples, no_sound=no_sound)

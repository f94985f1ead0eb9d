"""Videos made from photos and a spoken description, with ffmpeg and espeak-ng: the example
catalog with videos (``python -m retrieval convert videos-demo OUT``), the tests and the
video ingest benchmark all make theirs here.

:func:`make_video` shows each photo for a while (a cut between photos, so ffmpeg sees
scenes) over espeak-ng's reading of the narration; :func:`make_video_catalog` turns the
first products of the demo catalog into rows whose ``video`` shows the product's photo
and a neighbour's and says the product's description.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import wave
from pathlib import Path

from .errors import require_program

VOICE = "en-us"
WPM = 150


def speak(text: str, path: Path, voice: str = VOICE, speed: int = WPM,
          purpose: str = "spoken narration") -> Path:
    """A WAV file of ``text`` read by espeak-ng (22.05 kHz mono, as espeak writes it); the
    one home of the espeak-ng call (the transcribe bench speaks through it too)."""
    require_program("espeak-ng", purpose)
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
                   check=True, capture_output=True)
    return path


def _seconds(wav: Path) -> float:
    with wave.open(str(wav)) as w:
        return w.getnframes() / float(w.getframerate())


def make_video(photos: list[Path], out: Path, narration: str | None = None, seconds_per_photo: float = 2.0,
               size: tuple[int, int] = (320, 240), fps: int = 10, audio: bool = True) -> Path:
    """An H.264 MP4 (or whatever ``out``'s suffix says) showing each photo in turn, letter-
    boxed to ``size``, with ``narration`` spoken over it (silence when None; no audio
    track at all when ``audio`` is false). The last photo stays up until the narration
    ends."""
    require_program("ffmpeg", "making videos")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    with tempfile.TemporaryDirectory(prefix="chatrec-video-") as tmp:
        durations = [seconds_per_photo] * len(photos)
        wav = None
        if audio and narration:
            wav = speak(narration, Path(tmp) / "narration.wav")
            durations[-1] += max(0.0, _seconds(wav) + 0.3 - sum(durations))
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
        for photo, d in zip(photos, durations, strict=True):
            cmd += ["-loop", "1", "-t", f"{d:.3f}", "-i", str(photo)]
        total = sum(durations)
        if wav is not None:
            cmd += ["-i", str(wav)]
        elif audio:
            cmd += ["-f", "lavfi", "-t", f"{total:.3f}", "-i", "anullsrc=r=22050:cl=mono"]
        parts = "".join(f"[{k}:v]scale={w}:{h}:force_original_aspect_ratio=decrease,"
                        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:white,setsar=1,fps={fps}[p{k}];"
                        for k in range(len(photos)))
        joined = "".join(f"[p{k}]" for k in range(len(photos)))
        graph = f"{parts}{joined}concat=n={len(photos)}:v=1:a=0,format=yuv420p[v]"
        cmd += ["-filter_complex", graph, "-map", "[v]"]
        if audio:
            cmd += ["-map", f"{len(photos)}:a", "-af", "apad", "-c:a", "aac", "-b:a", "64k"]
        cmd += ["-t", f"{total:.3f}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", str(out)]
        proc = subprocess.run(cmd, capture_output=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg could not make {out}: {proc.stderr.decode('utf-8', 'replace')[-500:]}")
    return out


def make_video_catalog(catalog: Path, out_dir: Path, n: int = 6) -> Path:
    """``out_dir/catalog.jsonl``: the first ``n`` products of ``catalog`` (the demo's), each
    with a ``videos/<id>.mp4`` showing its photo and the next product's while espeak-ng
    reads its title and description, instead of its photo (the card shows the video's
    poster frame). Returns the catalog's path."""
    catalog, out_dir = Path(catalog), Path(out_dir)
    rows = [json.loads(line) for line in catalog.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("image")]
    if not rows:
        raise ValueError(f"{catalog} has no rows with a photo")
    out_rows = []
    for k, row in enumerate(rows[:n]):
        nxt = rows[(k + 1) % len(rows)]
        photos = [catalog.parent / row["image"], catalog.parent / nxt["image"]]
        said = f"{row['title']}. {row.get('description') or ''}".strip()
        video = make_video(photos, out_dir / "videos" / f"{_safe(row['id'])}.mp4", said)
        # no photo of its own: the card shows the video's poster frame
        out_row = {k: v for k, v in row.items() if k != "image"}
        out_row["video"] = str(video.relative_to(out_dir))
        out_rows.append(out_row)
    path = out_dir / "catalog.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out_rows), encoding="utf-8")
    return path


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))[:80]

"""Media to text: captions for images, transcripts for audio, cached by content.

:class:`BlipCaptioner`, :class:`WhisperTranscriber` (openai-whisper) and
:class:`FasterWhisperTranscriber` (CTranslate2) wrap the models;
:class:`MediaCache` remembers every result under (sha256 of the file bytes, model id,
kind), so re-ingesting a catalog never recomputes; :class:`MediaText` is what the
pipeline calls: it hashes files, serves cache hits, runs the model on the misses in
batches and reports files it could not decode instead of stopping.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device
from .errors import ModelUnavailable

SAMPLE_RATE = 16_000  # what whisper expects
# peak level below which audio counts as silence (-80 dBFS, under one 16-bit step of noise)
SILENCE_PEAK = 1e-4


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _one_line(text: str, limit: int = 300) -> str:
    """The gist of an error: ffmpeg errors span pages, a report wants one line."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# ---- the models ----------------------------------------------------------------------------


class BlipCaptioner:
    """A transformers image-to-text model (BLIP by default) as a
    :class:`~retrieval.types.Captioner`: ``AutoProcessor`` + ``AutoModelForImageTextToText``
    + ``generate``. ``model_id_or_path`` is a local folder or a hub id already cached.
    ``prompt`` is an optional text the caption continues (e.g. "a photography of")."""

    def __init__(self, model_id_or_path: str, device: str = "cpu", batch_size: int = 8,
                 model_id: str | None = None, max_new_tokens: int = 30, prompt: str | None = None):
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.prompt = prompt
        self.model_id = model_id or str(model_id_or_path)
        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        # local_files_only: loading never downloads (prefetch does), so no network stalls
        self._processor = AutoProcessor.from_pretrained(str(model_id_or_path), local_files_only=True)
        self._model = AutoModelForImageTextToText.from_pretrained(
            str(model_id_or_path), local_files_only=True, dtype=dtype).to(self.device).eval()
        self._dtype = dtype
        self._lock = threading.Lock()

    def caption(self, images: list[Any]) -> list[str]:
        """PIL images (or paths) -> one short caption each."""
        from PIL import Image

        rgb = []
        for img in images:
            if not isinstance(img, Image.Image):
                with Image.open(img) as opened:
                    img = opened.convert("RGB")
            rgb.append(img.convert("RGB"))
        captions: list[str] = []
        for start in range(0, len(rgb), self.batch_size):
            captions.extend(self._caption_batch(rgb[start:start + self.batch_size]))
        return captions

    def _caption_batch(self, images: list[Any]) -> list[str]:
        import torch

        kwargs: dict[str, Any] = {"images": images, "return_tensors": "pt"}
        if self.prompt:
            kwargs["text"] = [self.prompt] * len(images)
        inputs = self._processor(**kwargs).to(self.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self._dtype)
        with self._lock, torch.inference_mode():
            out = self._model.generate(**inputs, max_new_tokens=self.max_new_tokens)
        prompt_ids = inputs.get("input_ids")
        if prompt_ids is not None and out.shape[1] >= prompt_ids.shape[1] \
                and torch.equal(out[:, : prompt_ids.shape[1]], prompt_ids):
            out = out[:, prompt_ids.shape[1]:]  # decoder-only models echo the prompt
        texts = self._processor.batch_decode(out, skip_special_tokens=True)
        return [" ".join(t.split()) for t in texts]

    def __repr__(self) -> str:
        return f"BlipCaptioner({self.model_id!r}, device={self.device!r})"


class WhisperTranscriber:
    """openai-whisper as a :class:`~retrieval.types.Transcriber`.

    ``name_or_path``: a whisper model name ("tiny", "base" ...) already downloaded to
    ``download_root``, or a checkpoint file. ``options`` are whisper decoding options
    (``language``, ``temperature``, ``sample_len`` ...) applied to every call.
    """

    def __init__(self, name_or_path: str, device: str = "cpu", model_id: str | None = None,
                 download_root: str | None = None, **options: Any):
        import whisper

        self.device = resolve_device(device)
        self.model_id = model_id or str(name_or_path)
        self.options = options
        self._model = whisper.load_model(str(name_or_path), device=self.device,
                                         download_root=download_root)
        # decoding installs hooks on the model for its key/value cache: one call at a time
        self._lock = threading.Lock()

    def transcribe(self, audio: str | Path | np.ndarray, **options: Any) -> str:
        """An audio file (decoded by ffmpeg) or 16 kHz mono float32 samples -> the text.
        Raises ``RuntimeError`` when ffmpeg cannot decode the file."""
        if isinstance(audio, (str, Path)):
            import whisper

            samples = whisper.load_audio(str(audio))  # raises RuntimeError on undecodable files
        else:
            samples = to_mono(audio)
        if is_silent(samples):
            # whisper invents text for silence ("Thank you."): nothing was said
            return ""
        opts = {**self.options, **options}
        with self._lock:
            result = self._model.transcribe(samples, fp16=self.device.startswith("cuda"),
                                            verbose=None, **opts)
        return str(result.get("text", "")).strip()

    def __repr__(self) -> str:
        return f"WhisperTranscriber({self.model_id!r}, device={self.device!r})"


def to_mono(samples: Any) -> np.ndarray:
    """1-D float32 samples; (samples, channels) or (channels, samples) are mixed down."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=int(np.argmin(samples.shape)))
    if samples.ndim != 1:
        raise ValueError(f"audio samples must be 1-D (mono), got shape {samples.shape}")
    return samples


def read_pcm_wav(path: str | Path) -> np.ndarray | None:
    """The samples of a 16 kHz mono 16-bit WAV file (what ffmpeg writes for the transcriber,
    e.g. a video's sound track) read directly, or None for any other file. PyAV's decode and
    resampler cost ~0.25 s a file on a loaded 2-core machine; this read, a millisecond."""
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getcomptype()) != (SAMPLE_RATE, 1, 2, "NONE"):
                return None
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError):
        return None
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0


def is_silent(samples: np.ndarray) -> bool:
    """True when nothing above the noise floor was recorded (:data:`SILENCE_PEAK`)."""
    return samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK


class FasterWhisperTranscriber:
    """faster-whisper (CTranslate2) as a :class:`~retrieval.types.Transcriber`.

    ``folder`` holds a CTranslate2 Whisper model (``model.bin``, ``config.json``,
    ``tokenizer.json``). ``vad`` runs faster-whisper's Silero voice-activity filter, so
    stretches without speech are skipped instead of turned into invented words. English-only
    models (``*.en``) transcribe English; multilingual ones detect the language, which
    :attr:`last_language` keeps for the last call. On CPU the weights run as int8.
    """

    def __init__(self, folder: str | Path, device: str = "cpu", model_id: str | None = None,
                 vad: bool = True, compute_type: str | None = None, **options: Any):
        from faster_whisper import WhisperModel

        self.device = resolve_device(device)
        self.model_id = model_id or str(folder)
        self.vad = vad
        self.options = options
        kind = "cuda" if self.device.startswith("cuda") else "cpu"
        index = int(self.device.split(":")[1]) if ":" in self.device else 0
        self.compute_type = compute_type or ("float16" if kind == "cuda" else "int8")
        self._model = WhisperModel(str(folder), device=kind, device_index=index,
                                   compute_type=self.compute_type)
        self.multilingual = bool(self._model.model.is_multilingual)
        self.last_language: str | None = None
        self._lock = threading.Lock()

    @property
    def languages(self) -> list[str]:
        """The language codes the model transcribes (``["en"]`` for English-only models)."""
        return list(self._model.supported_languages)

    def samples(self, audio: str | Path | np.ndarray) -> np.ndarray:
        """16 kHz mono float32 samples of a file (decoded by PyAV, any format ffmpeg reads)
        or of given samples. Raises ``RuntimeError`` when the file cannot be decoded."""
        if isinstance(audio, (str, Path)):
            from faster_whisper import decode_audio

            pcm = read_pcm_wav(audio)
            if pcm is not None:
                return pcm
            try:
                return decode_audio(str(audio), sampling_rate=SAMPLE_RATE)
            except Exception as e:  # av raises its own error kinds for every broken file
                raise RuntimeError(f"cannot decode {audio} as audio: {_one_line(e)}") from e
        return to_mono(audio)

    def transcribe(self, audio: str | Path | np.ndarray, **options: Any) -> str:
        """An audio file or 16 kHz mono float32 samples -> the text ("" for no speech)."""
        samples = self.samples(audio)
        if is_silent(samples):
            return ""
        opts = {"beam_size": 5, "condition_on_previous_text": False, **self.options, **options}
        if not self.multilingual:
            opts["language"] = "en"  # English-only: no detection to run
        with self._lock:
            segments, info = self._model.transcribe(samples, vad_filter=self.vad, **opts)
            text = " ".join(s.text.strip() for s in segments)  # decoding happens here
            self.last_language = info.language
        return " ".join(text.split())

    def __repr__(self) -> str:
        return f"FasterWhisperTranscriber({self.model_id!r}, device={self.device!r})"


# ---- the cache -----------------------------------------------------------------------------


class MediaCache:
    """Captions and transcripts keyed by (sha256 of the file, model id, kind), in one
    SQLite file under ``cache_dir``. Safe across threads and processes."""

    def __init__(self, cache_dir: str | Path):
        self.path = Path(cache_dir) / "media.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS media (sha256 TEXT NOT NULL, model_id TEXT NOT NULL,"
                       " kind TEXT NOT NULL, text TEXT NOT NULL, created REAL NOT NULL,"
                       " PRIMARY KEY (sha256, model_id, kind))")

    def _connect(self) -> sqlite3.Connection:
        # one short-lived connection per call: no sharing between threads, and the
        # timeout waits out another process's write
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def get(self, sha256: str, model_id: str, kind: str) -> str | None:
        """The cached text, or None."""
        return self.get_many([sha256], model_id, kind).get(sha256)

    def get_many(self, hashes: Iterable[str], model_id: str, kind: str) -> dict[str, str]:
        """{sha256: text} for the hashes that are cached."""
        hashes = list(dict.fromkeys(hashes))
        found: dict[str, str] = {}
        db = self._connect()
        try:
            for start in range(0, len(hashes), 500):  # SQLite's limit on bound variables
                chunk = hashes[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT sha256, text FROM media WHERE model_id = ? AND kind = ?"
                                  f" AND sha256 IN ({marks})", [model_id, kind, *chunk])
                found.update(rows.fetchall())
        finally:
            db.close()
        return found

    def put(self, sha256: str, model_id: str, kind: str, text: str) -> None:
        """Store (or replace) one result."""
        self.put_many({sha256: text}, model_id, kind)

    def put_many(self, texts: dict[str, str], model_id: str, kind: str) -> None:
        """Store (or replace) {sha256: text} results."""
        now = time.time()
        db = self._connect()
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?, ?)",
                               [(h, model_id, kind, t, now) for h, t in texts.items()])
        finally:
            db.close()

    def __len__(self) -> int:
        db = self._connect()
        try:
            return db.execute("SELECT COUNT(*) FROM media").fetchone()[0]
        finally:
            db.close()


# ---- what the pipeline calls ------------------------------------------------------------------


class MediaText:
    """Captions and transcripts for many files, computed once per file content.

    ``hub`` is a :class:`~retrieval.models.ModelHub`; ``cache`` defaults to a
    :class:`MediaCache` in ``hub.settings.cache_dir``. After each call, ``problems`` lists
    ``(path, reason)`` for files that were left out (unreadable, undecodable). When a
    model cannot be loaded, one warning names it and the cached results are returned.
    """

    def __init__(self, hub: Any, cache: MediaCache | None = None, progress: bool = True):
        self.hub = hub
        self.cache = cache if cache is not None else MediaCache(hub.settings.cache_dir)
        self.progress = progress
        self.problems: list[tuple[str, str]] = []
        self._warned: set[str] = set()

    def captions(self, paths: Iterable[str | Path]) -> dict[str, str]:
        """{path: caption} for the images (keys are ``str(path)``). Empty when
        ``enable_captions`` is false."""
        if not self.hub.settings.enable_captions:
            self.problems = []
            return {}
        return self._texts("caption", paths)

    def transcripts(self, paths: Iterable[str | Path]) -> dict[str, str]:
        """{path: transcript} for the audio files (keys are ``str(path)``). Empty when
        ``enable_transcripts`` is false."""
        if not self.hub.settings.enable_transcripts:
            self.problems = []
            return {}
        return self._texts("transcript", paths)

    def _texts(self, kind: str, paths: Iterable[str | Path]) -> dict[str, str]:
        role = "caption" if kind == "caption" else "whisper"
        self.problems = []
        hashes: dict[str, str] = {}
        for p in dict.fromkeys(str(p) for p in paths):
            try:
                hashes[p] = file_sha256(p)
            except OSError as e:
                self.problems.append((p, f"cannot read the file: {e.strerror or e}"))
        model_id = self.hub.model_id(role)
        done = self.cache.get_many(hashes.values(), model_id, kind)
        # one model run per distinct content, whichever paths share it
        todo = {h: p for p, h in reversed(hashes.items()) if h not in done}
        if todo:
            try:
                model = self.hub.captioner() if role == "caption" else self.hub.transcriber()
            except ModelUnavailable as e:
                if role not in self._warned:
                    self._warned.add(role)
                    warnings.warn(f"{e} ({len(todo)} file(s) left without a {kind}; cached "
                                  f"{kind}s are still used)", stacklevel=3)
                model = None
            if model is not None:
                run = self._run_captions if role == "caption" else self._run_transcripts
                new = run(model, todo)
                self.cache.put_many(new, model_id, kind)
                done.update(new)
        out = {p: done[h] for p, h in hashes.items() if h in done}
        if kind == "transcript":
            # said at every run, cached or not, like the other problems
            self.problems.extend((p, "no speech found in the audio (it is silent or empty)")
                                 for p, text in out.items() if not text.strip())
        return out

    def _bar(self, total: int, desc: str, unit: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, disable=not self.progress)

    def _run_captions(self, model: Any, todo: dict[str, str]) -> dict[str, str]:
        from PIL import Image

        batch_size = max(1, int(getattr(self.hub.settings, "caption_batch_size", 8)))
        items = list(todo.items())
        new: dict[str, str] = {}
        with self._bar(len(items), "captions", "image") as bar:
            for start in range(0, len(items), batch_size):
                chunk = items[start:start + batch_size]
                images, keys = [], []
                for h, p in chunk:
                    try:
                        with Image.open(p) as img:
                            images.append(img.convert("RGB"))
                        keys.append((h, p))
                    except Exception as e:  # PIL raises many kinds on broken files
                        self.problems.append((p, f"cannot decode the image: {_one_line(e)}"))
                if images:
                    new.update(self._caption_chunk(model, keys, images))
                bar.update(len(chunk))
        return new

    def _caption_chunk(self, model: Any, keys: list[tuple[str, str]], images: list[Any]) -> dict[str, str]:
        try:
            texts = model.caption(images)
            return {h: t for (h, _), t in zip(keys, texts, strict=True)}
        except Exception as e:
            if len(images) == 1:
                self.problems.append((keys[0][1], f"captioning failed: {type(e).__name__}: {_one_line(e)}"))
                return {}
            # find the image that breaks the batch; the others still get captions
            out: dict[str, str] = {}
            for key, image in zip(keys, images, strict=True):
                out.update(self._caption_chunk(model, [key], [image]))
            return out

    def _run_transcripts(self, model: Any, todo: dict[str, str]) -> dict[str, str]:
        new: dict[str, str] = {}
        with self._bar(len(todo), "transcripts", "file") as bar:
            for h, p in todo.items():
                try:
                    new[h] = model.transcribe(p)
                except Exception as e:  # ffmpeg cannot decode, empty file ...
                    self.problems.append((p, f"cannot transcribe the audio: {_one_line(e)}"))
                bar.update(1)
        return new

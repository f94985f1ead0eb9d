"""Deterministic stand-ins for every model role, for tests and demos without weights.

They behave like the real models in the ways the pipeline relies on, with no download
and no randomness:

- :class:`FakeTextEncoder`: texts sharing words get similar vectors (hashed bag of words).
- :class:`FakeClipEncoder`: images are compared by their colour layout; a text naming a
  colour ("red apple") lands near images of that colour.
- :class:`FakeCaptioner`: names an image's dominant colour.
- :class:`FakeTranscriber`: a fixed text, or the words of the file name.

Each counts its calls in ``calls`` so a test can check what a cache saved.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from .text import words as text_words

# named colours (RGB in 0..1) shared by the fake CLIP and the fake captioner
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.8, 0.1, 0.1), "orange": (0.95, 0.55, 0.1), "yellow": (0.95, 0.85, 0.2),
    "green": (0.2, 0.65, 0.2), "blue": (0.15, 0.3, 0.8), "purple": (0.5, 0.2, 0.6),
    "pink": (0.95, 0.6, 0.7), "brown": (0.5, 0.3, 0.15), "white": (0.95, 0.95, 0.95),
    "black": (0.05, 0.05, 0.05), "grey": (0.5, 0.5, 0.5), "gray": (0.5, 0.5, 0.5),
}


def words(text: str) -> list[str]:
    """Lower-cased word tokens with a crude plural stem ("apples" -> "apple")."""
    out = []
    for w in text_words(text, ascii_only=True):
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def _bucket(token: str, dim: int) -> int:
    # a stable hash: Python's hash() changes between processes
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little") % dim


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _hashed(text: str, dim: int) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    for w in words(text):
        v[_bucket(w, dim)] += 1.0
    return v


class FakeTextEncoder:
    """Hashed bag of words in ``dim`` dimensions, L2-normalised. Texts with no word map to
    one fixed vector, so every row has unit norm."""

    def __init__(self, dim: int = 256, model_id: str = "fake-text-encoder"):
        self.dim = dim
        self.model_id = model_id
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        """Texts -> ``(n, dim)`` float32, L2-normalised."""
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            v = _hashed(text, self.dim)
            if not v.any():
                v[_bucket("", self.dim)] = 1.0
            out[i] = _unit(v)
        return out


class FakeClipEncoder:
    """Images and texts in one space of ``dim`` dimensions (at least 48 + 1).

    The first 48 dimensions hold a 4x4 thumbnail of the image (RGB, centred on grey);
    a text puts the colours it names there, spread over the whole thumbnail. Other words
    are hashed into the remaining dimensions, which images leave empty.
    """

    _GRID = 4
    _PIXELS = _GRID * _GRID * 3

    def __init__(self, dim: int = 64, model_id: str = "fake-clip"):
        if dim <= self._PIXELS:
            raise ValueError(f"FakeClipEncoder needs dim > {self._PIXELS}, got {dim}")
        self.dim = dim
        self.model_id = model_id
        self.calls = 0

    def _thumbnail(self, image: Any) -> np.ndarray:
        from PIL import Image

        if not isinstance(image, Image.Image):
            with Image.open(image) as opened:
                image = opened.convert("RGB")
        small = image.convert("RGB").resize((self._GRID, self._GRID), Image.Resampling.BILINEAR)
        return np.asarray(small, dtype=np.float32).reshape(-1) / 255.0 - 0.5

    def encode_images(self, images: list[Any]) -> np.ndarray:
        """PIL images (or paths) -> ``(n, dim)`` float32, L2-normalised."""
        self.calls += 1
        out = np.zeros((len(images), self.dim), dtype=np.float32)
        for i, image in enumerate(images):
            v = np.zeros(self.dim, dtype=np.float32)
            v[: self._PIXELS] = self._thumbnail(image)
            if not v.any():  # a perfectly mid-grey image
                v[self._PIXELS] = 1.0
            out[i] = _unit(v)
        return out

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> ``(n, dim)`` float32, L2-normalised, in the image space."""
        self.calls += 1
        rest = self.dim - self._PIXELS
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            v = np.zeros(self.dim, dtype=np.float32)
            for w in words(text):
                if w in COLOURS:
                    v[: self._PIXELS] += np.tile(np.array(COLOURS[w], dtype=np.float32) - 0.5,
                                                 self._GRID * self._GRID)
                else:
                    v[self._PIXELS + _bucket(w, rest)] += 0.5
            if not v.any():
                v[self._PIXELS] = 1.0
            out[i] = _unit(v)
        return out


def dominant_colour(image: Any) -> str:
    """The name in :data:`COLOURS` nearest to the image's mean colour."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        with Image.open(image) as opened:
            image = opened.convert("RGB")
    mean = np.asarray(image.convert("RGB").resize((16, 16)), dtype=np.float32).reshape(-1, 3).mean(0) / 255
    return min(COLOURS, key=lambda name: float(np.sum((np.array(COLOURS[name]) - mean) ** 2)))


class FakeCaptioner:
    """Captions an image as "a photo of something <colour>" (its dominant colour)."""

    def __init__(self, model_id: str = "fake-captioner"):
        self.model_id = model_id
        self.calls = 0

    def caption(self, images: list[Any]) -> list[str]:
        """PIL images (or paths) -> one caption each."""
        self.calls += 1
        return [f"a photo of something {dominant_colour(img)}" for img in images]


class FakeTranscriber:
    """Returns ``text`` when given; otherwise a file's name as words
    ("sweet_yellow-apples.wav" -> "sweet yellow apples"), or "" for raw samples.
    A missing file raises ``FileNotFoundError`` like the real one."""

    def __init__(self, text: str | None = None, model_id: str = "fake-transcriber"):
        self.text = text
        self.model_id = model_id
        self.calls = 0

    def transcribe(self, audio: str | Path | np.ndarray) -> str:
        """An audio path or samples -> a transcript."""
        self.calls += 1
        if isinstance(audio, (str, Path)):
            path = Path(audio)
            if not path.is_file():
                raise FileNotFoundError(f"no such audio file: {path}")
            if self.text is not None:
                return self.text
            return " ".join(re.split(r"[\W_]+", path.stem)).strip()
        return self.text if self.text is not None else ""

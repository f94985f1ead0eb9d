"""OpenAI-compatible HTTP backend (vLLM, TGI, llama.cpp server, Ollama ...) over httpx.

One ``httpx.Client`` per backend keeps its connections open between the calls of a turn
(a turn makes about eight), and a call that cannot connect, loses its connection or gets a
5xx answer is tried again, twice at most, after a short pause; the timeout
(``llm_timeout``) holds for every try.

``/v1/chat/completions`` for text, server-sent events for streaming, and ``logprobs`` with
``top_logprobs`` on a one-token answer for label scoring. Servers cap ``top_logprobs``
(OpenAI at 20): labels missing from the returned list share the left-over probability
mass, never more than the least likely label that was returned.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from .base import LLM, LLMUnavailable, Message, StopFilter, cut_at_stop, normalise_label_probs

# tries after the first, and the pause before each (seconds)
RETRIES = 2
RETRY_PAUSE = 0.5
# what a retry may fix: no connection, a connection the server dropped, a 5xx answer
_TRANSIENT = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


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
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(timeout=timeout, headers=headers)

    @classmethod
    def from_settings(cls, settings) -> OpenAICompatLLM:
        return cls(settings.llm_base_url, settings.llm_api_model, settings.llm_api_key, settings.llm_timeout)

    def close(self) -> None:
        """Close the kept connections (they also close when the object goes)."""
        self._client.close()

    # ---- HTTP -------------------------------------------------------------------------
    def _open(self, payload: dict[str, Any]) -> httpx.Response:
        """The server's answer with its body still to read; the caller closes it."""
        body = {"model": self.model, "temperature": 0, **payload}
        request = self._client.build_request("POST", self.url, json=body)
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                resp = self._client.send(request, stream=True)
            except _TRANSIENT as e:
                if not last:
                    time.sleep(RETRY_PAUSE * (attempt + 1))
                    continue
                raise self._unreachable(e) from e
            except httpx.HTTPError as e:  # a timeout: the time allowed is spent, no retry
                raise self._unreachable(e) from e
            if resp.status_code >= 500 and not last:
                resp.close()
                time.sleep(RETRY_PAUSE * (attempt + 1))
                continue
            if resp.status_code >= 400:
                detail = resp.read()[:500].decode("utf-8", "replace").strip()
                resp.close()
                raise LLMUnavailable(self.model_id, f"{self.url} answered HTTP {resp.status_code}: {detail}",
                                     "check llm_base_url, llm_api_model and llm_api_key")
            return resp
        raise AssertionError("unreachable")  # the last try returns or raises

    def _unreachable(self, e: httpx.HTTPError) -> LLMUnavailable:
        return LLMUnavailable(self.model_id, f"cannot reach {self.url}: {type(e).__name__}: {e}",
                              "start the server or fix llm_base_url (or unset it to use the local model)")

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        resp = self._open(payload)
        try:
            raw = resp.read()
        except httpx.HTTPError as e:
            raise self._unreachable(e) from e
        finally:
            resp.close()
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
        resp = self._open(payload)
        try:
            for data in self._events(resp):
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
        finally:
            resp.close()
        rest = watch.flush()
        if rest:
            yield rest

    def _events(self, resp: httpx.Response) -> Iterator[str]:
        """The ``data:`` fields of a server-sent event stream, as they arrive."""
        try:
            for line in resp.iter_lines():
                line = line.strip()
                if line.startswith("data:"):  # not blank separators, comments, "event:" lines
                    yield line[5:].strip()
        except httpx.HTTPError as e:  # the connection broke or stalled mid-answer
            raise self._unreachable(e) from e

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

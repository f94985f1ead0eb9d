"""The OpenAI-compatible backend against a small chat-completions server on 127.0.0.1."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.llm.openai_compat import OpenAICompatLLM
from retrieval.errors import ModelUnavailable

MESSAGES = [{"role": "user", "content": "Recommend a fruit."}]
ANSWER = "Try the Granny Smith: crisp and sour."


class _Handler(BaseHTTPRequestHandler):
    requests: list = []
    top: list = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path != "/v1/chat/completions":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "not found"}')
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in ANSWER.split(" "):
                chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            return
        choice = {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
        if body.get("logprobs"):
            top = type(self).top[: body.get("top_logprobs", 0)]
            choice["message"]["content"] = top[0]["token"] if top else ""
            choice["logprobs"] = {"content": [{"token": top[0]["token"], "logprob": top[0]["logprob"],
                                               "top_logprobs": top}]}
        data = json.dumps({"id": "x", "object": "chat.completion", "choices": [choice]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    _Handler.requests = []
    _Handler.top = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, _Handler
    httpd.shutdown()
    httpd.server_close()


def _llm(httpd, **kw):
    host, port = httpd.server_address
    return OpenAICompatLLM(f"http://{host}:{port}", "tiny-model", api_key="sekret", timeout=5, **kw)


def test_generate_posts_a_chat_completion(server):
    httpd, h = server
    assert _llm(httpd).generate(MESSAGES, max_new_tokens=20) == ANSWER
    req = h.requests[-1]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sekret"
    assert req["body"]["model"] == "tiny-model" and req["body"]["messages"] == MESSAGES
    assert req["body"]["max_tokens"] == 20 and req["body"]["temperature"] == 0


def test_base_url_with_v1_is_not_doubled(server):
    httpd, h = server
    host, port = httpd.server_address
    OpenAICompatLLM(f"http://{host}:{port}/v1/", "m").generate(MESSAGES)
    assert h.requests[-1]["path"] == "/v1/chat/completions"


def test_stream_reads_server_sent_events(server):
    httpd, h = server
    pieces = list(_llm(httpd).stream(MESSAGES))
    assert len(pieces) > 3 and "".join(pieces).strip() == ANSWER
    assert h.requests[-1]["body"]["stream"] is True


def test_stream_stops_at_a_stop_string_split_across_events(server):
    httpd, _ = server
    # "crisp and" arrives as two events; the text must end before it
    out = "".join(_llm(httpd).stream(MESSAGES, stop=["crisp and"]))
    assert out == "Try the Granny Smith: "


def test_score_labels_from_top_logprobs(server):
    httpd, h = server
    h.top = [{"token": "B", "logprob": math.log(0.6)}, {"token": " A", "logprob": math.log(0.2)},
             {"token": "A", "logprob": math.log(0.1)}, {"token": "The", "logprob": math.log(0.05)}]
    probs = _llm(httpd).score_labels(MESSAGES, ["A", "B", "C"])
    body = h.requests[-1]["body"]
    assert body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"] == 3
    assert sum(probs.values()) == pytest.approx(1.0)
    # " A" and "A" are the same label; C was not listed and gets at most the leftover mass
    assert probs["B"] > probs["A"] > probs["C"]
    assert probs["B"] / probs["A"] == pytest.approx(0.6 / 0.3)


def test_labels_beyond_the_top_logprobs_cap_share_the_rest(server):
    httpd, h = server
    h.top = [{"token": "C", "logprob": math.log(0.5)}, {"token": "A", "logprob": math.log(0.3)}]
    probs = _llm(httpd, top_logprobs=2).score_labels(MESSAGES, ["A", "B", "C", "D"])
    assert h.requests[-1]["body"]["top_logprobs"] == 2
    assert probs["C"] > probs["A"] > probs["B"] > 0
    assert probs["B"] == pytest.approx(probs["D"])
    # 0.2 left over, 0.1 each for B and D
    assert probs["B"] / probs["C"] == pytest.approx(0.1 / 0.5)


def test_http_error_becomes_model_unavailable(server):
    httpd, _ = server
    host, port = httpd.server_address
    with pytest.raises(ModelUnavailable, match="HTTP 404"):
        OpenAICompatLLM(f"http://{host}:{port}/wrong", "m").generate(MESSAGES)


def test_unreachable_server_becomes_model_unavailable():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(ModelUnavailable, match="cannot reach"):
        OpenAICompatLLM(f"http://127.0.0.1:{port}", "m", timeout=2).generate(MESSAGES)


def test_a_whole_turn_through_the_server_route(server, settings, shared_datasets):
    """The route for fast CPU inference (llama.cpp's server, Ollama): llm_base_url in the
    settings, every task over HTTP, each answer checked like a local model's."""
    from assistant import Recommender
    from tests.tiny_llm import FakeIndex, grocery_rows

    httpd, handler = server
    handler.top = [{"token": "B", "logprob": -0.1}, {"token": "A", "logprob": -2.5}]
    host, port = httpd.server_address
    s = settings.replace(llm_base_url=f"http://{host}:{port}/v1", llm_api_model="qwen2.5:7b-instruct",
                         candidate_count=8, top_k=2)
    index = FakeIndex(grocery_rows(shared_datasets, 20))
    retrieval = Recommender.from_settings(s.replace(enable_llm=False), index=index).chat().send("a crisp sour apple")
    rec = Recommender.from_settings(s, index=index)
    reply = rec.chat().send("a crisp sour apple")
    assert reply.mode == "llm" and rec.status()["llm"]["state"] == "loaded"
    # the server put label B (retrieval's second) on top, mixed with the retrieval order
    assert reply.items[0].id == retrieval.items[1].id
    bodies = [r["body"] for r in handler.requests]
    assert all(b["model"] == "qwen2.5:7b-instruct" for b in bodies)
    assert any(b.get("logprobs") for b in bodies) and any(b.get("stream") for b in bodies)
    # the server's fixed answer is no JSON: constraints and rewrite fell back, counted
    assert reply.llm_checks["constraints"]["failed"] == 1 and reply.llm_checks["rewrite"]["failed"] == 1
    assert reply.llm_checks["reason"]["asked"] == 2


class _KeepAliveHandler(_Handler):
    """HTTP/1.1 with keep-alive; answers 503 to the first ``failures`` requests."""

    protocol_version = "HTTP/1.1"
    failures = 0
    ports: list = []

    def do_POST(self):
        type(self).ports.append(self.client_address[1])
        if type(self).failures > 0:
            type(self).failures -= 1
            self.rfile.read(int(self.headers["Content-Length"]))
            data = b'{"error": "overloaded"}'
            self.send_response(503)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_POST()


@pytest.fixture
def keepalive_server():
    _KeepAliveHandler.requests, _KeepAliveHandler.ports, _KeepAliveHandler.failures = [], [], 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, _KeepAliveHandler
    httpd.shutdown()
    httpd.server_close()


def test_calls_reuse_one_connection(keepalive_server):
    httpd, h = keepalive_server
    llm = _llm(httpd)
    for _ in range(4):
        assert llm.generate(MESSAGES) == ANSWER
    assert len(h.ports) == 4 and len(set(h.ports)) == 1, "every call opened a new connection"
    llm.close()


def test_a_5xx_answer_is_tried_again(keepalive_server, monkeypatch):
    import assistant.llm.openai_compat as backend

    monkeypatch.setattr(backend, "RETRY_PAUSE", 0.01)
    httpd, h = keepalive_server
    h.failures = 2
    assert _llm(httpd).generate(MESSAGES) == ANSWER
    assert len(h.ports) == 3
    h.failures = 3  # more than the retries: the last answer's error is reported
    with pytest.raises(ModelUnavailable, match="HTTP 503: .*overloaded"):
        _llm(httpd).generate(MESSAGES)
    assert len(h.ports) == 3 + 1 + backend.RETRIES


def test_a_server_that_comes_up_during_the_retries_is_reached(monkeypatch):
    import socket

    import assistant.llm.openai_compat as backend

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there yet
    started = []

    def start_then_pause(seconds):
        if not started:  # the server starts during the first pause
            _KeepAliveHandler.requests, _KeepAliveHandler.ports, _KeepAliveHandler.failures = [], [], 0
            httpd = ThreadingHTTPServer(("127.0.0.1", port), _KeepAliveHandler)
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            started.append(httpd)

    monkeypatch.setattr(backend.time, "sleep", start_then_pause)
    try:
        assert OpenAICompatLLM(f"http://127.0.0.1:{port}", "m", timeout=5).generate(MESSAGES) == ANSWER
    finally:
        for httpd in started:
            httpd.shutdown()
            httpd.server_close()
    assert len(_KeepAliveHandler.ports) == 1

"""Concurrency, for real: 20 chat sessions at once through the Python API (threads over
one shared :class:`assistant.Recommender` on the demo catalog, retrieval-only mode) and
20 through the running web app over HTTP (``python app.py`` in a subprocess, each client
its own gradio session).

Every session has its own request, dislikes its first suggestion and asks again. Run
alone first, each session's answers are known; run all at once, each must get exactly
those answers, its state must hold only its own messages and its own dislike, and the
disliked item must never come back to it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant import Recommender
from retrieval.ingest import ingest
from retrieval.models import ModelHub
from retrieval.settings import DEMO_CATALOG, Settings
from tests import faults
from tests.processes import stop

pytestmark = pytest.mark.model

SESSIONS = 20
REQUESTS = [
    "a green sour apple", "oat milk for my coffee", "a sweet tropical fruit", "strawberry yoghurt",
    "fresh orange juice", "tomatoes for a salad", "mushrooms to fry", "a ripe juicy pear",
    "a melon for the picnic", "lime for drinks", "soy milk without lactose", "sour cream for tacos",
    "potatoes to bake", "a red bell pepper", "kiwi full of vitamin C", "bananas for a smoothie",
    "ginger for tea", "garlic for the sauce", "zucchini to grill", "an onion for soup",
]
AGAIN = "Show me more, please"
RETRIEVAL_ONLY = {"enable_clip": False, "enable_captions": False, "enable_transcripts": False,
                  "enable_llm": False}
_CARD_ID = re.compile(r'data-item-id="([^"]+)"')


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory) -> Settings:
    """The demo catalog ingested once with the real MiniLM encoder, no LLM."""
    if not DEMO_CATALOG.is_file():
        pytest.skip(f"demo catalog {DEMO_CATALOG} not built yet")
    settings = Settings.load(env={}, data_dir=str(tmp_path_factory.mktemp("demo") / "data"), **RETRIEVAL_ONLY)
    ingest(settings, DEMO_CATALOG, hub=ModelHub(settings), progress=False)
    return settings


@pytest.fixture(scope="module")
def recommender(demo_settings) -> Recommender:
    return Recommender.from_settings(demo_settings)


def api_session(rec: Recommender, request: str) -> dict:
    """One conversation: a request, a dislike of the first suggestion, a follow-up."""
    chat = rec.chat()
    first = chat.send(request)
    disliked = first.items[0].id
    chat.feedback(disliked, liked=False)
    second = chat.send(AGAIN)
    return {"first": [r.id for r in first.items], "first_text": first.text, "disliked": disliked,
            "second": [r.id for r in second.items], "second_text": second.text,
            "state": chat.state.to_dict()}


@pytest.fixture(scope="module")
def alone(recommender) -> dict[str, dict]:
    """Each session's conversation run alone, one after the other: the expected answers."""
    return {r: api_session(recommender, r) for r in REQUESTS}


def _check_own(result: dict, request: str, catalog: set[str]) -> None:
    state = result["state"]
    assert [m["content"] for m in state["messages"] if m["role"] == "user"] == [request, AGAIN]
    assert result["disliked"] in state["rejected"]
    assert result["disliked"] not in result["second"]
    assert not set(result["first"]) & set(result["second"])  # nothing shown twice
    assert set(result["first"]) | set(result["second"]) <= catalog
    assert state["recommended"] == result["first"] + result["second"]


def test_twenty_api_sessions_at_once_keep_to_themselves(recommender, alone):
    assert len(set(REQUESTS)) == SESSIONS
    catalog = set(recommender.titles())
    assert len({tuple(v["first"]) for v in alone.values()}) > SESSIONS // 2  # the requests differ

    barrier = threading.Barrier(SESSIONS)

    def run(request):
        barrier.wait(timeout=120)  # all sessions start their first turn together
        return api_session(recommender, request)

    with ThreadPoolExecutor(SESSIONS) as pool:
        together = dict(zip(REQUESTS, pool.map(run, REQUESTS), strict=True))

    for request in REQUESTS:
        got, want = together[request], alone[request]
        _check_own(got, request, catalog)
        for key in ("first", "first_text", "disliked", "second", "second_text", "state"):
            assert got[key] == want[key], f"session {request!r}: {key} differs when run concurrently"


# ---- the web app over HTTP ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_url(demo_settings, tmp_path_factory):
    """``python app.py`` on a free port over a copy of the ingested demo index."""
    root = tmp_path_factory.mktemp("app")
    data = root / "data"
    shutil.copytree(demo_settings.data_dir, data)
    port = faults.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATREC_")}
    env.update({f"CHATREC_{k.upper()}": "false" for k in RETRIEVAL_ONLY}, HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONPATH=str(faults.REPO),
               GRADIO_TEMP_DIR=str(root / "gradio-tmp"))
    log = open(root / "app.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([faults.PYTHON, "app.py", "--port", str(port), "--data-dir", str(data)],
                            cwd=faults.REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail("app.py exited: " + (root / "app.log").read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("app.py did not answer in 300 s")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc, 30)
        log.close()
    output = (root / "app.log").read_text(errors="replace")
    assert "Traceback" not in output, output[-3000:]


def _endpoints(client) -> tuple[str, str]:
    """The chat endpoint and the first card's dislike button: one named for it, else the
    second of the unnamed feedback handlers (the buttons are wired like-0, dislike-0,
    like-1 ..., and Gradio names them /partial, /partial_1 ...)."""
    names = list(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    dislike = [n for n in names if "dislike" in n] or [n for n in names if n.startswith("/partial")][1:2]
    assert "/respond" in names and dislike, names
    return "/respond", dislike[0]


def http_session(url: str, request: str) -> dict:
    from gradio_client import Client

    # a long timeout: 20 clients at once on a busy 2-core machine
    client = Client(url, verbose=False, httpx_kwargs={"timeout": 300}, download_files=False,
                    analytics_enabled=False)
    respond, dislike = _endpoints(client)
    first = client.predict({"text": request, "files": []}, None, [], 5, "", None, api_name=respond)
    first_ids = [m.group(1) for html in first[4:] if isinstance(html, str) for m in _CARD_ID.finditer(html)]
    noted = client.predict(api_name=dislike)
    second = client.predict({"text": AGAIN, "files": []}, None, first[0], 5, "", None, api_name=respond)
    second_ids = [m.group(1) for html in second[4:] if isinstance(html, str) for m in _CARD_ID.finditer(html)]
    history = second[0]
    return {"first": first_ids, "second": second_ids, "noted": noted[0], "status": second[1],
            "history": [(m["role"], m["content"][0].get("text", "") if isinstance(m["content"], list)
                         else str(m["content"])) for m in history]}


@pytest.mark.server
def test_twenty_http_sessions_at_once_keep_to_themselves(app_url, recommender, alone):
    catalog = set(recommender.titles())
    barrier = threading.Barrier(SESSIONS)

    def run(request):
        barrier.wait(timeout=120)
        return http_session(app_url, request)

    with ThreadPoolExecutor(SESSIONS) as pool:
        got = dict(zip(REQUESTS, pool.map(run, REQUESTS), strict=True))

    for request in REQUESTS:
        http, want = got[request], alone[request]
        # the same answers the Python API gives this conversation alone
        assert http["first"] == want["first"], request
        assert http["second"] == want["second"], request
        assert want["disliked"] not in http["second"] and set(http["second"]) <= catalog
        assert http["noted"].startswith("Noted: no more of")
        assert http["status"].startswith("answered in retrieval mode")
        # the history holds this session's messages only, in order
        users = [text for role, text in http["history"] if role == "user"]
        assert users == [request, AGAIN], users
        replies = [text for role, text in http["history"] if role == "assistant"]
        assert len(replies) == 2 and replies[1].startswith(want["second_text"])

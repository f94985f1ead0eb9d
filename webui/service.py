"""The web chat's handlers as plain functions over plain data, so they are tested
without a browser. Each browser tab holds one ``session`` dict (JSON-able: the chat's
own state, the ids on the cards shown, which catalog it talks to); nothing is shared
between tabs except the read-only recommenders.

The handlers never rank, filter or explain anything themselves: they check the inputs,
call the assistant API and turn its events into chat messages and cards.
"""

from __future__ import annotations

import copy
import logging
import queue
import re
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant import ChatrecError, InputError, Recommendation, Recommender, Reply
from assistant import constraints as cons

from . import uploads
from .cards import card_html
from .catalogs import DEFAULT_CATALOG, Catalogs, conversation_on

log = logging.getLogger(__name__)

# the status line after a turn that was refused (a finished answer says "answered in ...")
READY = "ready"
EMPTY_MESSAGE = "Please type a message, attach a photo or record a voice message."


def new_session() -> dict[str, Any]:
    """A fresh tab: no conversation yet, the default catalog."""
    return conversation_on(DEFAULT_CATALOG)


@dataclass
class Options:
    """The page's settings for one turn."""

    top_k: int | None = None
    category: str | None = None
    max_price: float | None = None

    def constraints(
        self, category_field: str = "category", price_field: str = "price"
    ) -> list[dict[str, Any]]:
        """The page's filters in the session's constraint form ``{"field", "op", "value"}``."""
        out = []
        if self.category:
            out.append({"field": category_field, "op": "=", "value": self.category})
        if self.max_price is not None and self.max_price > 0:
            out.append({"field": price_field, "op": "<=", "value": float(self.max_price)})
        return out


@dataclass
class Update:
    """What one step of a turn changes on the page."""

    history: list[dict[str, Any]]
    session: dict[str, Any]
    # (item id, title, card HTML) of the latest reply, in rank order
    cards: list[tuple[str, str, str]] = field(default_factory=list)
    status: str = ""
    # (condition id, label) of the conditions in force: the chips above the cards; None
    # keeps the session's
    chips: list[tuple[str, str]] | None = None

    def __post_init__(self) -> None:
        # a snapshot: the turn goes on changing its own list (messages are replaced, not edited)
        self.history = list(self.history)
        self.cards = list(self.cards)
        if self.chips is None:
            self.chips = [tuple(c) for c in self.session.get("chips", [])]


class ChatService:
    """Every tab's handlers over one base recommender (and the catalogs uploaded later:
    :attr:`catalogs`).

    ``ingest_fn`` replaces :func:`retrieval.ingest.ingest` for uploaded catalogs (tests);
    see :class:`~webui.catalogs.Catalogs`."""

    def __init__(
        self, recommender: Recommender, settings: Any = None,
        ingest_fn: Callable[..., Any] | None = None,
    ):
        self.base = recommender
        self.settings = settings or recommender.settings
        self.catalogs = Catalogs(recommender, self.settings, ingest_fn)
        self.workdir = Path(tempfile.mkdtemp(prefix="chatrec-app-"))
        # voice copies are removed after each turn; the folder itself goes with the service
        # (or at interpreter exit), so no temporary folder outlives the app
        weakref.finalize(self, shutil.rmtree, str(self.workdir), ignore_errors=True)

    # ---- sessions ----------------------------------------------------------------------
    def recommender(self, session: dict[str, Any]) -> Recommender:
        """The recommender of the tab's catalog."""
        return self.catalogs.recommender(session)

    def _chat(self, session: dict[str, Any]):
        # a copy: the turn changes its state in place, and a turn that fails half-way must
        # leave the tab's last good state as it was
        state = session.get("chat")
        return self.recommender(session).chat(copy.deepcopy(state) if state is not None else None)

    # ---- one turn ----------------------------------------------------------------------
    def respond(
        self,
        message: dict[str, Any] | str | None,
        audio: str | None,
        history: list[dict[str, Any]] | None,
        session: dict[str, Any] | None,
        options: Options | None = None,
    ) -> Iterator[Update]:
        """Run one turn, yielding the page after each event (the reply streams in)."""
        history = list(history or [])
        session = dict(session or new_session())
        options = options or Options()
        text, files = _split_message(message)
        voice_copy = None
        try:
            image, voice, shown_files, video = self._read_inputs(files, audio)
            voice_copy = voice
            if not text.strip() and image is None and voice is None and video is None:
                raise InputError(EMPTY_MESSAGE)
            history.append({"role": "user", "content": text.strip() or _describe(image, voice, video)})
            history.extend({"role": "user", "content": {"path": p}} for p in shown_files)
            history.append({"role": "assistant", "content": "…"})
            yield Update(history, session, [], "thinking…")
            chat = self._chat(session)
            self._apply_page_filters(chat, session, options)
            yield from self._stream(chat, text, image, voice, options.top_k, history, session, video)
        except InputError as e:
            if not history or history[-1].get("content") != "…":
                history.append({"role": "assistant", "content": str(e)})
            else:
                history[-1] = {"role": "assistant", "content": str(e)}
            yield Update(history, session, self._cards_of(session), READY)
        except Exception as e:  # noqa: BLE001 (the tab goes on; the log keeps the traceback)
            if isinstance(e, ChatrecError):
                msg = f"Sorry, I could not answer that: {e}"
            else:
                log.exception("chat turn failed")
                msg = f"Sorry, something went wrong on my side ({type(e).__name__}: {e}). Please try again."
            if history and history[-1].get("content") == "…":
                history[-1] = {"role": "assistant", "content": msg}
            else:
                history.append({"role": "assistant", "content": msg})
            yield Update(history, session, self._cards_of(session), READY)
        finally:
            if voice_copy is not None:
                Path(voice_copy).unlink(missing_ok=True)

    def _read_inputs(self, files: list[str], audio: str | None):
        image = voice = video = None
        shown: list[str] = []
        for path in files:
            kind = uploads.sniff_kind(path)
            if kind != "image" and uploads.is_video(path):
                # checked by the chat (retrieval.video): its frame and sound are a photo and a voice message
                if len(files) > 1 or audio:
                    raise InputError("Please send a video on its own, without a photo or a voice message.")
                video = path
                shown.append(path)
                continue
            if kind == "image":
                if image is not None:
                    raise InputError("Please send one photo at a time.")
                image = uploads.load_image(path, self.settings)
                shown.append(path)
            elif kind == "audio":
                if voice is not None:
                    raise InputError("Please send one voice message at a time.")
                voice = uploads.check_audio(path, self.settings, self.workdir)
                shown.append(path)
            else:
                uploads.check_size(path, self.settings.max_upload_bytes, "file")
                raise InputError(
                    "I can only read photos (JPEG, PNG, WebP, GIF), voice messages (WAV, MP3, "
                    "OGG, WebM) and videos (MP4, WebM, MKV, MOV); that file is neither."
                )
        if audio:
            if voice is not None:
                raise InputError("Please send one voice message at a time.")
            voice = uploads.check_audio(audio, self.settings, self.workdir)
            shown.append(audio)
        return image, voice, shown, video

    def _apply_page_filters(self, chat: Any, session: dict[str, Any], options: Options) -> None:
        """Put the page's category and price filters into the session's constraints,
        replacing the ones the page set before (the conversation's own stay)."""
        state = chat.state
        previous = [c for c in session.get("page_constraints", [])]
        fields = _index_fields(chat.recommender)
        kept, _dropped = cons.validate(options.constraints(), fields)
        state.constraints = cons.merge([c for c in state.constraints if c not in previous], kept)
        session["page_constraints"] = kept

    def _stream(self, chat, text, image, voice, top_k, history, session, video=None) -> Iterator[Update]:
        items: dict[str, Recommendation] = {}
        reasons: dict[str, str] = {}
        reply: Reply | None = None

        def live_cards():
            return _cards([replace(item, reason=reasons.get(item_id, "") or item.reason)
                           for item_id, item in items.items()])

        def live_text():
            lines = [
                f"{n}. {it.title} \u2014 {reasons.get(i, '')}".rstrip(" \u2014")
                for n, (i, it) in enumerate(items.items(), 1)
            ]
            return "\n".join(lines) or "\u2026"

        extra = {"video": video} if video is not None else {}
        for event in _in_one_thread(
            chat.stream(text, image=image, audio=str(voice) if voice else None, top_k=top_k, **extra)
        ):
            # see assistant.reply.Event: status and reason-token carry small dicts, item a
            # Recommendation, done the Reply
            if event.type == "status":
                if event.data.get("reset"):
                    reasons[str(event.data["reset"])] = ""
                yield Update(history, session, live_cards(), str(event.data.get("message", "")) + "\u2026")
            elif event.type == "item":
                items[str(event.data.id)] = event.data
                history[-1] = {"role": "assistant", "content": live_text()}
                yield Update(history, session, live_cards(), "")
            elif event.type == "reason-token":
                item_id = str(event.data["id"])
                reasons[item_id] = reasons.get(item_id, "") + str(event.data.get("token", ""))
                history[-1] = {"role": "assistant", "content": live_text()}
                yield Update(history, session, live_cards(), "")
            elif event.type == "done":
                reply = event.data
        if reply is None:
            raise ChatrecError("the assistant ended the turn without a reply")
        final = reply.text or live_text()
        if reply.transcript:  # what was heard, so a misheard word can be corrected by typing
            final = f"_Heard: \u201c{reply.transcript}\u201d_\n\n{final}"
        if reply.video.get("frame"):  # the video's frame that was searched with, above the answer
            history[-1] = {"role": "assistant", "content": {"path": self._shown_copy(reply.video["frame"])}}
            history.append({"role": "assistant", "content": "…"})
            final = (f"_Seen: the frame at {float(reply.video.get('time', 0)):.1f} s of your video "
                     f"({reply.video.get('frames', 1)} keyframes)_\n\n{final}")
        if reply.notices:
            final += "\n\n" + "\n".join(f"_{n}_" for n in reply.notices)
        history[-1] = {"role": "assistant", "content": final}
        session["chat"] = chat.state.to_dict()
        session["shown"] = [str(i.id) for i in reply.items]
        session["cards"] = _cards(reply.items)
        session["chips"] = _chips(reply.constraints)
        seconds = sum(float(v) for v in reply.timings.values())
        yield Update(
            history, session, session["cards"], f"answered in {reply.mode or '?'} mode ({seconds:.1f} s)"
        )

    def _shown_copy(self, path: str) -> str:
        """A copy of a cached picture in the app's own folder, which the page may serve."""
        copy = self.workdir / f"frame-{uuid.uuid4().hex}.jpg"
        shutil.copyfile(path, copy)
        return str(copy)

    @staticmethod
    def _cards_of(session: dict[str, Any]) -> list[tuple[str, str, str]]:
        return [tuple(c) for c in session.get("cards", [])]

    # ---- feedback -------------------------------------------------------------------------
    def feedback(
        self, session: dict[str, Any], slot: int, liked: bool
    ) -> tuple[dict[str, Any], str]:
        """Like or dislike the card in ``slot`` (0-based). A disliked card leaves the page."""
        session = dict(session or new_session())
        shown = list(session.get("shown", []))
        if slot >= len(shown):
            return session, "That card is no longer shown."
        item_id = shown[slot]
        chat = self._chat(session)
        chat.feedback(item_id, liked=liked)
        session["chat"] = chat.state.to_dict()
        cards = self._cards_of(session)
        title = next((c[1] for c in cards if c[0] == item_id), item_id) or item_id
        if not liked:
            session["shown"] = shown[:slot] + shown[slot + 1 :]
            session["cards"] = [c for c in cards if c[0] != item_id]
            return session, f"Noted: no more of “{title}”."
        return session, f"Noted: you like “{title}”; I will suggest similar things."

    # ---- the conditions in force (chips) ---------------------------------------------------
    def remove_chip(self, session: dict[str, Any], slot: int) -> tuple[dict[str, Any], str]:
        """Take back the condition of chip ``slot`` (0-based): the next message searches
        without it. Returns the new session and a note for the status line."""
        session = dict(session or new_session())
        chips = [tuple(c) for c in session.get("chips", [])]
        if slot >= len(chips):
            return session, "That condition is no longer in force."
        chat = self._chat(session)
        removed = chat.remove_constraint(chips[slot][0])
        session["chat"] = chat.state.to_dict()
        session["chips"] = _chips(chat.constraints)
        return session, f"Removed \u201c{removed['label']}\u201d: your next message searches without it."

    # ---- panels -----------------------------------------------------------------------------
    def filter_choices(self, session: dict[str, Any]) -> tuple[list[str], float | None]:
        """Category values and the highest price of the tab's catalog, from the index fields."""
        fields = _index_fields(self.recommender(session))
        category, price = fields.get("category"), fields.get("price")
        values = sorted(str(v) for v in (category.values if category else None) or [])
        return values, price.max if price else None

    def model_panel(self, session: dict[str, Any]) -> str:
        return status_markdown(self.recommender(session).status())


def _chips(constraints: list[Any]) -> list[tuple[str, str]]:
    """The chips of the conditions the conversation set; the page's own filters have their
    own controls and are not repeated."""
    return [(str(c["id"]), str(c["label"])) for c in constraints if c.get("source") != "page"]


_END = object()


def _in_one_thread(events: Iterator[Any]) -> Iterator[Any]:
    """Run a generator to its end in one worker thread and pass its items on.

    Gradio resumes a streaming handler on whichever worker thread is free, and a turn may
    hold thread-owned locks between its events; a thread of its own keeps the turn in one
    place. Errors of the turn are raised here, in the caller."""
    box: queue.Queue = queue.Queue()

    def pump() -> None:
        try:
            for event in events:
                box.put((event, None))
        except BaseException as e:  # handed to the consumer, raised there
            box.put((_END, e))
        else:
            box.put((_END, None))

    threading.Thread(target=pump, name="chat-turn", daemon=True).start()
    while True:
        event, error = box.get()
        if event is _END:
            if error is not None:
                raise error
            return
        yield event


def _index_fields(rec: Recommender) -> dict[str, Any]:
    """The catalog's fields (FieldInfo by name); none when the index cannot say."""
    try:
        return rec.fields()
    except ChatrecError:
        return {}


def _split_message(message: dict[str, Any] | str | None) -> tuple[str, list[str]]:
    if message is None:
        return "", []
    if isinstance(message, str):
        return message, []
    files = []
    for f in message.get("files") or []:
        # gradio hands over paths, or FileData objects when called through its API
        files.append(f if isinstance(f, str) else f.get("path") if isinstance(f, dict) else f.path)
    return str(message.get("text") or ""), [f for f in files if f]


def _describe(image: Any, voice: Any, video: Any = None) -> str:
    if video is not None:
        return "(video)"
    if image is not None and voice is not None:
        return "(photo and voice message)"
    return "(photo)" if image is not None else "(voice message)"


def _cards(items: list[Recommendation]) -> list[tuple[str, str, str]]:
    """(id, title, card HTML) for each item, in rank order."""
    return [(str(it.id), str(it.title), card_html(it, n)) for n, it in enumerate(items, 1)]


def _short_paths(text: str) -> str:
    """Paths inside the Python environment shortened to the package's own part: the
    panel is read by people, who need the package's name, not the interpreter's folder."""
    return re.sub(r"/\S*?/site-packages/", "site-packages/", text)


def status_markdown(status: dict[str, Any]) -> str:
    """The model panel from :meth:`Recommender.status`: who answers (LLM or retrieval
    only), then each model's state, with the command that fetches the missing ones."""
    mode = status.get("mode", "?")
    llm_state = (status.get("llm") or {}).get("state", "")
    answering = ("retrieval only (no LLM)" if mode != "llm" else
                 "the LLM, once it has loaded" if llm_state == "available" else "the LLM")
    lines = [f"**Answering:** {answering}", ""]
    items = status.get("items")
    if items is not None:
        lines += [f"**Catalog items:** {items}", ""]
    missing, hints = False, []
    for m in status.get("models") or []:
        state = str(m.get("state") or "")
        role, model_id = m.get("role", "?"), m.get("model_id", "")
        reason = _short_paths(str(m.get("reason") or ""))
        lines.append(
            f"- **{role}** `{model_id}`: {'**MISSING**' if state == 'missing' else state or 'unknown'}"
            + (f" ({reason})" if reason else "")
        )
        hint = str(m.get("hint") or "")
        if state == "missing":
            missing = True
        # the LLM's fix is worth reading even when it is switched off: the chat's notice
        # points here
        if (state == "missing" or (role == "llm" and state == "disabled")) and hint \
                and (role == "llm" or "prefetch" not in hint) and hint not in hints:
            hints.append(f"{role}: {hint}" if role == "llm" else hint)
    if missing:
        lines += ["", "Fetch the missing models once with: `python -m retrieval prefetch`"]
    lines += [f"- {h}" for h in hints]
    return "\n".join(lines)

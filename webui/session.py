"""The web chat's handlers as plain functions over plain data, so they are tested
without a browser. Each browser tab holds one ``session`` dict (JSON-able: the chat's
own state, the ids on the cards shown, which catalog it talks to); nothing is shared
between tabs except the read-only recommenders.

The handlers never rank, filter or explain anything themselves: they check the inputs,
call the assistant API and turn its events into chat messages and cards.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import queue
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import ChatrecError, InputError

from . import uploads
from .cards import card_html

log = logging.getLogger(__name__)

# the status line after a turn that was refused (a finished answer says "answered in ...")
READY = "ready"
EMPTY_MESSAGE = "Please type a message, attach a photo or record a voice message."
DEFAULT_CATALOG = "default"


def new_session() -> dict[str, Any]:
    """A fresh tab: no conversation yet, the default catalog."""
    return {"chat": None, "shown": [], "catalog": DEFAULT_CATALOG, "chips": []}


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


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class ChatService:
    """Every tab's handlers over one base recommender (and the catalogs uploaded later).

    ``ingest_fn(settings, catalog_path, hub, prune, progress)`` defaults to
    :func:`retrieval.ingest.ingest`; tests pass their own."""

    def __init__(
        self, recommender: Any, settings: Any = None, ingest_fn: Callable[..., Any] | None = None
    ):
        self.base = recommender
        self.settings = settings or _get(recommender, "settings")
        if self.settings is None:
            from retrieval.settings import Settings

            self.settings = Settings.load()
        self._ingest_fn = ingest_fn
        self._recommenders: dict[str, Any] = {DEFAULT_CATALOG: recommender}
        self._lock = threading.Lock()
        self.workdir = Path(tempfile.mkdtemp(prefix="chatrec-app-"))
        # voice copies are removed after each turn; the folder itself goes with the service
        # (or at interpreter exit), so no temporary folder outlives the app
        weakref.finalize(self, shutil.rmtree, str(self.workdir), ignore_errors=True)

    # ---- sessions ----------------------------------------------------------------------
    def recommender(self, session: dict[str, Any], top_k: int | None = None) -> Any:
        """The recommender of the tab's catalog; one configured for ``top_k`` recommendations
        when the page asks for another number than the settings (it shares the loaded
        index, models and LLM)."""
        name = session.get("catalog") or DEFAULT_CATALOG
        base = self._recommenders.get(name, self.base)
        rec_settings = _get(base, "settings") or self.settings
        if not top_k or top_k == rec_settings.top_k:
            return base
        key = f"{name}#top{top_k}"
        with self._lock:
            if key not in self._recommenders:
                changed = rec_settings.replace(
                    top_k=top_k, candidates=max(rec_settings.candidates, top_k)
                )
                self._recommenders[key] = type(base).from_settings(
                    settings=changed,
                    index=_get(base, "index"),
                    llm=_shared_llm(base),
                    hub=_get(base, "hub"),
                )
            return self._recommenders[key]

    def _chat(self, session: dict[str, Any], top_k: int | None = None) -> Any:
        rec = self.recommender(session, top_k)
        # a copy: the turn changes its state in place, and a turn that fails half-way must
        # leave the tab's last good state as it was
        state = session.get("chat")
        return rec.chat(copy.deepcopy(state) if state is not None else None)

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
            chat = self._chat(session, options.top_k)
            self._apply_page_filters(chat, session, options)
            yield from self._stream(chat, text, image, voice, history, session, video)
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
        from assistant import constraints as cons

        state = chat.state
        previous = [c for c in session.get("page_constraints", [])]
        fields = _index_fields(_get(chat, "recommender") or self.recommender(session))
        kept, _dropped = cons.validate(options.constraints(), fields)
        state.constraints = cons.merge([c for c in state.constraints if c not in previous], kept)
        session["page_constraints"] = kept

    def _stream(self, chat, text, image, voice, history, session, video=None) -> Iterator[Update]:
        items: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        reply = None

        def live_cards():
            shown = []
            for item_id, item in items.items():
                d = _as_dict(item)
                d["reason"] = reasons.get(item_id, "") or d.get("reason", "")
                shown.append(d)
            return _cards(shown)

        def live_text():
            lines = [
                f"{n}. {_get(it, 'title')} \u2014 {reasons.get(i, '')}".rstrip(" \u2014")
                for n, (i, it) in enumerate(items.items(), 1)
            ]
            return "\n".join(lines) or "\u2026"

        extra = {"video": video} if video is not None else {}
        for event in _in_one_thread(
            chat.stream(text, image=image, audio=str(voice) if voice else None, **extra)
        ):
            kind, data = _get(event, "type"), _get(event, "data")
            if kind == "status":
                if _get(data, "reset"):
                    reasons[str(_get(data, "reset"))] = ""
                yield Update(
                    history, session, live_cards(), str(_get(data, "message", "")) + "\u2026"
                )
            elif kind == "item":
                items[str(_get(data, "id"))] = data
                history[-1] = {"role": "assistant", "content": live_text()}
                yield Update(history, session, live_cards(), "")
            elif kind == "reason-token":
                item_id = str(_get(data, "id"))
                reasons[item_id] = reasons.get(item_id, "") + str(_get(data, "token", ""))
                history[-1] = {"role": "assistant", "content": live_text()}
                yield Update(history, session, live_cards(), "")
            elif kind == "done":
                reply = data
        if reply is None:
            raise ChatrecError("the assistant ended the turn without a reply")
        final = str(_get(reply, "text", "") or live_text())
        transcript = str(_get(reply, "transcript", "") or "")
        if transcript:  # what was heard, so a misheard word can be corrected by typing
            final = f"_Heard: \u201c{transcript}\u201d_\n\n{final}"
        seen = _get(reply, "video") or {}
        if seen.get("frame"):  # the frame of a video that was searched with, shown above the answer
            history[-1] = {"role": "assistant", "content": {"path": self._shown_copy(seen["frame"])}}
            history.append({"role": "assistant", "content": "…"})
            final = (f"_Seen: the frame at {float(seen.get('time', 0)):.1f} s of your video "
                     f"({seen.get('frames', 1)} keyframes)_\n\n{final}")
        notices = [str(n) for n in (_get(reply, "notices") or [])]
        if notices:
            final += "\n\n" + "\n".join(f"_{n}_" for n in notices)
        history[-1] = {"role": "assistant", "content": final}
        rec_items = list(_get(reply, "items") or [])
        session["chat"] = _state_dict(chat.state)
        session["shown"] = [str(_get(i, "id")) for i in rec_items]
        session["cards"] = _cards(rec_items)
        session["chips"] = _chips(_get(reply, "constraints") or [])
        mode = _get(reply, "mode", "") or "?"
        seconds = sum(float(v) for v in (_get(reply, "timings") or {}).values())
        yield Update(
            history, session, session["cards"], f"answered in {mode} mode ({seconds:.1f} s)"
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
        session["chat"] = _state_dict(chat.state)
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
        session["chat"] = _state_dict(chat.state)
        session["chips"] = _chips(chat.constraints)
        return session, f"Removed \u201c{removed['label']}\u201d: your next message searches without it."

    # ---- catalogs ---------------------------------------------------------------------------
    def ingest_upload(
        self, session: dict[str, Any], catalog_file: str | None, media_zip: str | None
    ) -> tuple[dict[str, Any], str]:
        """Ingest an uploaded catalog (and its media zip) into an index of its own and
        point this tab at it. Returns the new session and the report as Markdown."""
        session = dict(session or new_session())
        if not catalog_file:
            raise InputError("Please choose a catalog file (JSONL or CSV) first.")
        # a catalog may be much larger than a chat photo; its media zip larger still
        uploads.check_size(catalog_file, self.settings.max_upload_bytes * 10, "catalog file")
        suffix = uploads.sniff_catalog_format(catalog_file)
        digest = hashlib.sha256(Path(catalog_file).read_bytes())
        if media_zip:
            uploads.check_size(media_zip, self.settings.max_upload_bytes * 50, "media zip")
            with open(media_zip, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
        name = "upload-" + digest.hexdigest()[:16]
        folder = Path(self.settings.data_dir) / "uploads" / name
        if not folder.is_dir():
            # the same upload (same content hash) reuses its folder, which other tabs may be
            # showing pictures from; a new one is unpacked aside and moved in whole
            tmp = folder.with_name(name + f".tmp-{uuid.uuid4().hex[:8]}")
            try:
                if media_zip:
                    uploads.safe_extract_zip(media_zip, tmp, self.settings.max_upload_bytes * 100)
                tmp.mkdir(parents=True, exist_ok=True)
                # our own file name: the uploaded one is never used as a path
                shutil.copyfile(catalog_file, tmp / ("catalog" + suffix))
                try:
                    tmp.rename(folder)
                except OSError:
                    if not folder.is_dir():  # not a twin upload that won the race
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        settings = self.settings.replace(index_name=name)
        hub = _get(self.base, "hub")
        report = self._ingest(settings, folder / ("catalog" + suffix), hub)
        with self._lock:
            if name not in self._recommenders:
                self._recommenders[name] = type(self.base).from_settings(
                    settings=settings, llm=_shared_llm(self.base), hub=hub
                )
        session.update({"catalog": name, "chat": None, "shown": [], "cards": [], "chips": []})
        return session, report_markdown(report, folder)

    def _ingest(self, settings, path, hub):
        if self._ingest_fn is not None:
            return self._ingest_fn(settings, path, hub=hub, prune=True, progress=True)
        from retrieval.ingest import ingest

        # an uploaded catalog may only use the files it came with: a row naming
        # /etc/passwd or ../../other-upload/photo.jpg is never opened
        return ingest(settings, path, hub=hub, prune=True, progress=True, media_root=Path(path).parent)

    def use_default_catalog(self, session: dict[str, Any]) -> dict[str, Any]:
        session = dict(session or new_session())
        session.update({"catalog": DEFAULT_CATALOG, "chat": None, "shown": [], "cards": [], "chips": []})
        return session

    # ---- panels -----------------------------------------------------------------------------
    def filter_choices(self, session: dict[str, Any]) -> tuple[list[str], float | None]:
        """Category values and the highest price of the tab's catalog, from the index fields."""
        fields = _index_fields(self.recommender(session))
        category = fields.get("category")
        price = fields.get("price")
        values = sorted(str(v) for v in (_get(category, "values") or []))
        return values, _get(price, "max")

    def model_panel(self, session: dict[str, Any]) -> str:
        return status_markdown(self.recommender(session).status())


def _chips(constraints: list[Any]) -> list[tuple[str, str]]:
    """The chips of the conditions the conversation set; the page's own filters have their
    own controls and are not repeated."""
    return [(str(_get(c, "id")), str(_get(c, "label"))) for c in constraints if _get(c, "source") != "page"]


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


def _shared_llm(rec: Any) -> Any:
    """The recommender's LLM, so another recommender over the same models reuses it
    instead of loading a second copy (None when there is none)."""
    load = _get(rec, "load_llm")
    return load() if callable(load) else None


def _index_fields(rec: Any) -> dict[str, Any]:
    """The catalog's fields (FieldInfo by name) through the recommender's index."""
    index = _get(rec, "index")
    try:
        return dict(index.fields()) if index is not None else {}
    except ChatrecError:
        return {}


def _state_dict(state: Any) -> dict[str, Any]:
    return state.to_dict() if hasattr(state, "to_dict") else dict(state)


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return dict(item)
    from dataclasses import asdict, is_dataclass

    if is_dataclass(item):
        return asdict(item)
    return {k: _get(item, k) for k in ("id", "title", "image", "score", "reason", "metadata")}


def _split_message(message: dict[str, Any] | str | None) -> tuple[str, list[str]]:
    if message is None:
        return "", []
    if isinstance(message, str):
        return message, []
    files = []
    for f in message.get("files") or []:
        files.append(f if isinstance(f, str) else _get(f, "path"))
    return str(message.get("text") or ""), [f for f in files if f]


def _describe(image: Any, voice: Any, video: Any = None) -> str:
    if video is not None:
        return "(video)"
    if image is not None and voice is not None:
        return "(photo and voice message)"
    return "(photo)" if image is not None else "(voice message)"


def _cards(items) -> list[tuple[str, str, str]]:
    """(id, title, card HTML) for each item, in rank order."""
    return [
        (str(_get(it, "id")), str(_get(it, "title", "")), card_html(it, n))
        for n, it in enumerate(items, 1)
    ]


def report_markdown(report: Any, folder: str | Path | None = None) -> str:
    """An ingest report for people: counts, then each skipped row and why (file names
    shown relative to ``folder``, the upload's folder on the server)."""
    lines = [
        f"**Ingested** {_get(report, 'items_total', 0)} items in "
        f"{float(_get(report, 'seconds', 0.0)):.1f} s: {_get(report, 'added', 0)} added, "
        f"{_get(report, 'updated', 0)} updated, {_get(report, 'unchanged', 0)} unchanged, "
        f"{_get(report, 'removed', 0)} removed, {_get(report, 'skipped', 0)} skipped."
    ]
    if _get(report, "rows") is not None:  # every row of the file is ingested or skipped
        lines.append(f"\nRows in the file: {_get(report, 'rows')} = {_get(report, 'items_total', 0)} "
                     f"ingested + {_get(report, 'skipped', 0)} skipped.")
    problems = list(_get(report, "problems") or [])
    if problems:
        lines.append("")
        lines.append(f"**{len(problems)} problem(s):**")
        prefix = f"{folder}/" if folder else None
        lines.extend(f"- {str(p).replace(prefix, '') if prefix else p}" for p in problems[:200])
        if len(problems) > 200:
            lines.append(f"- … and {len(problems) - 200} more")
    return "\n".join(lines)


def _short_paths(text: str) -> str:
    """Paths inside the Python environment shortened to the package's own part: the
    panel is read by people, who need the package's name, not the interpreter's folder."""
    import re

    return re.sub(r"/\S*?/site-packages/", "site-packages/", text)


def status_markdown(status: Any) -> str:
    """The model panel: who answers (LLM or retrieval only), then each model's state, with
    the command that fetches the missing ones."""
    mode = _get(status, "mode", "?")
    llm_state = _get(_get(status, "llm") or {}, "state", "")
    answering = ("retrieval only (no LLM)" if mode != "llm" else
                 "the LLM, once it has loaded" if llm_state == "available" else "the LLM")
    lines = [f"**Answering:** {answering}", ""]
    items = _get(status, "items")
    if items is not None:
        lines += [f"**Catalog items:** {items}", ""]
    missing, hints = False, []
    for m in _get(status, "models") or []:
        state = str(_get(m, "state", "") or "")
        role, model_id = _get(m, "role", "?"), _get(m, "model_id", "")
        reason = _short_paths(str(_get(m, "reason", "") or ""))
        lines.append(
            f"- **{role}** `{model_id}`: {'**MISSING**' if state == 'missing' else state or 'unknown'}"
            + (f" ({reason})" if reason else "")
        )
        hint = str(_get(m, "hint", "") or "")
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

"""One conversation: each message runs inputs -> state -> query -> candidates -> ranking
-> reasons, and the session state carries over to the next message.

The guarantees live here: recommended ids come only from the retrieved candidate list
(never parsed from LLM text); an item already recommended is left out unless the user
names it again; a rejected item never comes back; all user and catalog text reaches the
LLM as quoted data (see :mod:`assistant.llm_tasks`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from retrieval.dialogues import context_text
from retrieval.errors import ChatrecError, InputError, ModelUnavailable
from retrieval.timing import stopwatch
from retrieval.types import Candidate, Query

from . import constraints as cons
from . import inputs, llm_tasks
from .answer_checks import CheckCounts, check_reason
from .explain import reason_from_evidence
from .feedback import classify_mentions, knows_item
from .reply import STAGES, Event, Recommendation, Reply
from .state import SessionState

if TYPE_CHECKING:
    from .recommender import Recommender

MAX_REASON_CHARS = 400
_ONE_LINE = re.compile(r"[\r\n\v\f\u2028\u2029\x85]+")
# errors of an LLM call that make the turn fall back to retrieval instead of failing
LLM_FAILURES = (ModelUnavailable, RuntimeError, ValueError, OSError, TimeoutError)


class Chat:
    """A session with a :class:`~assistant.recommender.Recommender`. Calls on one chat are
    serialised; many chats may run at once (the recommender guards the LLM)."""

    def __init__(self, recommender: Recommender, state: SessionState | None = None):
        self.recommender = recommender
        self._state = state or SessionState()
        # a plain Lock, not an RLock: a streaming consumer (Gradio) may resume the generator
        # on another worker thread, and only a Lock may be released from another thread
        self._lock = threading.Lock()

    @classmethod
    def from_state(cls, recommender: Recommender, state: SessionState | dict) -> Chat:
        """Resume a session from its state (or the state's ``to_dict()``)."""
        if isinstance(state, dict):
            state = SessionState.from_dict(state)
        return cls(recommender, state)

    @property
    def state(self) -> SessionState:
        return self._state

    # ---- public API -----------------------------------------------------------------------
    def send(self, text: str = "", image: Any = None, audio: Any = None, *, top_k: int | None = None,
             explain: bool = True, video: Any = None) -> Reply:
        """Run one turn and return the reply. ``top_k``: how many items to recommend (default:
        the setting). ``explain=False`` skips the LLM's reasons (reasons then come from the
        evidence): for evaluations that only need the ranking. ``video``: see :meth:`stream`."""
        reply = None
        for event in self.stream(text, image=image, audio=audio, top_k=top_k, explain=explain, video=video):
            if event.type == "done":
                reply = event.data
        assert reply is not None
        return reply

    def feedback(self, item_id: str, liked: bool = False) -> None:
        """Record that the user liked (or rejected) an item. Rejected items never return;
        only ``feedback(item_id, liked=True)`` takes a rejection back."""
        titles = self.recommender.titles()
        if item_id not in titles:
            raise InputError(f"unknown item id {item_id!r}: not in the catalog")
        with self._lock:
            (self._state.like if liked else self._state.reject)(item_id)

    @property
    def constraints(self) -> list[dict[str, Any]]:
        """The conditions in force, each ``{"id", "kind", "label", ...}``: exclusions
        ("not: Apple"), diets ("diet: vegan"), ranges ("year: 1990–1999"), wanted values
        ("origin: Sweden"), preferences, and the items the user rejected ("not: <title>",
        kind "item"). Copies: change them with :meth:`remove_constraint`."""
        return constraint_view(self._state, self.recommender.titles())

    def remove_constraint(self, constraint_id: str) -> dict[str, Any]:
        """Take a condition back (a chip's ✕): the next message searches without it.
        Returns the removed condition; an unknown id raises :class:`InputError`."""
        with self._lock:
            for c in constraint_view(self._state, self.recommender.titles()):
                if c["id"] != constraint_id:
                    continue
                if c["kind"] == "item":
                    self._state.rejected.remove(c["item"])
                else:
                    self._state.constraints = [x for x in self._state.constraints
                                               if cons.constraint_id(x) != constraint_id]
                return c
        raise InputError(f"no condition {constraint_id!r} in this conversation "
                         f"(in force: {', '.join(c['id'] for c in self.constraints) or 'none'})")

    def stream(self, text: str = "", image: Any = None, audio: Any = None, *, top_k: int | None = None,
               explain: bool = True, video: Any = None) -> Iterator[Event]:
        """Run one turn, yielding status, item, reason-token events and finally "done"
        with the :class:`Reply` (``top_k`` items; default: the setting). Input problems
        raise :class:`InputError` before any work. A ``video`` (path or bytes) is a photo
        and a voice message at once: its poster frame goes through the photo path, its
        sound through the voice path."""
        settings = self.recommender.settings
        text = inputs.check_text(text, settings)
        if video is not None and (image is not None or audio is not None):
            raise InputError("Please send a video on its own, without a photo or a voice message.")
        photo = inputs.load_image(image, settings) if image is not None else None
        samples = inputs.load_audio(audio, settings) if audio is not None else None
        clip = inputs.load_video(video, settings) if video is not None else None
        if clip is not None:
            photo, samples = clip.frame, clip.samples
        if not text and photo is None and samples is None:
            raise InputError("the message is empty: write something, or send a photo or a voice message")
        if top_k is not None and top_k < 1:
            raise InputError(f"top_k must be at least 1, not {top_k}")
        with self._lock:
            yield from _Turn(self, text, photo, samples, explain, top_k, clip).run()


class _Turn:
    """The work of one message; a class only to share its many locals between stages."""

    def __init__(self, chat: Chat, text: str, photo: Any, samples: Any, explain: bool = True,
                 top_k: int | None = None, video: Any = None):
        self.chat, self.rec, self.state = chat, chat.recommender, chat.state
        self.explain = explain
        self.settings = self.rec.settings
        # the items shown, and the candidates searched for them (never fewer than shown)
        self.top_k = top_k or self.settings.top_k
        self.candidates = self.settings.candidate_count if top_k is None else max(self.settings.candidate_count, top_k)
        self.text, self.photo, self.samples = text, photo, samples
        self.video = video
        self.timings = dict.fromkeys(STAGES, 0.0)
        self.notices: list[str] = []
        if video is not None and video.no_sound:
            self._notice(video.no_sound)
        self.transcript = self.caption = ""
        self.checks = CheckCounts()

    def _stage(self, name: str):
        return stopwatch(self.timings, name)

    def _notice(self, message: str, key: str | None = None) -> None:
        # keyed notices are said once per session; others once per turn
        if key:
            if key in self.state.notices_shown:
                return
            self.state.notices_shown.append(key)
        if message not in self.notices:
            self.notices.append(message)

    def _status(self, stage: str, message: str) -> Event:
        return Event("status", {"stage": stage, "message": message})

    # ---- the stages -------------------------------------------------------------------------
    def run(self) -> Iterator[Event]:
        if self.samples is not None:
            yield self._status("transcribe", "Listening to your "
                               + ("video" if self.video is not None else "voice message"))
            with self._stage("transcribe"):
                self.transcript = self.rec.transcribe(self.samples, self._notice)
            if not (self.transcript or self.text or self.photo is not None or self.notices):
                # nothing was said that a search could use; the session is untouched
                raise InputError("I could not hear any words in your voice message; please record "
                                 "it again closer to the microphone, or type your message")
        if self.photo is not None:
            yield self._status("caption", "Looking at your " + ("video" if self.video is not None else "photo"))
            with self._stage("caption"):
                self.caption = self.rec.caption(self.photo, self._notice)
        said = " ".join(t for t in (self.text, self.transcript) if t)
        seen = "video" if self.video is not None else "photo"
        content = said + (f" [{seen}: {self.caption}]" if self.caption else f" [{seen}]" if self.photo is not None else "")
        tracker = self.rec.tracker()
        self._catch_up(tracker)
        self.state.messages.append({"role": "user", "content": content.strip()})
        self.state.turns += 1
        asked_again = self._read_mentions(said)
        self.understood = tracker.update(self.state, said) if said else None

        llm = self.rec.active_llm(self._notice)
        yield self._status("rewrite", "Understanding your request")
        with self._stage("rewrite"):
            query_text, llm = self._rewrite(llm)

        yield self._status("retrieve", "Searching the catalog")
        with self._stage("retrieve"):
            candidates = self._retrieve(query_text, asked_again)
        if not candidates:
            yield from self._finish([], query_text, llm is not None,
                                    "I could not find anything in the catalog for that. Could you say it differently?")
            return

        yield self._status("rank", "Ranking the candidates")
        with self._stage("rank"):
            ranked, llm = self._rank(llm, candidates)
            ranked_by_llm = llm is not None
            # an item the user asked for again by name comes first
            ranked = [p for p in ranked if p[0].id in asked_again] + [p for p in ranked if p[0].id not in asked_again]
        top = ranked[: self.top_k]
        recs = [Recommendation(c.id, c.title, c.image, round(float(score), 6), "",
                               [asdict(h) for h in c.evidence], dict(c.metadata)) for c, score in top]
        for r in recs:
            yield Event("item", r)

        yield self._status("explain", "Writing the reasons")
        for r, (c, _) in zip(recs, top, strict=True):
            if self.explain:
                llm = yield from self._explain(llm, r, c, query_text)
            else:  # reasons from the evidence; the LLM stays available for the next turn
                yield from self._explain(None, r, c, query_text)
        # the mode says who ranked; a failure while writing reasons only changes those
        yield from self._finish(recs, query_text, ranked_by_llm)

    def _catch_up(self, tracker) -> None:
        """A state that holds earlier messages the tracker never read (built elsewhere, or
        saved by an earlier version) is read now, message by message, so the topic and the
        conditions follow the whole conversation and not its last message alone."""
        if self.state.topic or self.state.turns:
            return
        for m in self.state.messages:
            if m.get("role") == "user" and m.get("content"):
                tracker.update(self.state, m["content"])

    def _read_mentions(self, said: str) -> set[str]:
        """Update mentioned / liked / rejected from the user's words; return the already
        recommended ids the user named again without rejecting them (they may return)."""
        matcher = self.rec.matcher()
        mentions = matcher.find_mentions(said) if said else []
        again: set[str] = set()
        popularity = self.rec.popularity() if any(len(m.ids) > 1 for m in mentions) else {}
        for m, feeling in zip(mentions, classify_mentions(said, mentions), strict=True):
            # several items share the title ("Seven"): the best known is mentioned last, the
            # one "that director" and "more like it" then mean
            ids = sorted(m.ids, key=lambda i: -popularity.get(i, len(popularity))) if popularity else m.ids
            for item_id in ids:
                self.state.mention(item_id)
                if feeling == "liked" and item_id not in self.state.rejected:
                    # a rejection is only undone by an explicit feedback(liked=True)
                    self.state.like(item_id)
                elif feeling == "rejected":
                    self.state.reject(item_id)
                if (feeling != "rejected" and item_id in self.state.recommended
                        and item_id not in self.state.rejected):
                    again.add(item_id)
        return again

    def _fallback_query(self) -> str:
        """The current topic's requests (the tracker's, without the conditions), newest
        last, without the titles they rejected (searching for "not Granny Smith" would
        otherwise pull Granny Smith's neighbours up)."""
        rejected = set(self.state.rejected)
        terms = self.rec.terms()
        texts = []
        for text in self.state.topic[-3:]:
            for m in reversed(self.rec.matcher().find_mentions(text)):
                # a title that is also a kind ("Äpple Juice": "apple juice") stays a request
                if set(m.ids) <= rejected and not terms.kinds_in(text[m.start:m.end]):
                    text = text[: m.start] + text[m.end:]
            texts.append(" ".join(text.split()))
        return " ".join(texts)[-1000:]

    def _rewrite(self, llm):
        query = None
        if llm is not None:
            try:
                with self.rec.llm_lock:
                    found = llm_tasks.extract_constraints(llm, self.state, self.rec.fields())
                    if found is not None:
                        self._checked("constraints", found)
                        # the LLM adds to what the user's own words set, never replaces it;
                        # an answer that fails its check adds nothing
                        kept = found.value if found.ok else []
                        for c in kept:
                            c.update(kind="filter", source="llm", label=cons.describe(c))
                        self.state.constraints = cons.merge(self.state.constraints, kept)
                    rewritten = llm_tasks.rewrite_query(llm, self.state, self.rec.titles())
                    self._checked("rewrite", rewritten)
                    query = rewritten.value if rewritten.ok else None
            except LLM_FAILURES as e:
                llm = self._llm_failed(e)
        if query and self.caption and self.caption.lower() not in query.lower():
            query = f"{query} {self.caption}"
        return query or self._fallback_query() or self.caption or self._conditions_query(), llm

    def _conditions_query(self) -> str:
        """Search words when the conversation has asked for nothing but conditions ("no
        apples", "I'm vegan"): what was shown last, else the values wanted, else a plain
        request; the conditions filter the rest."""
        titles = self.rec.titles()
        shown = [titles.get(i, "") for i in self.state.shown[:3]]
        wanted = [c["label"].split(": ", 1)[-1] for c in self.state.constraints if cons.kind_of(c) in ("want", "diet")]
        return " ".join(x for x in wanted + shown if x) or "recommendations"

    def _checked(self, task: str, checked) -> None:
        """Count an LLM answer and its check; a failed one falls back for its task alone."""
        self.checks.record(task, checked)
        if not checked.ok:
            self._notice("Some of the language model's answers did not pass their checks; "
                         "those parts come from the search instead.", key="llm-checks")

    def _llm_failed(self, error: Exception):
        # said once per session, like "no LLM": the reason rarely changes between turns
        self._notice(f"The language model failed ({type(error).__name__}: {error}); "
                     "answers use search ranking and simple reasons until it works again.", key="llm-failed")
        return None

    def _retrieve(self, query_text: str, asked_again: set[str]) -> list[Candidate]:
        # items the user talked about in earlier messages are known to them: no slot is
        # spent on them. Those named in this message stay (unless rejected): "I want a
        # mango" / "do you have X?" asks for the item by name
        said = " ".join(t for t in (self.text, self.transcript) if t)
        named_now, known_now = set(), set()
        for m in self.rec.matcher().find_mentions(said) if said else []:
            known = knows_item(said[max(0, m.start - 80):m.start], said[m.end:m.end + 30])
            (known_now if known else named_now).update(m.ids)
        # "I watched X" about an item we recommended is not asking for it again (in place:
        # the ranking step reads the same set)
        asked_again.difference_update(known_now - named_now)
        # asked for by name now: first in the list (unless rejected)
        self.requested = [i for i in dict.fromkeys(named_now) if i not in self.state.rejected]
        # shown items are done when the message asks for others ("anything else?", "more
        # like that"); a new topic ("oat milk instead") leaves out the last list; one that
        # narrows ("no vanilla"), asks about the list ("which of those is organic?") or adds
        # a condition ("btw nothing from China") filters the list: what was shown and
        # still fits may come back
        understood = self.understood
        if getattr(understood, "narrowing", False):
            shown_before = set()
        elif getattr(understood, "wants_new", True):
            shown_before = set(self.state.recommended)
        else:
            shown_before = set(self.state.shown) if getattr(understood, "shifted", False) else set()
        rejected = set(self.state.rejected)
        # named again in a message that rules it out ("cucumber and tomatoes are out"): the
        # tracker's rejection wins (in place: the ranking step reads the same set)
        asked_again.difference_update(rejected)
        exclude = (shown_before | rejected | (set(self.state.mentioned) - named_now)) - asked_again
        seeds = list(dict.fromkeys(self.state.liked + [m for m in self.state.mentioned if m not in rejected]))
        constraints = self.state.constraints
        # exclusions and diets are never relaxed: their items are left out by id, their
        # values by the filter
        exclude |= cons.excluded_items(constraints)
        allowed = cons.allowed_items(constraints)
        if allowed is not None:
            # "only the organic ones": every other item is left out (by id: no field says it)
            exclude |= set(self.rec.titles()) - allowed
        # the dialogues channel may compare the conversation itself with logged ones, both
        # roles as they were said, as the log writes them (settings.dialogue_chat_context)
        context = (context_text([m["content"] for m in self.state.messages])
                   if self.settings.dialogue_chat_context else "")
        query = Query(text=query_text, image=self.photo, where=cons.to_where(constraints), exclude=exclude,
                      liked=seeds, k=self.candidates, context=context)
        found = self.rec.index.search(query)
        again = (shown_before - set(self.state.rejected)) & exclude
        if not found and again:
            # nothing new meets the conditions ("anything else from that brand?" when both
            # of its items were shown): the ones shown that do come back before any
            # condition is given up
            found = self.rec.index.search(replace(query, exclude=exclude - again))
            if found:
                exclude -= again
                self._notice("Nothing I have not shown you yet fits that; these are the ones that do.")
        if not found:
            found = self._relaxed(query, constraints)
        # the index should honour exclude and the filter; this keeps the guarantee even if
        # it does not
        found = [c for c in found if c.id not in exclude and cons.violation(c.id, c.metadata, constraints) is None]
        # named now or again: in the list, first (the ranking step reads the same set), but
        # never past a condition in force
        asked_again.update(i for i in self.requested if i not in exclude)
        missing = [i for i in asked_again if i not in {c.id for c in found}]
        if missing:
            from retrieval.filters import where_matches

            got = self.rec.index.get(missing)
            where = query.where
            missing = [i for i in missing if i in got and where_matches(where, got[i].metadata or {})
                       and cons.violation(i, got[i].metadata, constraints) is None]
            asked_again.intersection_update(set(missing) | {c.id for c in found})
            found = [got[i] for i in missing] + found
        seen: set[str] = set()
        unique = []
        for c in found:
            if c.id not in seen:
                seen.add(c.id)
                unique.append(c)
        return unique[: max(self.candidates, len(missing))]

    def _relaxed(self, query: Query, constraints: list[dict[str, Any]]) -> list[Candidate]:
        """Nothing meets every condition: the closest matches without the filters and
        wanted values that conflict (one at a time first, so the notice names the one at
        fault), never without an exclusion or a diet."""
        soft = [c for c in constraints if cons.kind_of(c) in ("filter", "want")]
        hard = [c for c in constraints if cons.kind_of(c) in cons.HARD]
        for c in soft if len(soft) > 1 else []:
            query.where = cons.to_where([x for x in constraints if x is not c])
            found = self.rec.index.search(query)
            if found:
                others = [cons.describe(x) for x in constraints if x is not c and cons.kind_of(x) != "prefer"]
                with_others = f" together with {'; '.join(others)}" if others else ""
                self._notice(f"No item meets {cons.describe(c)}{with_others}, so these are the closest "
                             f"matches without {cons.describe(c)}.")
                return found
        if soft:
            query.where = cons.to_where(hard)
            found = self.rec.index.search(query)
            if found:
                self._notice("No item meets all your conditions (" + "; ".join(cons.describe(c) for c in soft)
                             + "), so these are the closest matches without them.")
                return found
        if hard:
            self._notice("Nothing in the catalog is left once I rule out " + "; ".join(cons.describe(c) for c in hard)
                         + ". Remove one of these conditions to see more.")
        return []

    def _rank(self, llm, candidates: list[Candidate]):
        if llm is not None:
            try:
                with self.rec.llm_lock:
                    ranked = llm_tasks.rank(llm, self.state, self.rec.titles(), candidates,
                                            mix=self.rec.llm_rank_mix(), rrf_k=self.settings.rrf_k)
                self.checks.record("rank")
                return self._preferred(ranked), llm
            except LLM_FAILURES as e:
                self.checks.record("rank", problem=f"{type(e).__name__}: {e}")
                llm = self._llm_failed(e)
        ordered = sorted(enumerate(candidates), key=lambda t: (-t[1].score, t[0]))
        return self._preferred([(c, c.score) for _, c in ordered]), llm

    def _preferred(self, ranked: list[tuple[Candidate, float]]) -> list[tuple[Candidate, float]]:
        """Items the user prefers ("without pulp": those saying so) move ``top_k`` places
        up: ahead of near neighbours, not of far better matches of the request."""
        preferred = cons.preferred_items(self.state.constraints)
        if not preferred:
            return ranked
        jump = self.top_k + 0.5
        order = sorted(range(len(ranked)), key=lambda i: i - jump * (ranked[i][0].id in preferred))
        return [ranked[i] for i in order]

    def _explain(self, llm, rec: Recommendation, cand: Candidate, query_text: str):
        """Stream one reason as reason-token events; returns the LLM still usable afterwards
        (None once it failed). Time spent by the consumer between tokens is not counted."""
        if llm is not None:
            text = ""
            t0 = time.perf_counter()
            try:
                with self.rec.llm_lock:
                    for piece in llm_tasks.explain_stream(llm, self.state, cand, self.settings.llm_max_new_tokens):
                        # one line per item in the reply: a reason cannot add lines of its own
                        # (an injected "2. <something else>" would read as a recommendation)
                        piece = _ONE_LINE.sub(" ", piece)[: MAX_REASON_CHARS - len(text)]
                        if not piece:
                            break
                        text += piece
                        self.timings["explain"] += time.perf_counter() - t0
                        yield Event("reason-token", {"id": rec.id, "token": piece})
                        t0 = time.perf_counter()
                checked = check_reason(text, llm_tasks.reason_facts(cand), self.state.user_texts(3))
                self._checked("reason", checked)
                if checked.ok:
                    rec.reason = checked.value
                elif text:  # the tokens shown are void: the evidence's reason replaces them
                    yield Event("status", {"stage": "explain", "message": f"checking the reason for {rec.title}",
                                           "reset": rec.id})
            except LLM_FAILURES as e:
                llm = self._llm_failed(e)
                if text:
                    # tokens already sent are void: tell the consumer to start this reason again
                    yield Event("status", {"stage": "explain", "message": f"rewriting the reason for {rec.title}",
                                           "reset": rec.id})
            self.timings["explain"] += time.perf_counter() - t0
        if not rec.reason:
            t0 = time.perf_counter()
            rec.reason = reason_from_evidence(cand, query_text, self.state.constraints, self.rec.titles())
            self.timings["explain"] += time.perf_counter() - t0
            yield Event("reason-token", {"id": rec.id, "token": rec.reason})
        return llm

    def _finish(self, recs: list[Recommendation], query: str, used_llm: bool, text: str | None = None):
        self.state.mark_recommended(r.id for r in recs)
        self.state.shown = [r.id for r in recs]
        understood = self._understood()
        if text is None:
            lines = [f"{i}. {r.title} \u2014 {r.reason}" for i, r in enumerate(recs, 1)]
            text = "Here is what I would suggest:\n" + "\n".join(lines)
        if understood:
            text = f"Understood: {understood}. {text}"
        self.state.messages.append({"role": "assistant", "content": text})
        reply = Reply(text=text, items=recs, mode="llm" if used_llm else "retrieval",
                      timings={k: round(v, 4) for k, v in self.timings.items()}, notices=list(self.notices),
                      query=query, transcript=self.transcript, caption=self.caption,
                      video=self.video.shown() if self.video is not None else {},
                      constraints=constraint_view(self.state, self.rec.titles()),
                      llm_checks=self.checks.to_dict())
        yield Event("done", reply)


    def _understood(self) -> str:
        """What this message changed, in a few words: "no apples; vegan"."""
        u = getattr(self, "understood", None)
        if u is None:
            return ""
        # the user's own words, shortened: one line, whatever they wrote
        notes = [n[:60] for n in dict.fromkeys(u.notes)]
        if u.unresolved:
            notes.append("nothing in the catalog is called "
                         + ", ".join(f"\u201c{p[:40]}\u201d" for p in u.unresolved[:3]))
        return "; ".join(notes)[:180]


def constraint_view(state: SessionState, titles: dict[str, str]) -> list[dict[str, Any]]:
    """The conditions in force as the user sees them: each with its ``id``, ``kind`` and
    ``label``; the rejected items last, as kind "item"."""
    out = []
    for c in state.constraints:
        view = {k: v for k, v in c.items() if k not in ("items", "where", "values")}
        view.update(id=cons.constraint_id(c), kind=cons.kind_of(c), label=cons.describe(c))
        out.append(view)
    for item in state.rejected:
        out.append({"id": f"item:{item}", "kind": "item", "item": item,
                    "label": f"not: {titles.get(item, item)}", "source": "user"})
    return out


__all__ = ["Chat", "ChatrecError", "constraint_view"]

"""The assistant's entry point: one :class:`Recommender` per catalog (index, models, LLM),
shared by any number of :class:`~assistant.chat.Chat` sessions.

The index and models are shared; the LLM is guarded by :attr:`Recommender.llm_lock`
because a model (or a single server connection) answers one prompt at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any

from retrieval.errors import ChatrecError, IndexMissing, ModelUnavailable
from retrieval.models import ModelHub
from retrieval.settings import DEMO_CATALOG, Settings
from retrieval.text import words as text_words

from .catalog_terms import CatalogTerms
from .diets import diet_table
from .llm.base import LLM
from .mentions import TitleMatcher
from .rank_mix import load_mix
from .tracker import Tracker

Notify = Callable[..., None]
NO_LLM_NOTICE = "Answering without a language model; see Models to add one."
# the ways to add one, for the Models panel
LLM_CHOICES = ("other choices: llm_model = a GGUF chat model file (CHATREC_LLM_MODEL=smollm2-135m "
               "runs the small SmolLM2 bundled offline: real, but too weak to trust), or "
               "llm_base_url = an OpenAI-compatible server (llama.cpp, Ollama, vLLM)")
# share of samples at full scale above which a recording counts as clipped: speech peaks
# touch full scale now and then, a recording that is too loud sits there for whole vowels
CLIPPED_SHARE = 0.01
CLIP_LEVEL = 0.99
# a word this many items use in their own texts is a word before it is a one-word title
COMMON_WORD_ITEMS = 5


def clipped_share(samples) -> float:
    """The share of samples at (or within 1 % of) full scale."""
    import numpy as np  # only for voice messages: kept off the import of the package

    x = np.abs(np.asarray(samples, dtype=np.float32))
    return float(np.mean(x >= CLIP_LEVEL)) if x.size else 0.0


class Recommender:
    """Ranks a catalog's items for chats. Build it with :meth:`from_settings`."""

    def __init__(self, settings, index, llm: LLM | None = None, hub=None,
                 llm_factory: Callable[[], LLM] | None = None, llm_off_reason: str = ""):
        self.settings = settings
        self.index = index
        self.hub = hub
        # a plain Lock: explanations stream while holding it, and a streaming consumer such
        # as Gradio may resume the generator on another thread (an RLock would then fail)
        self.llm_lock = threading.Lock()
        self._llm = llm
        self._llm_factory = None if llm is not None else llm_factory
        self._llm_error: str = "" if (llm is not None or llm_factory) else (llm_off_reason or "no LLM configured")
        self._llm_hint = ""
        self._cache_lock = threading.Lock()
        self._mixes: dict[str, float] = {}
        self._titles: dict[str, str] | None = None
        self._matcher: TitleMatcher | None = None
        self._fields: dict[str, Any] | None = None
        self._popularity: dict[str, int] | None = None
        self._terms: CatalogTerms | None = None
        self._terms_lock = threading.Lock()
        # raises SettingsError naming the diet at fault, before the first message
        self.diets = diet_table(getattr(settings, "diets", None))

    @classmethod
    def from_settings(cls, settings=None, index=None, llm: LLM | None = None, hub=None) -> Recommender:
        """A recommender for ``settings`` (default: :meth:`Settings.load`). ``index``,
        ``llm`` and ``hub`` replace the ones the settings describe (tests, custom setups).

        The LLM is chosen as: ``llm`` if given; none when ``enable_llm`` is false; the
        OpenAI-compatible server when ``llm_base_url`` is set; else the local
        ``llm_model`` (loaded on first use; :meth:`load_llm` loads it now)."""
        settings = settings or Settings.load()
        if hub is None:
            hub = ModelHub(settings)
        if index is None:
            from retrieval.index import CatalogIndex  # ChromaDB's client: on first use

            index = CatalogIndex.open(settings, hub=hub)
        factory, off = None, ""
        if llm is None:
            if not settings.enable_llm:
                off = "the LLM is switched off (enable_llm = false)"
            elif settings.llm_base_url:
                def factory():
                    from .llm.openai_compat import OpenAICompatLLM
                    return OpenAICompatLLM.from_settings(settings)
            elif settings.llm_model:
                def factory():
                    from .llm.local import TransformersLLM
                    return TransformersLLM.from_settings(settings)
            else:
                off = "no LLM is configured (llm_model is empty and llm_base_url is not set)"
        return cls(settings, index, llm=llm, hub=hub, llm_factory=factory, llm_off_reason=off)

    @classmethod
    def open(cls, settings=None, catalog=None, *, hub=None, llm: LLM | None = None,
             prune: bool | None = None, progress: bool = True, media_root=None,
             ingest: Callable[..., Any] | None = None) -> tuple[Recommender, Any]:
        """A recommender over the index of ``settings``, ingesting a catalog first when needed.

        With ``catalog``, that file is ingested (unchanged rows are skipped, so a second
        start is quick; ``prune``, true by default here, drops items no longer in it).
        Without, the index is opened, and when none exists yet the demo catalog is ingested
        into it first. ``media_root``: the catalog's media must lie inside that folder
        (uploaded catalogs). ``ingest(settings, catalog, hub=, prune=, progress=,
        media_root=)`` replaces :func:`retrieval.ingest.ingest` (tests). Returns the
        recommender and the ``IngestReport`` (None when nothing was ingested)."""
        from retrieval.index import CatalogIndex

        settings = settings or Settings.load()
        if hub is None:
            hub = ModelHub(settings)
        if prune is None:
            prune = catalog is not None
        index = report = None
        if catalog is None:
            try:
                index = CatalogIndex.open(settings, hub=hub)
            except IndexMissing:
                catalog = DEMO_CATALOG
        if index is None:
            if ingest is None:
                from retrieval.ingest import ingest
            report = ingest(settings, catalog, hub=hub, prune=prune, progress=progress,
                            media_root=media_root)
            index = CatalogIndex.open(settings, hub=hub)
        return cls.from_settings(settings, index=index, llm=llm, hub=hub), report

    def chat(self, state=None):
        """A new conversation (or one resumed from ``state``)."""
        from .chat import Chat  # the turn's machinery (numpy, the LLM tasks): on first use

        return Chat.from_state(self, state) if state is not None else Chat(self)

    # ---- the LLM --------------------------------------------------------------------------
    def load_llm(self) -> LLM | None:
        """Load the configured LLM now (else on the first message); None when unavailable."""
        with self.llm_lock:
            if self._llm is None and self._llm_factory is not None:
                factory, self._llm_factory = self._llm_factory, None
                try:
                    self._llm = factory()
                except ModelUnavailable as e:
                    self._llm_error, self._llm_hint = e.reason, e.hint
                except (ChatrecError, ImportError, OSError) as e:
                    self._llm_error = str(e)
            return self._llm

    def active_llm(self, notify: Notify | None = None) -> LLM | None:
        """The LLM, or None with a once-per-session notice saying why."""
        llm = self.load_llm()
        if llm is None and notify is not None:
            # one friendly line in the chat; the reason and the fix are in the Models panel
            # (status())
            notify(NO_LLM_NOTICE, key="no-llm")
        return llm

    def llm_rank_mix(self) -> float:
        """The weight of the retrieval order in the LLM's ranking: the one ``python -m eval
        fit`` learned for the active LLM (``llm_mix.json`` beside the index), else the
        setting ``llm_rank_mix``."""
        model_id = getattr(self._llm, "model_id", "") if self._llm is not None else ""
        with self._cache_lock:
            if model_id not in self._mixes:
                fitted = load_mix(self.settings.index_dir, model_id) if model_id else None
                self._mixes[model_id] = self.settings.llm_rank_mix if fitted is None else fitted
            return self._mixes[model_id]

    # ---- media ------------------------------------------------------------------------------
    def transcribe(self, samples, notify: Notify) -> str:
        """The voice message's transcript, or "" with a notice when no speech model is
        available (the reason is in the Models panel). Clipped audio is transcribed with a
        notice that words may be misheard."""
        if not self.settings.enable_transcripts or self.hub is None:
            notify("Voice messages are switched off (enable_transcripts = false); please type instead.",
                   key="no-whisper")
            return ""
        try:
            text = (self.hub.transcriber().transcribe(samples) or "").strip()
        except ModelUnavailable:
            notify("I cannot listen to voice messages right now (see Models); please type instead.",
                   key="no-whisper")
            return ""
        if text and clipped_share(samples) > CLIPPED_SHARE:
            notify(f"Your voice message was recorded too loud (clipped), so I may have misheard it: "
                   f"\u201c{text[:120]}\u201d.")
        return text

    def caption(self, image, notify: Notify) -> str:
        """A caption of the photo, or "" with a notice when the captioner is unavailable
        (the photo still searches through CLIP)."""
        if not self.settings.enable_captions or self.hub is None:
            return ""
        try:
            return (self.hub.captioner().caption([image])[0] or "").strip()
        except ModelUnavailable as e:
            notify(f"I cannot describe photos in words ({e}); searching by the picture alone.",
                   key="no-caption")
            return ""

    # ---- catalog facts, computed once -------------------------------------------------------
    def titles(self) -> dict[str, str]:
        with self._cache_lock:
            if self._titles is None:
                self._titles = dict(self.index.titles())
            return self._titles

    def matcher(self) -> TitleMatcher:
        titles = self.titles()
        with self._cache_lock:
            if self._matcher is not None:
                return self._matcher
        common = self._kind_words()
        words = frozenset(self.terms().word_counts())
        with self._cache_lock:
            if self._matcher is None:
                self._matcher = TitleMatcher(titles, documents=self._documents_for_matching(titles),
                                             common=common, words=words, frequent=self._frequent_words())
            return self._matcher

    def _kind_words(self) -> frozenset[str]:
        """Words that are not a title on their own in this catalog: one-word kinds several
        items share ("a comedy" asks for the genre, not "The Comedy"; a kind of one item may
        be its title: "Kiwi") and the surnames of people with several items ("Hitchcock")."""
        terms = self.terms()
        words = set()
        for f, counts in terms.value_counts.items():
            for value, n in counts.items():
                toks = text_words(value, join_apostrophes=True)
                if f in terms.few and n >= 2 and len(toks) == 1:
                    words.add(toks[0])
                elif f not in terms.few and n >= 3 and len(toks) > 1:
                    words.add(toks[-1])
        return frozenset(words)

    def _frequent_words(self) -> frozenset[str]:
        """Words the items' own texts use often ("no aliens", "with my kids"): a one-word
        title among them is matched only when written as a name (small catalogs: the
        matcher's own document test decides)."""
        terms = self.terms()
        if len(terms.ids) <= 2000:
            return frozenset()
        return frozenset(w for w, n in terms.word_counts().items() if n >= COMMON_WORD_ITEMS)

    def _documents_for_matching(self, titles: dict[str, str]) -> dict[str, str] | None:
        # single-word title matches are only tried in small catalogs; there the documents
        # tell which words are really distinctive of one item
        if len(titles) > 2000 or not hasattr(self.index, "get"):
            return None
        return {i: c.document or c.title for i, c in self.index.get(list(titles)).items()}

    def terms(self) -> CatalogTerms:
        """The catalog's values and item texts for the state tracker, built on first use
        (a read of every item: ~1 s for 7,000 movies)."""
        with self._terms_lock:
            if self._terms is None:
                titles = self.titles()
                items = self.index.get(list(titles)) if titles else {}
                records = {i: (c.title, dict(c.metadata or {}), c.document or c.title) for i, c in items.items()}
                encoder = None
                if hasattr(self.index, "text_encoder"):
                    try:
                        encoder = self.index.text_encoder()
                    except (ChatrecError, ImportError, OSError):
                        encoder = None
                self._terms = CatalogTerms(records, encoder=encoder)
            return self._terms

    def prepare(self) -> None:
        """Build now what the first message would otherwise wait for: the index's search
        structures, the title matcher and the state tracker's view of the catalog (the
        app runs this on a background thread at start-up)."""
        if hasattr(self.index, "prepare"):
            self.index.prepare()
        self.matcher()
        terms = self.terms()
        terms.similarities("")
        terms.vocabulary()

    def tracker(self) -> Tracker:
        """The dialogue-state tracker over this catalog."""
        matcher = self.matcher()

        def is_title(phrase: str) -> list[str]:
            found = matcher.find_mentions(phrase)
            whole = len(found) == 1 and found[0].start == 0 and found[0].end >= len(phrase.rstrip(" .!?"))
            return list(found[0].ids) if whole else []

        def title_spans(text: str) -> list[tuple[int, int]]:
            return [(m.start, m.end) for m in matcher.find_mentions(text)]

        return Tracker(self.terms, self.diets, is_title=is_title, title_spans=title_spans)

    def popularity(self) -> dict[str, int]:
        """Item id -> its rank in the collaborative model's log (0: the most interacted);
        empty without a model. Tells which of several items sharing a title people mean."""
        with self._cache_lock:
            if self._popularity is None:
                model = self.index.collab_model()
                ranked = model.popular(len(model.pop_ids)) if model is not None else []
                self._popularity = {i: rank for rank, (i, _) in enumerate(ranked)}
            return self._popularity

    def fields(self) -> dict[str, Any]:
        with self._cache_lock:
            if self._fields is None:
                self._fields = dict(self.index.fields())
            return self._fields

    def refresh(self) -> None:
        """Forget cached titles and fields (after the catalog was re-ingested)."""
        with self._cache_lock:
            self._titles = self._matcher = self._fields = self._popularity = None
            self._mixes = {}
        with self._terms_lock:
            self._terms = None

    # ---- status -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Which models are active or missing, and the mode chats will run in."""
        if self._llm is not None:
            llm = {"role": "llm", "model_id": getattr(self._llm, "model_id", ""), "state": "loaded",
                   "reason": ""}
        elif self._llm_factory is not None:
            model = self.settings.llm_base_url or self.settings.llm_model
            llm = {"role": "llm", "model_id": model, "state": "available", "reason": "loads on first use"}
        else:
            off = not self.settings.enable_llm or not (self.settings.llm_model or self.settings.llm_base_url)
            llm = {"role": "llm", "model_id": self.settings.llm_base_url or self.settings.llm_model,
                   "state": "disabled" if off else "missing", "reason": self._llm_error}
        if llm["state"] in ("missing", "disabled"):
            llm["hint"] = "; ".join(h for h in (self._llm_hint, LLM_CHOICES) if h)
        else:
            llm["hint"] = ""
        models = []
        if self.hub is not None and hasattr(self.hub, "status"):
            for s in self.hub.status():
                models.append(asdict(s) if is_dataclass(s) else dict(s))
        try:
            items = self.index.count()
        except Exception as e:  # status must answer even when the index is broken
            items = f"unknown ({e})"
        mode = "retrieval" if llm["state"] in ("disabled", "missing") else "llm"
        return {"mode": mode, "llm": llm, "models": models + [llm], "items": items}

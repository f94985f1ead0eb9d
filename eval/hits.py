"""The channel hits of an evaluation: every turn's query searched once, every channel,
with the models a fair evaluation allows, and kept on disk.

Where the collaborative model comes from decides whether the figures are honest, so it is
explicit (``collab``):

- ``cv`` (default for ReDial): conversations are split into K folds; the turns of each fold
  are searched with a model fitted on the dialogues of the *other* folds (the dataset file's
  conversations as an interaction log). Any ``interactions`` logs (e.g. MovieLens) make a
  separate model, the ``collab_log`` channel (likes only: ratings >= ``LIKE_RATING``), not
  mixed into the folds' log (a large outside log drowns the in-domain co-occurrences).
- ``log``: one model fitted on the ``interactions`` logs alone.
- ``index``: the model saved with the index (only fair if its log excludes this split).
- ``none``: no collaborative or popularity channel.

The ``dialogues`` channel follows the same rule: in ``cv`` mode the turns of fold f vote
with a log of the dataset's recommending turns without fold f's conversations (the
contexts are encoded once; leaving rows out is the same as building the log again); in
``index`` mode the log saved with the index; otherwise none.

With ``train`` (``python -m eval run TEST --train DEV``) the models of every turn are
fitted on DEV's conversations only.

:func:`gather` is shared by ``run`` (``eval/runner.py``), ``fit`` and the LLM's fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from retrieval.channels import names as channel_names
from retrieval.collab import LIKE_RATING, CollabModel, read_interactions
from retrieval.dialogues import voting

from .datasets import Turn, detect_format, load_turns, redial_dialogues
from .fit import folds_by_dialogue
from .systems import TurnHits, collect_hits

# bump when a channel's computation changes, so cached hits are recomputed
HITS_VERSION = 5
COLLAB_MODES = ("auto", "cv", "log", "index", "none")


def training_log(dataset: Path, fmt: str, interactions: Iterable[str | Path]) -> list[tuple]:
    """Rows ``(user, item, rating)`` of the extra interaction logs (CSV files)."""
    rows: list[tuple] = []
    for path in interactions:
        rows.extend(read_interactions(path))
    return rows


class CollabFolds:
    """The collaborative model of each fold (see module doc), fitted lazily and kept.

    Mode ``train``: one model of the ``train`` dataset's conversations for every turn."""

    def __init__(self, mode: str, dataset: Path, fmt: str, interactions: list, item_ids: set[str],
                 k: int, seed: int, index=None, train: Path | None = None):
        self.mode, self.k, self.dataset = mode, k, dataset
        self.extra = training_log(dataset, fmt, interactions)
        self.item_ids = item_ids
        self.models: dict[int, CollabModel | None] = {}
        self.train = train
        self.dialogues = (redial_dialogues(dataset) if mode == "cv"
                          else conversation_baskets(train) if mode == "train" else [])
        self.folds = (folds_by_dialogue([_Stub(d) for d, _ in self.dialogues], k, seed)
                      if self.dialogues and mode == "cv" else {})
        self.index = index
        self._log: CollabModel | None | bool = False
        # the dialogues channel's logs of the same run (set by gather)
        self.dialogue_folds: DialogueFolds | None = None
        if mode == "log" and not self.extra:
            raise ValueError("collab mode 'log' needs at least one --interactions CSV")

    def fold_of(self, turn: Turn) -> int:
        return self.folds.get(turn.dialogue, 0)

    def model(self, fold: int):
        if fold not in self.models:
            if self.mode == "none":
                self.models[fold] = None
            elif self.mode == "index":
                self.models[fold] = CollabModel.load(self.index.settings.index_dir)
            elif self.mode == "log":
                self.models[fold] = self.models.get(-1) or CollabModel.fit(self.extra, self.item_ids)
            else:
                rows = [(f"dialogue:{d}", i, None) for d, ids in self.dialogues
                        if self.folds.get(d, -1) != fold for i in ids]
                self.models[fold] = CollabModel.fit(rows, self.item_ids)
        return self.models[fold]

    def log_model(self):
        """The ``collab_log`` model: the ``interactions`` logs' likes, in ``cv`` and
        ``train`` modes (in ``log`` mode they are the main model); False (keep the index's
        own) otherwise."""
        if self.mode not in ("cv", "train") or not self.extra:
            return False if self.mode == "index" else None
        if self._log is False:
            self._log = CollabModel.fit(self.extra, self.item_ids, min_rating=LIKE_RATING)
        return self._log

    def full_model(self):
        """The collaborative model of every conversation of the dataset (``cv``), of the
        training conversations (``train``) or of the logs (``log``): the model the ``collab``
        weight fitted on these turns stands for, which ``python -m eval fit`` saves beside
        the index so that search uses it. None in ``index`` and ``none`` modes (the index
        keeps its own)."""
        if self.mode not in ("cv", "log", "train"):
            return None
        # no conversation is in fold -1: nothing left out
        model = self.model(0 if self.mode == "train" else -1)
        if model is not None:
            model.meta["source"] = (f"--interactions logs ({len(self.extra)} rows)" if self.mode == "log"
                                    else f"the {len(self.dialogues)} conversations of "
                                    f"{self.train if self.mode == 'train' else self.dataset}")
        return model

    def for_turn(self, turn: Turn):
        return self.model(self.fold_of(turn) if self.mode == "cv" else 0)

    def describe(self) -> str:
        log = (f"; collab_log channel: {len(self.extra)} rows of --interactions logs "
               f"(ratings >= {LIKE_RATING:g})" if self.extra else "")
        return {
            "cv": f"collaborative model and popularity per fold ({self.k} folds over conversations), "
                  f"fitted on the other folds' dialogues; never on the scored turns" + log,
            "train": f"collaborative model and popularity fitted on the {len(self.dialogues)} "
                     f"conversations of {self.train} only" + log,
            "log": f"collaborative model and popularity fitted on the --interactions logs only ({len(self.extra)} rows)",
            "index": "collaborative model saved with the index (its log must not contain this split)",
            "none": "no collaborative or popularity channel",
        }[self.mode]


class DialogueFolds:
    """The ``dialogues`` channel's log for each turn (see module doc): ``cv``: the
    dataset's recommending turns without the scored fold's conversations; ``train``: the
    training dataset's turns (without any conversation also in the scored dataset);
    ``index``: the log saved with the index; otherwise no such channel.

    The full log is built on the first call, with the index's text encoder then in use
    (during :func:`collect_hits`, the one holding the query vectors computed ahead)."""

    def __init__(self, mode: str, index, source: Path | None, folds: dict[str, int] | None = None,
                 exclude: set[str] | None = None):
        self.mode, self.index, self.source = mode, index, source
        self.folds = folds or {}
        self.exclude = set(exclude or ())
        self.full = None
        self.logs: dict[int, object] = {}

    @property
    def active(self) -> bool:
        return self.mode in ("cv", "train") and self.source is not None

    def build(self):
        """The log of every recommending turn of ``source`` (built once)."""
        if self.full is None:
            from retrieval.dialogues import DialogueIndex, read_conversations

            turns = read_conversations(self.source, self.index.titles())
            self.full = DialogueIndex.build(turns, self.index.text_encoder(), source=str(self.source))
        return self.full

    def for_turn(self, turn: Turn):
        if not self.active:
            return None
        fold = self.folds.get(turn.dialogue, 0) if self.mode == "cv" else 0
        if fold not in self.logs:
            full = self.build()
            if self.mode == "cv":
                self.logs[fold] = full.without(d for d, f in self.folds.items() if f == fold)
            else:
                self.logs[fold] = full.without(self.exclude)
        log = self.logs[fold]
        if turn.dialogue in log.conversations:
            # the guarantee the figures rest on: a turn never votes with its own conversation
            raise RuntimeError(f"the dialogues log of turn {turn.id} holds its own conversation")
        return log

    def describe(self) -> str:
        if self.mode == "cv":
            return ("dialogues channel per fold: the dataset's recommending turns without the scored "
                    "fold's conversations")
        if self.mode == "train":
            return f"dialogues channel: the recommending turns of {self.source} only"
        if self.mode == "index":
            return "dialogues channel: the log saved with the index (it must not contain this split)"
        return "no dialogues channel"


def conversation_baskets(path: Path) -> list[tuple[str, list[str]]]:
    """``(conversation, items in order)`` of a conversation dataset: ReDial dialogues (every
    movie mentioned) or a JSONL of turns (each conversation's mentioned items and targets),
    the interaction log of the collaborative model fitted on it."""
    path = Path(path)
    if detect_format(path) == "redial":
        return redial_dialogues(path)
    baskets: dict[str, list[str]] = {}
    for turn in load_turns(path):
        items = baskets.setdefault(turn.dialogue, [])
        items.extend(i for i in turn.mentioned + turn.targets if i not in items)
    return list(baskets.items())


class _Stub:
    def __init__(self, dialogue: str):
        self.dialogue = dialogue


def resolve_collab_mode(mode: str, fmt: str, interactions: list) -> str:
    if mode not in COLLAB_MODES:
        raise ValueError(f"unknown collab mode {mode!r}; known: {', '.join(COLLAB_MODES)}")
    if mode != "auto":
        return mode
    if fmt == "redial":
        return "cv"
    return "log" if interactions else "index"


def gather(index, dataset: str | Path, *, fmt: str = "auto", limit: int | None = None, seed: int = 0,
           folds: int = 5, collab: str = "auto", interactions: list | None = None,
           exclude_mentioned: bool = True, progress: bool = True, cache: bool = True,
           train: str | Path | None = None, encoder=None):
    """Load the turns and run every channel once per turn. Returns
    ``(turns, hits, collab_folds, dataset_info)``; shared by ``run`` and ``fit``.
    ``train``: the models of every turn are fitted on that dataset's conversations
    (collab mode ``train``, see the module doc) instead of cross-validated.
    ``encoder``: ``retrieval.train_encoder.TrainOptions``: the text encoder is fine-tuned
    like the other models (per fold on the other folds' conversations, or on ``train``),
    and the dense, similar and dialogues channels of those turns search with it.

    With ``cache``, the hits are kept in ``settings.cache_dir/eval`` under a key made of
    everything they depend on (dataset file and size, sampling, folds, collab sources, the
    index's item count and manifest), so ``fit`` after ``run`` (or a second ``run`` with other
    systems) does not search again."""
    dataset = Path(dataset)
    fmt = detect_format(dataset) if fmt == "auto" else fmt
    interactions = list(interactions or [])
    titles = index.titles()
    turns = load_turns(dataset, fmt, limit=limit, seed=seed, titles=titles)
    train = Path(train) if train is not None else None
    if train is not None and not train.is_file():
        raise ValueError(f"training dataset {train} does not exist")
    mode = "train" if train is not None else resolve_collab_mode(collab, fmt, interactions)
    if mode == "cv" and fmt != "redial":
        raise ValueError("collab mode 'cv' needs ReDial dialogues (the dataset is the interaction log)")
    cf = CollabFolds(mode, dataset, fmt, interactions, set(titles), folds, seed, index, train=train)
    df = dialogue_folds(mode, index, dataset, train, cf.folds, {t.dialogue for t in turns})
    if mode == "cv":
        turns.sort(key=lambda t: cf.fold_of(t))  # one model swap per fold
    if encoder is not None and mode not in ("cv", "train"):
        raise ValueError("a fine-tuned encoder is evaluated in collab modes cv or train only")
    key = _cache_key(index, dataset, fmt, limit, seed, folds, mode, interactions, exclude_mentioned, train,
                     asdict(encoder) if encoder is not None else None)
    cache_file = Path(index.settings.cache_dir) / "eval" / f"hits-{key}.json.gz" if cache else None
    hits = _read_cache(cache_file, turns)
    encoder_info = _read_cache_info(cache_file)
    if hits is None and encoder is not None:
        hits, encoder_info = _tuned_hits(index, turns, cf, mode, dataset, train, encoder,
                                         exclude_mentioned, progress)
        _write_cache(cache_file, turns, hits, encoder_info)
    elif hits is None:
        hits = collect_hits(index, turns, exclude_mentioned=exclude_mentioned,
                            collab_for=cf.for_turn, log_model=cf.log_model(),
                            dialogues_for=df.for_turn if mode != "index" else None, progress=progress)
        _write_cache(cache_file, turns, hits)
    cf.dialogue_folds = df
    catalog = set(titles)
    info = {
        "name": dataset.stem, "path": str(dataset), "format": fmt, "limit": limit, "seed": seed,
        "turns": len(turns), "dialogues": len({t.dialogue for t in turns}),
        "targets": sum(len(t.targets) for t in turns),
        "new_targets": sum(len(t.new_targets) for t in turns),
        "targets_outside_catalog": sum(tg not in catalog for t in turns for tg in t.targets),
    }
    if encoder is not None:
        info["encoder"] = encoder_info
    return turns, hits, cf, info


def _tuned_hits(index, turns: list[Turn], cf: CollabFolds, mode: str, dataset: Path, train: Path | None,
                options, exclude_mentioned: bool, progress: bool) -> tuple[list[TurnHits], dict]:
    """The channel hits of ``turns`` with the text encoder fine-tuned like every other
    model: in ``cv`` mode once per fold, on the other folds' conversations (each fold's
    document vectors and dialogues log encoded by its own encoder); in ``train`` mode once,
    on the training dataset. Returns the hits and, per fold, the pairs and losses."""
    from retrieval.dialogues import read_conversations
    from retrieval.train_encoder import tune_on_index

    source = dataset if mode == "cv" else train
    logged = read_conversations(source, index.titles())
    scored = {t.dialogue for t in turns}
    groups: dict[int, list[Turn]] = {}
    for turn in turns:  # turns are sorted by fold: groups keep their order
        groups.setdefault(cf.fold_of(turn) if mode == "cv" else 0, []).append(turn)
    hits: list[TurnHits] = []
    info: dict = {"options": asdict(options), "folds": {}}
    try:
        for fold, group in groups.items():
            if mode == "cv":
                training = [t for t in logged if cf.folds.get(t.conversation) != fold]
            else:
                training = [t for t in logged if t.conversation not in scored]
            index.use_text_encoder(None)
            tuned, losses, pairs = tune_on_index(index, training, options, progress, model_id=f"fine-tuned:fold{fold}")
            index.use_text_encoder(tuned, _encode_documents(index, tuned, progress, f"fold {fold} documents"))
            # a fresh log for this fold, encoded by its encoder
            df = dialogue_folds(mode, index, dataset, train, cf.folds, scored)
            hits += collect_hits(index, group, exclude_mentioned=exclude_mentioned, collab_for=cf.for_turn,
                                 log_model=cf.log_model(), dialogues_for=df.for_turn, progress=progress,
                                 desc=f"search (fold {fold} encoder)")
            info["folds"][str(fold)] = {"turns": len(training), "pairs": pairs,
                                        "losses": [round(x, 4) for x in losses]}
    finally:
        index.use_text_encoder(None)
    return hits, info


def dialogue_folds(mode: str, index, dataset: Path, train: Path | None, folds: dict[str, int],
                   scored: set[str]) -> DialogueFolds:
    """The dialogues channel's logs for a run in collab ``mode`` (see :class:`DialogueFolds`)."""
    if mode == "cv":
        return DialogueFolds("cv", index, dataset, folds)
    if mode == "train":
        return DialogueFolds("train", index, train, exclude=scored)
    return DialogueFolds("index" if mode == "index" else "none", index, None)


def _cache_key(index, dataset: Path, *parts) -> str:
    import hashlib
    import json as _json

    from retrieval.ingest import read_manifest

    stat = dataset.stat()
    inter = [(str(p), Path(p).stat().st_size) for p in parts[5]]
    train = parts[7]
    encoder = parts[8] if len(parts) > 8 else None
    trained_on = [str(train.resolve()), train.stat().st_size, train.stat().st_mtime_ns] if train else None
    # in index mode the channels read the models saved beside the index, which python -m
    # eval fit rewrites without touching the manifest
    saved = ([[p.name, p.stat().st_size, p.stat().st_mtime_ns]
              for p in sorted(Path(index.settings.index_dir).glob("collab*.npz"))]
             if parts[4] == "index" else None)
    blob = _json.dumps([str(dataset.resolve()), stat.st_size, stat.st_mtime_ns, parts[:5], inter, parts[6],
                        trained_on, voting(index.settings),
                        str(index.settings.index_dir), index.count(), read_manifest(index.settings),
                        index.settings.channel_depth, index.settings.text_model,
                        # channels (and how they are computed) change the hits: a new
                        # version never reads an old file
                        channel_names(), HITS_VERSION] + ([saved] if saved else []) + ([{"fine-tuned encoder": encoder}] if encoder else []),
                       default=str, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _read_cache(path: Path | None, turns: list[Turn]) -> list[TurnHits] | None:
    import gzip
    import json as _json

    if path is None or not path.is_file():
        return None
    try:
        data = _json.loads(gzip.decompress(path.read_bytes()))
        if data["turns"] != [t.id for t in turns]:
            return None
        return [TurnHits(h["channels"], h["seconds"], h.get("error"), h.get("encode", 0.0))
                for h in data["hits"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged cache is only a slower run


def _encode_documents(index, encoder, progress: bool, desc: str):
    """Every document of ``index`` encoded by ``encoder``, in the table's row order."""
    import numpy as np
    from tqdm import tqdm

    documents = index.documents()
    texts = [documents[i] for i in index.columns().ids]
    batch = 512
    with tqdm(total=len(texts), desc=desc, unit="item", disable=not progress) as bar:
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(encoder.encode(texts[start:start + batch]))
            bar.update(len(parts[-1]))
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)


def _read_cache_info(path: Path | None) -> dict | None:
    """What was stored with the cached hits besides them (the fine-tuning's losses)."""
    import gzip
    import json as _json

    if path is None or not path.is_file():
        return None
    try:
        return _json.loads(gzip.decompress(path.read_bytes())).get("info")
    except (OSError, ValueError):
        return None


def _write_cache(path: Path | None, turns: list[Turn], hits: list[TurnHits], info: dict | None = None) -> None:
    import gzip
    import json as _json

    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"turns": [t.id for t in turns], "info": info,
            "hits": [{"channels": h.channels, "seconds": h.seconds, "error": h.error,
                      "encode": h.encode_seconds} for h in hits]}
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(_json.dumps(data).encode()))
    tmp.replace(path)

"""``python -m eval run``: every system over the same turns, scored, reported.

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

The learned-fusion system is always cross-validated: fold f is scored with weights fitted
on the turns of the other folds.

With ``train`` (``python -m eval run TEST --train DEV``) nothing is cross-validated on
TEST: everything the product learns is fitted on DEV's conversations only (the
collaborative model and popularity, the dialogues log, the fusion weights and ``rrf_k``,
fitted on DEV's cross-validated channel hits as ``eval fit`` does) and TEST is scored.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from retrieval.channels import names as channel_names
from retrieval.collab import LIKE_RATING, CollabModel, read_interactions

from . import metrics
from .datasets import Turn, detect_format, load_turns, redial_dialogues
from .fit import RRF_GRID, active_channels, cross_validated_fusion, fit_fusion, folds_by_dialogue
from .systems import (
    QUERY_CHARS,
    QUERY_MESSAGES,
    AssistantSystem,
    FusionSystem,
    TurnHits,
    baseline_systems,
    collect_hits,
)

# bump when a channel's computation changes, so cached hits are recomputed
HITS_VERSION = 4
SYSTEMS = ("popularity", "dense", "hybrid", "learned", "assistant")
CURVE_KS = (1, 2, 5, 10, 20, 30, 50)
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
        self.mode, self.k = mode, k
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
    blob = _json.dumps([str(dataset.resolve()), stat.st_size, stat.st_mtime_ns, parts[:5], inter, parts[6],
                        trained_on, index.settings.dialogue_neighbours, index.settings.dialogue_sharpness,
                        index.settings.dialogue_conversation_weight,
                        str(index.settings.index_dir), index.count(), read_manifest(index.settings),
                        index.settings.channel_depth, index.settings.text_model,
                        # channels (and how they are computed) change the hits: a new
                        # version never reads an old file
                        channel_names(), HITS_VERSION] + ([{"fine-tuned encoder": encoder}] if encoder else []),
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


def score_system(name: str, description: str, turns: list[Turn], rankings: list[list[str]],
                 timings: list[dict[str, float]], catalog: set[str], errors: int = 0,
                 list_k: int = 10, n_boot: int = 1000, seed: int = 0) -> dict:
    """Every metric of one system from its per-turn rankings and timings."""
    out: dict = {"description": description, "turns": len(turns), "errors": errors}
    for subset in ("all", "new"):
        ranks, groups = [], []
        for turn, ranked in zip(turns, rankings, strict=True):
            for target in (turn.targets if subset == "all" else turn.new_targets):
                ranks.append(metrics.rank_of(ranked, target))
                groups.append(turn.dialogue)
        out[subset] = metrics.ranking_metrics(ranks, groups, n_boot=n_boot, seed=seed)
        out[f"curve_{subset}"] = {str(k): (sum(metrics.recall_at(r, k) for r in ranks) / len(ranks)
                                           if ranks else float("nan")) for k in CURVE_KS}
    shown = [r[:list_k] for r in rankings]
    out["outside_catalog"] = metrics.share_outside(shown, catalog)
    out["repeated"] = metrics.share_repeated(shown, [t.mentioned for t in turns])
    out["top_item_share"] = metrics.top_item_share(shown)
    out["gini"] = metrics.recommendation_gini(shown, catalog)
    stages: dict[str, list[float]] = {}
    for t in timings:
        for stage, seconds in t.items():
            stages.setdefault(stage, []).append(seconds)
        if "total" not in t:
            stages.setdefault("total", []).append(sum(t.values()))
    out["latency"] = {s: {"p50": metrics.percentile(v, 50), "p95": metrics.percentile(v, 95)}
                      for s, v in stages.items()}
    return out


def run(settings, dataset: str | Path, *, out_dir: str | Path = "eval_out", fmt: str = "auto",
        systems: Iterable[str] = SYSTEMS, limit: int | None = None, seed: int = 0, folds: int = 5,
        collab: str = "auto", interactions: list | None = None, exclude_mentioned: bool = True,
        k: int = 50, list_k: int = 10, objective: str = "r10+r50", progress: bool = True,
        hub=None, index=None, llm=None, command: str | None = None, cache: bool = True,
        train: str | Path | None = None, encoder=None, without: Iterable[str] = ()) -> tuple[dict, dict]:
    """Evaluate ``systems`` on ``dataset`` with the index of ``settings``; write the report
    into ``out_dir``. Returns ``(result, paths)``.

    ``train``: a second dataset of conversations everything learned is fitted on (the
    collaborative model, popularity, the dialogues log, the fusion weights and rrf_k of
    the ``learned`` system); ``dataset`` is then only scored (module doc). ``encoder``
    (``retrieval.train_encoder.TrainOptions``): the text encoder is fine-tuned too, per
    fold or on ``train`` (see :func:`gather`). ``without``: channels every fused system
    leaves out (their hits are still searched and cached): the figure without them, on
    the same turns."""
    from retrieval.index import CatalogIndex

    from .report import write_report

    systems = list(dict.fromkeys(systems))
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; known: {', '.join(SYSTEMS)}")
    started = time.time()
    index = index or CatalogIndex.open(settings, hub)
    rrf_ks = tuple(dict.fromkeys(RRF_GRID + (settings.rrf_k,)))
    without = set(without)
    unknown = sorted(without - set(channel_names()))
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; known: {', '.join(channel_names())}")
    trained = None
    if train is not None:
        # DEV first: its cross-validated channel hits are what the fusion is fitted on
        train_turns, train_hits, train_cf, train_info = gather(
            index, train, limit=None, seed=seed, folds=folds, collab="cv", interactions=interactions,
            exclude_mentioned=exclude_mentioned, progress=progress, cache=cache, encoder=encoder)
        train_hits = _leave_out(train_hits, without)
        channels = active_channels(train_hits)
        weights, fitted_k, _ = fit_fusion(train_turns, train_hits, channels, objective, rrf_ks)
        trained = {"info": train_info, "weights": weights, "rrf_k": fitted_k, "protocol": train_cf.describe()}
    turns, hits, cf, info = gather(index, dataset, fmt=fmt, limit=limit, seed=seed, folds=folds,
                                   collab=collab, interactions=interactions,
                                   exclude_mentioned=exclude_mentioned, progress=progress,
                                   cache=cache, train=train, encoder=encoder)
    hits = _leave_out(hits, without)
    catalog = set(index.titles())
    errors = sum(h.error is not None for h in hits)
    fusion_systems: list[FusionSystem] = [s for s in baseline_systems(settings.fusion_weights)
                                          if s.name in systems]
    if "learned" in systems and trained is not None:
        fusion_systems.append(FusionSystem(
            "learned", f"every channel, weights and rrf_k ({'/'.join(map(str, rrf_ks))}) fitted "
            f"({objective}, coordinate ascent) on {train_info['turns']} turns of {train} "
            f"(their channel hits cross-validated in {folds} folds)",
            trained["weights"], rrf_for=lambda t: trained["rrf_k"]))
    elif "learned" in systems:
        channels = active_channels(hits)
        turn_folds = {t.dialogue: cf.fold_of(t) if cf.mode == "cv" else 0 for t in turns}
        if cf.mode != "cv":
            turn_folds = folds_by_dialogue(turns, folds, seed)
        per_fold = cross_validated_fusion(turns, hits, turn_folds, channels, objective, rrf_ks)
        fusion_systems.append(FusionSystem(
            "learned", f"every channel, weights and rrf_k ({'/'.join(map(str, rrf_ks))}) fitted "
            f"({objective}, coordinate ascent) on the other {folds - 1} of {folds} folds",
            weights_for=lambda t: per_fold[turn_folds[t.dialogue]][0],
            rrf_for=lambda t: per_fold[turn_folds[t.dialogue]][1]))
    result: dict = {"dataset": info, "catalog": {"items": len(catalog), "index": str(settings.index_dir)},
                    "list_k": list_k, "k": k, "systems": {}, "command": command,
                    "protocol": [cf.describe(), cf.dialogue_folds.describe(),
                                 f"query: the last {QUERY_MESSAGES} messages of the conversation as text "
                                 f"(at most {QUERY_CHARS} characters); items mentioned "
                                 "earlier are the liked seeds" + (" and are excluded from the ranking"
                                                                  if exclude_mentioned else ""),
                                 "targets are never used to build a query or an exclusion"]}
    if without:
        result["protocol"].append(f"channels left out of every fused system: {', '.join(sorted(without))}")
    if trained is not None:
        result["train"] = trained["info"]
        result["protocol"].append(f"fusion weights and rrf_k fitted on {train} only; its channel hits: "
                                  + trained["protocol"])
        result["learned_weights"] = {"train": trained["weights"]}
        result["learned_rrf_k"] = {"train": trained["rrf_k"]}
    elif "learned" in systems:
        result["learned_weights"] = {str(f): w for f, (w, _) in per_fold.items()}
        result["learned_rrf_k"] = {str(f): k for f, (_, k) in per_fold.items()}
    for system in fusion_systems:
        ranked, times = [], []
        for turn, h in zip(turns, hits, strict=True):
            r, t = system.rank(turn, h, settings.rrf_k, k)
            ranked.append(r)
            times.append(t)
        result["systems"][system.name] = score_system(system.name, system.description, turns, ranked,
                                                      times, catalog, errors, list_k, seed=seed)
    if "assistant" in systems:
        from retrieval.fusion import load_fusion_meta

        fitted_on = (load_fusion_meta(settings.index_dir).get("dataset") or {}).get("path")
        if trained is None and fitted_on and Path(fitted_on).resolve() == Path(dataset).resolve():
            result["protocol"].append(
                "warning: the assistant searches with the index's fusion.json, fitted on this same "
                "dataset (the 'learned' system is the cross-validated figure)")
        scored = _run_assistant(settings, index, llm, turns, cf, k, progress,
                                ({**trained["weights"], **{c: 0.0 for c in without}}, trained["rrf_k"])
                                if trained else None)
        if scored is not None:
            ranked, times, errs, label, checks = scored
            result["systems"]["assistant"] = score_system("assistant", AssistantSystem.describe(label),
                                                          turns, ranked, times, catalog, errs, list_k,
                                                          seed=seed)
            from assistant.answer_checks import fallback_rates

            result["systems"]["assistant"]["llm_checks"] = fallback_rates(checks)
        else:
            result["protocol"].append("assistant system skipped: the assistant package is not available")
    result["seconds"] = round(time.time() - started, 1)
    paths = write_report(result, out_dir)
    return result, paths


def _leave_out(hits: list[TurnHits], channels: set[str]) -> list[TurnHits]:
    """``hits`` without the lists of ``channels``."""
    if not channels:
        return hits
    return [TurnHits({c: ids for c, ids in h.channels.items() if c not in channels}, h.seconds, h.error,
                     h.encode_seconds) for h in hits]


def _run_assistant(settings, index, llm, turns, cf, k, progress, fusion=None):
    """The assistant over ``turns``, its models per turn from ``cf`` (and its dialogues
    folds); ``fusion``: ``(weights, rrf_k)`` fitted for this run, else the product's own."""
    try:
        from assistant.recommender import Recommender
    except ImportError:
        return None
    from tqdm import tqdm

    if fusion is not None:
        index.use_weights(fusion[0], source="fitted on the training dataset", rrf_k=fusion[1])
    else:
        # the product's own weights (fusion.json or settings), not the all-channels override
        index.use_weights(None)
    if cf.log_model() is not False:
        index.use_collab_model(cf.log_model(), channel="collab_log")
    # the reply lists k items (not the chat's usual handful) so Recall@k can be scored
    wide = settings.replace(candidates=max(settings.candidates, k), top_k=k)
    rec = Recommender.from_settings(wide, index=index, llm=llm, hub=index.hub)
    system = None
    ranked, times, errors = [], [], 0
    current = current_log = object()
    label = "retrieval only"
    for turn in tqdm(turns, desc="assistant", disable=not progress, unit="turn"):
        model = cf.for_turn(turn)
        if model is not current:
            index.use_collab_model(model)
            current = model
        if cf.dialogue_folds is not None and cf.dialogue_folds.mode != "index":
            log = cf.dialogue_folds.for_turn(turn)
            if log is not current_log:
                index.use_dialogues(log)
                current_log = log
        system = system or AssistantSystem(rec, label)
        try:
            r, t, mode = system.rank(turn, k)
            if mode != "none":
                label = "with its LLM" if mode == "llm" else "retrieval only"
        except Exception as e:  # noqa: BLE001 - a failed turn counts as a miss, reported
            print(f"warning: assistant failed on turn {turn.id}: {type(e).__name__}: {e}", file=sys.stderr)
            r, t = [], {}
            errors += 1
        ranked.append(r)
        times.append(t)
    return ranked, times, errors, label, (system.llm_checks if system else [])


def count_targets(turns: list[Turn]) -> Counter:
    c = Counter()
    for t in turns:
        c["turns"] += 1
        c["targets"] += len(t.targets)
        c["new_targets"] += len(t.new_targets)
    return c

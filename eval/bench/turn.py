"""``python -m eval bench turn``: whole chat turns, broken down by stage.

Modes (``--modes``, default all four):

- ``retrieval``: text turns with no LLM, over the real ReDial movie catalog (6,924 movies,
  MiniLM vectors, collaborative model from the ReDial dialogues; built as in
  ``bench search``), and a ``dialogues`` channel over ``--logged-turns`` logged turns (the
  2,849 real recommending turns of the ReDial dev dialogues, repeated under new
  conversation ids to reach the count: its cost depends on the count, not the words).
  Conversations are real ReDial seeker messages, up to three turns each, taking turns
  with the same conversations searched without the dialogues channel (the row
  "retrieval, no dialogues"), so the channel's cost is measured side by side;
- ``llm``: the same turns with the tiny random-weight Qwen2 of ``tests/tiny_llm.py``
  through the real ``TransformersLLM`` (constraint extraction, query rewrite, label
  ranking, streamed reasons). Its words are gibberish; its costs per token are those of
  a 2-layer model, so the figures show the pipeline's overhead, not a real LLM's speed;
- ``photo``: photos of the Grocery Store Dataset (``val/``) against the grocery demo
  catalog ingested with the tiny CLIP and tiny BLIP of ``tests/tiny_models.py`` (no LLM);
- ``voice``: a spoken request (espeak-ng) through the tiny whisper of ``tests/tiny_models.py``
  against the movie catalog (no LLM).

Each turn's time comes from ``Chat.send`` (wall clock) and its stages from
``Reply.timings`` (transcribe, caption, rewrite, retrieve, rank, explain; "other" is the
rest: input checks, mention matching, state). The bare reference is what the retrieval
stage cannot avoid: one encoder call and one ChromaDB query for the turn's search text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from . import common

MODES = ("retrieval", "llm", "photo", "voice")
STAGES = ("transcribe", "caption", "rewrite", "retrieve", "rank", "explain")
COLUMNS = ([("mode", "mode"), ("turns", "turns"), ("p50_ms", "turn p50 (ms)"), ("p95_ms", "turn p95 (ms)")]
           + [(f"{s}_p50_ms", f"{s} p50") for s in STAGES]
           + [("other_p50_ms", "other p50"), ("bare_p50_ms", "bare search p50 (ms)")])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval bench turn", description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    p.add_argument("--turns", type=int, default=60, help="turns timed in retrieval mode (default 60)")
    p.add_argument("--llm-turns", type=int, default=10, help="turns timed in llm mode (default 10)")
    p.add_argument("--media-turns", type=int, default=5, help="turns timed in photo and voice modes (default 5)")
    p.add_argument("--items", type=int, default=0,
                   help="movies in the catalog (default 0: all 6,924 real ones)")
    p.add_argument("--logged-turns", type=int, default=10_000,
                   help="logged turns of the dialogues channel (default 10,000; 0: no such channel)")
    p.add_argument("--out", default=common.DEFAULT_OUT, help="folder for turn.json and turn.md")
    p.add_argument("--work", default=None, help="folder for indexes and caches (default: <out>/work)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    args = build_parser().parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        raise ValueError(f"unknown mode(s) {', '.join(unknown)} (known: {', '.join(MODES)})")
    result = run(modes, turns=args.turns, llm_turns=args.llm_turns, media_turns=args.media_turns,
                 items=args.items, work=Path(args.work) if args.work else Path(args.out) / "work",
                 quiet=args.quiet, argv=argv, logged_turns=args.logged_turns)
    paths = common.write_results(args.out, result, COLUMNS)
    print(common.markdown_table(result["rows"], COLUMNS))
    print(f"wrote {paths['json']} and {paths['markdown']}")
    return 0


def run(modes: list[str], turns: int = 60, llm_turns: int = 10, media_turns: int = 5, items: int = 0,
        work: Path = Path("eval_out/bench/work"), quiet: bool = False,
        argv: list[str] | None = None, logged_turns: int = 10_000) -> dict[str, Any]:
    """Time chat turns in each mode and return the result."""
    from retrieval.models import ModelHub
    from retrieval.settings import Settings

    from .search import BareEncoder, build_index, redial_interactions

    result = common.new_result("turn", argv if argv is not None else [],
                               {"modes": modes, "turns": turns, "llm_turns": llm_turns,
                                "media_turns": media_turns, "items": items, "logged_turns": logged_turns})
    work = Path(work)
    base = Settings.load(env={}, enable_clip=False, enable_captions=False, enable_transcripts=False,
                         enable_llm=False, data_dir=str(work / "search"))
    hub = ModelHub(base)
    bare = None
    if {"retrieval", "llm", "voice"} & set(modes):
        encoder = hub.text_encoder()
        catalog = common.movie_catalog(work)
        movies, documents = common.documents_of(catalog)
        n = min(items or len(movies), len(movies))
        movies, documents = movies[:n], documents[:n]
        vectors = common.cached_vectors(encoder, documents, work / "cache", quiet)
        movie_settings = base.replace(index_name=f"movies{n}")
        build_index(movie_settings, encoder, movies, vectors, n, redial_interactions(common.DATASETS), False, quiet)
        result["facts"] = {"dialogues": dialogue_log(movie_settings, encoder, logged_turns,
                                                     {m.id: m.title for m in movies}, work, quiet)}
        conversations = redial_conversations(common.DATASETS, {m.id: m.title for m in movies})
        bare = BareEncoder(base, hub)
    for mode in modes:
        common.say(f"turn: {mode} mode", quiet)
        if mode == "retrieval" and logged_turns:
            with_log, without = _text_turns_side_by_side(movie_settings, hub, bare, conversations, turns)
            result["rows"].append({"mode": "retrieval", **with_log})
            row, mode = without, "retrieval, no dialogues"
        elif mode == "retrieval":
            row = _text_turns(movie_settings, hub, bare, conversations, turns, llm=None)
        elif mode == "llm":
            row = _text_turns(movie_settings, hub, bare, conversations, llm_turns, llm=_tiny_llm(work))
        elif mode == "photo":
            row = _photo_turns(work, media_turns, quiet)
        else:
            row = _voice_turns(movie_settings, work, bare, media_turns)
        result["rows"].append({"mode": mode, **row})
    result["notes"] += [
        "stage columns are p50 in ms from Reply.timings; other = turn - sum of stages (input checks, "
        "mention matching, state updates)",
        "bare search = sentence-transformers encode of the turn's search text + one ChromaDB query of "
        "its vector (depth channel_depth), timed right after the turn; the encode with torch's default "
        "threads and with one, the cheaper p50 kept",
        "llm mode: the tiny random-weight Qwen2 of tests/tiny_llm.py (2 layers, 64 wide) on CPU; its "
        "timings are the pipeline's overhead around an LLM, not a real LLM's speed",
        "photo mode: grocery demo catalog with the tiny CLIP and tiny BLIP of tests/tiny_models.py; "
        "voice mode: an espeak-ng recording through the tiny whisper (its transcript is gibberish)",
    ]
    log = (result.get("facts") or {}).get("dialogues") or {}
    if log.get("logged_turns"):
        result["notes"].append(
            f"dialogues channel over {log['logged_turns']} logged turns ({log['real_turns']} real ReDial turns "
            f"repeated): its search alone, the query vector given, p50 {log['find_p50_ms']} ms, p95 "
            f"{log['find_p95_ms']} ms ({log['find_queries']} queries); the retrieval rows run the same "
            "conversations with and without it")
    return common.finish(result)


# ---- conversations --------------------------------------------------------------------------------


def redial_conversations(datasets: Path, titles: dict[str, str], per_dialogue: int = 3) -> list[list[str]]:
    """Seeker messages of the ReDial dev dialogues (``@id`` replaced by titles), up to
    ``per_dialogue`` messages of at least four words each, per conversation."""
    from eval.datasets import MENTION

    out = []
    with open(datasets / "redial" / "dev_dialogues.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            seeker = d.get("initiatorWorkerId")
            said = []
            for m in d.get("messages", []):
                if m.get("senderWorkerId") != seeker:
                    continue
                text = MENTION.sub(lambda g: titles.get(g.group(1), "a movie"), str(m.get("text", ""))).strip()
                if len(text.split()) >= 4:
                    said.append(text)
                if len(said) >= per_dialogue:
                    break
            if said:
                out.append(said)
    return out


def dialogue_log(settings, encoder, n: int, titles: dict[str, str], work: Path, quiet: bool) -> dict[str, Any]:
    """Write the ``dialogues`` channel's log of ``n`` turns beside the index of ``settings``
    (the real ReDial dev recommending turns, repeated under new conversation ids up to
    ``n``; none when ``n`` is 0) and time the channel's own search over it."""
    import numpy as np

    from retrieval.dialogues import DIALOGUES_FILE, DialogueIndex, read_conversations, voting

    path = settings.index_dir / DIALOGUES_FILE
    if n <= 0:
        path.unlink(missing_ok=True)
        return {"logged_turns": 0}
    # a log smaller than the real one encodes only the turns it keeps
    real = read_conversations(common.DATASETS / "redial" / "dev_dialogues.jsonl", titles)[:n]
    vectors = common.cached_vectors(encoder, [t.text for t in real], work / "cache", quiet)
    copies = -(-n // len(real))
    turns = [dataclasses.replace(t, conversation=f"{t.conversation}#{k}") for k in range(copies) for t in real][:n]
    log = DialogueIndex(turns, np.concatenate([vectors] * copies)[:n], encoder.model_id)
    log.save(settings.index_dir)
    # the channel alone, the query vector given: what it adds to a search that encodes anyway
    queries = vectors[:: max(1, len(vectors) // 200)][:200]
    times = []
    for q in queries:
        start = time.perf_counter()
        log.find(q, settings.channel_depth, **voting(settings))
        times.append(time.perf_counter() - start)
    p = common.percentiles(times)
    return {"logged_turns": len(log), "real_turns": len(real), "find_p50_ms": common.ms(p["p50"]),
            "find_p95_ms": common.ms(p["p95"]), "find_queries": len(times)}


# ---- the modes ---------------------------------------------------------------------------------------


def _text_turns_side_by_side(settings, hub, bare, conversations, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Retrieval-only turns with the dialogues channel and without it (its weight 0, so it
    does not run): each conversation runs on both, which goes first alternating, until
    each has ``n`` turns."""
    from assistant.recommender import Recommender
    from retrieval.index import CatalogIndex

    recs = []
    for weights in (None, {"dialogues": 0.0}):
        index = CatalogIndex.open(settings.replace(fusion_weights=weights or {}), hub=hub)
        rec = Recommender.from_settings(index.settings, index=index, hub=hub)
        rec.chat().send(conversations[0][0])  # warm: table, keyword index, title matcher, log
        recs.append(rec)
    collection = _bare_collection(recs[0].index)
    runs: list[tuple[list, list, list]] = [([], [], []), ([], [], [])]
    for k, said in enumerate(conversations[1:]):
        if len(runs[0][0]) >= n:
            break
        for side in ((0, 1) if k % 2 == 0 else (1, 0)):
            turns, stage_runs, bare_t = runs[side]
            chat = recs[side].chat()
            for text in said:
                t, _, reply = common.measured(chat.send, text)
                turns.append(t)
                stage_runs.append(reply.timings)
                bare_t.append(_bare_search(bare, collection, settings, reply.query or text))
    return _row(*runs[0]), _row(*runs[1])



def _text_turns(settings, hub, bare, conversations, n: int, llm) -> dict[str, Any]:
    from assistant.recommender import Recommender
    from retrieval.index import CatalogIndex

    index = CatalogIndex.open(settings, hub=hub)
    rec = Recommender.from_settings(settings, index=index, llm=llm, hub=hub)
    rec.prepare()  # what the app builds at start-up: table, indexes, title matcher, tracker
    rec.chat().send(conversations[0][0])
    collection = _bare_collection(index)
    turns, stage_runs, bare_t = [], [], []
    for said in conversations[1:]:
        chat = rec.chat()
        for text in said:
            t, _, reply = common.measured(chat.send, text)
            turns.append(t)
            stage_runs.append(reply.timings)
            bare_t.append(_bare_search(bare, collection, settings, reply.query or text))
            if len(turns) >= n:
                return _row(turns, stage_runs, bare_t)
    return _row(turns, stage_runs, bare_t)


def _photo_turns(work: Path, n: int, quiet: bool) -> dict[str, Any]:
    from assistant.recommender import Recommender
    from retrieval.index import CatalogIndex
    from retrieval.models import ModelHub
    from retrieval.settings import DEMO_CATALOG, Settings
    from tests.tiny_models import build_tiny_blip, build_tiny_clip

    models = work / "tiny-models"
    clip_dir = models / "clip"
    blip_dir = models / "blip"
    if not (clip_dir / "open_clip_config.json").is_file():
        build_tiny_clip(clip_dir)
    if not (blip_dir / "config.json").is_file():
        build_tiny_blip(blip_dir)
    settings = Settings.load(env={}, data_dir=str(work / "photo"), index_name="grocery", enable_llm=False,
                             enable_transcripts=False, clip_model=str(clip_dir), clip_pretrained="",
                             caption_model=str(blip_dir))
    hub = ModelHub(settings)
    index = CatalogIndex.build(settings, DEMO_CATALOG, hub=hub, progress=not quiet) \
        if not (settings.index_dir / "manifest.json").is_file() else CatalogIndex.open(settings, hub=hub)
    rec = Recommender.from_settings(settings, index=index, hub=hub)
    photos = _grocery_photos(common.DATASETS, n + 1)
    rec.chat().send("", image=photos[0])
    turns, stage_runs = [], []
    for path in photos[1:]:
        t, _, reply = common.measured(rec.chat().send, "", image=path)
        turns.append(t)
        stage_runs.append(reply.timings)
    return _row(turns, stage_runs, [])


def _grocery_photos(datasets: Path, n: int) -> list[Path]:
    root = datasets / "grocery"
    paths = []
    for line in (root / "val.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            paths.append(root / line.split(",")[0].strip().lstrip("/"))
    # every k-th photo: several products, not n shots of the first one
    step = max(1, len(paths) // n)
    return paths[::step][:n]


def _voice_turns(settings, work: Path, bare, n: int) -> dict[str, Any]:
    from assistant.recommender import Recommender
    from retrieval.index import CatalogIndex
    from retrieval.models import ModelHub
    from tests.tiny_models import build_tiny_whisper

    whisper_path = work / "tiny-models" / "whisper.pt"
    if not whisper_path.is_file():
        build_tiny_whisper(whisper_path)
    settings = settings.replace(enable_transcripts=True, whisper_model=str(whisper_path))
    wav = _spoken(work / "request.wav", "I would like a funny movie with a lot of action, like Die Hard.")
    hub = ModelHub(settings)
    index = CatalogIndex.open(settings, hub=hub)
    rec = Recommender.from_settings(settings, index=index, hub=hub)
    rec.chat().send("", audio=wav)
    collection = _bare_collection(index)
    turns, stage_runs, bare_t = [], [], []
    for _ in range(n):
        t, _, reply = common.measured(rec.chat().send, "", audio=wav)
        turns.append(t)
        stage_runs.append(reply.timings)
        bare_t.append(_bare_search(bare, collection, settings, reply.query or "movie"))
    return _row(turns, stage_runs, bare_t)


def _spoken(path: Path, text: str) -> Path:
    if not path.is_file():
        from retrieval.errors import require_program

        require_program("espeak-ng", "the voice turns of bench turn")
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


def _tiny_llm(work: Path):
    from assistant.llm.local import TransformersLLM
    from tests.tiny_llm import build_tiny_llm

    folder = work / "tiny-models" / "llm"
    if not (folder / "config.json").is_file():
        build_tiny_llm(common.DATASETS, folder)
    return TransformersLLM(str(folder), device="cpu", quantization="none")


# ---- measuring ---------------------------------------------------------------------------------------


def _bare_collection(index):
    """The ``docs`` collection through the index's own Chroma client (a second client of
    the same folder keeps a second, cold copy of the vector index)."""
    return index.store.client.get_collection(index.store.name("docs"), embedding_function=None)


def _bare_search(bare, collection, settings, text: str) -> tuple[float, float]:
    """Seconds of the bare search of ``text``: (encoder with one thread + Chroma query,
    encoder with torch's default threads + the same Chroma time). The default-threads
    encode runs last: idle OpenMP workers spin after it and would slow the Chroma query."""
    start = time.perf_counter()
    vector = bare.encode(text[-1000:], threads=1)
    one = time.perf_counter() - start
    start = time.perf_counter()
    collection.query(query_embeddings=[vector.tolist()], n_results=settings.channel_depth, include=["distances"])
    chroma = time.perf_counter() - start
    start = time.perf_counter()
    bare.encode(text[-1000:])
    default = time.perf_counter() - start
    return one + chroma, default + chroma


def _row(turns: list[float], stage_runs: list[dict], bare_t: list[tuple[float, float]]) -> dict[str, Any]:
    total = common.percentiles(turns)
    row: dict[str, Any] = {"turns": len(turns), "p50_ms": common.ms(total.get("p50")),
                           "p95_ms": common.ms(total.get("p95"))}
    for stage in STAGES:
        values = [r.get(stage, 0.0) for r in stage_runs]
        row[f"{stage}_p50_ms"] = common.ms(common.percentiles(values).get("p50"))
        row[f"{stage}_p95_ms"] = common.ms(common.percentiles(values).get("p95"))
    other = [t - sum(r.get(s, 0.0) for s in STAGES) for t, r in zip(turns, stage_runs, strict=True)]
    row["other_p50_ms"] = common.ms(common.percentiles(other).get("p50"))
    # the cheaper of the two thread settings is the bare cost (see _bare_search)
    row["bare_p50_ms"] = min(common.ms(common.percentiles([b[k] for b in bare_t])["p50"])
                             for k in (0, 1)) if bare_t else None
    return row

"""``python -m eval bench search``: one search against the bare calls it cannot avoid.

Catalogs of ``--sizes`` items (default 1,000, 10,000 and 100,000) are built from the real
ReDial movie catalog (6,924 movies, ``retrieval/convert.py``): its documents are embedded
once with the real MiniLM (cached), and beyond the real movies, variants combine the plot
of one movie, the genres of a second and the stars of a third. A variant's vector is the
normalised mix 0.6 / 0.25 / 0.15 of those three movies' document vectors (embedding 100,000
documents would take hours on two cores), its document and metadata the combined fields.
Everything is written through the project's :class:`retrieval.store.Store`, with the
metadata layout ingest writes, so the index searched is the real one. The collaborative
model is fitted on the ReDial dialogues (a dialogue likes the movies it mentions).

Queries are real seeker messages from ReDial dialogues (``@id`` replaced by titles); a
third of them carry a genre filter, a third a year filter, and messages naming a movie
pass it as liked (collaborative channel). Each query runs through ``CatalogIndex.search``
(encoding, every channel, fusion, filters, the documents of the top candidates) and
through two bare pipelines, each timed as one unit: sentence-transformers ``encode`` of
the text (on one torch thread; on torch's default threads) plus one unfiltered ChromaDB
``query`` of a precomputed vector at the same depth. The three take turns in rotating
order, so each meets the others' leftovers (warm caches, spinning OpenMP workers) as
often. Bare = the cheaper pipeline's p50; overhead = project p50 / bare p50 - 1. Chroma's
filtered query, which scans the collection, and the default-threads encode back to back
are timed apart, for the record.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

from . import common

DEFAULT_SIZES = (1000, 10000, 100000)
COLUMNS = [("items", "items"), ("build_s", "build (s)"), ("index_mb", "index on disk (MB)"),
           ("open_s", "open + first search (s)"), ("p50_ms", "search p50 (ms)"), ("p95_ms", "search p95 (ms)"),
           ("bare_p50_ms", "bare p50 (ms)"), ("bare_p95_ms", "bare p95 (ms)"),
           ("encode_p50_ms", "encoder p50 (ms)"), ("chroma_p50_ms", "Chroma query p50 (ms)"),
           ("chroma_filtered_p50_ms", "Chroma filtered query p50 (ms)"),
           ("overhead_pct", "overhead over bare (%)"), ("rss_mb", "process RSS (MB)"),
           ("python_peak_mb", "Python peak per search (MB)")]
# a variant's vector: these shares of its plot, genre and star donors' vectors
MIX = (0.6, 0.25, 0.15)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval bench search", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                   help="comma-separated catalog sizes (default 1000,10000,100000)")
    p.add_argument("--queries", type=int, default=60, help="distinct queries timed per size (default 60)")
    p.add_argument("--rounds", type=int, default=2, help="times each query is timed (default 2)")
    p.add_argument("--out", default=common.DEFAULT_OUT, help="folder for search.json and search.md")
    p.add_argument("--work", default=None,
                   help="folder for the built indexes and the vector cache, kept between runs "
                        "(default: <out>/work)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the indexes even when present")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    args = build_parser().parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--sizes must be whole numbers separated by commas, not {args.sizes!r}") from None
    if not sizes or min(sizes) < 10:
        raise ValueError("--sizes needs catalog sizes of at least 10 items")
    result = run(sizes, queries=args.queries, rounds=args.rounds,
                 work=Path(args.work) if args.work else Path(args.out) / "work",
                 rebuild=args.rebuild, quiet=args.quiet, argv=argv)
    paths = common.write_results(args.out, result, COLUMNS)
    print(common.markdown_table(result["rows"], COLUMNS))
    print(f"wrote {paths['json']} and {paths['markdown']}")
    return 0


def run(sizes: list[int], queries: int = 60, rounds: int = 2, work: Path = Path("eval_out/bench/work"),
        rebuild: bool = False, quiet: bool = False, argv: list[str] | None = None) -> dict[str, Any]:
    """Build (or reuse) one index per size, time the searches, return the result."""
    from retrieval.models import ModelHub
    from retrieval.settings import Settings

    result = common.new_result("search", argv if argv is not None else [],
                               {"sizes": sizes, "queries": queries, "rounds": rounds})
    work = Path(work)
    base = Settings.load(env={}, enable_clip=False, enable_captions=False, enable_transcripts=False,
                         enable_llm=False, data_dir=str(work / "search"))
    hub = ModelHub(base)
    encoder = hub.text_encoder()
    catalog = common.movie_catalog(work)
    items, documents = common.documents_of(catalog)
    # only as many real movies as the largest catalog needs (all of them beyond 6,924)
    items, documents = items[:max(sizes)], documents[:max(sizes)]
    vectors = common.cached_vectors(encoder, documents, work / "cache", quiet)
    qs = load_queries(common.DATASETS, {i.id: i.title for i in items}, queries)
    interactions = redial_interactions(common.DATASETS)
    bare = BareEncoder(base, hub)
    for n in sizes:
        settings = base.replace(index_name=f"movies{n}")
        built = build_index(settings, encoder, items, vectors, n, interactions, rebuild, quiet)
        common.say(f"search: {n} items: timing {len(qs)} queries x {rounds}", quiet)
        result["rows"].append(_measure(settings, hub, bare, qs, rounds, built))
    result["notes"] += [
        f"catalog: {len(items)} real ReDial movies; beyond them, variants (plot of one movie, genres of a "
        f"second, stars of a third) whose vectors are the normalised {MIX[0]}/{MIX[1]}/{MIX[2]} mix of the "
        "three movies' MiniLM vectors, all written through retrieval.store.Store (the real index layout)",
        "channels run: every channel of the index at its default weight (dense, keyword, attribute, named, "
        "popularity, and for messages naming a movie collab, similar, shared); no CLIP (movies have no "
        "pictures); collaborative model fitted on the ReDial dev dialogues",
        f"queries: {len(qs)} real ReDial seeker messages, a third with a genre filter and a third with a "
        "year filter; each timed --rounds times, project and bare calls interleaved in alternating order",
        "bare = sentence-transformers encode of the query + one unfiltered ChromaDB query of a "
        "precomputed vector (depth channel_depth), timed as one unit, once with the encode on one "
        "torch thread and once on torch's default threads; project and both bare pipelines take "
        "turns in rotating order; the cheaper bare pipeline's p50 is the bare cost; overhead = "
        "project p50 / bare p50 - 1. For the record (JSON): Chroma's own filtered query of the same "
        "filter (chroma_filtered_p50_ms; it scans the collection, which is why the project searches "
        "vectors in memory) and the default-threads encode timed back to back with nothing between "
        "(encode_default_threads_back_to_back_p50_ms: warm OpenMP workers, not the conditions a "
        "search runs under)",
        "process RSS after the searches of that size (earlier sizes' indexes are closed but the "
        "allocator may keep their memory); Python peak = tracemalloc peak over 20 searches",
    ]
    return common.finish(result)


# ---- the catalog --------------------------------------------------------------------------------


def variant_rows(items, n: int, seed: int = 0):
    """``n`` items: the real ones first, then variants ``(id, title, attributes, donors)``
    combining the plot of one movie with the genres and stars of two others."""
    from retrieval.types import Item

    real = list(items[:n])
    with_plot = [k for k, it in enumerate(items) if it.description]
    rng = random.Random(seed)
    out = [(it, (k,)) for k, it in enumerate(real)]
    for v in range(len(real), n):
        a = rng.choice(with_plot)
        b, c = rng.randrange(len(items)), rng.randrange(len(items))
        ia, ib, ic = items[a], items[b], items[c]
        attrs = {k: val for k, val in ia.attributes.items() if k not in ("genre", "star", "imdb_id")}
        if ib.attributes.get("genre"):
            attrs["genre"] = list(ib.attributes["genre"])
        if ic.attributes.get("star"):
            attrs["star"] = list(ic.attributes["star"])
        genre = (attrs.get("genre") or ["new"])[0]
        title = f"{ia.title} – {genre} cut {v}"
        out.append((Item(id=f"v{v}", title=title, description=ia.description, attributes=attrs), (a, b, c)))
    return out


def build_index(settings, encoder, items, vectors, n: int, interactions, rebuild: bool,
                quiet: bool) -> dict[str, Any]:
    """Write ``n`` items into the index of ``settings`` through :class:`Store` (kept when it
    already holds this exact catalog); returns build facts."""
    import numpy as np

    from retrieval.collab import CollabModel
    from retrieval.errors import CatalogError
    from retrieval.ingest import build_document
    from retrieval.store import Store, to_metadata

    marker = settings.index_dir / "bench-catalog.json"
    key = hashlib.sha1(json.dumps([encoder.model_id, n, len(items), MIX, float(vectors.sum())]).encode()).hexdigest()
    if not rebuild and marker.is_file() and json.loads(marker.read_text()).get("key") == key:
        store = Store(settings)
        if store.count("docs") == n:
            return json.loads(marker.read_text())
    common.say(f"search: building the {n}-item index", quiet)
    started = time.perf_counter()
    store = Store(settings)
    store.drop()
    store.collection("docs", encoder.model_id, encoder.dim, create=True)
    rows = variant_rows(items, n)
    batch = max(settings.upsert_batch_size, 2048)
    for start in range(0, n, batch):
        chunk = rows[start:start + batch]
        vecs = np.stack([_mix(vectors, donors) for _, donors in chunk]).astype(np.float32)
        docs = [build_document(item) for item, _ in chunk]
        metas = []
        for (item, _), doc in zip(chunk, docs, strict=True):
            meta = to_metadata(item.attributes)
            meta.update(title=item.title, image="",
                        content_hash=hashlib.sha1(doc.encode("utf-8")).hexdigest())
            metas.append(meta)
        store.upsert("docs", [item.id for item, _ in chunk], vecs, metas, docs)
    ids = [item.id for item, _ in rows]
    try:
        CollabModel.fit(interactions, ids).save(settings.index_dir)
    except CatalogError:  # a tiny catalog that no dialogue mentions: no collaborative channel
        pass
    facts = {"key": key, "build_s": round(time.perf_counter() - started, 1), "items": n}
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(facts))
    return facts


def _mix(vectors, donors):
    import numpy as np

    if len(donors) == 1:
        return vectors[donors[0]]
    v = sum(w * vectors[d] for w, d in zip(MIX, donors, strict=False))
    return v / (np.linalg.norm(v) or 1.0)


def redial_interactions(datasets: Path) -> list[tuple[str, str, None]]:
    """The ReDial dev dialogues as an interaction log: each dialogue likes what it mentions."""
    from eval.datasets import redial_dialogues

    return [(f"d{d}", item, None) for d, ids in redial_dialogues(datasets / "redial" / "dev_dialogues.jsonl")
            for item in ids]


# ---- queries ------------------------------------------------------------------------------------


def load_queries(datasets: Path, titles: dict[str, str], n: int) -> list[dict[str, Any]]:
    """``n`` real seeker messages from the ReDial dialogues as ``{"text", "where",
    "liked"}``: every third with a genre filter, every third + 1 with a year filter;
    movies the message names are passed as liked."""
    from eval.datasets import MENTION

    # the catalog's genre values are lower-case, as ReDial writes them
    genres = ["comedy", "drama", "action", "horror", "romance", "thriller"]
    out: list[dict[str, Any]] = []
    path = datasets / "redial" / "dev_dialogues.jsonl"
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            seeker = d.get("initiatorWorkerId")
            for m in d.get("messages", []):
                if m.get("senderWorkerId") != seeker:
                    continue
                raw = str(m.get("text", ""))
                liked = [i for i in MENTION.findall(raw) if i in titles]
                text = MENTION.sub(lambda g: titles.get(g.group(1), ""), raw).strip()
                if len(text.split()) < 5:
                    continue
                k = len(out)
                where = ({"genre": genres[k // 3 % len(genres)]} if k % 3 == 0
                         else {"year": {"$gte": 1990 + 5 * (k // 3 % 5)}} if k % 3 == 1 else None)
                out.append({"text": text, "where": where, "liked": liked})
                break  # one message per dialogue: varied queries
            if len(out) >= n:
                break
    if not out:
        raise ValueError(f"no seeker messages found in {path}")
    return out


# ---- measuring ------------------------------------------------------------------------------------


class BareEncoder:
    """sentence-transformers alone: the baseline the benches measure the index against."""

    def __init__(self, settings, hub):
        from sentence_transformers import SentenceTransformer

        from retrieval.models import resolve_text_model

        self.model = SentenceTransformer(resolve_text_model(settings.text_model), device=hub.device,
                                         local_files_only=True)

    def encode(self, text: str, threads: int | None = None):
        """One text's vector; ``threads``: torch intra-op threads for this call (None: as set)."""
        import torch

        before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        try:
            with torch.inference_mode():
                return self.model.encode([text], convert_to_numpy=True, normalize_embeddings=True,
                                         show_progress_bar=False)[0]
        finally:
            torch.set_num_threads(before)


def _measure(settings, hub, bare: BareEncoder, queries, rounds: int, built: dict) -> dict[str, Any]:
    from retrieval.filters import adapt_to_lists, normalise_where
    from retrieval.index import CatalogIndex
    from retrieval.types import Query

    t0 = time.perf_counter()
    index = CatalogIndex.open(settings, hub=hub)
    list_fields = {n for n, f in index.fields().items() if f.type == "list"}
    index.search(Query(text=queries[0]["text"], k=settings.candidate_count))
    open_s = time.perf_counter() - t0

    # the bare query goes through the index's own client: a second client of the same
    # folder keeps a second copy of the vector index in memory and queries it cold
    collection = index.store.client.get_collection(index.store.name("docs"), embedding_function=None)
    depth = settings.channel_depth
    prepared = []
    for q in queries:
        where = adapt_to_lists(normalise_where(q["where"]), list_fields)
        prepared.append((q, where, bare.encode(q["text"]).tolist()))
    project: list[float] = []
    # two bare pipelines (encode + one unfiltered Chroma query, timed as one unit), the
    # encode on one torch thread and on torch's default threads: the cheaper p50 is "bare"
    bare_t: dict[str, list[float]] = {"one": [], "default": []}
    encode_t: dict[str, list[float]] = {"one": [], "default": []}
    chroma_t: list[float] = []

    def run_project(q, where, vector):
        t = time.perf_counter()
        found = index.search(Query(text=q["text"], where=q["where"], liked=q["liked"], k=settings.candidate_count))
        project.append(time.perf_counter() - t)
        return found

    def bare_pipeline(threads: str):
        def run(q, where, vector):
            t = time.perf_counter()
            bare.encode(q["text"], threads=1 if threads == "one" else None)
            t_encoded = time.perf_counter()
            # the floor: one unfiltered nearest-neighbour query (Chroma's filtered search
            # scans the collection and costs far more at 100k items; timed apart below)
            collection.query(query_embeddings=[vector], n_results=depth, include=["distances"])
            end = time.perf_counter()
            bare_t[threads].append(end - t)
            encode_t[threads].append(t_encoded - t)
            chroma_t.append(end - t_encoded)
        return run

    # the three contenders take turns in rotating order: each runs as often first, second
    # and third, so none always meets the caches (or the spinning OpenMP workers of a
    # multi-threaded encode) another one left behind
    contenders = [run_project, bare_pipeline("one"), bare_pipeline("default")]
    empty = 0
    for r in range(rounds):
        for k, (q, where, vector) in enumerate(prepared):
            shift = (k + r) % len(contenders)
            for run in contenders[shift:] + contenders[:shift]:
                found = run(q, where, vector)
                if run is run_project:
                    empty += not found
    # Chroma's own filtered query, for the record, apart: it scans the collection
    chroma_filtered = []
    for _, where, vector in prepared:
        if where:
            t = time.perf_counter()
            collection.query(query_embeddings=[vector], n_results=depth, where=where, include=["distances"])
            chroma_filtered.append(time.perf_counter() - t)
    # also for the record: the default-threads encode back to back, nothing between
    # (warm OpenMP workers; the cheapest an encoder call gets, but not the conditions the
    # project's search or the bare pipelines above run under)
    hot = []
    for q, _, _ in prepared:
        t = time.perf_counter()
        bare.encode(q["text"])
        hot.append(time.perf_counter() - t)
    mem: dict[str, float] = {}
    with common.python_peak(mem):
        for q, _, _ in prepared[:20]:
            index.search(Query(text=q["text"], where=q["where"], liked=q["liked"], k=settings.candidate_count))
    cheaper = min(bare_t, key=lambda v: common.percentiles(bare_t[v])["p50"])
    p, b = common.percentiles(project), common.percentiles(bare_t[cheaper])
    e, c = common.percentiles(encode_t[cheaper]), common.percentiles(chroma_t)
    return {
        "items": index.count(), "build_s": built.get("build_s"),
        "index_mb": common.dir_size_mb(settings.index_dir), "open_s": round(open_s, 2),
        "p50_ms": common.ms(p["p50"]), "p95_ms": common.ms(p["p95"]),
        "bare_p50_ms": common.ms(b["p50"]), "bare_p95_ms": common.ms(b["p95"]),
        "encode_p50_ms": common.ms(e["p50"]), "chroma_p50_ms": common.ms(c["p50"]),
        "overhead_pct": round(100 * (p["p50"] / b["p50"] - 1), 1),
        "rss_mb": common.rss_mb(), "python_peak_mb": mem.get("python_peak_mb"),
        "searches": len(project), "empty_results": empty, "bare_encoder_threads": cheaper,
        "chroma_filtered_p50_ms": common.ms(common.percentiles(chroma_filtered).get("p50")),
        "bare_one_thread_p50_ms": common.ms(common.percentiles(bare_t["one"])["p50"]),
        "bare_default_threads_p50_ms": common.ms(common.percentiles(bare_t["default"])["p50"]),
        "encode_default_threads_p50_ms": common.ms(common.percentiles(encode_t["default"])["p50"]),
        "encode_default_threads_back_to_back_p50_ms": common.ms(common.percentiles(hot)["p50"]),
        "encode_one_thread_p50_ms": common.ms(common.percentiles(encode_t["one"])["p50"]),
    }

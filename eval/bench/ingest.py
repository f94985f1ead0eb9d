"""``python -m eval bench ingest``: the ingest pipeline against the bare encoders.

Two catalogs, each ingested into a fresh index and then ingested again unchanged:

- text: the first ``--items`` ReDial movies (``retrieval/convert.py`` on
  ``movies_id2info.json``) with the real MiniLM text encoder;
- text+images: the grocery demo catalog's 81 products (real photos) repeated under new ids
  up to ``--images`` items, with MiniLM and a CLIP model (a real one when it is in the local
  cache, else the tiny random-weight CLIP of ``tests/tiny_models.py``: same code path and
  image decoding, far less compute, so it is the harder test of the pipeline's overhead).

In the same run, for each catalog, the bare libraries do the work ingest cannot avoid on
the same documents and pictures: sentence-transformers ``encode`` of every document; for
pictures, open + decode (reduced-size JPEG draft, as ingest does) + CLIP preprocessing +
the image tower, and CLIP's text tower on every document. Throughputs are items per
second; the ratio is ingest's throughput over the bare one's (1.0 = no overhead at all).
Captions and transcripts are off: they are separate models with their own cache.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import common

COLUMNS = [("catalog", "catalog"), ("items", "items"), ("clip", "CLIP model"),
           ("raw_items_per_s", "bare encoders (items/s)"), ("ingest_items_per_s", "ingest (items/s)"),
           ("ratio", "ingest / bare"), ("cpu_ratio", "same, CPU time"), ("first_s", "first ingest (s)"),
           ("second_s", "unchanged re-ingest (s)"),
           ("second_pct", "re-ingest / first (%)")]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval bench ingest", description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=1000, help="ReDial movies in the text catalog (default 1000)")
    p.add_argument("--images", type=int, default=243,
                   help="items in the picture catalog (grocery photos repeated; default 243, 0 skips it)")
    p.add_argument("--videos", type=int, default=0,
                   help="items in a catalog with videos (demo photos + espeak-ng narration; default 0 "
                        "skips it): see eval/bench/video_ingest.py")
    p.add_argument("--repeat", type=int, default=1, help="measure each catalog this many times (median kept)")
    p.add_argument("--out", default=common.DEFAULT_OUT, help="folder for ingest.json and ingest.md")
    p.add_argument("--work", help="scratch folder (default: a temporary one, removed afterwards)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    args = build_parser().parse_args(argv)
    result = run(items=args.items, images=args.images, repeat=args.repeat, work=args.work,
                 quiet=args.quiet, argv=argv, videos=args.videos)
    paths = common.write_results(args.out, result, COLUMNS)
    print(common.markdown_table(result["rows"], COLUMNS))
    print(f"wrote {paths['json']} and {paths['markdown']}")
    return 0


def run(items: int = 1000, images: int = 243, repeat: int = 1, work: str | None = None,
        quiet: bool = False, argv: list[str] | None = None, videos: int = 0) -> dict[str, Any]:
    """Run the ingest benchmark and return its result (see :func:`common.new_result`)."""
    result = common.new_result("ingest", argv if argv is not None else [],
                               {"items": items, "images": images, "repeat": repeat, "videos": videos})
    scratch = Path(work) if work else Path(tempfile.mkdtemp(prefix="chatrec-bench-ingest-"))
    try:
        if items > 0:
            catalog = common.head_catalog(common.movie_catalog(scratch), items, scratch / "movies.jsonl")
            result["rows"].append(_measure("ReDial movies (text)", catalog, scratch / "text", None, repeat, quiet))
        if images > 0:
            clip_settings, clip_note = _clip_settings(scratch)
            pictures = _grocery_catalog(images, scratch / "grocery.jsonl")
            row = _measure("grocery (text + photos)", pictures, scratch / "images", clip_settings, repeat, quiet)
            if clip_settings:  # a folder in the scratch space says nothing to a reader
                row["clip"] = "tiny CLIP (tests/tiny_models.py)"
            result["rows"].append(row)
            result["notes"].append(clip_note)
        if videos > 0:
            from .video_ingest import measure_videos

            clip_settings, clip_note = _clip_settings(scratch)
            for sound in (True, False):
                row = measure_videos(videos, scratch / ("videos" if sound else "videos-frames"), clip_settings,
                                     repeat, quiet, _Bare, sound=sound)
                if clip_settings:
                    row["clip"] = "tiny CLIP (tests/tiny_models.py)"
                result["rows"].append(row)
            if clip_note not in result["notes"]:
                result["notes"].append(clip_note)
            result["notes"].append(
                "videos: bare = one ffmpeg run per video decoding the same scene-cut frames (same scale) and "
                "the sound to WAV, the CLIP image tower on those frames, the speech model's own transcribe "
                f"({row['speech']}) on the sound, the text encoders on the same documents; ingest = "
                "retrieval.ingest with captions off; CPU time includes ffmpeg's; 'frames only': transcripts "
                "off and no sound decoded on either side")
    finally:
        if not work:
            shutil.rmtree(scratch, ignore_errors=True)
    result["notes"] += [
        "bare encoders: sentence-transformers encode of the same documents (same batch size); with "
        "photos also decode + CLIP preprocess + image tower of every photo and CLIP's text tower on "
        "every document, all in the same run",
        "ratio = ingest items/s ÷ bare items/s (median of --repeat runs); the re-ingest is of the "
        "unchanged catalog into the same index",
        "same, CPU time: the ratio of CPU seconds (every thread) instead of wall seconds, steadier "
        "when other work shares the machine",
        "captions and transcripts off (text and photo catalogs); models loaded and chromadb imported before timing (start-up, "
        "not per-item work; the import time is in the JSON as chromadb_import_s)",
    ]
    return common.finish(result)


# ---- the two catalogs -----------------------------------------------------------------------


def _grocery_catalog(n: int, out: Path) -> Path:
    """The demo grocery catalog (81 products with photos), repeated under new ids to ``n``
    rows; picture paths absolute so the file can live anywhere."""
    from retrieval.settings import DEMO_CATALOG

    if not DEMO_CATALOG.is_file():
        from retrieval.errors import InputError

        raise InputError(f"the demo catalog {DEMO_CATALOG} is missing: build it with "
                         "python -m retrieval convert grocery ../shared/datasets/grocery data/demo")
    rows = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if row.get("image"):
            row["image"] = str((DEMO_CATALOG.parent / row["image"]).resolve())
    out_rows = []
    for i in range(n):
        row = dict(rows[i % len(rows)])
        copy = i // len(rows)
        if copy:
            row["id"] = f"{row['id']}-{copy}"
            row["title"] = f"{row['title']} (pack {copy + 1})"
        out_rows.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in out_rows), encoding="utf-8")
    return out


def _clip_settings(scratch: Path) -> tuple[dict[str, Any], str]:
    """Settings overrides for CLIP: the configured real model when its weights are cached,
    else the tiny CLIP of tests/tiny_models.py built into ``scratch``."""
    from retrieval.models import ModelHub
    from retrieval.settings import Settings

    hub = ModelHub(Settings.load(env={}, enable_captions=False, enable_transcripts=False))
    status = next(s for s in hub.status() if s.role == "clip")
    if status.state in ("available", "loaded"):
        return {}, f"CLIP: the real {status.model_id} from the local cache"
    try:
        from tests.tiny_models import build_tiny_clip
    except ImportError as e:  # run from elsewhere than the repository root
        from retrieval.errors import InputError

        raise InputError(f"no CLIP is cached ({status.reason}) and the tiny CLIP builder "
                         f"tests/tiny_models.py cannot be imported ({e}): run the bench from the "
                         "repository root, or prefetch CLIP with: python -m retrieval prefetch") from e
    folder = build_tiny_clip(scratch / "tiny-clip")
    return ({"clip_model": str(folder), "clip_pretrained": ""},
            f"CLIP: the tiny random-weight CLIP of tests/tiny_models.py (32-d, 32-px input; "
            f"{status.model_id} is not cached: {status.reason})")


# ---- measuring ---------------------------------------------------------------------------------


def _measure(label: str, catalog: Path, scratch: Path, clip_overrides: dict | None, repeat: int,
             quiet: bool) -> dict[str, Any]:
    from retrieval.cli_output import format_ingest_report
    from retrieval.ingest import ingest
    from retrieval.models import ModelHub
    from retrieval.settings import Settings

    with_clip = clip_overrides is not None
    base = {"enable_captions": False, "enable_transcripts": False, "enable_clip": with_clip,
            **(clip_overrides or {})}
    settings = Settings.load(env={}, data_dir=str(scratch / "run0"), **base)
    hub = ModelHub(settings)
    items, documents = common.documents_of(catalog)
    # start-up costs are not per-item work: import chromadb before timing (reported apart)
    chroma_import_s, _ = common.timed(__import__, "chromadb")
    bare = _Bare(settings, hub, with_clip)
    bare.warm(documents[:16], [i.image for i in items if i.image][:4])
    raws, firsts, seconds, stage_runs, cpu_ratios = [], [], [], [], []
    for run in range(repeat):
        common.say(f"{label}: bare encoders on {len(items)} items (run {run + 1}/{repeat})", quiet)
        raw_s, raw_cpu, _ = common.measured(bare.encode, documents, [i.image for i in items])
        run_settings = settings.replace(data_dir=str(scratch / f"run{run}"))
        shutil.rmtree(run_settings.data_dir, ignore_errors=True)
        common.say(f"{label}: ingest", quiet)
        first_s, first_cpu, report = common.measured(ingest, run_settings, catalog, hub=hub,
                                                     progress=False)
        cpu_ratios.append(raw_cpu / first_cpu if first_cpu else 0.0)
        if report.added != len(items):
            raise RuntimeError(f"ingest of {catalog} added {report.added} of {len(items)} items: "
                               f"{format_ingest_report(report)}")
        second_s, again = common.timed(ingest, run_settings, catalog, hub=hub, progress=False)
        if again.added or again.updated:
            raise RuntimeError(f"re-ingest of the unchanged {catalog} re-embedded items: {format_ingest_report(again)}")
        raws.append(raw_s)
        firsts.append(first_s)
        seconds.append(second_s)
        stage_runs.append({k: round(v, 3) for k, v in report.stage_seconds.items()})
        shutil.rmtree(run_settings.data_dir, ignore_errors=True)
    ratios = sorted(r / f for r, f in zip(raws, firsts, strict=True))
    n = len(items)
    raw_s, first_s, second_s = _median(raws), _median(firsts), _median(seconds)
    return {
        "catalog": label, "items": n, "clip": hub.model_id("clip") if with_clip else "–",
        "raw_items_per_s": round(n / raw_s, 1), "ingest_items_per_s": round(n / first_s, 1),
        "ratio": round(_median(ratios), 3), "cpu_ratio": round(_median(cpu_ratios), 3),
        "first_s": round(first_s, 2), "second_s": round(second_s, 3),
        "second_pct": round(100 * second_s / first_s, 2),
        "chromadb_import_s": round(chroma_import_s, 2),
        "runs": {"raw_s": raws, "first_s": firsts, "second_s": seconds, "stage_seconds": stage_runs},
    }


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


class _Bare:
    """The bare libraries, loaded apart from the project's wrappers: sentence-transformers,
    and open_clip's model, preprocessing and tokenizer."""

    def __init__(self, settings, hub, with_clip: bool):
        from sentence_transformers import SentenceTransformer

        from retrieval.models import locate_clip, resolve_text_model

        self.settings = settings
        # the project's encoder is loaded first so both share the warm-up of torch
        hub.text_encoder()
        self.text = SentenceTransformer(resolve_text_model(settings.text_model), device=hub.device,
                                        local_files_only=True)
        self.clip = None
        if with_clip:
            import open_clip

            clip = hub.clip()
            if clip is None:
                raise RuntimeError("CLIP was asked for but the hub has none")
            found = locate_clip(settings.clip_model, settings.clip_pretrained)
            extra = dict(found.extra)
            pretrained = extra.pop("pretrained", None)
            extra.pop("checkpoint", None)
            model, _, preprocess = open_clip.create_model_and_transforms(
                found.source, pretrained=pretrained, device=hub.device, **extra)
            model.eval()
            self.clip = (model, preprocess, open_clip.get_tokenizer(found.source), hub.device)

    def warm(self, documents: list[str], images: list) -> None:
        self.encode(documents, images)

    def encode(self, documents: list[str], images: list) -> None:
        import torch
        from PIL import Image

        s = self.settings
        with torch.inference_mode():
            self.text.encode(documents, batch_size=s.text_batch_size, convert_to_numpy=True,
                             normalize_embeddings=True, show_progress_bar=False)
            if self.clip is None:
                return
            model, preprocess, tokenizer, device = self.clip
            paths = [p for p in images if p]
            for start in range(0, len(paths), s.image_batch_size):
                batch = []
                for path in paths[start:start + s.image_batch_size]:
                    with Image.open(path) as img:
                        img.draft("RGB", (448, 448))
                        batch.append(preprocess(img.convert("RGB")))
                model.encode_image(torch.stack(batch).to(device), normalize=True).cpu().numpy()
            for start in range(0, len(documents), s.image_batch_size):
                tokens = tokenizer(documents[start:start + s.image_batch_size]).to(device)
                model.encode_text(tokens, normalize=True).cpu().numpy()

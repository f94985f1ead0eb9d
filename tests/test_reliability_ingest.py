"""Ingest faults, done for real: a catalog made of real demo rows and their photos plus
every kind of bad input a user's catalog holds (damaged and fake pictures, a
decompression bomb, silent and truncated audio, missing files, duplicate ids, a 1 MB
description, lines in the wrong encoding, a CSV saved as Latin-1).

The media models are tiny random-weight ones loaded through the user's code path (a BLIP
folder, an open_clip folder, a whisper checkpoint), so the captioner, CLIP and whisper
really meet the broken files. Every fault must be reported with file, line and reason,
every good row must be in the index, and the CLI must end with a summary and exit
non-zero only with ``--strict``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from retrieval.fakes import FakeTextEncoder
from retrieval.ingest import ingest
from retrieval.media import WhisperTranscriber
from retrieval.models import ModelHub
from retrieval.settings import Settings
from retrieval.store import Store
from tests import faults

pytestmark = pytest.mark.model

# random weights never stop on their own: short greedy decoding (the real code path still runs)
FAST_WHISPER = {"sample_len": 8, "temperature": 0.0, "language": "en"}


@dataclass
class BadCatalog:
    """A catalog file and what ingesting it must give."""

    path: Path
    # ids that must end up in the index, and those of them whose picture is fine
    kept: set[str] = field(default_factory=set)
    with_image: set[str] = field(default_factory=set)
    # (line, field, severity, words the reason must contain) per fault
    faults: list[tuple[int, str | None, str, tuple[str, ...]]] = field(default_factory=list)
    # title of the first row with a duplicated id (the one that must win)
    first_title: dict[str, str] = field(default_factory=dict)


def build_bad_catalog(root: Path) -> BadCatalog:
    """Real demo rows: 12 good ones (photos), one with real speech, then one row per fault,
    each built from a real row and its real picture."""
    rows = faults.demo_rows()
    media = root / "media"
    media.mkdir(parents=True)
    lines: list = []
    cat = BadCatalog(root / "catalog.jsonl")

    def add(row, *, kept=True, image_ok=False, fault=None):
        lines.append(row)
        if kept:
            cat.kept.add(row["id"])
            if image_ok:
                cat.with_image.add(row["id"])
        if fault:
            cat.faults.append((len(lines), *fault))

    for row in rows[:12]:
        add(row, image_ok=True)
    row = dict(rows[12], audio=str(faults.speech_wav(media / "voice.wav", "sweet and juicy, for dessert")))
    add(row, image_ok=True)

    source = iter(rows[13:])

    def picture_fault(make, words):
        r = dict(next(source))
        r["image"] = str(make(Path(r["image"])))
        add(r, fault=("image", "warning", words))

    picture_fault(lambda src: faults.truncated_copy(src, media / "truncated.jpg"), ("truncated",))
    picture_fault(lambda src: faults.corrupt_jpeg(src, media / "corrupt.jpg"), ("cannot",))
    picture_fault(lambda src: faults.corrupt_png(src, media / "corrupt.png"), ("cannot",))
    picture_fault(lambda src: faults.text_file(media / "photo.jpg"), ("cannot",))
    picture_fault(lambda src: faults.decompression_bomb_png(media / "bomb.png"), ("pixels",))

    r = dict(next(source), audio=str(faults.silent_wav(media / "silence.wav")))
    add(r, image_ok=True, fault=("audio", "warning", ("silent",)))
    r = dict(next(source), audio=str(faults.truncated_wav(media / "voice.wav", media / "cut.wav")))
    add(r, image_ok=True, fault=("audio", "warning", ("transcribe",)))
    r = dict(next(source), image=str(media / "no-such-photo.jpg"))
    add(r, fault=("image", "warning", ("not found",)))
    r = dict(next(source), audio="sounds/no-such-voice.mp3")
    add(r, image_ok=True, fault=("audio", "warning", ("not found",)))

    # a second row with the id of the first one: the first wins, the second is reported
    cat.first_title[rows[0]["id"]] = rows[0]["title"]
    add(dict(next(source), id=rows[0]["id"]), kept=False, fault=("id", "error", ("duplicate",)))

    # a 1 MB description made of the row's own text: kept, cut, with a warning
    r = dict(next(source))
    r["description"] = (r["description"] + " ") * (1_000_000 // (len(r["description"]) + 1) + 1)
    assert len(r["description"]) >= 1_000_000
    add(r, image_ok=True, fault=("description", "warning", ("characters",)))

    # one line saved as Latin-1 by some other tool ("Mjölk" is a real title of the demo)
    latin = next(r for r in rows if any(ch in r["title"] for ch in "åäöÅÄÖ"))
    bad = dict(latin, id=latin["id"] + "-latin1")
    add(json.dumps(bad, ensure_ascii=False).encode("latin-1"), kept=False,
        fault=(None, "error", ("UTF-8",)))
    # valid JSON whose \ud800 escape is no character at all (a lone surrogate)
    r = dict(next(source))
    add(json.dumps(dict(r, title=r["title"] + " \ud800")), kept=False, fault=(None, "error", ("character",)))
    # a line cut in the middle (a crashed exporter)
    add(json.dumps(dict(next(source)))[:60], kept=False, fault=(None, "error", ("JSON",)))

    for r in list(source)[:6]:  # good rows after the faults: nothing stops at a bad one
        add(r, image_ok=True)
    faults.write_jsonl(cat.path, lines)
    return cat


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> BadCatalog:
    return build_bad_catalog(tmp_path_factory.mktemp("bad-catalog"))


def _media_settings(data_dir: Path, blip: Path, clip: Path, whisper: Path, **extra) -> Settings:
    return Settings.load(env={}, data_dir=str(data_dir), caption_model=str(blip), clip_model=str(clip),
                         clip_pretrained="", whisper_model=str(whisper), enable_llm=False, **extra)


class SeeingCaptioner:
    """The real (tiny) BLIP captioner, recording how many pictures it was shown."""

    def __init__(self, inner):
        self.inner, self.model_id, self.seen = inner, inner.model_id, 0

    def caption(self, images):
        self.seen += len(images)
        return self.inner.caption(images)


def _check_problems(report, cat: BadCatalog) -> None:
    got = {(p.line, p.field): p for p in report.problems}
    for line, fld, severity, words in cat.faults:
        p = got.get((line, fld))
        assert p is not None, f"fault on line {line} [{fld}] not reported; got {[str(x) for x in report.problems]}"
        assert p.file == str(cat.path) and p.severity == severity, str(p)
        assert all(w.lower() in p.reason.lower() for w in words), f"line {line}: {p.reason!r} lacks {words}"
    # nothing but the faults is reported
    assert len(report.problems) == len(cat.faults), [str(p) for p in report.problems]


def test_every_fault_is_reported_and_every_good_row_ingested(bad, tmp_path, tiny_blip_dir, tiny_clip_dir,
                                                             tiny_whisper_path):
    settings = _media_settings(tmp_path / "data", tiny_blip_dir, tiny_clip_dir, tiny_whisper_path)
    real = ModelHub(settings)
    captioner = SeeingCaptioner(real.captioner())
    whisper = WhisperTranscriber(str(tiny_whisper_path), "cpu", **FAST_WHISPER)
    hub = ModelHub(settings, overrides={"text": FakeTextEncoder(), "caption": captioner, "whisper": whisper})

    report = ingest(settings, bad.path, hub=hub, progress=False)

    _check_problems(report, bad)
    assert report.items_total == report.added == len(bad.kept)
    assert report.skipped == 4  # the duplicate, the Latin-1 line, the lone surrogate, the cut line
    # the captioner really ran over the catalog's pictures (the broken ones are refused
    # while decoding, before the model): one caption per good picture, nothing more
    assert captioner.seen == len(bad.with_image)

    store = Store(settings)
    docs = store.get(sorted(bad.kept))
    assert set(docs) == bad.kept and store.count("docs") == len(bad.kept)
    assert {i for i, _, _ in store.iter_records("images")} == bad.with_image
    assert {i for i, _, _ in store.iter_records("docs_clip")} == bad.kept
    for item_id, title in bad.first_title.items():
        assert docs[item_id][0]["title"] == title
    # a row whose picture broke is kept by its text and points at no picture
    broken = bad.kept - bad.with_image
    assert broken and all(docs[i][0]["image"] == "" for i in broken)
    # captions of the good pictures are in the documents; the 1 MB description was cut
    assert all("Picture:" in docs[i][1] for i in bad.with_image)
    assert max(len(d) for _, d in docs.values()) < 110_000
    # the voice message was transcribed, the silent and cut ones were not
    voiced = [d for _, d in docs.values() if "Audio:" in d]
    assert len(voiced) == 1

    # a second run reports the same faults and writes nothing
    again = ingest(settings, bad.path, hub=hub, progress=False)
    assert again.added == again.updated == 0 and again.unchanged == len(bad.kept)
    _check_problems(again, bad)


def _env(settings_dir: Path, data: Path, blip: Path, clip: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATREC_")}
    env.update(CHATREC_DATA_DIR=str(data), CHATREC_CAPTION_MODEL=str(blip), CHATREC_CLIP_MODEL=str(clip),
               CHATREC_CLIP_PRETRAINED="", CHATREC_ENABLE_TRANSCRIPTS="false", CHATREC_ENABLE_LLM="false",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(faults.REPO))
    return env


def test_cli_summarises_and_fails_only_with_strict(bad, tmp_path, tiny_blip_dir, tiny_clip_dir,
                                                   monkeypatch, capsys):
    from retrieval.__main__ import main

    data = tmp_path / "data"
    env = _env(tmp_path, data, tiny_blip_dir, tiny_clip_dir)
    for key in [k for k in os.environ if k.startswith("CHATREC_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("CHATREC_"):
            monkeypatch.setenv(key, value)
    report_file = tmp_path / "report.json"

    # without --strict: exit 0, a summary, every problem with file:line
    assert main(["ingest", str(bad.path), "-q", "--report", str(report_file)]) == 0
    out = capsys.readouterr().out
    assert f"{len(bad.kept)} items indexed: {len(bad.kept)} added" in out
    assert "4 rows skipped" in out
    audio_faults = {(line, fld) for line, fld, *_ in bad.faults if fld == "audio" and line}
    expected = [f for f in bad.faults if (f[0], f[1]) not in audio_faults or "not found" in f[3]]
    for line, _fld, severity, _ in expected:
        assert f"{bad.path}:{line}" in out and severity in out
    written = json.loads(report_file.read_text(encoding="utf-8"))
    assert {(p["line"], p["field"]) for p in written["problems"]} == {(f[0], f[1]) for f in expected}

    # with --strict: the same summary and exit code 1 (test_cli.py runs --strict in a real
    # process; here the same main() saves a second start-up of torch and the models)
    assert main(["ingest", str(bad.path), "-q", "--strict"]) == 1
    out, err = capsys.readouterr()
    assert f"{len(bad.kept)} unchanged" in out and "--strict" in err
    assert all(f"{bad.path}:{line}" in out for line, *_ in expected)

    # a clean catalog with --strict exits 0
    clean = faults.write_jsonl(tmp_path / "clean.jsonl", faults.demo_rows(5))
    assert main(["ingest", str(clean), "-q", "--strict", "--index", "clean"]) == 0


def test_latin1_csv_reports_its_bad_rows_and_ingests_the_rest(tmp_path):
    rows = faults.demo_rows()
    accented = [r for r in rows if any(ord(ch) > 127 for ch in r["title"] + r.get("description", ""))]
    plain = [r for r in rows if r not in accented][:10]
    assert accented, "the demo catalog has Swedish product names"
    mixed = plain[:5] + accented[:3] + plain[5:]
    path = faults.write_csv(tmp_path / "catalog.csv", mixed, encoding="latin-1")
    settings = Settings.load(env={}, data_dir=str(tmp_path / "data"), enable_clip=False,
                             enable_captions=False, enable_transcripts=False)
    hub = ModelHub(settings, overrides={"text": FakeTextEncoder()})

    report = ingest(settings, path, hub=hub, progress=False)

    bad_lines = {p.line for p in report.problems if p.severity == "error"}
    assert bad_lines == {7, 8, 9}  # header is line 1: rows 6..8 of the data are the accented ones
    for p in report.problems:
        assert p.file == str(path) and "UTF-8" in p.reason and "0x" in p.reason
    assert {i for i, _, _ in Store(settings).iter_records("docs")} == {r["id"] for r in plain}
    assert report.skipped == 3

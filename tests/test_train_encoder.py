"""Fine-tuning the text encoder on logged conversations (``retrieval/train_encoder.py``):
on a slice of real ReDial dialogues and real movie documents, with a tiny random-weight
sentence-transformers model (fast) and the real MiniLM (slow). The loss falls, the saved
model loads through the normal path, and the index refuses it until it is re-indexed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retrieval.__main__ import main as cli
from retrieval.catalog import read_catalog
from retrieval.dialogues import DialogueIndex, read_conversations
from retrieval.errors import IndexMismatch
from retrieval.index import CatalogIndex
from retrieval.ingest import build_document
from retrieval.models import ModelHub
from retrieval.settings import Settings
from retrieval.train_encoder import (
    ENCODER_RECORD,
    TrainOptions,
    fine_tune,
    mean_loss,
    train,
    training_pairs,
)
from tests.movie_slice import dialogue_split

pytestmark = pytest.mark.model

N_DIALOGUES = 40


@pytest.fixture(scope="module")
def slice_files(shared_datasets, tmp_path_factory):
    root = tmp_path_factory.mktemp("train_encoder")
    dialogues, held_out, catalog = dialogue_split(root, shared_datasets / "redial", N_DIALOGUES, 20, others=60)
    return root, dialogues, held_out, catalog


@pytest.fixture(scope="module")
def documents(slice_files):
    _, _, _, catalog = slice_files
    return {item.id: build_document(item) for item in read_catalog(catalog).items}


def _encoder(path):
    from retrieval.encoders import SentenceTextEncoder

    return SentenceTextEncoder(str(path), "cpu", 16, model_id=str(path))


def test_training_lowers_the_loss(tiny_text_dir, slice_files, documents):
    _, dialogues, _, _ = slice_files
    turns = read_conversations(dialogues)
    # hard negatives: a fixed ranking of other movies for each context
    others = sorted(documents)
    candidates = {i: others[i % 7::7][:40] for i in range(len(turns))}
    pairs = training_pairs(turns, documents, candidates)
    assert len(pairs) == sum(t in documents for turn in turns for t in turn.targets) > 50
    assert all(p.item not in {h for h, _ in p.hard} and not set(p.suggested) & {h for h, _ in p.hard}
               for p in pairs)
    base = _encoder(tiny_text_dir)
    before = mean_loss(base._model, pairs)
    # a random-weight model: every layer learns (layers=0)
    tuned, losses = fine_tune(base, pairs, TrainOptions(epochs=3, layers=0, batch_size=16, lr=5e-3),
                              progress=False, model_id="tiny+tuned")
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.5
    assert mean_loss(tuned._model, pairs) < before - 0.5
    assert tuned.model_id == "tiny+tuned" and base.model_id == str(tiny_text_dir)
    # the base is untouched
    assert mean_loss(base._model, pairs) == pytest.approx(before)


def test_only_the_top_layers_learn(tiny_text_dir, slice_files, documents):
    _, dialogues, _, _ = slice_files
    pairs = training_pairs(read_conversations(dialogues), documents)
    base = _encoder(tiny_text_dir)
    tuned, _ = fine_tune(base, pairs, TrainOptions(epochs=1, layers=1, batch_size=16, lr=5e-3), progress=False)
    old, new = base._model.state_dict(), tuned._model.state_dict()
    changed = {k for k in old if not np.allclose(old[k].numpy(), new[k].numpy())}
    # the tiny BERT has layers 0 and 1: embeddings and layer 0 stay as they were
    assert changed and all(".layer.1." in k for k in changed)
    assert any(".layer.1.attention" in k for k in changed)
    # every parameter can learn again afterwards (nothing left frozen in the copy)
    assert all(p.requires_grad for p in tuned._model.parameters())


def test_train_needs_two_pairs(tiny_text_dir, slice_files, documents):
    _, dialogues, _, _ = slice_files
    pairs = training_pairs(read_conversations(dialogues)[:1], documents)[:1]
    with pytest.raises(ValueError, match="at least 2"):
        train(_encoder(tiny_text_dir)._model, pairs, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        TrainOptions(batch_size=1)


def test_cli_trains_saves_and_the_index_refuses_it_until_reindexed(tiny_text_dir, slice_files, tmp_path,
                                                                   monkeypatch, capsys):
    _, dialogues, _, catalog = slice_files
    for key in [k for k in __import__("os").environ if k.startswith("CHATREC_")]:
        monkeypatch.delenv(key)
    data = tmp_path / "data"
    monkeypatch.setenv("CHATREC_TEXT_MODEL", str(tiny_text_dir))
    monkeypatch.setenv("CHATREC_ENABLE_CLIP", "false")
    monkeypatch.setenv("CHATREC_ENABLE_CAPTIONS", "false")
    assert cli(["--data-dir", str(data), "-q", "ingest", str(catalog), "--conversations", str(dialogues)]) == 0
    assert cli(["--data-dir", str(data), "-q", "train-encoder", "--conversations", str(dialogues),
                "--epochs", "2", "--layers", "0", "--batch-size", "16", "--lr", "5e-3"]) == 0
    out = capsys.readouterr().out
    settings = Settings.load(data_dir=str(data))
    record = json.loads((settings.index_dir / ENCODER_RECORD).read_text())
    path = record["path"]
    assert f"saved {path}" in out and "--reindex" in out
    assert record["base"] == str(tiny_text_dir) and record["turns"] == len(read_conversations(dialogues))
    assert record["losses"][-1] < record["losses"][0]
    # the saved model loads through the normal path (the hub), and is not the base
    tuned_settings = settings.replace(text_model=path)
    tuned = ModelHub(tuned_settings).text_encoder()
    base = ModelHub(settings).text_encoder()
    assert tuned.model_id == path
    probe = ["a scary movie for halloween", "something funny with my kids"]
    assert not np.allclose(tuned.encode(probe), base.encode(probe), atol=1e-4)
    # it lowers the loss it was trained on, as loaded from disk
    docs = {i: build_document(i_) for i, i_ in ((x.id, x) for x in read_catalog(catalog).items)}
    pairs = training_pairs(read_conversations(dialogues), docs)
    assert mean_loss(tuned._model, pairs) < mean_loss(base._model, pairs)
    # the index was built by the base model: it refuses the tuned one until re-indexed
    with pytest.raises(IndexMismatch, match="reindex"):
        CatalogIndex.open(tuned_settings)
    monkeypatch.setenv("CHATREC_TEXT_MODEL", path)
    assert cli(["--data-dir", str(data), "-q", "ingest", str(catalog), "--reindex"]) == 0
    index = CatalogIndex.open(tuned_settings)
    assert index.text_encoder().model_id == path
    # the conversation log followed the model (re-encoded by the re-index)
    log = DialogueIndex.load(settings.index_dir)
    assert log.model_id == path and index.dialogue_index() is not None
    assert np.allclose(log.vectors[:2], tuned.encode([t.text for t in log.turns[:2]]), atol=1e-5)


@pytest.mark.slow
def test_real_minilm_learns_what_held_out_conversations_ask_for(slice_files, documents):
    """With the real MiniLM: trained on 40 dialogues, the in-batch loss of 20 other
    dialogues' (context, suggested movie) pairs falls."""
    from retrieval.models import resolve_text_model

    _, dialogues, held_out, _ = slice_files
    base = _encoder(resolve_text_model("sentence-transformers/all-MiniLM-L6-v2"))
    train_pairs = training_pairs(read_conversations(dialogues), documents)
    test_pairs = training_pairs(read_conversations(held_out), documents)
    before = mean_loss(base._model, test_pairs)
    tuned, losses = fine_tune(base, train_pairs, TrainOptions(epochs=2, layers=2, batch_size=16),
                              progress=False)
    assert losses[-1] < losses[0]
    assert mean_loss(tuned._model, test_pairs) < before

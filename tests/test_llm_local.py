"""The local transformers backend on a tiny random-weight Qwen2 (real code path, no download)."""

from __future__ import annotations

import math

import pytest

from assistant.llm.local import TransformersLLM
from assistant.llm_tasks import LABELS
from retrieval.errors import ModelUnavailable

pytestmark = pytest.mark.model

MESSAGES = [{"role": "system", "content": "You recommend groceries."},
            {"role": "user", "content": "Something sweet and juicy, like an apple?"}]


@pytest.fixture(scope="module")
def llm(tiny_llm_path):
    return TransformersLLM(str(tiny_llm_path), device="cpu", quantization="none")


def test_generate_is_deterministic_text(llm):
    a = llm.generate(MESSAGES, max_new_tokens=8)
    b = llm.generate(MESSAGES, max_new_tokens=8)
    assert isinstance(a, str) and a == b  # greedy decoding


def test_stream_yields_the_same_text_as_generate(llm):
    pieces = list(llm.stream(MESSAGES, max_new_tokens=8))
    assert "".join(pieces) == llm.generate(MESSAGES, max_new_tokens=8)


def test_stream_cuts_at_a_stop_string(llm):
    full = llm.generate(MESSAGES, max_new_tokens=12)
    if len(full) < 4:
        pytest.skip("the random model ended too early to test a stop string")
    stop = full[2:4]
    cut = "".join(llm.stream(MESSAGES, max_new_tokens=12, stop=[stop]))
    assert cut == full[: full.find(stop)]


def test_score_labels_gives_a_distribution_over_all_labels(llm):
    labels = list(LABELS[:30])
    probs = llm.score_labels(MESSAGES, labels)
    assert list(probs) == labels
    assert math.isclose(sum(probs.values()), 1.0, rel_tol=1e-5)
    assert all(p > 0 for p in probs.values())
    # the same forward pass gives the same numbers
    assert probs == llm.score_labels(MESSAGES, labels)


def test_score_labels_matches_the_models_own_next_token_logits(llm):
    import torch

    labels = ["A", "B", "C"]
    probs = llm.score_labels(MESSAGES, labels)
    text = llm.tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    ids = llm.tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        logits = llm.model(**ids).logits[0, -1]
    toks = [llm.tokenizer.convert_tokens_to_ids(lab) for lab in labels]
    expected = torch.softmax(logits[toks], -1).tolist()
    assert [round(probs[lab], 5) for lab in labels] == [round(p, 5) for p in expected]


def test_label_token_is_the_one_the_template_produces_after_the_assistant_prefix(llm):
    # ChatML ends the prefix with a newline, so the label is "A", not the "ĠA" (" A") variant
    tok = llm.tokenizer
    assert llm.label_token("A") == tok.convert_tokens_to_ids("A")
    assert llm.label_token("A") != tok.convert_tokens_to_ids("\u0120A")


def test_label_token_follows_a_template_that_ends_with_a_space(tiny_llm_path, tmp_path):
    import shutil

    from transformers import AutoTokenizer

    folder = tmp_path / "spaced"
    shutil.copytree(tiny_llm_path, folder)
    tok = AutoTokenizer.from_pretrained(folder)
    tok.chat_template = tok.chat_template.replace("'<|im_start|>assistant\n'", "'<|im_start|>assistant: '")
    tok.save_pretrained(folder)
    spaced = TransformersLLM(str(folder), device="cpu")
    prefix = tok.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False, add_generation_prompt=True)
    assert prefix.endswith(": ")
    full = tok(prefix + "A", add_special_tokens=False)["input_ids"]
    assert spaced.label_token("A") == full[-1]
    assert sum(spaced.score_labels(MESSAGES, ["A", "B"]).values()) == pytest.approx(1.0)


def test_missing_model_raises_model_unavailable_naming_it_and_prefetch(tmp_path):
    with pytest.raises(ModelUnavailable) as e:
        TransformersLLM(str(tmp_path / "no-such-model"), device="cpu")
    assert "no-such-model" in str(e.value) and "python -m retrieval prefetch" in str(e.value)
    assert e.value.role == "llm"


def test_four_bit_nf4_loading_on_cpu(tiny_llm_path):
    # bitsandbytes >= 0.45 has CPU kernels for 4-bit; slow on big models, fine on this one
    pytest.importorskip("bitsandbytes")
    import bitsandbytes as bnb

    q = TransformersLLM(str(tiny_llm_path), device="cpu", quantization="4bit")
    layers = [m for m in q.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers, "no layer was quantized"
    assert layers[0].weight.quant_type == "nf4"
    probs = q.score_labels(MESSAGES, ["A", "B", "C", "D"])
    assert sum(probs.values()) == pytest.approx(1.0, rel=1e-4)
    assert isinstance(q.generate(MESSAGES, max_new_tokens=4), str)
    assert isinstance("".join(q.stream(MESSAGES, max_new_tokens=4)), str)


def test_from_settings_applies_quantization_only_on_cuda(tiny_llm_path, settings):
    s = settings.replace(llm_model=str(tiny_llm_path), device="cpu", llm_quantization="4bit")
    llm = TransformersLLM.from_settings(s)
    assert llm.quantization == "none" and llm.device == "cpu"


def test_a_chat_turn_through_the_real_transformers_path(tiny_llm_path, settings, grocery_index):
    from assistant import Recommender

    s = settings.replace(llm_model=str(tiny_llm_path), device="cpu", candidate_count=12, top_k=3,
                         llm_max_new_tokens=12)
    rec = Recommender.from_settings(s, index=grocery_index, hub=None)
    reply = rec.chat().send("something sweet, not Granny Smith")
    assert reply.mode == "llm" and rec.status()["llm"]["state"] == "loaded"
    returned = {c.id for c in grocery_index.search(grocery_index.queries[-1])}
    assert len(reply.items) == 3 and {r.id for r in reply.items} <= returned
    probs = [r.score for r in reply.items]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0
    assert all(r.reason for r in reply.items)

"""A tiny random-weight chat model saved like a real one, for tests and benchmarks.

A byte-level BPE tokenizer is trained in about a second on the given texts and saved with
a ChatML chat template (the one Qwen instruct models ship); the model is a two-layer
Qwen2 built from a config. Loading it goes through the same ``AutoTokenizer`` /
``AutoModelForCausalLM`` code as any hub model, so everything but the weights is real.
Nothing is downloaded.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path

# ChatML; the generation prompt ends with a newline, so a label after it is "A", not " A"
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(texts: Iterable[str], folder: str | Path, vocab_size: int = 600):
    """Train and save a byte-level BPE tokenizer with a chat template; return it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    letters = " ".join(string.ascii_letters)  # every label letter is a token of its own
    tok.train_from_iterator(list(texts) + [letters], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", bos_token=None)
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    return fast


def build_tiny_chat_model(folder: str | Path, texts: Iterable[str], seed: int = 0,
                          hidden_size: int = 64, layers: int = 2, vocab_size: int = 600) -> Path:
    """Save a random-weight Qwen2 chat model and its tokenizer to ``folder``; return it."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(texts, folder, vocab_size)
    torch.manual_seed(seed)
    # 64-wide layers: the smallest that bitsandbytes' 4-bit blocks (64 values) pack cleanly
    config = Qwen2Config(vocab_size=len(tok), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=32768, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(folder)
    return folder

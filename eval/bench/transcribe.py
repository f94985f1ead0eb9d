"""``python -m eval bench transcribe``: the speech model on real speech.

Sentences a shopper or a movie fan would say, naming the demo catalog's words, are spoken
by espeak-ng (the text is known), and the configured transcriber (by default
faster-whisper's tiny.en, bundled offline) writes them down. Reported, per sentence and
overall: the word error rate, and the time of each stage against the audio's length
(real-time factor, RTF = seconds of work / seconds of audio):

- ``decode``: the WAV file to 16 kHz mono samples (PyAV, as the transcriber does);
- ``features``: the log-mel spectrogram (faster-whisper's feature extractor, alone);
- ``transcribe``: the project's transcriber on the samples (features, voice-activity
  filter, encoder, beam search);
- ``bare``: faster-whisper's own ``WhisperModel.transcribe`` on the same samples with the
  same options, in the same run, taking turns with the project's call: the overhead of the
  wrapper is the ratio of the two.

    python -m eval bench transcribe [--sentences 24] [--rounds 2] [--voice en-us] [--wpm 130]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from . import common

# what the speech figures are measured on: catalog words in requests people make
SENTENCES = (
    "I would like some sweet yellow apples",
    "Do you have a ripe mango for a smoothie",
    "Something with ginger and garlic for a soup",
    "I am looking for fresh orange juice without pulp",
    "Can you find a green bell pepper",
    "I want a red grapefruit",
    "Show me oat milk that is lactose free",
    "A vanilla yoghurt for breakfast please",
    "I need potatoes for mashed potatoes",
    "Do you sell sweet potatoes",
    "I would like a juicy peach or a nectarine",
    "Some vegetables for a salad with cucumber and tomato",
    "Any soy yoghurt with blueberry",
    "I am vegan so no milk please",
    "Find me a watermelon for the summer",
    "I want something sour like a lemon or a lime",
    "Do you have an avocado",
    "I would like some carrots and a leek",
    "Give me a pineapple and a papaya",
    "Show me the organic sour cream",
    "I love comedies from the nineties",
    "A scary horror movie for tonight",
    "Something like the movie Titanic",
    "I want an animated film for my kids",
)
COLUMNS = [("sentence", "sentence"), ("audio_s", "audio s"), ("wer", "WER"),
           ("decode_rtf", "decode RTF"), ("features_rtf", "features RTF"),
           ("transcribe_rtf", "transcribe RTF"), ("bare_rtf", "bare RTF"), ("heard", "heard")]


# espeak-ng's voice and words per minute for the figures: a clear, unhurried dictation pace.
# The synthetic voice moves the error rate (tiny.en, 24 sentences: en-us 0.131 at 130 wpm,
# 0.161 at 150; en-us+m3 0.119-0.143; en 0.173-0.262; en-gb-x-rp 0.19-0.20), so reports
# name it
VOICE = "en-us"
WPM = 130


def _significant(x: float) -> float:
    """Three significant digits: a stage as cheap as feature extraction must not round to 0 on a fast machine."""
    return float(f"{x:.3g}")


def speak(text: str, path: Path, voice: str = VOICE, speed: int = WPM) -> Path:
    """A WAV file of ``text`` spoken by espeak-ng (22.05 kHz mono, as espeak writes it)."""
    from retrieval.video_demo import speak as espeak

    return espeak(text, path, voice, speed, purpose="the speech figures, measured on sentences it speaks")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sentences", type=int, default=len(SENTENCES),
                        help=f"how many of the {len(SENTENCES)} sentences (default all)")
    parser.add_argument("--rounds", type=int, default=2, help="timed runs per sentence (median kept)")
    parser.add_argument("--voice", default=VOICE, help=f"espeak-ng voice (default {VOICE})")
    parser.add_argument("--wpm", type=int, default=WPM, help=f"words per minute (default {WPM})")
    parser.add_argument("--settings", metavar="PATH", help="TOML settings (speech_backend, faster_whisper_model ...)")
    parser.add_argument("--out", default=common.DEFAULT_OUT, help="folder for transcribe.json and transcribe.md")
    parser.add_argument("-q", "--quiet", action="store_true")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The figures: one row per sentence plus the totals (see the module doc)."""
    import statistics

    from faster_whisper.feature_extractor import FeatureExtractor

    from eval.metrics import word_error_rate
    from retrieval.media import SAMPLE_RATE, FasterWhisperTranscriber
    from retrieval.models import ModelHub
    from retrieval.settings import Settings

    settings = Settings.load(args.settings)
    if settings.speech_backend == "auto":  # what would run without openai-whisper's checkpoint
        settings = settings.replace(speech_backend="faster-whisper")
    hub = ModelHub(settings)
    load_s, transcriber = common.timed(hub.transcriber)
    if not isinstance(transcriber, FasterWhisperTranscriber):
        raise ValueError(f"bench transcribe measures faster-whisper; the settings pick {transcriber!r} "
                         "(set speech_backend = \"faster-whisper\")")
    bare_model = transcriber._model  # the same weights, called directly
    features = FeatureExtractor()
    opts = {"beam_size": 5, "condition_on_previous_text": False, "language": "en"
            if not transcriber.multilingual else None}
    sentences = SENTENCES[: max(1, min(args.sentences, len(SENTENCES)))]
    rows, refs, hyps = [], [], []
    totals = {"audio": 0.0, "decode": 0.0, "features": 0.0, "transcribe": 0.0, "bare": 0.0,
              "transcribe_cpu": 0.0}
    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        for i, sentence in enumerate(sentences):
            wav = speak(sentence, Path(tmp) / f"s{i}.wav", args.voice, args.wpm)
            times: dict[str, list[float]] = {k: [] for k in ("decode", "features", "transcribe", "bare",
                                                             "transcribe_cpu")}
            heard = ""
            for r in range(max(1, args.rounds)):
                t, samples = common.timed(transcriber.samples, wav)
                times["decode"].append(t)
                times["features"].append(common.timed(features, samples)[0])
                # alternate which goes first, so a busy moment does not favour one side
                order = ("transcribe", "bare") if r % 2 == 0 else ("bare", "transcribe")
                for side in order:
                    if side == "transcribe":
                        # CPU time too: on a machine shared with other work it moves far
                        # less than wall time
                        t, cpu, heard = common.measured(transcriber.transcribe, samples)
                        times["transcribe_cpu"].append(cpu)
                    else:
                        def bare(x=samples):
                            segments, _ = bare_model.transcribe(x, vad_filter=transcriber.vad, **opts)
                            return " ".join(s.text.strip() for s in segments)
                        t, _ = common.timed(bare)
                    times[side].append(t)
            audio_s = len(samples) / SAMPLE_RATE
            med = {k: statistics.median(v) for k, v in times.items()}
            totals["audio"] += audio_s
            for k, v in med.items():
                totals[k] += v
            refs.append(sentence)
            hyps.append(heard)
            rows.append({"sentence": sentence, "audio_s": round(audio_s, 2),
                         "wer": round(word_error_rate([sentence], [heard]), 3),
                         **{f"{k}_rtf": _significant(v / audio_s) for k, v in med.items() if k != "transcribe_cpu"},
                         "heard": heard})
            common.say(f"{i + 1}/{len(sentences)} {sentence!r} -> {heard!r}", args.quiet)
    audio = totals["audio"]
    overall = {"sentences": len(sentences), "audio_seconds": round(audio, 1),
               "wer": round(word_error_rate(refs, hyps), 4),
               "rtf_decode": _significant(totals["decode"] / audio),
               "rtf_features": _significant(totals["features"] / audio),
               "rtf_transcribe": _significant(totals["transcribe"] / audio),
               "rtf_bare": _significant(totals["bare"] / audio),
               "rtf_total": round((totals["decode"] + totals["transcribe"]) / audio, 3),
               "cpu_seconds_per_audio_second": round(totals["transcribe_cpu"] / audio, 3),
               "load_average": [round(x, 1) for x in os.getloadavg()],
               "wrapper_over_bare": round(totals["transcribe"] / totals["bare"], 3) if totals["bare"] else None,
               "load_seconds": round(load_s, 2), "model": transcriber.model_id,
               "device": transcriber.device, "compute_type": transcriber.compute_type,
               "vad": transcriber.vad, "voice": f"espeak-ng {args.voice}, {args.wpm} wpm"}
    return {"rows": rows, "overall": overall}


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    parser = argparse.ArgumentParser(prog="python -m eval bench transcribe",
                                     description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    result = common.new_result("transcribe", argv, {k: v for k, v in vars(args).items() if k != "out"})
    figures = run(args)
    o = figures["overall"]
    result["rows"] = figures["rows"] + [{
        "sentence": f"all {o['sentences']} sentences", "audio_s": o["audio_seconds"], "wer": o["wer"],
        "decode_rtf": o["rtf_decode"], "features_rtf": o["rtf_features"],
        "transcribe_rtf": o["rtf_transcribe"], "bare_rtf": o["rtf_bare"], "heard": ""}]
    result["overall"] = o
    result["notes"] += [
        f"model {o['model']} on {o['device']} ({o['compute_type']}), voice-activity filter "
        f"{'on' if o['vad'] else 'off'}, loaded in {o['load_seconds']} s",
        f"word error rate over all sentences: {o['wer']} ({o['voice']}; text known)",
        f"real-time factor, decode + transcribe: {o['rtf_total']} (decode {o['rtf_decode']}, "
        f"features alone {o['rtf_features']}, transcribe {o['rtf_transcribe']}); bare faster-whisper "
        f"{o['rtf_bare']} in the same run (project / bare = {o['wrapper_over_bare']})",
        f"CPU time of transcription per second of audio: {o['cpu_seconds_per_audio_second']} "
        f"(all threads); load average at the end {o['load_average']}",
    ]
    print(f"WER {o['wer']:.3f} over {o['sentences']} sentences ({o['audio_seconds']} s of speech); "
          f"RTF {o['rtf_total']:.3f} (decode {o['rtf_decode']:.3f}, features {o['rtf_features']:.2g}, "
          f"transcribe {o['rtf_transcribe']:.3f}, bare faster-whisper {o['rtf_bare']:.3f}); "
          f"CPU s per audio s {o['cpu_seconds_per_audio_second']:.3f}, load {o['load_average']}")
    paths = common.write_results(args.out, common.finish(result), COLUMNS)
    print(f"wrote {paths['json']} and {paths['markdown']}")
    return 0

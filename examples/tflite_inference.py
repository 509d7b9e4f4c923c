"""Standalone TFLite inference, as on a phone: numpy, soundfile, soxr and
ai-edge-litert only (no TensorFlow, no erann_tf).

The .tflite file holds the log-mel frontend, so its input is the waveform:
[1, N] float32 mono at 44.1 kHz, N the model's window. Long audio is cut into
windows every `hop` seconds plus one that ends at the last sample; short audio
is zero-padded to one window, as in training. The clip's scores are the mean
over its windows.

Run: python examples/tflite_inference.py MODEL.tflite AUDIO [--labels labels.txt] [--hop S]
"""

import argparse
import os
import pathlib
import sys

import numpy as np
import soundfile
import soxr
from ai_edge_litert.interpreter import Interpreter

SAMPLE_RATE = 44100


def load_mono(path):
    """Mono float32 at 44.1 kHz, resampled with soxr at high quality, as
    `erann predict` does (a cruder resampler changes the scores)."""
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return audio


def windows(audio, window, hop):
    """(start, end, samples) for each window, as `erann predict` cuts them."""
    if len(audio) <= window:
        yield 0, len(audio), np.pad(audio, (0, window - len(audio)))
        return
    starts = list(range(0, len(audio) - window + 1, hop))
    if starts[-1] + window < len(audio):
        starts.append(len(audio) - window)
    for start in starts:
        yield start, start + window, audio[start : start + window]


class quiet_stderr:
    """File descriptor 2 points at /dev/null inside the block."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("audio")
    parser.add_argument("--labels", help="labels.txt (default: beside the model)")
    parser.add_argument("--hop", type=float, help="seconds (default: half a window)")
    args = parser.parse_args(argv)

    with quiet_stderr():  # LiteRT's C++ announces its XNNPACK delegate on stderr
        interpreter = Interpreter(model_path=args.model)
        interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    window = int(inp["shape"][1])
    hop = int(args.hop * SAMPLE_RATE) if args.hop else window // 2
    labels_path = pathlib.Path(args.labels or pathlib.Path(args.model).parent / "labels.txt")
    labels = labels_path.read_text().split("\n")[:-1] if labels_path.exists() else None

    scores = []
    for start, end, samples in windows(load_mono(args.audio), window, hop):
        interpreter.set_tensor(inp["index"], samples[None].astype(np.float32))
        interpreter.invoke()
        scores.append(interpreter.get_tensor(out["index"])[0].copy())
        best = int(scores[-1].argmax())
        name = labels[best] if labels else best
        print(
            f"{start / SAMPLE_RATE:7.2f}-{end / SAMPLE_RATE:.2f} s  {name} {scores[-1][best]:.3f}"
        )
    clip = np.mean(scores, axis=0)
    for index in np.argsort(-clip)[:3]:
        print(f"clip: {labels[index] if labels else index} {clip[index]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Parity: does an exported model compute what the Keras model computes?

Each export is run on the same real-clip windows as the Keras model and
judged by its bound: float32 formats by the largest score difference (1e-4),
float16 by the same at 1e-2, and the two 8-bit formats (dynamic-range: int8
weights; full int8) by top-1 agreement (at least 95% of clips): 8-bit weights
move a confident score by a few hundredths without changing the answer
(docs/deploy.md).
"""

import dataclasses

import numpy as np
import tqdm

from erann_tf.data.audio import load_audio
from erann_tf.data.clips import find_audio_files

BOUNDS = {
    "savedmodel": ("max_abs_diff", 1e-4),
    "none": ("max_abs_diff", 1e-4),
    "float16": ("max_abs_diff", 1e-2),
    "dynamic": ("top1_agreement", 0.95),
    "int8": ("top1_agreement", 0.95),
}


@dataclasses.dataclass(frozen=True)
class Parity:
    """One export against the Keras model on `clips` windows."""

    export: str  # "savedmodel" or a TFLite quantization
    clips: int
    max_abs_diff: float
    top1_agreement: float

    @property
    def measure(self):
        return BOUNDS[self.export][0]

    @property
    def bound(self):
        return BOUNDS[self.export][1]

    @property
    def passed(self):
        value = getattr(self, self.measure)
        return value <= self.bound if self.measure == "max_abs_diff" else value >= self.bound

    def line(self):
        verdict = "ok" if self.passed else "FAILED"
        sign = "<=" if self.measure == "max_abs_diff" else ">="
        return (
            f"{self.export:<11} {self.clips:>5} {self.max_abs_diff:>13.2e} "
            f"{self.top1_agreement:>7.1%}   {self.measure} {sign} {self.bound:g}: {verdict}"
        )


HEADER = f"{'export':<11} {'clips':>5} {'max |diff|':>13} {'top-1':>7}   bound"


def compare(export, reference, scores):
    """Parity of `scores` against the Keras model's `reference` ([clips, classes]).

    Example:
    >>> compare("none", np.eye(3), np.eye(3) + 1e-5).passed
    True
    """
    reference, scores = np.asarray(reference), np.asarray(scores)
    return Parity(
        export,
        len(reference),
        float(np.abs(reference - scores).max()),
        float((reference.argmax(-1) == scores.argmax(-1)).mean()),
    )


def clip_windows(folder, window, sample_rate, limit=64):
    """The first `window` samples of up to `limit` audio files spread over
    `folder` (zero-padded as training pads short clips), as [n, window]."""
    files = find_audio_files(folder)
    spread = np.unique(np.linspace(0, len(files) - 1, min(limit, len(files))).astype(int))
    picked = tqdm.tqdm([files[i] for i in spread], desc="reading clips", unit="clip", leave=False)
    seconds = window / sample_rate  # the first window is all that is read
    return np.stack(
        [first_window(load_audio(f, sample_rate, max_seconds=seconds), window) for f in picked]
    )


def first_window(waveform, window):
    waveform = waveform[:window]
    return np.pad(waveform, (0, window - len(waveform))).astype(np.float32)

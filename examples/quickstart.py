"""Build an ERANN, count its cost, and run it on a synthesised chirp.

Run: python examples/quickstart.py
"""

import numpy as np

from erann_tf import ERANN, complexity, paper_results


def chirp(seconds=3.0, sample_rate=44100):
    """A linear chirp from 200 Hz to 8 kHz: example audio made here, not downloaded."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    phase = 2 * np.pi * (200 * t + (8000 - 200) / (2 * seconds) * t**2)
    return (0.3 * np.sin(phase)).astype("float32")


def main():
    model = ERANN.from_name("ERANN-4x2-3", num_classes=10, activation="softmax")
    cost = complexity(model.tm, model.width, num_classes=10, seconds=3.0)
    print(f"{model.name}: {cost.trainable_params:,} parameters, {cost.macs / 1e9:.2f} G MACs / 3 s")
    for result in paper_results("ERANN-4x2-3"):
        print(f"paper: {result.dataset} {result.training} {result.metric} {result.value}")
    scores = model.predict(chirp()[None], verbose=0)
    print("scores of the untrained model:", np.round(scores[0], 3).tolist())


if __name__ == "__main__":
    main()

"""Writes the example clips in examples/audio/: synthesised here, not recorded.

They imitate four ESC-10 categories (clock_tick, crying_baby, helicopter, rain);
the sounds are made by erann_tf.data.examples. 16-bit WAV at 22.05 kHz keeps
them small; `erann predict` resamples to 44.1 kHz as it does any file.

Run: python examples/make_audio.py [FOLDER]   (default: examples/audio)
"""

import pathlib
import sys

import soundfile

from erann_tf.data.examples import example_clips

RATE = 22050


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    folder = pathlib.Path(argv[0]) if argv else pathlib.Path(__file__).parent / "audio"
    folder.mkdir(exist_ok=True)
    for name, waveform in example_clips(sample_rate=RATE).items():
        path = folder / f"{name}.wav"
        soundfile.write(path, waveform, RATE, subtype="PCM_16")
        print(path)


if __name__ == "__main__":
    main()

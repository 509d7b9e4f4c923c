"""Example clips the package synthesises itself: no recording is bundled.

They imitate four ESC-10 categories closely enough to be heard as them, and
serve as the default parity clips of `erann export` and as the README's
`erann predict` input (examples/make_audio.py writes them to WAV files).
"""

import numpy as np

from erann_tf.data.audio import SAMPLE_RATE

SECONDS = 5.0


def example_clips(sample_rate=SAMPLE_RATE, seconds=SECONDS):
    """The example clips as {name: mono float32 waveform}, deterministic.

    Example:
    >>> clips = example_clips()
    >>> sorted(clips), clips["rain"].shape
    (['clock_tick', 'crying_baby', 'helicopter', 'rain'], (220500,))
    """
    makers = {
        "clock_tick": _clock_tick,
        "crying_baby": _crying_baby,
        "helicopter": _helicopter,
        "rain": _rain,
    }
    clips = {}
    for index, (name, make) in enumerate(makers.items()):
        rng = np.random.default_rng(index)
        t = np.arange(int(seconds * sample_rate)) / sample_rate
        clip = make(t, sample_rate, rng)
        clips[name] = (0.5 * clip / np.abs(clip).max()).astype(np.float32)
    return clips


def _clock_tick(t, rate, rng):
    # A 3 ms ringing click twice a second over a faint room noise.
    clip = 0.002 * rng.standard_normal(t.size)
    click_t = np.arange(int(0.03 * rate)) / rate
    click = np.exp(-click_t / 0.003) * (
        np.sin(2 * np.pi * 3100 * click_t) + 0.6 * np.sin(2 * np.pi * 5300 * click_t)
    )
    for start in np.arange(0.1, t[-1] - 0.03, 0.5):
        i = int(start * rate)
        clip[i : i + click.size] += click * (1.0 if round(start * 2) % 2 else 0.7)
    return clip


def _rain(t, rate, rng):
    # Smoothed noise (the roar) and Poisson-timed drops, decaying noise bursts.
    noise = rng.standard_normal(t.size)
    roar = np.convolve(noise, np.ones(8) / 8, mode="same")
    drop = np.exp(-np.arange(int(0.004 * rate)) / (0.0008 * rate))
    for i in rng.integers(0, t.size - drop.size, size=int(300 * t[-1])):
        roar[i : i + drop.size] += rng.uniform(0.5, 3.0) * drop * rng.standard_normal(drop.size)
    return roar


def _helicopter(t, rate, rng):
    # Blade slap at 11 Hz (low-passed noise pulses) over an engine hum at 95 Hz.
    noise = np.convolve(rng.standard_normal(t.size), np.ones(40) / 40, mode="same")
    slap = np.maximum(0.0, np.sin(2 * np.pi * 11 * t)) ** 8
    hum = sum(np.sin(2 * np.pi * 95 * k * t) / k for k in range(1, 6))
    return 4.0 * slap * noise + 0.15 * hum


def _crying_baby(t, rate, rng):
    # Harmonic wails near 450 Hz with vibrato, one a second with breaths between.
    f0 = 450 + 60 * np.sin(2 * np.pi * 0.8 * t) + 15 * np.sin(2 * np.pi * 6 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) * np.exp(-k / 4) for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 0.45 * t) * 3, 0, 1)
    return voice * envelope + 0.01 * rng.standard_normal(t.size)

import numpy as np
import pytest

from erann_tf.data.audio import load_audio
from erann_tf.data.augment import frame_level_db, mix_pair, random_crop, spl_mixup
from erann_tf.layers import LogMelSpectrogram, PitchShift, RandomGain


def _level_reference(x):
    frames = [x[i : i + 2048] for i in range(0, len(x) - 2048 + 1, 1024)]
    return max(10 * np.log10(np.mean(f.astype(np.float64) ** 2) + 1e-10) for f in frames)


def _mix_reference(x1, x2, y1, y2, r):
    r = np.clip(r, 1e-6, 1 - 1e-6)
    g1, g2 = _level_reference(x1), _level_reference(x2)
    p = 1 / (1 + 10 ** (np.clip(g1 - g2, -100, 100) / 20) * (1 - r) / r)
    return (p * x1 + (1 - p) * x2) / np.sqrt(p**2 + (1 - p) ** 2), r * y1 + (1 - r) * y2


@pytest.fixture(scope="module")
def clips(shared):
    esc10 = shared / "data" / "esc10"
    dog = load_audio(esc10 / "001 - Dog bark" / "1-100032-A.ogg")[:44100]
    rain = load_audio(esc10 / "002 - Rain" / "1-17367-A.ogg")[:44100]
    return np.stack([dog, rain, np.zeros(44100, np.float32), 1e-3 * rain])


def test_level_matches_reference(clips):
    levels = np.asarray(frame_level_db(clips))
    for level, clip in zip(levels, clips, strict=True):
        assert level == pytest.approx(_level_reference(clip), abs=1e-3)
    assert levels[2] == pytest.approx(-100.0)


@pytest.mark.parametrize("r", [0.5, 0.1, 0.9, 0.0, 1.0])
def test_mixup_matches_reference_including_silence(clips, r):
    y = np.eye(4, dtype=np.float32)
    pairs = [(0, 1), (1, 0), (0, 2), (2, 0), (2, 2), (3, 0)]  # silent clips included
    x1, x2 = clips[[a for a, _ in pairs]], clips[[b for _, b in pairs]]
    y1, y2 = y[[a for a, _ in pairs]], y[[b for _, b in pairs]]
    mixed, target = mix_pair(x1, x2, y1, y2, np.full(len(pairs), r, np.float32))
    mixed, target = np.asarray(mixed), np.asarray(target)
    assert np.isfinite(mixed).all() and np.isfinite(target).all()
    for i in range(len(pairs)):
        expected_x, expected_y = _mix_reference(x1[i], x2[i], y1[i], y2[i], r)
        np.testing.assert_allclose(mixed[i], expected_x, atol=1e-5, rtol=1e-4)
        np.testing.assert_allclose(target[i], expected_y, atol=1e-6)


def test_spl_mixup_batches_are_finite_and_seeded(clips):
    y = np.eye(4, dtype=np.float32)
    first = [np.asarray(t) for t in spl_mixup(clips, y, seed=3)]
    again = [np.asarray(t) for t in spl_mixup(clips, y, seed=3)]
    assert all(np.isfinite(t).all() for t in first)
    np.testing.assert_allclose(first[1].sum(axis=1), 1.0, rtol=1e-5)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    silent = [np.asarray(t) for t in spl_mixup(np.zeros((4, 4096), np.float32), y, seed=0)]
    assert np.isfinite(silent[0]).all() and np.isfinite(silent[1]).all()


def test_random_crop_stays_inside_each_clip():
    waves = np.tile(np.arange(1000, dtype=np.float32), (64, 1))
    lengths = np.array([1000, 600, 300, 100] * 16)
    crops = np.asarray(random_crop(waves, lengths, 300, seed=1))
    assert crops.shape == (64, 300)
    np.testing.assert_array_equal(np.diff(crops, axis=1), 1.0)  # contiguous windows
    assert (crops[:, -1] < np.maximum(lengths, 300)).all()
    assert (crops[lengths <= 300, 0] == 0).all()  # short clips keep their start
    assert len(set(crops[lengths == 1000, 0].tolist())) > 1  # random starts


def test_pitch_shift_moves_a_tone(clips):
    frames, mels = 4, 128
    ridge = np.full((64, frames, mels), -80.0, np.float32)
    ridge[:, :, 60] = 0.0
    layer = PitchShift(2.0, seed=0)
    np.testing.assert_array_equal(np.asarray(layer(ridge)), ridge)  # inference: unchanged
    peaks = np.asarray(layer(ridge, training=True)).argmax(axis=2)[:, 0]
    assert peaks.min() < 60 < peaks.max() and np.abs(peaks - 60).max() <= 4
    assert PitchShift.from_config(layer.get_config()).get_config() == layer.get_config()


def test_random_gain_is_the_frontend_of_a_louder_or_quieter_clip(clips):
    """Each example's gain, read off the output, is what the frontend gives for
    the waveform scaled by it; digital silence stays at the floor."""
    frontend = LogMelSpectrogram()
    logmel = np.asarray(frontend(clips))
    layer = RandomGain(12.0, seed=0)
    np.testing.assert_array_equal(np.asarray(layer(logmel)), logmel)  # inference: unchanged
    gained = np.asarray(layer(logmel, training=True))
    loud = logmel > -100.0 + 12.0 + 1.0  # no gain of up to 12 dB takes these to the floor
    for i in (1, 3):  # rain, and rain 60 dB quieter
        gain = float(np.median((gained[i] - logmel[i])[loud[i]]))
        scaled = np.asarray(frontend(clips[i : i + 1] * 10 ** (gain / 20)))[0]
        assert 0 < abs(gain) <= 12.0
        np.testing.assert_allclose(gained[i][loud[i]], scaled[loud[i]], atol=0.01)
    assert not np.allclose(gained[1] - logmel[1], gained[3] - logmel[3])  # a gain per example
    for i in (0, 2):  # the dog clip's first second and the zeros are digital silence
        np.testing.assert_array_equal(gained[i], logmel[i])
    assert gained.min() >= -100.0
    assert RandomGain.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("value", [-1.0, "6", float("nan"), float("inf"), True, None])
@pytest.mark.parametrize("layer, name", [(RandomGain, "max_db"), (PitchShift, "max_semitones")])
def test_augmentation_strengths_must_be_finite_numbers(layer, name, value):
    with pytest.raises(ValueError, match=rf"^{name}=.* is not allowed; {name} must be a finite"):
        layer(value)

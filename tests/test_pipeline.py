import numpy as np
import pytest

from erann_tf.data.loader import ClipLoader, balanced_order
from erann_tf.data.pipeline import evaluation_batches, steps_per_epoch, training_dataset
from erann_tf.data.pydataset import ClipPyDataset
from erann_tf.data.sources import read_fsdd
from erann_tf.data.windows import window_bounds


@pytest.fixture(scope="module")
def loader(shared):
    clips = read_fsdd(shared / "data" / "fsdd").subset(40)
    return ClipLoader(clips, window_seconds=1.0).scan(progress=False)


def test_pydataset_batches_shapes_and_order(loader):
    data = ClipPyDataset(loader, batch_size=8, seed=1)
    assert len(data) == steps_per_epoch(loader, 8) == 5
    x, y = data[0]
    assert x["waveform"].shape == (8, 44100) and x["waveform"].dtype == np.float32
    assert y.shape == (8, 10) and (y.sum(axis=1) == 1).all()
    assert ((x["length"] > 0) & (x["length"] <= 44100)).all()
    np.testing.assert_array_equal(x["targets"], y)
    again = ClipPyDataset(loader, batch_size=8, seed=1)[0]
    np.testing.assert_array_equal(again[0]["waveform"], x["waveform"])
    other = ClipPyDataset(loader, batch_size=8, seed=2)[0]
    assert not np.array_equal(other[1], y)


@pytest.mark.tf_only
def test_tf_data_equals_pydataset_and_resumes_exactly(loader):
    stream = list(training_dataset(loader, batch_size=8, seed=1, first_epoch=0, epochs=2))
    assert len(stream) == 10
    epoch0 = ClipPyDataset(loader, batch_size=8, seed=1)
    for step in range(5):
        x, y = stream[step]
        np.testing.assert_array_equal(x["waveform"].numpy(), epoch0[step][0]["waveform"])
        np.testing.assert_array_equal(y.numpy(), epoch0[step][1])
    resumed = list(training_dataset(loader, batch_size=8, seed=1, first_epoch=1, epochs=2))
    for a, b in zip(resumed, stream[5:], strict=True):
        np.testing.assert_array_equal(a[0]["waveform"].numpy(), b[0]["waveform"].numpy())
    assert not np.array_equal(stream[0][1].numpy(), stream[5][1].numpy())  # reshuffled per epoch


def _whole(loader, index):
    return np.concatenate(list(loader.blocks(index)))


def test_evaluation_batches_are_the_windows_predict_cuts(loader):
    window = 22050  # 0.5 s: some FSDD clips are shorter (one padded window), most longer
    lengths = {i: _whole(loader, i).shape[0] for i in loader.good}
    assert min(lengths.values()) < window < max(lengths.values())
    seen = {}
    for indices, waves in evaluation_batches(loader, window, batch_size=8):
        assert waves.shape == (8, window)  # one shape for a compiled model
        for index, wave in zip(indices, waves, strict=True):
            if index == -1:
                assert not wave.any()  # a silent filler row
                continue
            seen.setdefault(int(index), []).append(wave)
    assert sorted(seen) == loader.good.tolist()
    for index, waves in seen.items():
        audio = _whole(loader, index)
        bounds = window_bounds(len(audio), window, window // 2)
        assert len(waves) == len(bounds)
        for (start, end), wave in zip(bounds, waves, strict=True):
            np.testing.assert_array_equal(wave[: end - start], audio[start:end])
            assert not wave[end - start :].any()  # short clips: silence, as in training


def test_balanced_order_evens_out_classes():
    rng = np.random.default_rng(0)
    targets = np.zeros((1000, 5), np.float32)
    targets[np.arange(1000), rng.choice(5, 1000, p=[0.8, 0.1, 0.05, 0.03, 0.02])] = 1
    targets[:10, 4] = 1  # multi-label rows
    order = balanced_order(targets, rng, np.arange(1000))
    assert len(order) == 1000
    per_class = targets[order].sum(axis=0)
    assert per_class.min() >= 190 and per_class[0] < 300


def test_batch_larger_than_data_is_refused(loader):
    with pytest.raises(ValueError, match="batch_size=64 is larger than the 40 training clips"):
        steps_per_epoch(loader, 64)

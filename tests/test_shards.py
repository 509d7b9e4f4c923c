"""TFRecord shards: prepare -> read gives back every clip byte for byte, an
interrupted prepare resumes, and the tf.data reader's order and worker split."""

import dataclasses
import json

import numpy as np
import pytest

from erann_tf.cli import main
from erann_tf.data import shard_writer, shards
from erann_tf.data.sources import read_esc10, read_fsdd

pytestmark = pytest.mark.tf_only


@pytest.fixture(scope="module")
def mixed_clips(shared):
    """48 real clips: 8 ESC-10 Ogg (5 s, 44.1 kHz) and 40 FSDD WAV (8 kHz)."""
    esc = read_esc10(shared / "data" / "esc10").subset(8)
    fsdd = read_fsdd(shared / "data" / "fsdd").subset(40)
    classes = esc.classes + fsdd.classes
    return dataclasses.replace(esc, clips=esc.clips + fsdd.clips, classes=classes)


def _prepare(clips, out, **kwargs):
    kwargs.setdefault("progress", False)
    return shard_writer.prepare(clips, str(out), 300_000, **kwargs)


def test_prepare_then_read_gives_back_every_clip_byte_for_byte(mixed_clips, tmp_path):
    manifest = _prepare(mixed_clips, tmp_path / "s")
    assert manifest["clips"] == 48 and len(manifest["shards"]) > 3
    assert sum(manifest["class_counts"].values()) == 48
    assert sum(manifest["folds"].values()) == 48
    back = shards.read_shard_clips(str(tmp_path / "s"), progress=False)
    assert back.classes == mixed_clips.classes
    assert [c.path for c in back.clips] == [c.path for c in mixed_clips.clips]
    for original, read in zip(mixed_clips.clips, back.clips, strict=True):
        with open(original.path, "rb") as handle:
            assert read.data == handle.read()
        assert (read.labels, read.fold) == (original.labels, original.fold)
    shards.Shards.open(str(tmp_path / "s")).verify()
    one_fold = shards.read_shard_clips(str(tmp_path / "s"), progress=False, fold="1")
    assert one_fold.clips == back.split("1")[1].clips and len(one_fold) > 0


def test_interrupted_prepare_resumes_where_it_stopped(mixed_clips, tmp_path, monkeypatch):
    reference = _prepare(mixed_clips, tmp_path / "whole")
    written = []
    real = shard_writer._write_shard

    def dies_after_two(clips, indices, output, name, *args):
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(name)
        return real(clips, indices, output, name, *args)

    monkeypatch.setattr(shard_writer, "_write_shard", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        _prepare(mixed_clips, tmp_path / "cut", workers=1)
    assert not (tmp_path / "cut" / shards.MANIFEST).exists()

    resumed = []
    monkeypatch.setattr(shard_writer, "_write_shard", lambda *a: resumed.append(a[3]) or real(*a))
    assert _prepare(mixed_clips, tmp_path / "cut", workers=1) == reference
    assert len(resumed) == len(reference["shards"]) - 2 and not set(resumed) & set(written)


def test_prepare_refuses_a_folder_holding_another_prepare(mixed_clips, tmp_path):
    _prepare(mixed_clips, tmp_path / "s")
    with pytest.raises(FileExistsError, match="another prepare"):
        shard_writer.prepare(mixed_clips, str(tmp_path / "s"), 100_000, progress=False)


def test_bad_files_are_named_or_left_out(mixed_clips, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(100))
    bad = dataclasses.replace(mixed_clips.clips[9], path=str(broken))
    clips = dataclasses.replace(mixed_clips, clips=mixed_clips.clips + (bad,))
    with pytest.raises(ValueError, match="broken.wav: not a readable audio file"):
        _prepare(clips, tmp_path / "a")
    manifest = _prepare(clips, tmp_path / "b", on_bad_file="skip")
    assert manifest["clips"] == 48 and manifest["bad_files"][0].startswith(str(broken))


def test_reader_order_is_seeded_per_epoch_and_workers_split_the_files(mixed_clips, tmp_path):
    _prepare(mixed_clips, tmp_path / "s")
    folder = shards.Shards.open(str(tmp_path / "s"))

    def paths(files, seed, epoch):
        ds = shards.record_dataset(files, seed, epoch, shuffle_buffer=16)
        return [r["path"] for r in ds.as_numpy_iterator()]

    files = folder.files()
    assert paths(files, 0, 1) == paths(files, 0, 1)
    assert paths(files, 0, 1) != paths(files, 0, 2)
    assert sorted(paths(files, 0, 1)) == sorted(paths(files, None, 0))
    halves = [folder.files(w, 2) for w in (0, 1)]
    assert not set(halves[0]) & set(halves[1]) and sorted(halves[0] + halves[1]) == sorted(files)
    assert folder.count(halves[0]) + folder.count(halves[1]) == 48
    with pytest.raises(ValueError, match="cannot feed"):
        folder.files(0, len(files) + 1)


def test_training_stream_batches_windows_of_real_audio(mixed_clips, tmp_path):
    _prepare(mixed_clips, tmp_path / "s")
    folder = shards.Shards.open(str(tmp_path / "s"))
    stream = shards.training_stream(folder, folder.files(), 8, 44100, seed=0, epoch=0)
    (x, y), _ = next(iter(stream)), None
    assert x["waveform"].shape == (8, 44100) and y.shape == (8, len(folder.classes))
    lengths = x["length"].numpy()
    assert np.all(lengths > 690) and np.all(lengths <= 44100)
    for wave, length in zip(x["waveform"].numpy(), lengths, strict=True):
        assert np.abs(wave[:length]).max() > 0 and not wave[length:].any()
    np.testing.assert_array_equal(y.numpy().sum(axis=1), 1.0)


def test_cli_prepare_prints_a_summary(shared, tmp_path, capsys):
    out = tmp_path / "s"
    argv = ["prepare", "--recipe", "esc10", "--data", str(shared / "data" / "esc10")]
    assert main(argv + ["--output", str(out), "--shard-size", "8MB"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["clips"] == 320 and summary["shards"] >= 3
    for size in ("lots", "9" * 400, "0"):  # 400 digits: an infinite float
        assert main(argv + ["--output", str(out), "--shard-size", size]) == 2
        assert f"--shard-size {size!r} is not allowed; give a size" in capsys.readouterr().err

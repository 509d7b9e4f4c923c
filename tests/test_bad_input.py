"""Every bad-input case: one line naming the file with on_bad_file="error",
counted and reported with "skip"."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from erann_tf.data.audio import AudioError, load_audio
from erann_tf.data.loader import ClipLoader
from erann_tf.data.sources import read_manifest


def _make_bad_files(folder, shared):
    """name -> the words its one-line error must contain."""
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    (folder / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + rng.bytes(200))
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.wav").write_text("these are meeting notes, not audio\n" * 10)
    soundfile.write(folder / "whole.wav", rng.uniform(-0.1, 0.1, 8000), 8000)
    data = (folder / "whole.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(data[: len(data) // 2])
    soundfile.write(folder / "nan.wav", np.array([0.1, np.nan] * 2000), 8000, subtype="FLOAT")
    soundfile.write(folder / "inf.flac", np.zeros(4000), 8000)  # replaced below
    soundfile.write(folder / "inf.wav", np.array([0.1, np.inf] * 2000), 8000, subtype="FLOAT")
    (folder / "inf.flac").unlink()
    huge = np.array([0.1, 1e18] * 2000, np.float32)  # finite, but overflows the frontend
    soundfile.write(folder / "huge.wav", huge, 8000, subtype="FLOAT")
    soundfile.write(folder / "short.wav", np.full(100, 0.1), 8000)  # 551 samples at 44.1 kHz
    soundfile.write(folder / "silent.wav", np.zeros(8000), 8000)
    (folder / "random.mp3").write_bytes(rng.bytes(20000))
    soundfile.write(folder / "f64.wav", np.full(4000, 1e300), 8000, subtype="DOUBLE")
    os.mkfifo(folder / "fifo.wav")
    (folder / "loop.wav").symlink_to("loop.wav")
    (folder / "zero.wav").symlink_to("/dev/zero")
    (folder / "folder.wav").mkdir()
    noise = rng.uniform(-0.1, 0.1, 3 * 44100)
    for name, format, subtype in CUT_SHORT:  # a third of the bytes, as by a failed download
        soundfile.write(folder / "whole", noise, 44100, format=format, subtype=subtype)
        data = (folder / "whole").read_bytes()
        (folder / name).write_bytes(data[: len(data) // 3])
    return {
        "corrupt.wav": "not a readable audio file",
        "empty.wav": "not a readable audio file",
        "notes.wav": "not a readable audio file",
        "truncated.wav": "truncated",
        "nan.wav": "NaN or Inf",
        "inf.wav": "NaN or Inf",
        "huge.wav": "samples reach 1e+18; audio must stay within +-10000",
        "short.wav": "too short; at least 691",
        "silent.wav": "digital silence (every sample is 0)",
        "missing.wav": "no such file",
        "random.mp3": "the data is damaged or not in a format libsndfile reads",
        "f64.wav": "samples reach 1e+300",  # not "NaN": float32 would make them Inf
        "fifo.wav": "a named pipe (FIFO), not an audio file",
        "loop.wav": "a symbolic link loop",
        "zero.wav": "a character device",
        "folder.wav": "a folder, not an audio file",
        "cut.mp3": "damaged (the MP3 decoder says: Warning: Xing stream size off",
        "cut.w64": "truncated: the header's riff says 264",
        "cut.rf64": "truncated: the header's Riff size says 264",
        "cut.aiff": "truncated: the header's FORM says 264",
        "cut.ogg": "truncated: the Ogg stream ends without its last page",
    }


CUT_SHORT = [
    ("cut.mp3", "MP3", "MPEG_LAYER_III"),
    ("cut.w64", "W64", "PCM_16"),
    ("cut.rf64", "RF64", "PCM_16"),
    ("cut.aiff", "AIFF", "PCM_16"),
    ("cut.ogg", "OGG", "VORBIS"),
]


def _manifest(tmp_path, shared, bad_names, good=8):
    recordings = sorted((shared / "data" / "fsdd" / "recordings").glob("*.wav"))[::300][:good]
    rows = [f"{p},{p.name[0]},{i % 2}" for i, p in enumerate(recordings)]
    rows += [f"bad/{name},3,0" for name in bad_names]
    path = tmp_path / "clips.csv"
    path.write_text("path,label,fold\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def bad(tmp_path, shared):
    return _make_bad_files(tmp_path / "bad", shared)


def test_each_bad_file_stops_with_one_line_naming_it(tmp_path, shared, bad):
    for name, words in bad.items():
        clips = read_manifest(_manifest(tmp_path, shared, [name]))
        with pytest.raises(AudioError) as error:
            ClipLoader(clips, 1.0).scan(progress=False)
        message = str(error.value)
        assert message.startswith(str(tmp_path / "bad" / name)), message
        assert words in message and "\n" not in message, message


def test_skip_counts_and_reports_every_bad_file(tmp_path, shared, bad):
    clips = read_manifest(_manifest(tmp_path, shared, list(bad)))
    loader = ClipLoader(clips, 1.0, on_bad_file="skip").scan(progress=False)
    assert len(loader) == 8 and len(loader.bad_files) == len(bad)
    report = loader.bad_files.report()
    assert report.startswith(f"skipped {len(bad)} bad file(s):")
    assert all(name in report for name in bad)


def test_long_files_are_read_one_window_at_a_time(tmp_path):
    long = tmp_path / "long.wav"
    soundfile.write(long, np.zeros(8000 * 130, np.float32) + 0.01, 8000)  # 130 s
    clips = read_manifest(_write(tmp_path / "m.csv", f"path,label\n{long},x\n"))
    loader = ClipLoader(clips, window_seconds=2.0).scan(progress=False)
    assert loader._audio == {}  # too long to cache: never held whole
    wave, length = loader.window(0, np.random.default_rng(0))
    assert wave.shape == (88200,) and length == 88200


def _many_channels_high_rate(path, seconds, channels=8, rate=192000):
    """A FLAC of near-silence, 8 channels at 192 kHz: small on disk, huge decoded."""
    block = np.full((rate, channels), 1e-3, np.float32)
    with soundfile.SoundFile(path, "w", rate, channels, format="FLAC") as handle:
        for _ in range(seconds):
            handle.write(block)
    return path


def test_memory_is_bounded_whatever_the_channels_rate_and_duration(tmp_path):
    """Two minutes of 8-channel 192 kHz audio decode to 737 MB of float32 at
    once; read a block at a time, downmixed and resampled as it goes, every
    reader stays under 100 MB, a bound set by what does not grow with the file
    (a batch of 32 windows, at most 60 s cached per clip, 4 MB read at a time):
    decode for checks (`erann prepare`), the decoding scan and validation and
    evaluation scoring (`erann train`, `cv`, `tune`, `evaluate`), and
    streaming (`erann predict`)."""
    import tracemalloc

    from erann_tf.data.audio import check_audio, stream_audio
    from erann_tf.data.pipeline import evaluation_batches

    path = _many_channels_high_rate(tmp_path / "wide.flac", seconds=120)
    clips = read_manifest(_write(tmp_path / "m.csv", f"path,label\n{path},x\n"))
    readers = {
        "check (prepare)": lambda: check_audio(path.read_bytes(), str(path)),
        "scan and evaluation": lambda: sum(
            len(i) for i, _ in evaluation_batches(ClipLoader(clips).scan(progress=False), 176400)
        ),
        "stream (predict)": lambda: sum(len(b) for b in stream_audio(path)),
    }
    for name, read in readers.items():
        tracemalloc.start()
        try:
            read()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 100e6, f"{name}: peak {peak / 1e6:.0f} MB"


def _write(path, text):
    path.write_text(text)
    return path


def _train(tmp_path, manifest, *flags):
    command = [
        sys.executable,
        "-m",
        "erann_tf.cli",
        "train",
        "--recipe",
        "fsdd",
        "--layout",
        "manifest",
        "--data",
        str(manifest),
        "--tm",
        "4",
        "--width",
        "1",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--output",
        str(tmp_path / "run"),
        *flags,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_train_cli_error_and_skip(tmp_path, shared, bad):
    manifest = _manifest(tmp_path, shared, ["nan.wav", "missing.wav", "empty.wav"])
    failed = _train(tmp_path, manifest)
    assert failed.returncode == 2
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("erann train: error: ") and "bad/" in last, failed.stderr[-500:]
    skipped = _train(tmp_path, manifest, "--on-bad-file", "skip", "--fold", "1")
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    assert "skipped 3 bad file(s)" in skipped.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(metrics["bad_files"]) == 3
    assert all(np.isfinite(epoch["loss"]) for epoch in metrics["history"])


def test_unreadable_file_says_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "locked.wav"
    soundfile.write(path, np.zeros(8000), 8000)
    monkeypatch.setattr("os.access", lambda *_: False)  # as for a file of another user, mode 600
    with pytest.raises(AudioError, match="locked.wav: permission denied"):
        load_audio(path)


def test_names_that_are_not_utf8_or_hold_a_newline(tmp_path, shared):
    """A file whose name is not UTF-8 is scored, and the JSON line is valid
    UTF-8; an error about a name holding a newline stays on one line."""
    recording = sorted((shared / "data" / "fsdd" / "recordings").glob("*.wav"))[0]
    odd = os.path.join(os.fsencode(tmp_path), b"caf\xe9.wav")
    with open(odd, "wb") as handle:
        handle.write(recording.read_bytes())
    missing = tmp_path / "two\nlines.wav"
    result = subprocess.run(
        [sys.executable, "-m", "erann_tf.cli", "predict", "--json", "--model", "erann-fsdd",
         os.fsdecode(odd), str(missing)],
        capture_output=True, timeout=300,
    )  # fmt: skip
    lines = result.stdout.decode("utf-8").splitlines()  # strict: no lone surrogates
    scored, failed = (json.loads(line) for line in lines)
    assert scored["file"].endswith("caf\\xe9.wav") and scored["label"] in "0123456789"
    assert failed["error"].endswith("two\nlines.wav: no such file")
    errors = result.stderr.decode("utf-8").strip().splitlines()
    assert errors[-1].endswith("two\\nlines.wav: no such file"), errors

"""Decoding audio files to mono float32 at the model's sample rate (DESIGN.md §2)."""

import io
import os
import re

import numpy as np
import soundfile
import soxr

SAMPLE_RATE = 44100


class AudioError(ValueError):
    """A file that cannot be used as audio. The message names the file and why."""


def load_audio(path, sample_rate=SAMPLE_RATE, min_samples=1, max_seconds=None, rng=None):
    """Reads any format soundfile reads (WAV of any PCM width or float, FLAC,
    OGG/Vorbis, MP3), downmixes by the mean of the channels and resamples with
    soxr (high quality). Returns a float32 array of shape (samples,).

    With `max_seconds`, a longer file is read as one window of that length
    only (memory stays bounded on hour-long files): at a random offset drawn
    from the numpy Generator `rng`, or from the start without one.

    Raises AudioError, naming the file, for a missing, empty, corrupt or
    non-audio file, NaN or Inf samples, or fewer than `min_samples` samples
    after resampling.

    Example:
    >>> import numpy as np, soundfile, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> soundfile.write(path, np.zeros(8000, "float32"), 8000)
    >>> load_audio(path).shape
    (44100,)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such file")
    if not os.access(path, os.R_OK):  # libsndfile would call it a "System error"
        raise AudioError(f"{path}: permission denied: this user cannot read it")
    return _load(path, path, sample_rate, min_samples, max_seconds, rng)


def decode_audio(data, name, sample_rate=SAMPLE_RATE, min_samples=1, max_seconds=None, rng=None):
    """`load_audio` for a file's encoded bytes (as packed in TFRecord shards);
    `name` is the file the bytes came from, for error messages.

    Example:
    >>> import io, numpy as np, soundfile
    >>> buffer = io.BytesIO()
    >>> soundfile.write(buffer, np.zeros(8000, "float32"), 8000, format="WAV")
    >>> decode_audio(buffer.getvalue(), "tone.wav").shape
    (44100,)
    """
    return _load(io.BytesIO(data), name, sample_rate, min_samples, max_seconds, rng)


def _load(source, path, sample_rate, min_samples, max_seconds, rng):
    try:
        samples, rate = _read(source, max_seconds, rng)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(f"{path}: {_unreadable(error)}") from None
    if samples.size == 0:
        raise AudioError(f"{path}: empty audio (0 samples)")
    _check_samples(samples, path)
    mono = samples.mean(axis=1)
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    if mono.shape[0] < min_samples:
        raise AudioError(
            f"{path}: {mono.shape[0]} samples at {sample_rate} Hz is too short; "
            f"at least {min_samples} are needed"
        )
    return np.ascontiguousarray(mono, dtype=np.float32)


def stream_audio(path, sample_rate=SAMPLE_RATE, block_seconds=10.0):
    """Yields a file as mono float32 blocks at `sample_rate`, read and resampled
    `block_seconds` of the file at a time, so an hour-long file never sits in
    memory whole. The checks are those of `load_audio`, raised as AudioError
    when the block that shows the problem is reached.

    Example:
    >>> import numpy as np, soundfile, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> soundfile.write(path, np.zeros(24000, "float32"), 8000)
    >>> sum(len(b) for b in stream_audio(path, block_seconds=1.0))
    132300
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such file")
    if not os.access(path, os.R_OK):  # libsndfile would call it a "System error"
        raise AudioError(f"{path}: permission denied: this user cannot read it")
    try:
        handle = soundfile.SoundFile(path)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(f"{path}: {_unreadable(error)}") from None
    with handle:
        try:
            _check_not_truncated(handle)
        except ValueError as error:
            raise AudioError(f"{path}: not a readable audio file ({error})") from None
        resampler = None
        if handle.samplerate != sample_rate:
            resampler = soxr.ResampleStream(handle.samplerate, sample_rate, 1, "float32", "HQ")
        block = max(1, int(block_seconds * handle.samplerate))
        total = 0
        while True:
            try:
                samples = handle.read(block, dtype="float32", always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError) as error:
                raise AudioError(
                    f"{path}: not a readable audio file ({_first_line(error)})"
                ) from None
            last = len(samples) < block
            _check_samples(samples, path)
            total += len(samples)
            mono = samples.mean(axis=1)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last)
            if len(mono):
                yield np.ascontiguousarray(mono, dtype=np.float32)
            if last:
                break
        if total == 0:
            raise AudioError(f"{path}: empty audio (0 samples)")


MAX_AMPLITUDE = 1e4  # 80 dB over full scale; the frontend's power spectrum overflows near 1e17


def _check_samples(samples, path):
    """NaN or Inf samples, or a float file whose scale is not audio's, are refused."""
    if not np.isfinite(samples).all():
        raise AudioError(f"{path}: contains NaN or Inf samples")
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > MAX_AMPLITUDE:
        raise AudioError(
            f"{path}: samples reach {peak:.3g}; audio must stay within +-{MAX_AMPLITUDE:g} "
            "(full scale is 1)"
        )


def _read(source, max_seconds, rng):
    with soundfile.SoundFile(source) as handle:
        _check_not_truncated(handle)
        frames = handle.frames
        if max_seconds is not None and frames > max_seconds * handle.samplerate:
            window = int(max_seconds * handle.samplerate)
            start = int(rng.integers(0, frames - window + 1)) if rng is not None else 0
            handle.seek(start)
            frames = window
        return handle.read(frames, dtype="float32", always_2d=True), handle.samplerate


def _check_not_truncated(handle):
    # libsndfile quietly shortens a WAV whose data chunk is cut off, and logs
    # "data : <header size> (should be <real size>)". Compressed formats carry no
    # promised length: they either fail to decode or end where their data ends.
    match = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", handle.extra_info, re.MULTILINE)
    if match and int(match.group(2)) < int(match.group(1)):
        raise ValueError(
            f"truncated: the header promises {match.group(1)} bytes of audio, "
            f"{match.group(2)} are there"
        )


def _unreadable(error):
    """Why libsndfile could not open `path`: its messages blame pipes for damaged
    data."""
    message = _first_line(error)
    if "possibly a pipe" in message or "System error" in message:
        message = "the data is damaged or not in a format libsndfile reads"
    return f"not a readable audio file ({message})"


def _first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

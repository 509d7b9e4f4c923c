"""Decoding audio files to mono float32 at the model's sample rate."""

import errno
import io
import os
import re
import stat

import numpy as np
import soundfile
import soxr

from erann_tf.data.frontend_config import FRONTEND

SAMPLE_RATE = FRONTEND.sample_rate  # the rate every reader resamples to by default


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
    non-audio file, NaN or Inf samples, digital silence (a whole file of
    zeros), or fewer than `min_samples` samples after resampling.

    Example:
    >>> import numpy as np, soundfile, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> soundfile.write(path, np.full(8000, 0.1, "float32"), 8000)
    >>> load_audio(path).shape
    (44100,)
    """
    path = os.fspath(path)
    check_readable(path)
    return _load(path, path, sample_rate, min_samples, max_seconds, rng)


def decode_audio(data, name, sample_rate=SAMPLE_RATE, min_samples=1, max_seconds=None, rng=None):
    """`load_audio` for a file's encoded bytes (as packed in TFRecord shards);
    `name` is the file the bytes came from, for error messages.

    Example:
    >>> import io, numpy as np, soundfile
    >>> buffer = io.BytesIO()
    >>> soundfile.write(buffer, np.full(8000, 0.1, "float32"), 8000, format="WAV")
    >>> decode_audio(buffer.getvalue(), "tone.wav").shape
    (44100,)
    """
    return _load(io.BytesIO(data), name, sample_rate, min_samples, max_seconds, rng)


def check_audio(data, name, sample_rate=SAMPLE_RATE, min_samples=1):
    """The checks of `decode_audio` on a file's encoded bytes, made a block at a
    time and keeping nothing: memory stays bounded whatever the duration.

    Example:
    >>> import io, numpy as np, soundfile
    >>> buffer = io.BytesIO()
    >>> soundfile.write(buffer, np.full(8000, 0.1, "float32"), 8000, format="WAV")
    >>> check_audio(buffer.getvalue(), "tone.wav")
    44100
    """
    total = sum(len(block) for block in _mono_blocks(io.BytesIO(data), name, sample_rate))
    check_length(total, name, sample_rate, min_samples)
    return total


def _load(source, path, sample_rate, min_samples, max_seconds, rng):
    blocks = list(_mono_blocks(source, path, sample_rate, max_seconds, rng))
    mono = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    check_length(mono.shape[0], path, sample_rate, min_samples)
    return np.ascontiguousarray(mono, dtype=np.float32)


def check_length(samples, path, sample_rate, min_samples):
    """An AudioError unless `samples` >= `min_samples` (FrontendConfig.min_samples)."""
    if samples < min_samples:
        raise AudioError(
            f"{path}: {samples} samples at {sample_rate} Hz is too short; "
            f"at least {min_samples} are needed"
        )


def stream_audio(path, sample_rate=SAMPLE_RATE, block_seconds=1.0):
    """Yields a file as mono float32 blocks at `sample_rate`, read and resampled
    `block_seconds` of the file at a time, so an hour-long file never sits in
    memory whole. The checks are those of `load_audio`, raised as AudioError
    when the block that shows the problem is reached.

    Example:
    >>> import numpy as np, soundfile, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> soundfile.write(path, np.full(24000, 0.1, "float32"), 8000)
    >>> sum(len(b) for b in stream_audio(path, block_seconds=1.0))
    132300
    """
    path = os.fspath(path)
    check_readable(path)
    yield from _mono_blocks(path, path, sample_rate, block_seconds=block_seconds)


_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)  # fmt: skip


def check_readable(path):
    """An AudioError unless `path` is a regular file this user can read: what
    it is instead (missing, a link loop, a folder, a pipe, a device...)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if os.path.islink(path):
            why = "a symbolic link loop" if error.errno == errno.ELOOP else "a broken symbolic link"
            raise AudioError(f"{path}: {why}, not an audio file") from None
        raise AudioError(f"{path}: no such file") from None
    for test, what in _NOT_REGULAR:
        if test(mode):
            raise AudioError(f"{path}: {what}, not an audio file")
    if not os.access(path, os.R_OK):  # libsndfile would call it a "System error"
        raise AudioError(f"{path}: permission denied: this user cannot read it")


MAX_BLOCK = 2**20  # samples of all channels read at once: 4 MB of float32


def _mono_blocks(source, name, sample_rate, max_seconds=None, rng=None, block_seconds=1.0):
    """The audio of `source` as mono float32 blocks at `sample_rate`: read,
    checked, downmixed and resampled `block_seconds` at a time, so that neither
    the channel count nor the file's rate sets the memory. With `max_seconds`,
    only one window of that length (at a random offset drawn from `rng`)."""
    if isinstance(source, str):
        source = os.fsencode(source)  # libsndfile takes any bytes; a str must be UTF-8
    try:
        handle = soundfile.SoundFile(source)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(f"{name}: {_unreadable(error)}") from None
    with handle:
        try:
            _check_not_truncated(handle)
        except ValueError as error:
            raise AudioError(f"{name}: not a readable audio file ({error})") from None
        wanted = None  # every frame
        if max_seconds is not None and handle.frames > max_seconds * handle.samplerate:
            wanted = int(max_seconds * handle.samplerate)
            start = int(rng.integers(0, handle.frames - wanted + 1)) if rng is not None else 0
            handle.seek(start)
        resampler = None
        if handle.samplerate != sample_rate:
            resampler = soxr.ResampleStream(handle.samplerate, sample_rate, 1, "float32", "HQ")
        block = max(1, min(int(block_seconds * handle.samplerate), MAX_BLOCK // handle.channels))
        total, heard = 0, False
        # float64 files are checked before float32 could turn 1e300 into Inf
        dtype = "float64" if handle.subtype == "DOUBLE" else "float32"
        while True:
            size = block if wanted is None else min(block, wanted - total)
            try:
                samples = handle.read(size, dtype=dtype, always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError) as error:
                raise AudioError(f"{name}: {_unreadable(error)}") from None
            total += len(samples)
            last = len(samples) < size or total == wanted
            _check_samples(samples, name)
            heard = heard or bool(samples.any())
            mono = samples.mean(axis=1, dtype=np.float32)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last)
            if len(mono):
                yield np.ascontiguousarray(mono, dtype=np.float32)
            if last:
                break
        if total == 0:
            raise AudioError(f"{name}: empty audio (0 samples)")
        if not heard and wanted is None:  # a window of a long file may be quiet
            raise AudioError(f"{name}: digital silence (every sample is 0): nothing to hear")


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
    message = first_line(error)
    if "possibly a pipe" in message or "System error" in message:
        message = "the data is damaged or not in a format libsndfile reads"
    return f"not a readable audio file ({message})"


def first_line(error):
    """The first line of an exception's message (libraries add detail below it),
    or its type where it has no message."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

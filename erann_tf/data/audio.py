"""Decoding audio files to mono float32 at the model's sample rate."""

import errno
import io
import os
import re
import stat
import sys

import numpy as np
import soundfile
import soxr

from erann_tf.data.frontend_config import FRONTEND
from erann_tf.quiet import captured_stderr

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
    mp3 = os.fsdecode(name).lower().endswith(".mp3")
    handle = _decoding(name, mp3, lambda: soundfile.SoundFile(_for_libsndfile(source)))
    with handle:
        _check_not_truncated(handle, name)
        if handle.format == "OGG":
            _check_ogg_complete(source, name)
        wanted, start = None, 0  # every frame
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
            read = lambda: handle.read(size, dtype=dtype, always_2d=True)  # noqa: B023, E731
            samples = _decoding(name, mp3, read)
            total += len(samples)
            last = len(samples) < size or total == wanted
            if len(samples) < size:  # the end of the data: where the header said?
                _check_all_decoded(handle, start + total, name)
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


def _for_libsndfile(source):
    # libsndfile takes any bytes for a path; a str must be UTF-8, which not every name is
    return os.fsencode(source) if isinstance(source, str) else source


# mpg123 reports damage on stderr ("Note: Illegal Audio-MPEG-Header ...") and decodes on
_DECODER_MESSAGE = re.compile(r"^(Note|Warning|Error|\[src/libmpg123)", re.IGNORECASE)


def _decoding(name, mp3, call):
    """`call()` (an open or a read), with libsndfile's errors and, for MP3, the
    decoder's damage reports on stderr made one AudioError naming the file."""
    try:
        if not mp3:
            return call()
        with captured_stderr() as lines:
            result = call()
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(f"{name}: {_unreadable(error)}") from None
    reports = [line for line in lines if _DECODER_MESSAGE.match(line)]
    for line in lines:
        if line not in reports:  # another thread's output: passed on
            print(line, file=sys.stderr)
    if reports:
        raise AudioError(f"{name}: damaged (the MP3 decoder says: {reports[0]})")
    return result


def _check_ogg_complete(source, name):
    """An AudioError unless the Ogg stream's last page is marked as its last
    (an Ogg file cut short ends on a page without the end-of-stream flag)."""
    if isinstance(source, io.BytesIO):
        tail = source.getbuffer()[-65536:].tobytes()
    else:
        with open(_for_libsndfile(source), "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 65536))
            tail = handle.read()
    page = tail.rfind(b"OggS")
    if page < 0 or len(tail) < page + 6 or not tail[page + 5] & 0x04:
        raise _damaged(name, "truncated: the Ogg stream ends without its last page")


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


# libsndfile opens a container that was cut short and reads what is there; its
# log says what the header promised: "data : 264600 (should be 88200)" (WAV,
# W64, RF64, AIFF chunks), or a frame count the data cannot hold (RF64, AIFF).
_SHOULD_BE = re.compile(r"^\s*(\w[\w ]*?)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_FRAME_COUNTS = (
    re.compile(r"Calculated frame count (\d+) does not match value from '\w+' chunk of (\d+)"),
    re.compile(r"chunk \((\d+)\) not equal to frame count\s*(?:\*\*\*)?\s*calculated from length"
               r" of '\w+' chunk \((\d+)\)"),
)  # fmt: skip
SLACK_BYTES = 64  # writers that forget a pad byte or a trailing chunk's size are not damaged


def _damaged(name, why):
    return AudioError(f"{name}: not a readable audio file ({why})")


def _check_not_truncated(handle, name):
    """An AudioError where the container promises more than the file holds."""
    log = handle.extra_info
    for chunk, promised, there in _SHOULD_BE.findall(log):
        if int(promised) - int(there) > SLACK_BYTES:
            why = (
                f"truncated: the header's {chunk.strip()} says {promised} bytes, {there} are there"
            )
            raise _damaged(name, why)
    for pattern in _FRAME_COUNTS:
        match = pattern.search(log)
        if match:
            counts = sorted(int(n) for n in match.groups())
            why = f"truncated: the header promises {counts[1]} frames, the data holds {counts[0]}"
            raise _damaged(name, why)


def _check_all_decoded(handle, decoded, name):
    """An AudioError where a whole read decoded fewer frames than the header
    declared (an MP3 cut short: its Xing header keeps the full count)."""
    missing = handle.frames - decoded
    if missing > max(2 * 1152, 0.001 * handle.frames):  # two MP3 frames of rounding
        frames = f"the header declares {handle.frames} frames, {decoded} could be decoded"
        raise _damaged(name, f"truncated or damaged: {frames}")


def _unreadable(error):
    """Why libsndfile could not open `path`: its messages blame pipes for damaged
    data."""
    message = re.sub(r"^Error opening .*?: ", "", first_line(error))  # the name is said already
    if "possibly a pipe" in message or "System error" in message:
        message = "the data is damaged or not in a format libsndfile reads"
    return f"not a readable audio file ({message})"


def first_line(error):
    """The first line of an exception's message (libraries add detail below it),
    or its type where it has no message."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

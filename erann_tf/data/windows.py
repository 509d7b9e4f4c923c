"""Sliding windows over audio of any length, in bounded memory."""

import numpy as np

# A window (or training crop) is held whole in memory and scored at once: from
# about one STFT frame at 44.1 kHz to ten minutes.
MIN_WINDOW_SECONDS = 0.05
MAX_WINDOW_SECONDS = 600.0


def check_window_seconds(value, name):
    """`value`, or a ValueError naming `name` when it is not a window length.

    Example:
    >>> check_window_seconds(float("inf"), "--window")
    Traceback (most recent call last):
    ...
    ValueError: --window inf is not allowed; it must be between 0.05 and 600 seconds
    """
    if not MIN_WINDOW_SECONDS <= value <= MAX_WINDOW_SECONDS:  # False for NaN too
        raise ValueError(
            f"{name} {value} is not allowed; it must be between {MIN_WINDOW_SECONDS:g} and "
            f"{MAX_WINDOW_SECONDS:g} seconds"
        )
    return value


def training_window(audio, size, rng):
    """(`size` samples of `audio`, how many are real): a random window of a
    longer clip (its start drawn from the numpy Generator `rng`), or the clip
    zero-padded at the end. Both transports cut training windows with it.

    Example:
    >>> wave, length = training_window(np.ones(3, "float32"), 5, np.random.default_rng(0))
    >>> wave.tolist(), length
    ([1.0, 1.0, 1.0, 0.0, 0.0], 3)
    """
    if audio.shape[0] > size:
        start = int(rng.integers(0, audio.shape[0] - size + 1))
        return audio[start : start + size], size
    return np.pad(audio, (0, size - audio.shape[0])), audio.shape[0]


def default_hop(window):
    """Half a window: the hop of the scoring protocol (predict, evaluate, cv).

    Example:
    >>> default_hop(4 * 44100)
    88200
    """
    return max(1, window // 2)


def window_bounds(total, window, hop):
    """(start, end) sample pairs of the windows over `total` samples.

    Windows start every `hop` samples while they fit; one more, ending at the
    last sample, covers a remainder. Audio no longer than one window is one
    window (the caller pads it with zeros, as training pads short clips).

    Example:
    >>> window_bounds(10, 4, 2)
    [(0, 4), (2, 6), (4, 8), (6, 10)]
    >>> window_bounds(11, 4, 4)
    [(0, 4), (4, 8), (7, 11)]
    >>> window_bounds(3, 4, 2)
    [(0, 3)]
    """
    if total <= window:
        return [(0, total)]
    starts = list(range(0, total - window + 1, hop))
    if starts[-1] + window < total:
        starts.append(total - window)
    return [(start, start + window) for start in starts]


def sliding_windows(blocks, window, hop):
    """Yields (start, end, samples) for each window over a stream of 1-D blocks.

    The windows are those of `window_bounds`; `samples` always has `window`
    values (a short stream is padded with zeros). Only about one window and
    one block are held at a time, so an hour of audio needs no more memory
    than a minute.

    Example:
    >>> blocks = (np.arange(i, i + 5, dtype="float32") for i in (0, 5))
    >>> [(s, e, w.tolist()) for s, e, w in sliding_windows(blocks, 4, 4)]
    [(0, 4, [0.0, 1.0, 2.0, 3.0]), (4, 8, [4.0, 5.0, 6.0, 7.0]), (6, 10, [6.0, 7.0, 8.0, 9.0])]
    """
    if window < 1 or hop < 1:
        raise ValueError(f"window and hop must be at least 1 sample, got {window} and {hop}")
    buffer, offset, total, next_start, last_end = np.zeros(0, np.float32), 0, 0, 0, 0
    for block in blocks:
        buffer = np.concatenate([buffer, np.asarray(block, np.float32)])
        total += len(block)
        while next_start + window <= total:
            begin = next_start - offset
            yield next_start, next_start + window, buffer[begin : begin + window]
            last_end, next_start = next_start + window, next_start + hop
        # Keep what a later window may need: from the next start, or the last
        # `window` samples for the window that ends the stream.
        keep_from = max(offset, min(next_start, total - window))
        buffer, offset = buffer[keep_from - offset :], keep_from
    if total == 0:
        return
    if last_end == 0:  # shorter than one window
        yield 0, total, np.pad(buffer, (0, window - total))
    elif last_end < total:
        yield total - window, total, buffer[len(buffer) - window :]

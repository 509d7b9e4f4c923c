"""Log-mel spectrogram frontend (DESIGN.md §2).

The STFT is written as framing plus one matmul with a windowed DFT matrix, not
as an FFT: TFLite's builtin RFFT2D refuses n_fft = 1380 at run time (it needs a
power of two), and the matmul form is exact and runs with builtin ops only.
"""

import keras
import numpy as np
from keras import ops


def hz_to_mel(frequencies):
    """Slaney mel scale (librosa's default, htk=False).

    Example:
    >>> float(hz_to_mel(1000.0))
    15.0
    """
    frequencies = np.asarray(frequencies, dtype=np.float64)
    linear = frequencies / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(frequencies, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(frequencies >= 1000.0, log_part, linear)


def mel_to_hz(mels):
    """Inverse of `hz_to_mel`.

    Example:
    >>> float(mel_to_hz(15.0))
    1000.0
    """
    mels = np.asarray(mels, dtype=np.float64)
    linear = mels * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels - 15.0))
    return np.where(mels >= 15.0, log_part, linear)


def mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax):
    """Slaney-normalised triangular filters, shape (n_fft // 2 + 1, n_mels).

    Matches librosa.filters.mel(norm="slaney", htk=False), transposed.

    Example:
    >>> mel_filterbank(44100, 1380, 128, 50.0, 14000.0).shape
    (691, 128)
    """
    fft_freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    mel_freqs = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2:] - mel_freqs[:-2]))[:, None]
    return weights.T


def windowed_dft_matrix(n_fft):
    """[cos | -sin] DFT matrix with a periodic Hann window, shape (n_fft, 2 * (n_fft // 2 + 1)).

    `frames @ matrix` gives the real and imaginary parts of the one-sided STFT.

    Example:
    >>> windowed_dft_matrix(1380).shape
    (1380, 1382)
    """
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)
    angles = 2.0 * np.pi * np.outer(n, np.arange(n_fft // 2 + 1)) / n_fft
    return np.concatenate([np.cos(angles), -np.sin(angles)], axis=1) * window[:, None]


@keras.saving.register_keras_serializable(package="erann_tf")
class LogMelSpectrogram(keras.layers.Layer):
    """Mono waveform (batch, samples) to log-mel in dB (batch, frames, n_mels).

    Centred frames with reflect padding of n_fft / 2, a periodic Hann window,
    the power spectrum, a Slaney mel filterbank and 10 * log10(max(mel, amin)).
    Frames = 1 + samples // hop_length. Each clip's output depends on that clip
    alone; nothing is padded to a common length. The layer has no weights and
    always computes in float32.

    Args:
        sample_rate: sample rate of the input waveform in Hz.
        n_fft: window and FFT length in samples; a multiple of `hop_length`.
        hop_length: step between frames in samples.
        n_mels: number of mel bands.
        fmin, fmax: lowest and highest band edges in Hz.
        amin: floor applied before the logarithm.

    Example:
    >>> import numpy as np
    >>> layer = LogMelSpectrogram()
    >>> tuple(layer(np.zeros((2, 44100), "float32")).shape)
    (2, 128, 128)
    """

    def __init__(
        self,
        sample_rate=44100,
        n_fft=1380,
        hop_length=345,
        n_mels=128,
        fmin=50.0,
        fmax=14000.0,
        amin=1e-10,
        **kwargs,
    ):
        kwargs["dtype"] = "float32"  # dB values need float32 even under mixed precision
        super().__init__(**kwargs)
        _check_frontend_args(sample_rate, n_fft, hop_length, n_mels, fmin, fmax, amin)
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = float(fmin)
        self.fmax = float(fmax)
        self.amin = float(amin)
        self._dft = windowed_dft_matrix(n_fft).astype("float32")
        # The filterbank carries a factor of 10^5 that the dB value takes off
        # again, so that the floor amin * 10^5 (1e-5 by default) survives float16
        # TFLite conversion, which stores constants in float16 (1e-10 would be 0).
        self._filterbank = (mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax) * _SCALE).astype(
            "float32"
        )
        self.input_spec = keras.layers.InputSpec(ndim=2)

    @property
    def min_samples(self):
        """The shortest waveform the reflect padding accepts: n_fft // 2 + 1 samples."""
        return self.n_fft // 2 + 1

    def num_frames(self, num_samples):
        """Frames produced for a waveform of `num_samples` samples.

        Example:
        >>> LogMelSpectrogram().num_frames(441000)
        1279
        """
        return num_samples // self.hop_length + 1

    def call(self, waveform):
        samples = waveform.shape[1]
        if samples is not None and samples < self.min_samples:
            raise ValueError(
                f"waveform of {samples} samples is too short; the frontend needs at least "
                f"{self.min_samples} samples (n_fft // 2 + 1)"
            )
        half = self.n_fft // 2
        padded = ops.pad(waveform, [[0, 0], [half, half]], mode="reflect")
        spectrum = self._stft(padded, ops.shape(waveform)[1] // self.hop_length + 1)
        n_bins = self.n_fft // 2 + 1
        power = ops.square(spectrum[..., :n_bins]) + ops.square(spectrum[..., n_bins:])
        mel = ops.matmul(power, ops.convert_to_tensor(self._filterbank))
        return 10.0 * ops.log10(ops.maximum(mel, self.amin * _SCALE)) - 10.0 * np.log10(_SCALE)

    def _stft(self, padded, num_frames):
        # n_fft is a whole number r of hops, so frame f is the hop-sized chunks
        # f .. f + r - 1, and its DFT is the sum over k of chunk (f + k) times
        # rows k * hop .. (k + 1) * hop of the DFT matrix. Reshape, slicing and
        # matmul only (builtin ops in TFLite); r short dot products instead of
        # one long one also keep the float32 rounding error down.
        hop = self.hop_length
        hops_per_frame = self.n_fft // hop
        num_chunks = num_frames + hops_per_frame - 1
        chunks = ops.reshape(padded[:, : num_chunks * hop], (ops.shape(padded)[0], num_chunks, hop))
        dft = ops.convert_to_tensor(self._dft)
        spectrum = 0.0
        for k in range(hops_per_frame):
            spectrum += ops.matmul(chunks[:, k : k + num_frames], dft[k * hop : (k + 1) * hop])
        return spectrum

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        frames = None if samples is None else self.num_frames(samples)
        return (input_shape[0], frames, self.n_mels)

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)  # always float32, set in __init__
        config.update(
            {
                "sample_rate": self.sample_rate,
                "n_fft": self.n_fft,
                "hop_length": self.hop_length,
                "n_mels": self.n_mels,
                "fmin": self.fmin,
                "fmax": self.fmax,
                "amin": self.amin,
            }
        )
        return config


_SCALE = 1e5


def _check_frontend_args(sample_rate, n_fft, hop_length, n_mels, fmin, fmax, amin):
    for name, value in [
        ("sample_rate", sample_rate),
        ("n_fft", n_fft),
        ("hop_length", hop_length),
        ("n_mels", n_mels),
    ]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} is not allowed; {name} must be an integer >= 1")
    if n_fft % hop_length:
        raise ValueError(
            f"n_fft={n_fft} is not allowed with hop_length={hop_length}; "
            "n_fft must be a whole multiple of hop_length"
        )
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(
            f"fmin={fmin!r}, fmax={fmax!r} are not allowed; they must satisfy "
            f"0 <= fmin < fmax <= sample_rate / 2 = {sample_rate / 2}"
        )
    if not amin > 0:
        raise ValueError(f"amin={amin!r} is not allowed; amin must be > 0")

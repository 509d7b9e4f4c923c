"""Log-mel spectrogram frontend.

Why not `keras.layers.MelSpectrogram`: its STFT is an FFT op, which TFLite
cannot run at this n_fft; its mel filters are not the Slaney filters that
librosa and PANNs (and so the paper's models and the golden files) use; and
its `top_db` cuts each batch against that batch's loudest value, so a clip's
features would depend on the clips beside it. Here each clip has a fixed
floor of 10 * log10(amin) dB, and a clip scores the same alone or in a batch.

The STFT is written with matmuls, not as an FFT op: TFLite's builtin RFFT2D
refuses n_fft = 1380 at run time (it needs a power of two). One Cooley-Tukey
step splits the DFT of n_fft = n1 * n2 points into DFTs of n1 and n2 points
(1380 = 30 * 46) with a twiddle product between them: about 8 times fewer
multiply-adds and constants than one 1380 x 1382 DFT matrix, builtin ops only
(reshape, slice, concatenation, matmul, elementwise), and dot products of 30
and 46 terms, which keep the float32 rounding error small.
"""

import keras
import numpy as np
from keras import ops

from erann_tf.data.frontend_config import FRONTEND, FrontendConfig


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


def hann_window(n_fft):
    """The periodic Hann window of n_fft points.

    Example:
    >>> hann_window(4).round(6).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)


def dft_factors(n_fft):
    """(n1, n2) with n1 * n2 = n_fft that make the two-step DFT cheapest.

    Example:
    >>> dft_factors(1380)
    (30, 46)
    """
    bins = n_fft // 2 + 1

    def cost(n1):  # multiply-adds per frame: real n1-point DFTs, then complex n2-point ones
        n2 = n_fft // n1
        return 2 * n_fft * n1 + 4 * n1 * n2 * -(-bins // n1)

    n1 = min((d for d in range(1, n_fft + 1) if n_fft % d == 0), key=cost)
    return n1, n_fft // n1


def two_step_dft_constants(n_fft):
    """The constants of `LogMelSpectrogram`'s two-step DFT, as float64 arrays.

    With n = n2 * i1 + i2 and k = k1 + n1 * k2, the DFT of a frame x is
    X[k] = sum_i2 exp(-2 pi j i2 k2 / n2) * exp(-2 pi j i2 k1 / n_fft)
    * sum_i1 x[n2 * i1 + i2] exp(-2 pi j i1 k1 / n1); only the k2 that reach the
    n_fft // 2 + 1 one-sided bins are computed.
    """
    n1, n2 = dft_factors(n_fft)
    k2_count = -(-(n_fft // 2 + 1) // n1)
    step1 = 2 * np.pi * np.outer(np.arange(n1), np.arange(n1)) / n1  # (k1, i1)
    twiddle = 2 * np.pi * np.outer(np.arange(n1), np.arange(n2)) / n_fft  # (k1, i2)
    step2 = 2 * np.pi * np.outer(np.arange(n2), np.arange(k2_count)) / n2  # (i2, k2)
    return {
        "step1_cos": np.cos(step1),
        "step1_sin": np.sin(step1),
        "twiddle_cos": np.cos(twiddle),
        "twiddle_sin": np.sin(twiddle),
        "step2_cos": np.cos(step2),
        "step2_sin": np.sin(step2),
    }


@keras.saving.register_keras_serializable(package="erann_tf")
class LogMelSpectrogram(keras.layers.Layer):
    """Mono waveform (batch, samples) to log-mel in dB (batch, frames, n_mels).

    Centred frames with reflect padding of n_fft / 2, a periodic Hann window,
    the power spectrum, a Slaney mel filterbank and 10 * log10(max(mel, amin)).
    Frames = 1 + samples // hop_length. Each clip's output depends on that clip
    alone; nothing is padded to a common length. The layer has no weights and
    always computes in float32.

    Args: the fields of `erann_tf.data.frontend_config.FrontendConfig`, whose
    defaults (FRONTEND) they take; `LogMelSpectrogram.from_frontend(config)`
    builds one from a config.

    Example:
    >>> import numpy as np
    >>> layer = LogMelSpectrogram()
    >>> tuple(layer(np.zeros((2, 44100), "float32")).shape)
    (2, 128, 128)
    """

    def __init__(
        self,
        sample_rate=FRONTEND.sample_rate,
        n_fft=FRONTEND.n_fft,
        hop_length=FRONTEND.hop_length,
        n_mels=FRONTEND.n_mels,
        fmin=FRONTEND.fmin,
        fmax=FRONTEND.fmax,
        amin=FRONTEND.amin,
        **kwargs,
    ):
        kwargs["dtype"] = "float32"  # dB values need float32 even under mixed precision
        super().__init__(**kwargs)
        self.frontend = FrontendConfig(sample_rate, n_fft, hop_length, n_mels, fmin, fmax, amin)
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = self.frontend.fmin
        self.fmax = self.frontend.fmax
        self.amin = self.frontend.amin
        self._window = hann_window(n_fft).astype("float32")
        self._dft = {k: v.astype("float32") for k, v in two_step_dft_constants(n_fft).items()}
        # The filterbank carries a factor of 10^5 that the dB value takes off
        # again, so that the floor amin * 10^5 (1e-5 by default) survives float16
        # TFLite conversion, which stores constants in float16 (1e-10 would be 0).
        self._filterbank = (mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax) * _SCALE).astype(
            "float32"
        )
        self.input_spec = keras.layers.InputSpec(ndim=2)

    @classmethod
    def from_frontend(cls, frontend, **kwargs):
        """The layer for a FrontendConfig; keyword arguments go to the Layer.

        Example:
        >>> LogMelSpectrogram.from_frontend(FRONTEND).num_frames(441000)
        1279
        """
        return cls(**frontend.to_dict(), **kwargs)

    @property
    def min_samples(self):
        """The shortest waveform the reflect padding accepts: n_fft // 2 + 1 samples."""
        return self.frontend.min_samples

    def num_frames(self, num_samples):
        """Frames produced for a waveform of `num_samples` samples."""
        return self.frontend.num_frames(num_samples)

    def call(self, waveform):
        samples = waveform.shape[1]
        if isinstance(samples, int) and samples < self.min_samples:
            raise ValueError(
                f"waveform of {samples} samples is too short; the frontend needs at least "
                f"{self.min_samples} samples (n_fft // 2 + 1)"
            )
        half = self.n_fft // 2
        padded = ops.pad(waveform, [[0, 0], [half, half]], mode="reflect")
        power = self._power_spectrum(padded, ops.shape(waveform)[1] // self.hop_length + 1)
        mel = ops.matmul(power, ops.convert_to_tensor(self._filterbank))
        return 10.0 * ops.log10(ops.maximum(mel, self.amin * _SCALE)) - 10.0 * np.log10(_SCALE)

    def _power_spectrum(self, padded, num_frames):
        # n_fft is a whole number r of hops, so frame f is the hop-sized chunks
        # f .. f + r - 1 side by side: reshape, slices and one concatenation.
        hop = self.hop_length
        hops_per_frame = self.n_fft // hop
        batch = ops.shape(padded)[0]
        num_chunks = num_frames + hops_per_frame - 1
        chunks = ops.reshape(padded[:, : num_chunks * hop], (batch, num_chunks, hop))
        frames = ops.concatenate(
            [chunks[:, k : k + num_frames] for k in range(hops_per_frame)], axis=-1
        )
        frames = frames * ops.convert_to_tensor(self._window)
        c = {name: ops.convert_to_tensor(value) for name, value in self._dft.items()}
        n1, n2 = c["twiddle_cos"].shape
        x = ops.reshape(frames, (batch, num_frames, n1, n2))  # [i1, i2]
        real = ops.matmul(c["step1_cos"], x)  # [k1, i2]: the n1-point DFTs
        imag = -ops.matmul(c["step1_sin"], x)
        real, imag = (
            real * c["twiddle_cos"] + imag * c["twiddle_sin"],
            imag * c["twiddle_cos"] - real * c["twiddle_sin"],
        )
        spectrum_real = ops.matmul(real, c["step2_cos"]) + ops.matmul(imag, c["step2_sin"])
        spectrum_imag = ops.matmul(imag, c["step2_cos"]) - ops.matmul(real, c["step2_sin"])
        power = ops.square(spectrum_real) + ops.square(spectrum_imag)  # [k1, k2]
        power = ops.reshape(ops.transpose(power, (0, 1, 3, 2)), (batch, num_frames, -1))
        return power[..., : self.n_fft // 2 + 1]  # k = k1 + n1 * k2

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        frames = None if samples is None else self.num_frames(samples)
        return (input_shape[0], frames, self.n_mels)

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)  # always float32, set in __init__
        config.update(self.frontend.to_dict())
        return config


_SCALE = 1e5

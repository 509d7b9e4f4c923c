"""The log-mel frontend's settings as one frozen object.

The frontend layer, the model's config, the complexity count, the audio
readers and inference all take a FrontendConfig, so a frontend parameter is
changed in one place and the shortest usable clip is one rule everywhere.
"""

import dataclasses
import math

from erann_tf.checks import check_integer


@dataclasses.dataclass(frozen=True)
class FrontendConfig:
    """Waveform to log-mel: the STFT, the mel filterbank and the dB floor.

    Args:
        sample_rate: rate of the waveform in Hz (every reader resamples to it).
        n_fft: window and FFT length in samples; a whole multiple of `hop_length`.
        hop_length: step between frames in samples.
        n_mels: mel bands.
        fmin, fmax: lowest and highest band edges in Hz.
        amin: floor of the mel power before the logarithm.

    Example:
    >>> FRONTEND.min_samples, FRONTEND.floor_db, FRONTEND.num_frames(441000)
    (691, -100.0, 1279)
    >>> FrontendConfig(amin=0)
    Traceback (most recent call last):
    ...
    ValueError: amin=0 is not allowed; amin must be > 0
    """

    sample_rate: int = 44100
    n_fft: int = 1380
    hop_length: int = 345
    n_mels: int = 128
    fmin: float = 50.0
    fmax: float = 14000.0
    amin: float = 1e-10

    def __post_init__(self):
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels"):
            check_integer(name, getattr(self, name))
        if self.n_fft % self.hop_length:
            raise ValueError(
                f"n_fft={self.n_fft} is not allowed with hop_length={self.hop_length}; "
                "n_fft must be a whole multiple of hop_length"
            )
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(
                f"fmin={self.fmin!r}, fmax={self.fmax!r} are not allowed; they must satisfy "
                f"0 <= fmin < fmax <= sample_rate / 2 = {self.sample_rate / 2}"
            )
        if not self.amin > 0:
            raise ValueError(f"amin={self.amin!r} is not allowed; amin must be > 0")
        for name in ("fmin", "fmax", "amin"):  # JSON and configs give ints at times
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def min_samples(self):
        """The shortest usable clip: the frontend's reflect padding needs
        n_fft // 2 + 1 samples. Readers, training and inference all apply it."""
        return self.n_fft // 2 + 1

    @property
    def floor_db(self):
        """The dB value of silence, 10 * log10(amin); time padding uses it."""
        return 10.0 * math.log10(self.amin)

    def num_frames(self, num_samples):
        """Frames for a waveform of `num_samples` samples (centred frames)."""
        return num_samples // self.hop_length + 1

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """A FrontendConfig from `to_dict()` output; a ValueError names unknown keys."""
        if isinstance(values, cls):
            return values
        names = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(
                f"frontend settings {', '.join(unknown)} are unknown; allowed: {', '.join(names)}"
            )
        return cls(**values)


FRONTEND = FrontendConfig()  # the package's frontend, which every shipped model uses

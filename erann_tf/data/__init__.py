"""Audio input: decoding files to the waveforms the models take."""

from erann_tf.data.audio import SAMPLE_RATE, AudioError, load_audio

__all__ = ["SAMPLE_RATE", "AudioError", "load_audio"]

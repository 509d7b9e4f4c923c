import numpy as np
import pytest
import soundfile

from erann_tf.data import AudioError, load_audio


def test_decodes_and_resamples_real_recordings(shared, golden):
    fsdd = shared / "data" / "fsdd" / "recordings" / "0_george_10.wav"
    raw, rate = soundfile.read(fsdd)
    assert rate == 8000
    wave = load_audio(fsdd)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(wave.shape[0] - raw.shape[0] * 44100 / 8000) <= 1
    ravdess = load_audio(shared / "data" / "ravdess" / "Actor_01" / "03-01-01-01-01-01-01.ogg")
    assert ravdess.ndim == 1 and np.isfinite(ravdess).all()
    rain = load_audio(shared / "data" / "esc10" / "002 - Rain" / "1-17367-A.ogg")
    np.testing.assert_array_equal(rain, golden["_rain"]["waveform"])


def test_downmixes_by_the_mean(tmp_path):
    stereo = np.stack([np.full(1000, 0.5), np.full(1000, -0.1)], axis=1)
    soundfile.write(tmp_path / "stereo.flac", stereo, 44100)
    np.testing.assert_allclose(load_audio(tmp_path / "stereo.flac"), 0.2, atol=1e-4)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_every_wav_width(tmp_path, subtype):
    tone = 0.5 * np.sin(np.arange(4410) / 10.0)
    soundfile.write(tmp_path / "tone.wav", tone, 44100, subtype=subtype)
    np.testing.assert_allclose(load_audio(tmp_path / "tone.wav"), tone, atol=1e-2)


def _bad_files(tmp_path, shared):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not audio at all\n" * 20)
    soundfile.write(tmp_path / "silence0.wav", np.zeros(0), 44100)
    soundfile.write(tmp_path / "silent.flac", np.zeros((48000, 2)), 48000)  # stereo zeros
    (tmp_path / "take1.wav").mkdir()  # a folder, named like a file
    soundfile.write(
        tmp_path / "nan.wav", np.array([0.1, np.nan, 0.2] * 100), 44100, subtype="FLOAT"
    )
    ogg = (shared / "data" / "esc10" / "002 - Rain" / "1-17367-A.ogg").read_bytes()
    (tmp_path / "truncated.ogg").write_bytes(ogg[:200])
    return {
        "missing.wav": "no such file",
        "empty.wav": "not a readable audio file",
        "notes.txt": "not a readable audio file",
        "silence0.wav": "empty audio",
        "silent.flac": "digital silence (every sample is 0)",
        "take1.wav": "a folder, not an audio file",
        "nan.wav": "NaN or Inf",
        "truncated.ogg": "",
    }


def test_bad_files_give_one_line_naming_the_file(tmp_path, shared):
    for name, why in _bad_files(tmp_path, shared).items():
        with pytest.raises(AudioError) as error:
            load_audio(tmp_path / name)
        message = str(error.value)
        assert message.startswith(str(tmp_path / name)) and why in message, message
        assert "\n" not in message


def test_a_quiet_window_of_a_long_file_is_not_silence(tmp_path):
    """Only a whole file of zeros is refused: a window cut from a longer file
    (training's random crops of long clips) may fall on a pause."""
    wave = np.concatenate([np.zeros(8000 * 3), np.full(8000 * 3, 0.1)])
    soundfile.write(tmp_path / "pause.wav", wave, 8000)
    window = load_audio(tmp_path / "pause.wav", sample_rate=8000, max_seconds=2.0)
    assert window.shape == (16000,) and not window.any()


def test_too_short_after_resampling(tmp_path):
    soundfile.write(tmp_path / "click.wav", np.ones(10), 8000)
    with pytest.raises(AudioError, match="too short; at least 691"):
        load_audio(tmp_path / "click.wav", min_samples=691)

import pathlib
import subprocess
import sys

from tests.conftest import REPO


def test_quickstart_runs():
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "erann_tm2_w3" in result.stdout and "ESC-50 from scratch accuracy 0.892" in result.stdout


def test_installed_console_script(tmp_path):
    """The `erann` entry point of the installed package, run away from the source tree."""
    erann = pathlib.Path(sys.executable).parent / "erann"
    assert erann.exists(), "install the package: pip install ."
    result = subprocess.run(
        [erann, "summary", "ERANN-8x4-5", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert '"paper_params": 38198545' in result.stdout
    assert result.stderr == ""  # TensorFlow's start-up lines are kept off the terminal


def test_example_audio_is_what_make_audio_makes(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "make_audio.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    committed = sorted((REPO / "examples" / "audio").glob("*.wav"))
    assert [p.name for p in committed] == sorted(p.name for p in tmp_path.glob("*.wav"))
    for path in committed:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes()


def test_installed_predict_uses_the_shipped_model(tmp_path):
    """`erann predict` from the installed package, away from the source tree:
    the shipped models are package data."""
    erann = pathlib.Path(sys.executable).parent / "erann"
    clip = REPO / "examples" / "audio" / "rain.wav"
    result = subprocess.run(
        [erann, "predict", str(clip)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "model erann-esc10" in result.stdout and "1.00-5.00 s" in result.stdout

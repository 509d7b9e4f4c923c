import json

import pytest

from erann_tf.cli import main
from tests.test_model import PAPER


@pytest.mark.parametrize("tm, width", sorted(PAPER))
def test_summary_json_matches_the_paper(capsys, tm, width):
    assert main(["summary", f"ERANN-8x{tm}-{width}", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    trainable, macs = PAPER[tm, width]
    assert out["trainable_params"] == trainable
    assert out["paper_params"] == trainable + 2 + 240 * width
    assert out["total_params"] > out["trainable_params"]
    assert abs(out["macs"] - macs) / macs <= 0.001
    assert out["pooled_shape"] == [1280 // (16 * tm), 8, 128 * width]


def test_summary_text_explains_the_paper_count(capsys):
    assert main(["summary", "--tm", "4", "--width", "5", "--classes", "10", "--seconds", "4"]) == 0
    out = capsys.readouterr().out
    assert "2 + 240*W batch-norm weights" in out and "512 frames" in out


@pytest.mark.parametrize(
    "argv, word",
    [
        (["summary", "ERANN-8x3-5"], "tm=3"),
        (["summary", "--tm", "4"], "--width"),
        (["summary", "ERANN-8x4-5", "--tm", "2"], "not both"),
        (["summary", "--tm", "4", "--width", "2", "--classes", "0"], "num_classes"),
        (["summary", "--tm", "4", "--width", "2", "--seconds", "0"], "seconds"),
        (["summary", "--tm", "4", "--width", "2", "--seconds", "inf"], "seconds=inf"),
        (["summary", "--tm", "4", "--width", "2", "--seconds", "nan"], "seconds=nan"),
    ],
)
def test_summary_bad_arguments_give_one_line(capsys, argv, word):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("erann summary: error:") and word in err and "\n" not in err


@pytest.mark.parametrize(
    "flags, word",
    [
        (["--fix", "depth=3"], "--fix depth: unknown hyper-parameter"),
        (["--fix", "tm"], "--fix 'tm': expected NAME=VALUE"),
        (["--fix", "tm=four"], "--fix tm=four: the value must be a number"),
        (["--fix", "schedule=cosine"], "--fix schedule=cosine: use constant, one_cycle"),
        (["--space", "learning_rate=1e-2:1e-4"], "--space learning_rate: a range is LOW:HIGH"),
        (["--space", "depth=1,2"], "--space depth: unknown hyper-parameter"),
        (["--space", "tm="], "--space 'tm=': expected NAME=LOW:HIGH or NAME=A,B"),
        (["--space", "learning_rate=1e-5:1e309"], "--learning-rate inf is not allowed"),
        (["--fix", "width=1e309"], "--fix width=inf: width=inf is not allowed"),
    ],
)
def test_tune_bad_pins_give_one_line_and_write_nothing(capsys, tmp_path, flags, word):
    output = tmp_path / "search"
    argv = ["tune", "--recipe", "fsdd", "--data", "unused", "--output", str(output), *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("erann tune: error: ") and word in err and "\n" not in err
    assert not output.exists()

import pytest

from erann_tf.models.presets import Preset, paper_results, parse_preset


@pytest.mark.parametrize(
    "name, expected",
    [
        ("ERANN-8x4-5", (8, 4, 5)),
        ("ERANN-4x2-3", (4, 2, 3)),
        ("erann-3x1-4", (3, 1, 4)),
        ("10x16-2", (10, 16, 2)),
    ],
)
def test_parse_preset(name, expected):
    preset = parse_preset(name)
    assert (preset.crop_seconds, preset.tm, preset.width) == expected
    assert parse_preset(preset.name) == preset


@pytest.mark.parametrize(
    "name, word",
    [
        ("ERANN-8x3-5", "tm=3"),
        ("ERANN-8x4-0", "width=0"),
        ("ERANN-8-4-5", "not a preset name"),
        ("ERANN-0x4-5", "crop_seconds"),
    ],
)
def test_bad_preset_names(name, word):
    with pytest.raises(ValueError, match=word):
        parse_preset(name)


def test_paper_results_lookup():
    assert [(r.dataset, r.value) for r in paper_results("ERANN-8x2-6")] == [("AudioSet", 0.450)]
    esc = {r.training: r.value for r in paper_results("ERANN-4x4-5")}
    assert esc == {"from scratch": 0.879, "fine-tuned": 0.961}
    ravdess = paper_results("ERANN-3x1-4")[0]
    assert (ravdess.dataset, ravdess.metric, ravdess.value) == ("RAVDESS", "accuracy", 0.748)
    assert paper_results("ERANN-5x4-2") == ()
    assert Preset(8, 4, 5).name == "ERANN-8x4-5"

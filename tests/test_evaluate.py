"""One scoring protocol: `erann evaluate` scores each clip as `erann predict`
does, in every model format, with the data's labels matched to the model's
class names by name."""

import csv
import json
import pathlib
import shutil

import numpy as np
import pytest

from erann_tf.data.clips import SourceError
from erann_tf.data.loader import ClipLoader
from erann_tf.data.sources import read_esc10, read_fsdd
from erann_tf.inference import load_ensemble, load_runner, predict_file
from erann_tf.training.evaluation import predict_clips
from tests.conftest import erann

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_evaluation_scores_each_clip_as_predict_does(shared, capsys):
    runner = load_runner("erann-fsdd")
    clips = read_fsdd(shared / "data" / "fsdd").subset(6).onto_classes(runner.metadata.classes)
    loader = ClipLoader(clips).scan(progress=False)
    window = runner.metadata.window_samples
    scores, targets = predict_clips(runner, loader, window, batch_size=4, progress=True)
    assert scores.shape == targets.shape == (6, 10)
    err = capsys.readouterr().err
    assert "scoring: 100%" in err and "6/6" in err
    for row, clip in enumerate(clips.clips):
        predicted = predict_file(runner, clip.path, top_k=10)
        by_name = {item["label"]: item["score"] for item in predicted["top"]}
        expected = [by_name[name] for name in runner.metadata.classes]
        np.testing.assert_allclose(scores[row], expected, atol=2e-5)


def test_labels_are_matched_by_name_not_position(shared):
    clips = read_esc10(shared / "data" / "esc10")
    reordered = clips.onto_classes(tuple(sorted(clips.classes)))
    np.testing.assert_array_equal(
        reordered.targets()[:, [sorted(clips.classes).index(c) for c in clips.classes]],
        clips.targets(),
    )
    with pytest.raises(SourceError, match=r"label 'dog' is not a class of the model; its classes"):
        clips.onto_classes(("rain", "sea_waves"))
    assert clips.split("1")[1]._with(clips.clips[:1]).absent_classes() == list(clips.classes[1:])


@pytest.mark.tf_only
def test_evaluate_command_maps_names_and_takes_every_format(shared, tmp_path, capsys):
    """A manifest whose labels sort differently from the model's classes scores
    as the dataset layout does; a model folder, .keras and .tflite all work;
    data of another task is refused in one line."""
    esc10 = str(shared / "data" / "esc10")
    common = ["--recipe", "esc10", "--fold", "4", "--json"]
    shipped = ["evaluate", "erann-esc10"]
    code, out, err = erann(capsys, *shipped, "--data", esc10, "--max-clips", "20", *common)
    assert code == 0, err[-2000:]
    expected = json.loads(out)
    assert expected["format"] == "keras" and expected["window_s"] == 4.0

    clips = read_esc10(esc10).split("4")[1].subset(20)  # what --fold 4 --max-clips 20 scores
    manifest = tmp_path / "fold4.csv"
    manifest.write_text(
        "path,label,fold\n" + "".join(f"{c.path},{c.labels[0]},4\n" for c in clips.clips)
    )
    by_manifest = ["--data", str(manifest), "--layout", "manifest", *common]
    code, out, err = erann(capsys, *shipped, *by_manifest)
    assert code == 0, err[-2000:]
    result = json.loads(out)
    assert result["clips"] == expected["clips"] == 20  # the same clips, by name
    assert result["accuracy"] == expected["accuracy"]
    assert result["per_class_accuracy"] == expected["per_class_accuracy"]
    assert set(result["classes_without_clips"]) == set(clips.classes) - {
        c.labels[0] for c in clips.clips
    }

    model = REPO / "savedmodels" / "erann-esc10" / "model_float16.tflite"
    code, out, err = erann(capsys, "evaluate", str(model), *by_manifest)
    assert code == 0, err[-2000:]
    assert json.loads(out)["format"] == "tflite"
    assert json.loads(out)["accuracy"] == pytest.approx(expected["accuracy"], abs=0.1)  # 2 of 20

    fsdd = str(shared / "data" / "fsdd")
    code, out, err = erann(capsys, *shipped, "--recipe", "fsdd", "--data", fsdd)
    assert code == 2 and err.startswith("erann evaluate: error: ")
    assert "label '0' is not a class" in err and len(err.strip().splitlines()) == 1


def test_evaluate_writes_each_clip_s_scores(shared, tmp_path, capsys):
    """--predictions lists every scored clip with its top class, as the
    accuracy counts them; a folder in its place is one line."""
    fsdd = str(shared / "data" / "fsdd")
    csv_path = tmp_path / "out" / "scores.csv"
    args = ["evaluate", "erann-fsdd", "--recipe", "fsdd", "--data", fsdd, "--max-clips", "12"]
    code, out, err = erann(capsys, *args, "--json", "--predictions", str(csv_path))
    assert code == 0, err[-2000:]
    result = json.loads(out)
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == result["clips"] == 12
    digits = [str(d) for d in range(10)]
    assert list(rows[0]) == ["path", "labels", "top", "correct", *digits]
    for row in rows:
        assert pathlib.Path(row["path"]).is_file()
        assert row["labels"] == pathlib.Path(row["path"]).name.split("_")[0]
        scores = [float(row[d]) for d in digits]
        assert row["top"] == digits[int(np.argmax(scores))]
        assert row["correct"] == str(int(row["top"] == row["labels"]))
        assert sum(scores) == pytest.approx(1.0, abs=1e-4)  # softmax
    assert np.mean([int(r["correct"]) for r in rows]) == pytest.approx(result["accuracy"])

    code, _, err = erann(capsys, *args, "--predictions", str(tmp_path))
    assert code == 2 and f"--predictions {tmp_path} is a folder" in err
    assert len(err.strip().splitlines()) == 1

    manifest = tmp_path / "v.csv"  # --predictions naming the manifest read: refused, kept
    manifest.write_text(f"path,label\n{rows[0]['path']},{rows[0]['labels']}\n")
    before = manifest.read_text()
    argv = ["evaluate", "erann-fsdd", "--recipe", "fsdd", "--layout", "manifest"]
    code, _, err = erann(capsys, *argv, "--data", str(manifest), "--predictions",
                         str(tmp_path / "." / "v.csv"))  # fmt: skip
    assert code == 2 and "is also --data: the command would overwrite what it reads" in err
    assert manifest.read_text() == before


@pytest.mark.tf_only
def test_several_models_are_scored_as_their_ensemble(shared, tmp_path, capsys):
    """Several models: each clip's scores are the mean of theirs, in any mix of
    formats; models of another task (classes, window) are refused in one line."""
    esc10 = shared / "data" / "esc10"
    clips = read_esc10(esc10).split("4")[1].subset(8)
    loader = ClipLoader(clips).scan(progress=False)
    small = str(REPO / "savedmodels" / "erann-esc10-small" / "model_float16.tflite")
    runners = [load_runner("erann-esc10"), load_runner(small)]
    window = runners[0].metadata.window_samples
    alone = [predict_clips(runner, loader, window)[0] for runner in runners]
    together, _ = predict_clips(load_ensemble(["erann-esc10", small]), loader, window)
    np.testing.assert_allclose(together, np.mean(alone, axis=0), atol=1e-6)

    csv_path = tmp_path / "ensemble.csv"
    argv = ["evaluate", "erann-esc10", small, "--recipe", "esc10", "--data", str(esc10)]
    argv += ["--fold", "4", "--max-clips", "8", "--json", "--predictions", str(csv_path)]
    code, out, err = erann(capsys, *argv)
    assert code == 0, err[-2000:]
    result = json.loads(out)
    assert result["format"] == "ensemble" and result["model"] == ["erann-esc10", small]
    rows = list(csv.DictReader(csv_path.open()))
    scores = np.array([[float(row[c]) for c in clips.classes] for row in rows])
    np.testing.assert_allclose(scores, together, atol=2e-6)  # the CSV's 6 decimals
    assert result["accuracy"] == np.mean(scores.argmax(1) == clips.targets().argmax(1))

    shorter = tmp_path / "shorter"  # erann-esc10-small, said to take 3.3 s windows
    shorter.mkdir()
    shutil.copy(REPO / "savedmodels" / "erann-esc10-small" / "model.keras", shorter)
    facts = json.loads((REPO / "savedmodels" / "erann-esc10-small" / "metadata.json").read_text())
    (shorter / "metadata.json").write_text(json.dumps({**facts, "window_s": 3.3}))
    for other, what in (("erann-fsdd", "classes"), (str(shorter), "window")):
        code, _, err = erann(capsys, "evaluate", "erann-esc10", other, *argv[3:11])
        assert code == 2 and f"not the {what} of" in err, err
        assert len(err.strip().splitlines()) == 1


def test_a_metric_that_cannot_be_computed_is_null_with_its_reason():
    """Clips of one class: no AUC (nothing to rank against); strict JSON null."""
    from erann_tf import strict_json
    from erann_tf.training.evaluation import headline, tagging_metrics

    targets = np.array([[1, 0], [1, 0], [1, 0]])
    scores = np.array([[0.9, 0.2], [0.4, 0.3], [0.7, 0.6]])
    result = tagging_metrics(targets, scores, ["a", "b"])
    assert result["mean_auc"] is None and result["d_prime"] is None and result["mAP"] == 1.0
    assert "both clips labelled with it and clips without it" in result["unavailable"]["mean_auc"]
    assert '"mean_auc": null' in strict_json.dumps(result)
    nothing = tagging_metrics(np.zeros((2, 2)), scores[:2], ["a", "b"])
    assert nothing["mAP"] is None and np.isnan(headline(nothing))

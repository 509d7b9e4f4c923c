"""Shared fixtures: the read-only ../shared folder beside the repository."""

import os
import pathlib
import shutil

import keras
import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("ERANN_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared():
    """../shared (DESIGN.md, data/, reference/); tests fail, not skip, without it."""
    assert (SHARED / "DESIGN.md").is_file(), f"{SHARED} is missing; set ERANN_SHARED"
    return SHARED


@pytest.fixture(scope="session")
def golden(shared):
    """The two golden frontend files, loaded."""
    return {
        name: dict(np.load(shared / "reference" / f"golden_frontend{name}.npz"))
        for name in ("", "_rain")
    }


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    # Every test starts from the same seeds, whichever worker runs it and in
    # whatever order: a random initialisation never differs between here and CI.
    keras.utils.set_random_seed(0)
    yield
    keras.mixed_precision.set_global_policy("float32")
    keras.backend.clear_session()


@pytest.fixture(scope="session")
def fsdd_manifest(shared, tmp_path_factory):
    """A CSV manifest of real FSDD recordings with two folds: fold "heldout"
    holds recording indices 5-9 of every speaker, fold "train" the rest."""
    rows = ["path,label,fold"]
    for path in sorted((shared / "data" / "fsdd" / "recordings").glob("*.wav")):
        digit, _, index = path.stem.split("_")
        rows.append(f"{path},{digit},{'heldout' if int(index) < 10 else 'train'}")
    manifest = tmp_path_factory.mktemp("fsdd") / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def pytest_collection_modifyitems(config, items):
    tf_backend = keras.backend.backend() == "tensorflow"
    for item in items:
        # SavedModel and TFLite export run on TF only (see export.exporter).
        if isinstance(item, pytest.DoctestItem) and ".export." in item.name:
            item.add_marker(pytest.mark.tf_only)
        if "tf_only" in item.keywords and not tf_backend:
            item.add_marker(pytest.mark.skip(reason="needs the TensorFlow backend"))


def tiny_config(manifest, output, **kwargs):
    """A TrainConfig for a small run: ERANN-1x4-1, one epoch of at most 48
    clips on each side of the fsdd_manifest's "heldout" fold, batch 8."""
    from erann_tf.training import TrainConfig

    settings = dict(
        recipe="fsdd",
        data=str(manifest),
        layout="manifest",
        output=str(output),
        tm=4,
        width=1,
        epochs=1,
        batch_size=8,
        max_clips=48,
        fold="heldout",
    )
    return TrainConfig(**{**settings, **kwargs})


@pytest.fixture(scope="session")
def tiny_run(fsdd_manifest, tmp_path_factory):
    """One finished run of tiny_config on 16 clips a side, on the PyDataset
    transport, with batch norm re-estimated on 2 batches: (its folder, its
    config, train's result).
    Tests read it; a test that changes a run works on a copy (copy_run).
    Every training run pays ~20-25 s of graph tracing on TensorFlow, so the
    tests that need "a finished run" share this one."""
    from erann_tf.training import train

    config = tiny_config(
        fsdd_manifest,
        tmp_path_factory.mktemp("tiny-run") / "run",
        max_clips=16,
        transport="pydataset",
        recalibrate_bn=2,
    )
    result = train(config, progress=False)
    return pathlib.Path(config.output), config, result


def erann(capsys, *args):
    """`erann ARGS` in this process: (exit status, stdout, stderr). A
    subprocess would pay TensorFlow's import again (~6 s)."""
    from erann_tf.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def copy_run(run, destination):
    """A copy of a run folder that a test may change; a run resumes where it is."""
    return pathlib.Path(shutil.copytree(run, destination))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """An untrained ERANN-1x4-1 for ten FSDD digits saved as a model folder
    (model.keras, metadata.json, labels.txt) with a 1 s window."""
    from erann_tf import ERANN
    from erann_tf.models.metadata import Metadata, write_metadata

    folder = tmp_path_factory.mktemp("tiny") / "tiny-fsdd"
    folder.mkdir()
    keras.utils.set_random_seed(0)
    model = ERANN(tm=4, width=1, num_classes=10, activation="softmax", seed=0)
    model.save(folder / "model.keras")
    digits = tuple(str(d) for d in range(10))
    write_metadata(folder, Metadata("tiny-fsdd", window_s=1.0, classes=digits, tm=4, width=1))
    return folder


@pytest.fixture(scope="session")
def fsdd_clips(shared):
    """Sixteen real FSDD recordings spread over digits and speakers."""
    return sorted((shared / "data" / "fsdd" / "recordings").glob("*.wav"))[::169][:16]

"""Shared fixtures: the read-only ../shared folder beside the repository."""

import os
import pathlib

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
    yield
    keras.backend.clear_session()


def pytest_collection_modifyitems(config, items):
    tf_backend = keras.backend.backend() == "tensorflow"
    for item in items:
        if "tf_only" in item.keywords and not tf_backend:
            item.add_marker(pytest.mark.skip(reason="needs the TensorFlow backend"))

"""`export`: a trained model to a folder of deployable files, checked for parity."""

import dataclasses
import os
import shutil

import keras
import numpy as np

from erann_tf import strict_json
from erann_tf.atomic import FolderLock, atomic_path, check_not_an_input
from erann_tf.choices import FORMATS, QUANTIZATIONS
from erann_tf.data.examples import example_clips
from erann_tf.data.windows import check_window_seconds
from erann_tf.export import parity
from erann_tf.export.savedmodel import write_savedmodel
from erann_tf.export.tflite import EMBEDDER_FILENAME, FILENAMES, check_builtin_only, convert
from erann_tf.export.tflite_metadata import metadata_available, with_metadata
from erann_tf.inference.runners import SavedModelRunner, TFLiteRunner, find_model_metadata, resolve
from erann_tf.models import metadata as meta
from erann_tf.models.erann import load_erann

CALIBRATION_CLIPS = 256  # int8 representative data: the first window of each


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """What `erann export` makes.

    Example:
    >>> ExportConfig("m.keras", "out", quantize=("float16",)).tflite
    False
    """

    model: str  # a .keras file, a model folder or a shipped model's name
    output: str
    format: str = "savedmodel"
    quantize: tuple = ("none",)  # TFLite variants
    window_s: float | None = None  # TFLite input length (default: the metadata's window)
    calibration_data: str | None = None  # real clips for int8
    parity_data: str | None = None  # real clips for the parity check (default: the examples)
    name: str | None = None
    cv_summary: str | None = None  # an `erann cv` cv.json to record in the metadata
    embedder: bool = False  # also a float16 TFLite embedder (output: the `embedding` layer)
    force: bool = False

    @property
    def savedmodel(self):
        return self.format in ("savedmodel", "all")

    @property
    def tflite(self):
        return self.format in ("tflite", "all")

    def check(self):
        if self.format not in FORMATS:
            raise ValueError(f"format={self.format!r} is not allowed; use {', '.join(FORMATS)}")
        unknown = [q for q in self.quantize if q not in QUANTIZATIONS]
        if unknown:
            raise ValueError(
                f"--quantize {','.join(unknown)} is not allowed; use {', '.join(QUANTIZATIONS)}"
            )
        if self.tflite and "int8" in self.quantize and not self.calibration_data:
            raise ValueError("--quantize int8 needs --calibration-data DIR of real clips")
        if self.window_s is not None:
            check_window_seconds(self.window_s, "--window")
        check_free(self.output, self.force)


def check_free(output, force):
    """A FileExistsError where `output` holds files and `force` is off (the
    lock of a writer that is gone does not count)."""
    present = set(os.listdir(output)) - {".lock"} if os.path.isdir(output) else set()
    if present and not force:
        raise FileExistsError(f"{output}: exists and is not empty; use --force")


def export(config, progress=print):
    """Writes the model, its metadata and the requested exports into
    config.output, each file atomically, and returns one Parity per export."""
    config.check()
    if keras.backend.backend() != "tensorflow":
        # jax2tf cannot prove the padded time axis divides by 64 for any length.
        raise ValueError(
            f"export runs on the TensorFlow backend, not {keras.backend.backend()!r}: "
            "set KERAS_BACKEND=tensorflow (the .keras file loads there unchanged)"
        )
    source = resolve(config.model)
    if not source.endswith(".keras"):
        raise ValueError(f"{config.model}: export needs a .keras model or a model folder")
    check_not_an_input(
        "-o", config.output,
        {"MODEL": source, "the model's folder": os.path.dirname(source),
         "--calibration-data": config.calibration_data, "--parity-data": config.parity_data,
         "--cv-summary": config.cv_summary},
    )  # fmt: skip
    model = load_erann(source)
    info = _metadata(config, source, model)
    window = int(round((config.window_s or info.window_s) * info.sample_rate))
    if config.parity_data:
        windows = parity.clip_windows(config.parity_data, window, info.sample_rate)
    else:
        clips = example_clips(info.sample_rate).values()
        windows = np.stack([parity.first_window(c, window) for c in clips])
    reference = model.predict(windows, batch_size=1, verbose=0)

    lock = FolderLock(config.output)  # one writer per export folder, as for run folders
    lock.acquire()
    try:
        check_free(config.output, config.force)  # again: another export may have finished
        return _write(config, model, source, info, window, windows, reference, progress)
    finally:
        lock.release()


def _write(config, model, source, info, window, windows, reference, progress):
    with atomic_path(os.path.join(config.output, "model.keras")) as tmp:
        shutil.copyfile(source, tmp)
    meta.write_metadata(config.output, info)
    results = []
    if config.savedmodel:
        progress("writing saved_model/")
        path = os.path.join(config.output, "saved_model")
        write_savedmodel(model, path)
        results.append(parity.compare("savedmodel", reference, SavedModelRunner(path)(windows)))
    calibration = None
    for quantize in config.quantize if config.tflite else ():
        progress(f"writing {FILENAMES[quantize]}")
        if quantize == "int8" and calibration is None:
            calibration = parity.clip_windows(
                config.calibration_data, window, info.sample_rate, limit=CALIBRATION_CLIPS
            )
            calibration = [clip[None] for clip in calibration]
        content = convert(model, window, quantize, calibration)
        path = _write_tflite(config, FILENAMES[quantize], content, info, window, progress)
        results.append(parity.compare(quantize, reference, TFLiteRunner(path)(windows)))
    if config.tflite and config.embedder:
        progress(f"writing {EMBEDDER_FILENAME}")
        content = convert(model, window, "float16", output="embedding")
        _write_tflite(config, EMBEDDER_FILENAME, content, info, window, progress, embedder=True)
    return results


def _write_tflite(config, name, content, info, window, progress, embedder=False):
    """Checks `content`, adds TFLite Model Metadata (MediaPipe needs it) and
    writes it atomically as config.output/name."""
    check_builtin_only(content)
    if metadata_available():
        info = dataclasses.replace(info, window_s=window / info.sample_rate)
        content = with_metadata(content, info, embedder=embedder)
    else:
        progress(
            f"{name}: no TFLite metadata (MediaPipe needs it): pip install 'erann_tf[mediapipe]'"
        )
    path = os.path.join(config.output, name)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(content)
    return path


def _metadata(config, source, model):
    found = find_model_metadata(source)
    info = (
        meta.check_metadata(found, model.num_classes, model.frontend, source)
        if found
        else meta.for_model(model)
    )
    changes = {}
    if config.name:
        changes["name"] = config.name
    if config.cv_summary:
        summary = strict_json.load(config.cv_summary)
        changes["metrics"] = {**info.metrics, "cross_validation": summary}
    return dataclasses.replace(info, **changes)

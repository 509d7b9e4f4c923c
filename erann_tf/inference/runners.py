"""One interface over every model format: Keras, SavedModel and TFLite.

A runner maps windows [n, samples] to scores [n, classes] and carries the
model's Metadata (class names, sample rate, window); `fixed_window` says
whether it takes windows of that length only (a TFLite file's fixed input).
"""

import dataclasses
import os

import numpy as np

from erann_tf.choices import RUNTIMES
from erann_tf.data.audio import first_line
from erann_tf.models import metadata as meta
from erann_tf.models.presets import shipped_model_dir, shipped_models
from erann_tf.quiet import import_keras_quietly, quiet_stderr

LITERT_FILE = "model_float16.tflite"  # what a model folder runs on LiteRT


def resolve(spec, runtime=None):
    """The model file or folder that `spec` names: a shipped model's name, a
    model folder (its model.keras), a training run's folder (its final.keras),
    a .keras file, a SavedModel folder or a .tflite file.

    `runtime` "litert" takes a model folder's model_float16.tflite instead,
    and "auto" does where there is one; "keras" refuses a .tflite file and
    "litert" anything else. None takes files as they are (a folder: Keras).
    """
    if runtime is not None and runtime not in RUNTIMES:
        raise ValueError(f"runtime={runtime!r} is not allowed; use {', '.join(RUNTIMES)}")
    if spec in shipped_models():
        spec = shipped_model_dir(spec)
    path = _model_in(spec, runtime) if os.path.isdir(spec) else _model_file(spec)
    if runtime == "litert" and not path.endswith(".tflite"):
        raise ValueError(f"{path}: LiteRT runs .tflite files; use --runtime keras for this model")
    if runtime == "keras" and path.endswith(".tflite"):
        raise ValueError(f"{path}: a .tflite file runs on LiteRT; use --runtime litert or auto")
    return path


def _model_in(folder, runtime):
    if os.path.isfile(os.path.join(folder, "saved_model.pb")):
        return folder
    lite = os.path.join(folder, LITERT_FILE)
    if runtime in ("auto", "litert") and os.path.isfile(lite):
        return lite
    for name in ("model.keras", "final.keras"):  # a model folder, or a training run's
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise ValueError(
        f"{folder}: a folder without model.keras, final.keras (a training run) or saved_model.pb"
    )


def _model_file(spec):
    if not os.path.isfile(spec):
        names = ", ".join(shipped_models()) or "none yet"
        raise FileNotFoundError(f"{spec}: no such model file or folder (shipped models: {names})")
    if not spec.endswith((".keras", ".tflite")):
        raise ValueError(f"{spec}: not a model; use a .keras, .tflite or SavedModel folder")
    return spec


def find_model_metadata(path):
    """The metadata of the model at `path`: its metadata.json (beside it, or in
    or above its folder), else the facts of the training run it is in, else None."""
    found = meta.find_metadata(path)
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    if found is None and meta.is_run_folder(folder):  # only then the training package (TF)
        from erann_tf.training.run_metadata import run_metadata

        found = run_metadata(folder)
    return found


def _guessed(path):
    return (
        f"{path}: no metadata.json beside it, so the window ({meta.DEFAULT_WINDOW_S:g} s) and "
        "class names (class_N) are guesses; pass --window, or keep the model in its run or "
        "export folder"
    )


def load_runner(spec, runtime=None):
    """A runner for the model `spec` names (see `resolve`): LiteRT for a
    .tflite file (no TensorFlow or Keras is imported), else Keras or TF."""
    path = resolve(spec, runtime)
    if path.endswith(".tflite"):
        return TFLiteRunner(path)
    if os.path.isdir(path):
        return SavedModelRunner(path)
    return KerasRunner(path)


def load_ensemble(specs):
    """One runner for the models `specs` name: `load_runner`'s for one, else
    an EnsembleRunner of them all."""
    runners = [load_runner(spec) for spec in specs]
    return runners[0] if len(runners) == 1 else EnsembleRunner(runners)


# Windows per batch are bounded by samples, so that memory stays bounded
# whatever the window: 80 s of audio at 44.1 kHz (8 windows of 10 s).
BATCH_SAMPLES = 80 * 44100


def batch_for(window_samples, most=8):
    """Windows per batch: `most`, or fewer where the windows are long.

    Example:
    >>> batch_for(4 * 44100), batch_for(600 * 44100)
    (8, 1)
    """
    return max(1, min(most, BATCH_SAMPLES // max(1, window_samples)))


class KerasRunner:
    """A .keras model; windows run in batches."""

    format = "keras"
    fixed_window = False

    def __init__(self, path, batch_size=8):
        import_keras_quietly()
        from erann_tf.models.erann import load_erann

        self.path = path
        self.model = load_erann(path)
        found = find_model_metadata(path)
        self.warning = None if found else _guessed(path)
        found = found or meta.for_model(self.model)
        classes = self.model.output.shape[-1]
        self.metadata = meta.check_metadata(found, classes, self.model.frontend, path)
        self.batch_size = batch_size

    def __call__(self, windows):
        batch = batch_for(windows.shape[1], self.batch_size)
        return np.asarray(self.model.predict(windows, batch_size=batch, verbose=0))


class SavedModelRunner:
    """A SavedModel folder, through its serving_default signature."""

    format = "savedmodel"
    fixed_window = False

    def __init__(self, path, batch_size=8):
        import_keras_quietly()
        import tensorflow as tf

        self.path = path
        try:
            self.serve = tf.saved_model.load(path).signatures["serving_default"]
        except Exception as error:  # TensorFlow raises many kinds for a damaged folder
            raise ValueError(f"{path}: not a readable SavedModel ({first_line(error)})") from None
        classes = self.serve.structured_outputs["scores"].shape[-1]
        found = find_model_metadata(path)
        self.warning = None if found else _guessed(path)
        found = found or meta.for_file(path, classes)
        self.metadata = meta.check_metadata(found, classes, source=path)
        self.batch_size = batch_size

    def __call__(self, windows):
        import tensorflow as tf

        batch = batch_for(windows.shape[1], self.batch_size)
        return np.concatenate(
            [
                self.serve(waveform=tf.constant(windows[i : i + batch]))["scores"].numpy()
                for i in range(0, len(windows), batch)
            ]
        )


class TFLiteRunner:
    """A .tflite model in ai-edge-litert; its window length is fixed."""

    format = "tflite"
    fixed_window = True

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = path
        try:
            with quiet_stderr():  # LiteRT announces its XNNPACK delegate from C++
                self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
                self.interpreter.allocate_tensors()
        except ValueError as error:
            raise ValueError(f"{path}: not a TFLite model ({first_line(error)})") from None
        self.input, self.output = _audio_classifier_io(self.interpreter, path)
        window = int(self.input["shape"][1])
        classes = int(self.output["shape"][-1])
        found = find_model_metadata(path) or meta.for_file(path, classes)
        self.warning = None  # the file fixes its window; labels.txt or class_N names
        # The file's input length wins over the metadata's window.
        found = dataclasses.replace(found, window_s=window / found.sample_rate)
        self.metadata = meta.check_metadata(found, classes, source=path)

    def __call__(self, windows):
        scores = []
        for window in windows:
            self.interpreter.set_tensor(self.input["index"], window[None].astype(np.float32))
            self.interpreter.invoke()
            scores.append(self.interpreter.get_tensor(self.output["index"])[0].copy())
        return np.stack(scores)


def _audio_classifier_io(interpreter, path):
    """The input and output details of a TFLite audio classifier: one float32
    waveform [1, samples] in, one row of scores [1, classes] out; else a
    ValueError naming the file and what it has."""
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    shapes = lambda details: ", ".join(str(list(d["shape"])) for d in details)  # noqa: E731
    fits = lambda details: len(details) == 1 and len(details[0]["shape"]) == 2  # noqa: E731
    if not (fits(inputs) and fits(outputs) and inputs[0]["dtype"] == np.float32):
        raise ValueError(
            f"{path}: not an audio classifier (inputs {shapes(inputs) or 'none'}, outputs "
            f"{shapes(outputs) or 'none'}); a float32 waveform [1, samples] in and scores "
            "[1, classes] out are needed"
        )
    return inputs[0], outputs[0]


class EnsembleRunner:
    """Several models as one: the mean of their scores (what an ensemble of
    `--teacher`s averages, at temperature 1). They must agree on classes (in order),
    frontend, activation and window; else a ValueError in one line naming
    the first model that differs.

    Example:
    >>> runner = EnsembleRunner([load_runner("erann-esc10"), load_runner("erann-esc10-small")])
    >>> runner.format, runner.metadata.window_s
    ('ensemble', 4.0)
    """

    format = "ensemble"

    def __init__(self, runners):
        self.runners = tuple(runners)
        self.path = " + ".join(runner.path for runner in self.runners)
        first = self.runners[0]
        for runner in self.runners[1:]:
            _check_same_task(first, runner)
        self.metadata = first.metadata
        self.warning = "; ".join(r.warning for r in self.runners if r.warning) or None
        self.fixed_window = any(runner.fixed_window for runner in self.runners)

    def __call__(self, windows):
        return np.mean([runner(windows) for runner in self.runners], axis=0)


def _check_same_task(first, other):
    ours, theirs = first.metadata, other.metadata
    for what, mine, yours in (
        ("classes", tuple(ours.classes), tuple(theirs.classes)),
        ("frontend", ours.frontend, theirs.frontend),
        ("activation", ours.activation, theirs.activation),
        ("window", round(ours.window_s, 6), round(theirs.window_s, 6)),
    ):
        if mine != yours:
            raise ValueError(
                f"{other.path}: not the {what} of {first.path}; the models of an ensemble "
                "must share classes (in order), frontend, activation and window"
            )

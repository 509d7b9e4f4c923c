"""SavedModel export: `serving_default` maps a waveform to scores and embedding.

The SavedModel holds concrete TensorFlow graphs only, so it loads with
tf.saved_model.load where erann_tf is not installed.
"""

import keras

from erann_tf.atomic import atomic_folder


def scores_and_embedding(model):
    """A Keras model with the ERANN's input and two outputs, {"scores", "embedding"}."""
    return keras.Model(
        model.input,
        {"scores": model.output, "embedding": model.get_layer("embedding").output},
        name=f"{model.name}_serving",
    )


def write_savedmodel(model, path, window_samples=None, outputs=("scores", "embedding")):
    """Writes `model` as a SavedModel folder at `path`, atomically (a rename).

    The `serving_default` signature takes `waveform`, float32 [batch, samples]
    at the model's sample rate; any length unless `window_samples` fixes it to
    [1, window_samples] (the form the TFLite converter needs). It returns the
    named `outputs`.

    Example:
    >>> import os, tempfile, tensorflow as tf
    >>> from erann_tf import ERANN
    >>> path = os.path.join(tempfile.mkdtemp(), "saved_model")
    >>> write_savedmodel(ERANN(tm=4, width=1, num_classes=3), path)
    >>> loaded = tf.saved_model.load(path)
    >>> out = loaded.signatures["serving_default"](waveform=tf.zeros((2, 44100)))
    >>> sorted(out), tuple(out["embedding"].shape)
    (['embedding', 'scores'], (2, 128))
    """
    import tensorflow as tf

    serving = scores_and_embedding(model)
    shape = [None, None] if window_samples is None else [1, window_samples]

    def serve(waveform):
        results = serving(waveform, training=False)
        return {name: results[name] for name in outputs}

    archive = keras.export.ExportArchive()
    archive.track(serving)
    archive.add_endpoint(
        "serving_default", serve, input_signature=[tf.TensorSpec(shape, tf.float32, "waveform")]
    )
    with atomic_folder(path) as tmp:
        archive.write_out(tmp, verbose=False)

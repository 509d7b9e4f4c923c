"""Data-parallel training on an existing engine.

TF backend: tf.distribute.MirroredStrategy over this host's GPUs (or its
logical CPU devices when there is no GPU) and MultiWorkerMirroredStrategy
across hosts, configured by TF_CONFIG. JAX backend: keras.distribution's
DataParallel over jax.devices().

Batch and learning rate: `--batch-size` is the batch of one replica; the
global batch is batch_size x replicas and an epoch has clips // global batch
steps. The learning rate is used as given (the recipe's or --learning-rate):
it is not scaled with the global batch. The paper's rates are for a global
batch of 32; for k times that, start from the recipe's rate times sqrt(k)
(Adam) and check it on a validation fold.
"""

import contextlib
import dataclasses
import json
import os

import keras

from erann_tf.choices import STRATEGIES


class WorkerLost(ConnectionError):
    """A multi-worker run lost a peer; the message says how to resume."""


@dataclasses.dataclass
class Distribution:
    """The engine of one run: `replicas` in sync, the tf.distribute strategy
    (None on JAX and for "none") and whether this process writes the run."""

    name: str
    replicas: int = 1
    strategy: object = None
    is_chief: bool = True
    workers: int = 1

    def scope(self):
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()


def open_distribution(name):
    """The Distribution for `name` (one of STRATEGIES) on the current backend.

    MultiWorkerMirroredStrategy must exist before TensorFlow runs any op, so
    call this before building models or datasets.
    """
    if name not in STRATEGIES:
        raise ValueError(f"distribute={name!r} is not allowed; use {', '.join(STRATEGIES)}")
    if name == "none":
        return Distribution(name)
    backend = keras.backend.backend()
    if backend == "jax":
        if name == "multiworker":
            raise ValueError(
                "--distribute multiworker runs on the TensorFlow backend; on JAX use "
                "--distribute mirrored (keras.distribution.DataParallel)"
            )
        data_parallel = keras.distribution.DataParallel()
        keras.distribution.set_distribution(data_parallel)
        return Distribution(name, len(data_parallel.device_mesh.devices.flatten()))
    if backend != "tensorflow":
        raise ValueError(f"--distribute {name} needs the TensorFlow or JAX backend, not {backend}")
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        return Distribution(name, strategy.num_replicas_in_sync, strategy)
    if "TF_CONFIG" not in os.environ:
        raise ValueError("--distribute multiworker needs TF_CONFIG (cluster and this task)")
    try:
        cluster = json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not JSON ({error}); see docs/scaling.md") from None
    task = cluster.get("task", {})
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=120)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    roles = cluster.get("cluster", {})
    workers = len(roles.get("chief", [])) + len(roles.get("worker", []))
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in roles)
    return Distribution(name, strategy.num_replicas_in_sync, strategy, is_chief, workers)


def close_distribution(distribution):
    """Undoes the global state a Distribution set (JAX's default distribution)."""
    if distribution.name != "none" and keras.backend.backend() == "jax":
        keras.distribution.set_distribution(None)


def synchronize_batchnorm(model, synchronized=True):
    """Batch statistics over the global batch (all replicas) while training.
    TF only: Keras refuses synchronized=True elsewhere, and on JAX the
    DataParallel batch is one global array, so statistics are global anyway."""
    for layer in _batch_norms(model):
        layer.synchronized = synchronized


@contextlib.contextmanager
def unsynchronized(model):
    """`model` with plain batch norm inside (for saving: a .keras file with
    synchronized=True would not load on other backends)."""
    layers = [layer for layer in _batch_norms(model) if layer.synchronized]
    for layer in layers:
        layer.synchronized = False
    try:
        yield model
    finally:
        for layer in layers:
            layer.synchronized = True


def _batch_norms(model):
    return [
        layer
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
    ]

"""Distributed training on one machine: MirroredStrategy over two logical CPU
devices against one device, and two MultiWorkerMirroredStrategy workers on
127.0.0.1 that train from shards of real FSDD clips, lose a worker, resume."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from erann_tf.data import shard_writer
from erann_tf.data.sources import read_fsdd
from erann_tf.training.config import TrainConfig
from erann_tf.training.fit import train

MIRRORED = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from erann_tf.layers import FastBatchNormalization
from erann_tf.training.config import TrainConfig
from erann_tf.training.fit import train
# Synchronized statistics take Keras's batch norm; so does one device here, so
# that only the strategy differs (FastBatchNormalization is tested on its own).
FastBatchNormalization.call = keras.layers.BatchNormalization.call
losses = {}
for mode, batch in (("none", 16), ("mirrored", 8)):
    config = TrainConfig(
        recipe="fsdd", data=sys.argv[1], output=sys.argv[2] + "/" + mode, tm=4, width=1,
        epochs=3, batch_size=batch, max_clips=20, mixup_alpha=0.0, time_mask=0, freq_mask=0,
        deterministic=True, distribute=mode,
    )
    losses[mode] = [h["loss"] for h in train(config, progress=False)["history"]]
print(json.dumps(losses))
"""


# On one device JAX places DataParallel's variables as single-device arrays,
# and Keras warns that it sees a mix of local and distributed variables.
@pytest.mark.filterwarnings("ignore:Detected a mix of local")
def test_mirrored_trains_on_the_present_backend_and_saves_plain_models(shared, tmp_path):
    # One device here: the strategy's code path (scope, synchronized batch norm,
    # evaluation outside the strategy, saving) on TF and JAX alike.
    jax = keras.backend.backend() == "jax"
    config = TrainConfig(
        recipe="fsdd", data=str(shared / "data" / "fsdd"), output=str(tmp_path / "run"), tm=4,
        width=1, epochs=1, batch_size=8, max_clips=24, fold="theo", distribute="mirrored",
        transport="pydataset" if jax else "tfdata",
    )  # fmt: skip
    result = train(config, progress=False)
    assert result["distribute"] == "mirrored" and np.isfinite(result["history"][0]["loss"])
    assert result["validation"]["accuracy"] >= 0
    model = keras.models.load_model(tmp_path / "run" / "final.keras")
    norms = [
        layer for layer in model._flatten_layers() if "BatchNormalization" in type(layer).__name__
    ]
    assert norms and not any(layer.synchronized for layer in norms)
    if jax:
        assert keras.distribution.distribution() is None  # no global state left behind


SHARDED = 120  # clips in fsdd_shards


@pytest.fixture(scope="module")
def fsdd_shards(shared, tmp_path_factory):
    """Shards of 120 real FSDD recordings, about 20 clips per shard."""
    clips = read_fsdd(shared / "data" / "fsdd").subset(SHARDED)
    out = tmp_path_factory.mktemp("shards") / "fsdd"
    shard_writer.prepare(clips, str(out), 150_000, progress=False)
    return out


@pytest.mark.tf_only
def test_a_shard_folder_is_training_data(shared, fsdd_shards, tmp_path):
    config = TrainConfig(
        recipe="fsdd", data=str(fsdd_shards), output=str(tmp_path / "run"), tm=4, width=1,
        epochs=1, batch_size=8, max_clips=40, fold="theo",
    )  # fmt: skip
    result = train(config, progress=False)
    # The same clips, in the same order, as the loose files the shards came from.
    loose = read_fsdd(shared / "data" / "fsdd").subset(SHARDED)
    train_clips, val_clips = loose.split("theo")  # then at most 40 of each (--max-clips)
    assert (result["train_clips"], result["validation_clips"]) == (40, min(40, len(val_clips)))
    assert len(train_clips) > 40
    assert result["classes"] == [str(d) for d in range(10)]


@pytest.mark.tf_only
@pytest.mark.slow
def test_mirrored_on_two_devices_gives_the_losses_of_one(fsdd_shards, tmp_path):
    # Same global batch (16 = 2 x 8), one step an epoch, synchronized batch
    # norm, no random augmentation. The first loss is the forward pass of the
    # same weights: only the summation order differs. After that Adam's first
    # steps are about lr * sign(gradient), so gradients that are ~0 and differ
    # in rounding move weights by a whole lr (measured: 2e-4, 6e-4 here).
    out = subprocess.run(
        [sys.executable, "-c", MIRRORED, str(fsdd_shards), str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    losses = json.loads(out.stdout.strip().splitlines()[-1])
    one, two = losses["none"], losses["mirrored"]
    print("single device:", one, "mirrored:", two)
    assert len(one) == len(two) == 3
    assert abs(one[0] - two[0]) <= 1e-4 * one[0]
    for a, b in zip(one[1:], two[1:], strict=True):
        assert abs(a - b) <= 1e-2 * a


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(data, outputs, extra=(), epochs=2):
    """Starts two `erann train --distribute multiworker` processes."""
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index, output in enumerate(outputs):
        env = dict(
            os.environ,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        )
        args = [sys.executable, "-m", "erann_tf.cli", "train", "--output", str(output)]
        if "--resume" not in extra:
            args += ["--recipe", "fsdd", "--data", str(data), "--tm", "4", "--width", "1",
                     "--batch-size", "4", "--epochs", str(epochs), "--max-clips", "24",
                     "--distribute", "multiworker"]  # fmt: skip
        procs.append(
            subprocess.Popen(
                args + list(extra),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        )
    return procs


def _wait(procs, timeout=400):
    return [(p.wait(timeout), *p.communicate()) for p in procs]


@pytest.mark.tf_only
@pytest.mark.slow
def test_two_workers_train_from_shards_and_only_the_chief_writes(fsdd_shards, tmp_path):
    chief_run, worker_run = tmp_path / "chief", tmp_path / "worker"
    results = _wait(_workers(fsdd_shards, [chief_run, worker_run]))
    for code, _, err in results:
        assert code == 0, err[-2000:]
    summary = json.loads(results[0][1].strip().splitlines()[-2])
    assert summary["train_clips"] == SHARDED
    assert {"config.json", "checkpoint.npz", "history.json", "final.keras", "metrics.json"} <= set(
        os.listdir(chief_run)
    )
    assert len(json.loads((chief_run / "history.json").read_text())) == 2
    assert not worker_run.exists()  # the second worker wrote nothing


@pytest.mark.tf_only
@pytest.mark.slow
def test_a_lost_worker_fails_the_job_and_resume_continues(fsdd_shards, tmp_path):
    run = tmp_path / "run"
    procs = _workers(fsdd_shards, [run, run], epochs=3)
    deadline = time.time() + 300
    while not (run / "checkpoint.npz").exists():
        assert time.time() < deadline and procs[0].poll() is None, procs[0].communicate()[1][-2000:]
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)
    code, _, err = _wait(procs[:1])[0]
    procs[1].wait()
    assert code != 0
    last = err.strip().splitlines()[-1]
    assert last.startswith("erann train: error: a worker was lost") and "--resume" in last
    done = json.loads((run / "history.json").read_text())
    assert 1 <= len(done) < 3

    results = _wait(_workers(fsdd_shards, [run, run], extra=("--resume",)))
    for code, _, err in results:
        assert code == 0, err[-2000:]
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 3 and history[: len(done)] == done

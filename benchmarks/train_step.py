"""Training throughput of one configuration: clips/s at batch 32 and t_c = 8 s
on synthetic audio, on whatever device and Keras backend are present, and
multiply-adds per second (a step counted as 3x the forward pass) against this
machine's numpy SGEMM rate, measured in the same run (2048 x 2048 float32, in a
subprocess with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for it alone).

Needs no TensorFlow with KERAS_BACKEND=jax (the GPU machine's setup).

    python benchmarks/train_step.py --model ERANN-4x4-1 --crop-seconds 4 --precision float32
    python benchmarks/train_step.py --model ERANN-8x4-5
    KERAS_BACKEND=jax python benchmarks/train_step.py --model ERANN-8x4-1 --steps 20
    KERAS_BACKEND=torch python benchmarks/train_step.py --model ERANN-4x4-1 --crop-seconds 4
"""

import argparse
import os
import subprocess
import sys
import time

import keras
import numpy as np

from erann_tf.models import ERANN, complexity, parse_preset
from erann_tf.training.augmented import AugmentedTrainer
from erann_tf.training.optimizers import EMAAdam


def measure(preset, batch_size, crop_seconds, steps, warmup, precision):
    keras.mixed_precision.set_global_policy(precision)
    config = parse_preset(preset)
    model = ERANN(tm=config.tm, width=config.width, num_classes=527)
    trainer = AugmentedTrainer(model, int(crop_seconds * 44100), mixup_alpha=1.0, seed=0)
    trainer.compile(EMAAdam(1e-3), keras.losses.BinaryCrossentropy(), jit_compile=False)
    rng = np.random.default_rng(0)
    window = int((crop_seconds + 2) * 44100)
    x = {
        "waveform": rng.normal(0, 0.1, (batch_size, window)).astype("float32"),
        "length": np.full(batch_size, window, "int32"),
        "targets": (rng.random((batch_size, 527)) < 0.01).astype("float32"),
    }
    for _ in range(warmup):
        trainer.train_on_batch(x, x["targets"])
    started = time.perf_counter()
    for _ in range(steps):
        loss = trainer.train_on_batch(x, x["targets"])
    float(np.asarray(loss))  # wait for the device
    seconds = (time.perf_counter() - started) / steps
    macs = complexity(config.tm, config.width, 527, seconds=crop_seconds).macs
    return seconds, macs


SGEMM = """
import time, numpy as np
a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
a @ a
started, n = time.perf_counter(), 10
for _ in range(n):
    a @ a
print(2048**3 * n / (time.perf_counter() - started))
"""


def sgemm_rate():
    """numpy's float32 matrix-multiply rate in multiply-adds per second."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    out = subprocess.run([sys.executable, "-c", SGEMM], env=env, capture_output=True, text=True)
    return float(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="preset(s); default ERANN-8x4-1 and -2")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--crop-seconds", type=float, default=8.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--precision", default="float32", help="float32 or mixed_bfloat16 ...")
    args = parser.parse_args()
    torch = keras.backend.backend() == "torch"  # which has no keras.distribution.list_devices
    listed = ["torch's default"] if torch else keras.distribution.list_devices()
    devices = ", ".join(str(d) for d in listed)
    print(f"backend {keras.backend.backend()}, devices: {devices}, precision {args.precision}")
    sgemm = sgemm_rate()
    print(f"numpy SGEMM 2048 x 2048: {sgemm / 1e9:.0f} GMAC/s")
    print("| config | batch | t_c s | ms/step | clips/s | GMACs/clip (fwd) | GMAC/s | of SGEMM |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for preset in args.model or ["ERANN-8x4-1", "ERANN-8x4-2"]:
        seconds, macs = measure(
            preset, args.batch_size, args.crop_seconds, args.steps, args.warmup, args.precision
        )
        rate = 3 * macs * args.batch_size / seconds
        print(
            f"| {preset} | {args.batch_size} | {args.crop_seconds:g} | {seconds * 1000:.0f} | "
            f"{args.batch_size / seconds:.1f} | {macs / 1e9:.2f} | {rate / 1e9:.1f} | "
            f"{rate / sgemm:.0%} |"
        )


if __name__ == "__main__":
    main()

"""Inference latency per 10 s clip at batch 1 on this CPU, every format.

For ERANN t_m=4 at widths 1, 2 and 5 (527 classes, random weights): Keras on
TensorFlow, the SavedModel, and TFLite fp32, float16, dynamic-range and int8
(each with the log-mel frontend inside, 2 threads), against the same backbone
written in PyTorch (eager, fp32, 2 threads, log-mel input already computed;
the authors' code is not available, so it is rebuilt here from DESIGN.md §1).
Median of repeated runs after a warm-up; size on disk of each format.

    pip install ".[bench]" torch==2.13.0
    python benchmarks/latency.py [--widths 1,2,5] [--repeats 10]
"""

import argparse
import os
import statistics
import tempfile
import time

SECONDS = 10.0
RATE = 44100
THREADS = 2


def median_ms(function, repeats, warmup=2):
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def folder_mb(path):
    if os.path.isfile(path):
        return os.path.getsize(path) / 1e6
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 1e6


def measure_width(width, repeats, calibration, clip, folder):
    import tensorflow as tf

    from erann_tf import ERANN
    from erann_tf.export import FILENAMES, convert, write_savedmodel
    from erann_tf.inference.runners import TFLiteRunner

    model = ERANN(tm=4, width=width, num_classes=527, seed=0)
    rows = []
    keras_path = os.path.join(folder, f"w{width}.keras")
    model.save(keras_path)
    model.predict_on_batch(clip)
    keras_ms = median_ms(lambda: model.predict_on_batch(clip), repeats)
    rows.append(("Keras (TF)", keras_ms, keras_path))
    saved = os.path.join(folder, f"w{width}_saved_model")
    write_savedmodel(model, saved)
    serve = tf.saved_model.load(saved).signatures["serving_default"]
    tensor = tf.constant(clip)
    rows.append(("SavedModel", median_ms(lambda: serve(waveform=tensor), repeats), saved))
    for quantize in ("none", "float16", "dynamic", "int8"):
        path = os.path.join(folder, f"w{width}_{FILENAMES[quantize]}")
        representative = calibration if quantize == "int8" else None
        content = convert(model, clip.shape[1], quantize, representative)
        with open(path, "wb") as handle:
            handle.write(content)
        runner = TFLiteRunner(path, num_threads=THREADS)
        label = "TFLite fp32" if quantize == "none" else f"TFLite {quantize}"
        rows.append((label, median_ms(lambda r=runner: r(clip), repeats), path))
    return [(label, ms, folder_mb(path)) for label, ms, path in rows]


def torch_backbone_ms(width, repeats):
    import torch

    torch.set_num_threads(THREADS)
    net = TorchERANN(tm=4, width=width).eval()
    logmel = torch.randn(1, 1, 1280, 128) * 20 - 40  # 10 s: 1279 frames padded to 1280
    with torch.inference_mode():
        return median_ms(lambda: net(logmel), repeats)


def TorchERANN(tm, width, num_classes=527):  # noqa: N802  (builds a torch module)
    """ERANN without frontend in PyTorch (NCHW: H time, W frequency), DESIGN.md §1."""
    import torch
    from torch import nn

    from erann_tf.models.architecture import unit_specs

    def kernels(stride):
        return (3, 3, 1) if stride in (1, 2) else (6, 5, 2)

    class Unit(nn.Module):
        def __init__(self, cin, spec):
            super().__init__()
            ty, fx = spec.time_stride, spec.freq_stride
            (k1t, k2t, pt), (k1f, k2f, pf) = kernels(ty), kernels(fx)
            self.preactivate = spec.preactivate
            self.bn1 = nn.BatchNorm2d(cin) if spec.preactivate else None
            self.conv1 = nn.Conv2d(cin, spec.filters, (k1t, k1f), (ty, fx), (1, 1), bias=False)
            self.bn2 = nn.BatchNorm2d(spec.filters)
            self.conv2 = nn.Conv2d(spec.filters, spec.filters, (k2t, k2f), 1, (pt, pf), bias=False)
            reshape = cin != spec.filters or ty != 1 or fx != 1
            self.shortcut = (
                nn.Conv2d(cin, spec.filters, 1, (ty, fx), bias=False) if reshape else None
            )

        def forward(self, x):
            a = nn.functional.leaky_relu(self.bn1(x), 0.01) if self.preactivate else x
            h = self.conv2(nn.functional.leaky_relu(self.bn2(self.conv1(a)), 0.01))
            return h + (self.shortcut(a) if self.shortcut is not None else x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn0 = nn.BatchNorm2d(128)
            units, cin = [], 1
            for spec in unit_specs(tm, width):
                units.append(Unit(cin, spec))
                cin = spec.filters
            self.units = nn.Sequential(*units)
            self.bn_final = nn.BatchNorm2d(cin)
            self.fc1 = nn.Linear(cin, 128 * width)
            self.fc2 = nn.Linear(128 * width, num_classes)

        def forward(self, logmel):  # (batch, 1, time, 128)
            x = self.bn0(logmel.transpose(1, 3)).transpose(1, 3)
            x = nn.functional.leaky_relu(self.bn_final(self.units(x)), 0.01)
            x = x.mean(dim=3)
            x = x.max(dim=2).values + x.mean(dim=2)
            x = nn.functional.leaky_relu(self.fc1(x), 0.01)
            return torch.sigmoid(self.fc2(x))

    return Net()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="1,2,5")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--calibration-data", default="../shared/data/esc10")
    args = parser.parse_args()

    from erann_tf.export.parity import clip_windows

    window = int(SECONDS * RATE)
    windows = clip_windows(args.calibration_data, window, RATE, limit=9)
    calibration, clip = [w[None] for w in windows[:8]], windows[8][None]
    print(f"batch 1, one {SECONDS:g} s clip, {THREADS} threads, median of {args.repeats} runs")
    print("| width | format | ms / clip | vs PyTorch backbone | size MB |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for width in (int(w) for w in args.widths.split(",")):
            torch_ms = torch_backbone_ms(width, args.repeats)
            print(f"| {width} | PyTorch backbone (no frontend) | {torch_ms:.1f} | 1.00 | - |")
            for label, ms, size in measure_width(width, args.repeats, calibration, clip, folder):
                print(f"| {width} | {label} | {ms:.1f} | {ms / torch_ms:.2f} | {size:.1f} |")


if __name__ == "__main__":
    main()

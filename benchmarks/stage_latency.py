"""Where a shipped model's TFLite time goes, stage by stage, on this CPU.

Each row is a float16 TFLite file of the model cut after that stage (the
frontend, bn0, the last unit of each block, the classifier), run on LiteRT
with one thread for one window; a stage's time is its row less the row
before. Multiply-adds per stage come from the architecture (the frontend's
two-step DFT is not counted there).

    python benchmarks/stage_latency.py erann-esc10-small erann-esc10 [--repeats 9]
"""

import argparse

import numpy as np
from latency import median_ms  # benchmarks/latency.py, beside this script

from erann_tf.models.complexity import unit_costs
from erann_tf.models.metadata import read_metadata
from erann_tf.models.presets import shipped_model_dir
from erann_tf.quiet import quiet_stderr

STAGES = ("logmel", "bn0", "block1", "block2", "block3", "block4", "block5", "fc2")


def cut(model, stage, samples):
    """`model` up to and including `stage` (a block ends at its last unit),
    for waveforms of `samples`."""
    import keras

    names = [layer.name for layer in model.layers]
    last = max(i for i, name in enumerate(names) if name == stage or name.startswith(stage + "_"))
    inputs = keras.Input((samples,), batch_size=1)
    x = inputs
    for layer in model.layers[1 : last + 1]:
        x = layer(x)
    return keras.Model(inputs, x)


def tflite_ms(model, repeats):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    with quiet_stderr():
        interpreter = Interpreter(model_content=converter.convert(), num_threads=1)
    interpreter.allocate_tensors()
    given = interpreter.get_input_details()[0]
    wave = np.random.default_rng(0).normal(0, 0.1, given["shape"]).astype(np.float32)

    def run():
        interpreter.set_tensor(given["index"], wave)
        interpreter.invoke()

    return median_ms(run, repeats, warmup=1)


def stage_macs(info):
    """Multiply-adds of each block for one window."""
    macs = {}
    for unit in unit_costs(info.tm, info.width, info.window_s, info.frontend):
        block = unit.name.split("_")[0]
        macs[block] = macs.get(block, 0) + unit.macs
    return macs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="shipped model names")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    from erann_tf import ERANN

    for name in args.names:
        info = read_metadata(f"{shipped_model_dir(name)}/metadata.json")
        model, macs = ERANN.from_preset(name), stage_macs(info)
        print(f"\n{name} ({info.preset}), one {info.window_s:g} s window")
        print("| stage | ms (1 thread) | share | G multiply-adds |")
        print("| --- | --- | --- | --- |")
        rows, before = [], 0.0
        for stage in STAGES:
            total = tflite_ms(cut(model, stage, info.window_samples), args.repeats)
            rows.append((stage, max(total - before, 0.0)))
            before = total
        for stage, ms in rows:
            gmacs = f"{macs[stage] / 1e9:.3f}" if stage in macs else ""
            print(f"| {stage} | {ms:.1f} | {ms / before:.0%} | {gmacs} |")
        print(f"| all | {before:.1f} | 100% | |")


if __name__ == "__main__":
    main()

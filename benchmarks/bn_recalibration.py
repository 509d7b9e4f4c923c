"""What re-estimating batch norm for the EMA weights changes, on validation folds.

For each run folder `erann train --fold F` (or `erann cv`) wrote, loads the
last checkpoint (raw weights, their batch-norm statistics, the optimizer's
EMA of the weights) and scores the validation fold three ways: the raw
weights; the EMA weights with the statistics training left (what a run
without --recalibrate-bn evaluates and saves); the EMA weights with
statistics re-estimated on BATCHES batches of clean training crops (what
--recalibrate-bn does). Prints one row per run and the mean.

    python benchmarks/bn_recalibration.py runs/ravdess-cv/fold-* --batches 8
"""

import argparse
import dataclasses

from erann_tf.data.pipeline import steps_per_epoch
from erann_tf.training import evaluation
from erann_tf.training.batchnorm import BatchNormRecalibration
from erann_tf.training.build import build_model, compile_trainer
from erann_tf.training.callbacks import ema_weights
from erann_tf.training.checkpoint import load_state
from erann_tf.training.loading import load_data
from erann_tf.training.recipes import get_recipe
from erann_tf.training.run_folder import RunDir


def scores(folder, batches, data=None):
    """(epochs trained, raw, EMA, EMA with re-estimated statistics) for one run."""
    run = RunDir(folder)
    config = run.load_config()
    if data:
        config = dataclasses.replace(config, data=data)
    if config.fold is None:
        raise SystemExit(f"{folder}: the run has no validation fold")
    settings = config.resolved()
    loader, val_loader = load_data(config, settings, progress=False)
    model = build_model(settings, len(loader.class_names))
    trainer = compile_trainer(model, settings, steps_per_epoch(loader, settings.batch_size), 0)
    epochs = load_state(run.checkpoint, trainer)
    recalibration = BatchNormRecalibration(
        loader, settings.crop_samples, batches, settings.batch_size, config.seed
    )

    def score():
        result = evaluation.evaluate(
            model, val_loader, get_recipe(settings.recipe).multi_label, settings.crop_samples
        )
        return evaluation.headline(result)

    raw = score()
    with ema_weights(trainer.optimizer, model):
        ema = score()
        with recalibration.applied(model):
            recalibrated = score()
    return epochs, raw, ema, recalibrated


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders with a checkpoint and a fold")
    parser.add_argument("--batches", type=int, default=8, help="batches to re-estimate on")
    parser.add_argument("--data", help="the data folder, where it moved since the run")
    args = parser.parse_args()
    rows = [(folder, *scores(folder, args.batches, args.data)) for folder in args.runs]
    header = f"EMA, batch norm re-estimated ({args.batches} batches)"
    print(f"| run | epochs | raw weights | EMA | {header} |")
    print("| --- | --- | --- | --- | --- |")
    for folder, epochs, raw, ema, recalibrated in rows:
        print(f"| {folder} | {epochs} | {raw:.3f} | {ema:.3f} | {recalibrated:.3f} |")
    means = [sum(row[i] for row in rows) / len(rows) for i in (2, 3, 4)]
    print("| mean | | " + " | ".join(f"{m:.3f}" for m in means) + " |")


if __name__ == "__main__":
    main()

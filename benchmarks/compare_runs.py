"""Learning curves of several run folders on one figure: training loss and
validation score per epoch, one line per run, to show that a change leaves
a recipe's results alone (or does not). Prints each run's last validation
score, the mean of its last five (one clip moves one validation a lot) and its
best.

    python benchmarks/compare_runs.py /tmp/cv/before=before /tmp/cv/after=after \\
        --png docs/esc10-cpu-fold1-speed.png
"""

import argparse

from erann_tf import plots
from erann_tf.training.run_folder import RunDir


def curves(folder):
    history = RunDir(folder).history()
    if not history:
        raise SystemExit(f"{folder}: no history.json; is it a run folder of erann train?")
    scored = [entry for entry in history if "val_score" in entry]
    if not scored:
        raise SystemExit(f"{folder}: no validation scores; train with --fold")
    return history, scored


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="RUN_FOLDER=LABEL (the label is optional)")
    parser.add_argument("--png", help="write the figure here")
    args = parser.parse_args()
    figure, (left, right) = plots.pyplot().subplots(1, 2, figsize=(11, 4))
    print("| run | epochs | last validation | mean of the last 5 (epochs) | best (epoch) |")
    print("| --- | --- | --- | --- | --- |")
    for item in args.runs:
        folder, _, label = item.partition("=")
        history, scored = curves(folder)
        label = label or folder
        left.plot([e["epoch"] for e in history], [e.get("loss") for e in history], label=label)
        right.plot([e["epoch"] for e in scored], [e["val_score"] for e in scored], label=label)
        best = max(scored, key=lambda entry: entry["val_score"])
        last5 = scored[-5:]
        mean5 = sum(entry["val_score"] for entry in last5) / len(last5)
        print(
            f"| {label} | {len(history)} | {scored[-1]['val_score']:.3f} | {mean5:.3f} "
            f"({last5[0]['epoch']}-{last5[-1]['epoch']}) | {best['val_score']:.3f} "
            f"({best['epoch']}) |"
        )
    left.set(xlabel="epoch", title="training loss (mixed, augmented batches)")
    right.set(xlabel="epoch", title="validation score (EMA weights)", ylim=(0, 1))
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend()
    if args.png:
        plots.save(figure, args.png, dpi=90)


if __name__ == "__main__":
    main()

"""Which `erann predict --min-score` to use: known clips kept against other sounds turned away.

A classifier scores every sound as one of its classes. With `--min-score S`,
`erann predict` labels a clip "unknown" when its best class scores below S.
This prints, for each S, the share of the model's own kind of clips it keeps
(and the accuracy on those), and the share of other sounds it turns away, and
draws both against S (`--plot`).

The known clips' scores come from `erann evaluate --predictions` on clips the
model did not train on (single-label CSV: path, labels, top, correct, then one
column per class); the other sounds' from `erann predict --json` on folders of
audio outside its classes (JSON Lines, one clip a line):

    erann evaluate runs/fsdd-cpu-fold/final.keras --recipe fsdd-cpu --layout manifest \
        --data index.csv --fold index5-9 --predictions known.csv
    erann predict ../shared/data/esc10 --model runs/fsdd-cpu-fold/final.keras --json > esc10.jsonl
    python benchmarks/open_set.py known.csv esc10.jsonl --plot open_set.png

A model trained with a class for other sounds (`--other-class other`) also
turns away every clip whose best class is that one, and keeps no known clip
called so.
"""

import argparse
import csv
import json
import os

import numpy as np

from erann_tf import plots

THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def read_known(path, other_class=None):
    """(best score, whether the best class is right) per clip of an evaluate
    CSV; a clip whose best class is `other_class` scores -1 (never kept)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        classes = reader.fieldnames[4:]
        rows = list(reader)
    if not rows:
        raise SystemExit(f"{path}: no clips")
    scores = np.array([[float(row[name]) for name in classes] for row in rows])
    right = np.array([row["correct"] == "1" for row in rows])  # write_predictions writes 0/1
    best = np.where([row["top"] == other_class for row in rows], -1.0, scores.max(axis=1))
    return best, right


def read_other(path, other_class=None):
    """The best score of every clip `erann predict --json` scored (errors
    skipped); -1 where the best class is `other_class` (always turned away)."""
    with open(path, encoding="utf-8") as handle:
        tops = [json.loads(line).get("top") for line in handle if line.strip()]
    best = [-1.0 if top[0]["label"] == other_class else top[0]["score"] for top in tops if top]
    if not best:
        raise SystemExit(f"{path}: no scored clips")
    return np.array(best)


def table(known, right, others, thresholds):
    print(f"{'min score':>9}  {'known kept':>10}  {'accuracy kept':>13}  " + "  ".join(
        f"{name + ' turned away':>{max(len(name) + 12, 10)}}" for name in others))  # fmt: skip
    for threshold in thresholds:
        kept = known >= threshold
        accuracy = right[kept].mean() if kept.any() else float("nan")
        cells = [f"{(best < threshold).mean():>{max(len(name) + 12, 10)}.3f}"
                 for name, best in others.items()]  # fmt: skip
        print(f"{threshold:>9.2f}  {kept.mean():>10.3f}  {accuracy:>13.3f}  " + "  ".join(cells))


def plot(known, others, path):
    grid = np.linspace(0, 1, 101)
    figure, axis = plots.pyplot().subplots(figsize=(6, 4))
    axis.plot(grid, [(known >= s).mean() for s in grid], label="known clips kept", lw=2)
    for name, best in others.items():
        axis.plot(grid, [(best < s).mean() for s in grid], label=f"{name} turned away")
    axis.set(xlabel="--min-score", ylabel="share of clips", ylim=(0, 1.02), xlim=(0, 1))
    axis.grid(alpha=0.3)
    axis.legend(loc="lower left")
    plots.save(figure, path, dpi=100)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("known", help="CSV of erann evaluate --predictions (the model's classes)")
    parser.add_argument("other", nargs="+", help="JSON Lines of erann predict --json, other sounds")
    parser.add_argument("--other-class", help="the model's class for other sounds, if any")
    parser.add_argument("--plot", help="write the curves to this PNG file")
    args = parser.parse_args()
    known, right = read_known(args.known, args.other_class)
    others = {
        os.path.splitext(os.path.basename(path))[0]: read_other(path, args.other_class)
        for path in args.other
    }
    print(f"known: {len(known)} clips; " + ", ".join(f"{n}: {len(b)}" for n, b in others.items()))
    table(known, right, others, THRESHOLDS)
    if args.plot:
        plot(known, others, args.plot)


if __name__ == "__main__":
    main()

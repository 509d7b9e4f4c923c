"""Would averaging models help? Accuracy of every combination of runs' per-clip scores.

Reads the CSV files `erann evaluate ... --predictions FILE.csv` wrote for the
same clips (single-label: path, labels, top, correct, then one column per
class) and prints, for each combination of them, the accuracy of the mean of
their scores and how many clips it gets wrong; then the clips every
combination gets wrong. Errors that no combination mends belong to the clips,
not to one model's seed: more models of the kind will not fix them.

    erann evaluate runs/a/final.keras --recipe fsdd --data ../shared/data/fsdd --fold theo \
        --predictions a.csv   # and the same for b.csv, c.csv
    python benchmarks/ensemble.py a.csv b.csv c.csv
"""

import argparse
import csv
import itertools
import os

import numpy as np


def read_predictions(path):
    """(clip paths, true class index per clip, scores (clips, classes))."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        classes = reader.fieldnames[4:]
        rows = list(reader)
    if not rows or any(";" in row["labels"] for row in rows):
        raise SystemExit(f"{path}: needs the single-label predictions of at least one clip")
    truth = np.array([classes.index(row["labels"]) for row in rows])
    scores = np.array([[float(row[name]) for name in classes] for row in rows])
    return [row["path"] for row in rows], truth, scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", nargs="+", help="CSV files of erann evaluate --predictions")
    args = parser.parse_args()
    runs = {path: read_predictions(path) for path in args.predictions}
    clips, truth, _ = next(iter(runs.values()))
    for path, (other, _, _) in runs.items():
        if other != clips:
            raise SystemExit(f"{path}: scores other clips than {args.predictions[0]}")
    always_wrong = np.ones(len(clips), bool)
    print(f"{'models':>6}  {'accuracy':>8}  {'wrong':>5}  files")
    for count in range(1, len(runs) + 1):
        for combo in itertools.combinations(runs, count):
            wrong = np.mean([runs[path][2] for path in combo], axis=0).argmax(1) != truth
            always_wrong &= wrong
            names = ", ".join(os.path.basename(path) for path in combo)
            print(f"{count:>6}  {1 - wrong.mean():>8.4f}  {wrong.sum():>5}  {names}")
    print(f"wrong in every combination ({always_wrong.sum()}):")
    for index in np.flatnonzero(always_wrong):
        print(f"  {clips[index]}")


if __name__ == "__main__":
    main()

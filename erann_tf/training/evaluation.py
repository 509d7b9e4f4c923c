"""Evaluation over windows of each clip: accuracy for classification, mAP / AUC / d' for
tagging (scikit-learn), and the plots of a run."""

import csv
import statistics

import numpy as np
import tqdm
from sklearn import metrics

from erann_tf import plots
from erann_tf.atomic import atomic_path
from erann_tf.data.pipeline import evaluation_batches


def predict_clips(model, loader, window, batch_size=32, progress=False):
    """Scores of every usable clip, in loader order, and their targets.

    `model` is a Keras model or any callable from windows [n, samples] to
    scores [n, classes] (an erann_tf.inference runner of any format).

    A clip's scores are the mean over its windows of `window` samples (the
    training crop t_c) every half window, exactly as `erann predict` scores a
    file, so evaluation, cross-validation and prediction agree. `progress`
    shows a bar of the clips scored.

    Example:
    >>> from erann_tf import ERANN
    >>> from erann_tf.data.loader import ClipLoader
    >>> from erann_tf.data.sources import read_esc10
    >>> clips = read_esc10("../shared/data/esc10")
    >>> loader = ClipLoader(clips._with(clips.clips[:2])).scan(progress=False)
    >>> model = ERANN(tm=4, width=1, num_classes=10)
    >>> scores, targets = predict_clips(model, loader, window=4 * 44100)
    >>> scores.shape, targets.shape
    ((2, 10), (2, 10))
    """
    score = getattr(model, "predict_on_batch", model)  # a Keras model or a runner
    position = {index: row for row, index in enumerate(loader.good)}
    sums = np.zeros((len(loader.good) + 1, loader.targets.shape[1]), np.float64)
    counts = np.zeros(len(loader.good) + 1)
    bar = tqdm.tqdm(total=len(loader.good), unit="clip", desc="scoring", disable=not progress)
    scored = set()
    for indices, waves in evaluation_batches(loader, window, batch_size=batch_size):
        started = set(indices[indices >= 0].tolist()) - scored
        scored |= started
        bar.update(len(started))
        rows = [position.get(i, -1) for i in indices]  # -1: a silent filler row
        np.add.at(sums, rows, np.asarray(score(waves), np.float64))
        np.add.at(counts, rows, 1)
    bar.close()
    scores = (sums[:-1] / counts[:-1, None]).astype(np.float32)
    return scores, loader.targets[loader.good]


def classification_metrics(targets, scores, class_names):
    """Accuracy, per-class accuracy and the confusion matrix (rows: truth).

    Example:
    >>> t = np.eye(2)[[0, 0, 1]]; s = np.array([[.9, .1], [.2, .8], [.3, .7]])
    >>> classification_metrics(t, s, ["a", "b"])["accuracy"]
    0.6666666666666666
    """
    truth, guess = targets.argmax(axis=1), scores.argmax(axis=1)
    confusion = metrics.confusion_matrix(truth, guess, labels=range(len(class_names)))
    per_class = {
        name: float(confusion[i, i] / confusion[i].sum())
        for i, name in enumerate(class_names)
        if confusion[i].sum()
    }
    return {
        "accuracy": float((truth == guess).mean()),
        "per_class_accuracy": per_class,
        "confusion_matrix": confusion.tolist(),
        "clips": int(len(truth)),
    }


def tagging_metrics(targets, scores, class_names):
    """Macro mAP and mean AUC over the classes with positives (and negatives,
    for AUC), and d' = sqrt(2) * Phi^-1(mean AUC).

    Example:
    >>> t = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    >>> s = np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.6], [0.2, 0.1]])
    >>> tagging_metrics(t, s, ["a", "b"])["mAP"]
    1.0
    """
    present = [c for c in range(targets.shape[1]) if targets[:, c].any()]
    both = [c for c in present if not targets[:, c].all()]
    ap = {
        class_names[c]: float(metrics.average_precision_score(targets[:, c], scores[:, c]))
        for c in present
    }
    auc = [metrics.roc_auc_score(targets[:, c], scores[:, c]) for c in both]
    result = {"mAP": None, "mean_auc": None, "d_prime": None, "unavailable": {}}
    if ap:
        result["mAP"] = float(np.mean(list(ap.values())))
    else:
        result["unavailable"]["mAP"] = "no class has a clip labelled with it"
    if auc:
        result["mean_auc"] = float(np.mean(auc))
        clipped = min(max(result["mean_auc"], 1e-6), 1 - 1e-6)
        result["d_prime"] = float(np.sqrt(2) * statistics.NormalDist().inv_cdf(clipped))
    else:
        why = "no class has both clips labelled with it and clips without it"
        result["unavailable"].update(mean_auc=why, d_prime=why)
    if not result["unavailable"]:
        del result["unavailable"]
    return {**result, "per_class_ap": ap, "clips": int(len(targets))}


def evaluate(model, loader, multi_label, window, progress=False, predictions=None):
    """The recipe's metrics of `model` on every clip of `loader`, each scored
    as the mean over its windows of `window` samples (`predict_clips`), and
    each clip's scores written to the CSV `predictions` if given."""
    scores, targets = predict_clips(model, loader, window, progress=progress)
    if predictions is not None:
        write_predictions(predictions, loader, scores)
    metric = tagging_metrics if multi_label else classification_metrics
    return metric(targets, scores, loader.class_names)


def write_predictions(path, loader, scores):
    """A CSV, written atomically, of every scored clip in loader order: its
    path, its labels (";" between several), the top-scoring class, whether
    that is one of the labels, then each class's score.

    Example:
    >>> import os, tempfile
    >>> from erann_tf.data.loader import ClipLoader
    >>> from erann_tf.data.clips import Clip, ClipSet
    >>> clips = ClipSet((Clip("a.wav", ("cat",), "1"),), ("cat", "dog"), False)
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> write_predictions(path, ClipLoader(clips), np.array([[0.25, 0.75]]))
    >>> print(open(path).read().strip())
    path,labels,top,correct,cat,dog
    a.wav,cat,dog,0,0.250000,0.750000
    """
    names = list(loader.class_names)
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "labels", "top", "correct", *names])
        for index, row in zip(loader.good, scores, strict=True):
            clip = loader.clips.clips[index]
            top = names[int(np.argmax(row))]
            labels = ";".join(clip.labels)
            values = [f"{value:.6f}" for value in row]
            writer.writerow([clip.path, labels, top, int(top in clip.labels), *values])


def headline(result):
    """The one number a run is judged by: accuracy, or mAP for tagging."""
    score = result["accuracy"] if "accuracy" in result else result["mAP"]
    return float("nan") if score is None else score  # nan: never "better"


def plot(result, class_names, path):
    """Confusion matrix (classification) or per-class AP (tagging) as PNG."""
    pyplot = plots.pyplot()
    if "confusion_matrix" in result:
        size = max(5, 0.45 * len(class_names))
        figure, axes = pyplot.subplots(figsize=(size + 1, size))
        metrics.ConfusionMatrixDisplay(
            np.array(result["confusion_matrix"]), display_labels=class_names
        ).plot(ax=axes, colorbar=False, xticks_rotation=60)
        axes.set_title(f"accuracy {result['accuracy']:.3f} on {result['clips']} clips")
    else:
        items = sorted(result["per_class_ap"].items(), key=lambda item: item[1])
        figure, axes = pyplot.subplots(figsize=(8, max(4, 0.18 * len(items))))
        axes.barh([name for name, _ in items], [value for _, value in items])
        axes.set_xlabel("average precision")
        axes.set_title(f"mAP {result['mAP']:.3f} on {result['clips']} clips")
    plots.save(figure, path, dpi=100)


def plot_history(history, path, scored_with="EMA weights"):
    """Learning curves as PNG: training loss, and training accuracy (or the
    recipe's metric) beside the validation score (of the weights that
    `scored_with` names), per epoch."""
    epochs = [entry["epoch"] for entry in history]
    figure, (left, right) = plots.pyplot().subplots(1, 2, figsize=(11, 4))
    left.plot(epochs, [entry.get("loss", np.nan) for entry in history], label="training loss")
    left.set_xlabel("epoch")
    left.set_title("loss (on mixed, augmented batches)")
    left.legend()
    for key, label in (("accuracy", "training accuracy"), ("auc", "training AUC")):
        if any(key in entry for entry in history):
            right.plot(epochs, [entry.get(key, np.nan) for entry in history], label=label)
    scored = [entry for entry in history if "val_score" in entry]  # --validate-every
    if scored:
        right.plot(
            [entry["epoch"] for entry in scored],
            [entry["val_score"] for entry in scored],
            marker="." if len(scored) < len(history) else None,
            label=f"validation ({scored_with})",
        )
    right.set_xlabel("epoch")
    right.set_ylim(0, 1)
    right.grid(alpha=0.3)
    right.legend(loc="lower right")
    right.set_title("accuracy" if any("accuracy" in e for e in history) else "score")
    plots.save(figure, path, dpi=90)

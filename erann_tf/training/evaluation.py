"""Evaluation on whole clips: accuracy for classification, mAP / AUC / d' for
tagging (scikit-learn), and the plots of a run."""

import statistics

import numpy as np
from sklearn import metrics

from erann_tf.data.pipeline import evaluation_batches


def predict_clips(model, loader, batch_size=32, min_samples=0):
    """Scores of every usable clip, whole (padded to `min_samples` if shorter),
    in loader order; and their targets.

    Example:
    >>> from erann_tf import ERANN
    >>> from erann_tf.data.loader import ClipLoader
    >>> from erann_tf.data.sources import read_esc10
    >>> clips = read_esc10("../shared/data/esc10")
    >>> loader = ClipLoader(clips._with(clips.clips[:2])).scan(progress=False)
    >>> scores, targets = predict_clips(ERANN(tm=4, width=1, num_classes=10), loader)
    >>> scores.shape, targets.shape
    ((2, 10), (2, 10))
    """
    position = {index: row for row, index in enumerate(loader.good)}
    scores = np.zeros((len(loader.good), loader.targets.shape[1]), np.float32)
    for indices, waves in evaluation_batches(loader, batch_size, min_samples):
        rows = [position[i] for i in indices]
        scores[rows] = np.asarray(model.predict_on_batch(waves), np.float32)
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
    mean_auc = float(np.mean(auc)) if auc else float("nan")
    clipped = min(max(mean_auc, 1e-6), 1 - 1e-6) if auc else float("nan")
    return {
        "mAP": float(np.mean(list(ap.values()))) if ap else float("nan"),
        "mean_auc": mean_auc,
        "d_prime": float(np.sqrt(2) * statistics.NormalDist().inv_cdf(clipped))
        if auc
        else float("nan"),
        "per_class_ap": ap,
        "clips": int(len(targets)),
    }


def evaluate(model, loader, multi_label, min_samples=0):
    """The recipe's metrics of `model` on every clip of `loader`, whole; clips
    shorter than `min_samples` (the training crop) padded to it."""
    scores, targets = predict_clips(model, loader, min_samples=min_samples)
    metric = tagging_metrics if multi_label else classification_metrics
    return metric(targets, scores, loader.class_names)


def headline(result):
    """The one number a run is judged by: accuracy, or mAP for tagging."""
    return result["accuracy"] if "accuracy" in result else result["mAP"]


def plot(result, class_names, path):
    """Confusion matrix (classification) or per-class AP (tagging) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from erann_tf.atomic import atomic_path

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
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100)
    pyplot.close(figure)

"""Predictions for audio files of any length: per window and for the clip."""

import numpy as np

from erann_tf.data.audio import AudioError, check_length, first_line, stream_audio
from erann_tf.data.windows import default_hop, sliding_windows
from erann_tf.inference.runners import batch_for

REDUCTIONS = ("mean", "max")
UNKNOWN = "unknown"  # the label of a clip whose best class scores under min_score
LOUD = 2.0  # 6 dB over full scale: float files reach it only when mis-scaled


def predict_file(
    runner, path, window_s=None, hop_s=None, reduce="mean", top_k=5, batch=16, min_score=None
):
    """Scores of one audio file as a JSON-ready dict.

    The file is decoded, downmixed and resampled as it streams, cut into
    windows of `window_s` (default: the model's training window) every `hop_s`
    (default: half a window), and each window is scored; the clip's scores are
    the mean (or max, for tagging) over its windows. A file that cannot be used
    gives {"file", "error"} instead of raising; a float file whose samples
    pass +-2 (6 dB over full scale, usually integer samples stored as float)
    is scored and gets a "warning".

    The clip's decision: a single-label (softmax) model gives "label", its best
    class, or "unknown" where that scores under `min_score`; a multi-label
    (sigmoid) model gives "labels", every class scoring `min_score` or more
    (default 0.5).

    Example:
    >>> from erann_tf.inference import load_runner
    >>> seven = "../shared/data/fsdd/recordings/7_jackson_5.wav"
    >>> predict_file(load_runner("erann-fsdd"), seven, min_score=0.8)["label"]
    '7'
    """
    info = runner.metadata
    window = int(round((window_s or info.window_s) * info.sample_rate))
    hop = int(round(hop_s * info.sample_rate)) if hop_s else default_hop(window)
    try:
        spans, scores, peak = _score_windows(runner, path, window, hop, info.frontend, batch)
    except AudioError as error:
        return {"file": str(path), "error": str(error)}
    except Exception as error:  # whatever fails on one file is that file's error
        return {"file": str(path), "error": f"{path}: {first_line(error)}"}
    if not np.isfinite(scores).all():  # a damaged model file can do this
        return {"file": str(path), "error": f"{path}: the model gave NaN or Inf scores"}
    clip = scores.max(axis=0) if reduce == "max" else scores.mean(axis=0)
    rate = info.sample_rate
    loud = {"warning": _too_loud(path, peak)} if peak > LOUD else {}
    return {
        "file": str(path),
        **loud,
        "duration_s": round(spans[-1][1] / rate, 3),
        "model": info.name,
        **decide(clip, info.classes, info.activation, min_score),
        "top": _top(clip, info.classes, top_k),
        "windows": [
            {
                "start_s": round(start / rate, 3),
                "end_s": round(end / rate, 3),
                "top": _top(row, info.classes, top_k),
            }
            for (start, end), row in zip(spans, scores, strict=True)
        ],  # fmt: skip
    }


def _score_windows(runner, path, window, hop, frontend, batch):
    spans, scores, pending, peak = [], [], [], 0.0
    batch = batch_for(window, batch)  # long windows: fewer at once
    stream = stream_audio(path, frontend.sample_rate)
    for start, end, samples in sliding_windows(stream, window, hop):
        spans.append((start, end))
        pending.append(samples)
        peak = max(peak, float(np.abs(samples).max()))
        if len(pending) == batch:
            scores.append(runner(np.stack(pending)))
            pending = []
    # the shortest-clip rule of the readers and training (no window: no samples at this rate)
    check_length(spans[-1][1] if spans else 0, path, frontend.sample_rate, frontend.min_samples)
    if pending:
        scores.append(runner(np.stack(pending)))
    return spans, np.concatenate(scores), peak


def _too_loud(path, peak):
    over = 20 * np.log10(peak)
    return (
        f"{path}: samples reach {peak:.3g}, {over:.0f} dB over full scale (1); the model heard "
        "audio within +-1, so these scores may be off (integer samples stored as float?)"
    )


def decide(scores, classes, activation, min_score=None):
    """{"label": best class or "unknown"} of softmax scores, {"labels": [...]}
    of sigmoid ones (every class at `min_score` or above, default 0.5).

    Example:
    >>> decide(np.array([0.1, 0.7, 0.2]), ["a", "b", "c"], "softmax", min_score=0.8)
    {'label': 'unknown'}
    >>> decide(np.array([0.1, 0.7, 0.6]), ["a", "b", "c"], "sigmoid")
    {'labels': ['b', 'c']}
    """
    if activation == "sigmoid":
        threshold = 0.5 if min_score is None else min_score
        chosen = zip(classes, scores, strict=True)
        return {"labels": [name for name, score in chosen if score >= threshold]}
    best = int(np.argmax(scores))
    heard = min_score is None or scores[best] >= min_score
    return {"label": classes[best] if heard else UNKNOWN}


def _top(scores, classes, k):
    order = np.argsort(-scores, kind="stable")[:k]
    return [{"label": classes[i], "score": round(float(scores[i]), 6)} for i in order]

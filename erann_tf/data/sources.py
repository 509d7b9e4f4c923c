"""Readers of dataset layouts: each returns a ClipSet of (path, labels, fold).

Plain Python (no TensorFlow, no Keras), shared by every transport. Labels are
class names; `ClipSet.classes` fixes their output order. Class names and fold
rules are those each dataset publishes.
"""

import os
import re
import sys

from erann_tf.data.clips import (
    AUDIO_EXTENSIONS,
    Clip,
    ClipSet,
    SourceError,
    audio_files_in,
    csv_rows,
    require_dir,
)

ESC50_CATEGORIES = (
    "dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow",
    "rain", "sea_waves", "crackling_fire", "crickets", "chirping_birds", "water_drops", "wind",
    "pouring_water", "toilet_flush", "thunderstorm", "crying_baby", "sneezing", "clapping",
    "breathing", "coughing", "footsteps", "laughing", "brushing_teeth", "snoring",
    "drinking_sipping", "door_wood_knock", "mouse_click", "keyboard_typing", "door_wood_creaks",
    "can_opening", "washing_machine", "vacuum_cleaner", "clock_alarm", "clock_tick",
    "glass_breaking", "helicopter", "chainsaw", "siren", "car_horn", "engine", "train",
    "church_bells", "airplane", "fireworks", "hand_saw",
)  # fmt: skip
ESC10_CATEGORIES = (
    "dog", "rain", "sea_waves", "crying_baby", "clock_tick",
    "sneezing", "helicopter", "chainsaw", "rooster", "crackling_fire",
)  # fmt: skip
RAVDESS_EMOTIONS = (
    "neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised",
)  # fmt: skip
FSDD_DIGITS = tuple(str(d) for d in range(10))


def _class_folders(root):
    """Sub-folders named "NNN - Name", with their numbers."""
    folders = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        match = re.match(r"^(\d{3}) - ", entry.name)
        if entry.is_dir() and match:
            folders.append((int(match.group(1)), entry.path))
    if not folders:
        raise SourceError(f"{root}: no class folders named 'NNN - Name' found")
    return folders


def _read_class_folder_release(root, category_of):
    """ESC-10 and the original ESC-50 release: NNN - Name/F-SOURCE-TAKE.ogg."""
    clips = []
    for number, folder in _class_folders(root):
        category = category_of(number, folder)
        for path in audio_files_in(folder):
            clips.append(Clip(path, (category,), os.path.basename(path)[0]))
    return clips


def read_esc10(root):
    """ESC-10 as released: ten class folders "001 - Dog bark" .. "010 - Fire crackling";
    the fold is the first character of each file name; ESC-50 category names.

    Example:
    >>> read_esc10("../shared/data/esc10").classes[:3]
    ('dog', 'rain', 'sea_waves')
    """
    root = require_dir(root)

    def category_of(number, folder):
        if not 1 <= number <= len(ESC10_CATEGORIES):
            raise SourceError(f"{folder}: not an ESC-10 class folder (001 .. 010)")
        return ESC10_CATEGORIES[number - 1]

    return ClipSet(tuple(_read_class_folder_release(root, category_of)), ESC10_CATEGORIES)


def read_esc50(root):
    """ESC-50 in either layout: the current release (audio/*.wav and
    meta/esc50.csv, folds from the csv) or the original one (class folders
    "101 - Dog" .. "510 - Hand saw", fold = the file name's first character).

    Example:
        clips = read_esc50("ESC-50-master")   # 2000 clips, 5 folds
    """
    root = require_dir(root)
    meta = os.path.join(root, "meta", "esc50.csv")
    if os.path.isfile(meta):
        return _read_esc50_csv(root, meta)

    def category_of(number, folder):
        group, index = divmod(number, 100)
        if not (1 <= group <= 5 and 1 <= index <= 10):
            raise SourceError(f"{folder}: not an ESC-50 class folder (101 .. 510)")
        return ESC50_CATEGORIES[(group - 1) * 10 + index - 1]

    return ClipSet(tuple(_read_class_folder_release(root, category_of)), ESC50_CATEGORIES)


def _read_esc50_csv(root, meta):
    clips = []
    for number, row in csv_rows(meta, header=("filename", "fold", "target")):
        target = int(row["target"]) if (row["target"] or "").strip().isdigit() else -1
        if not 0 <= target < len(ESC50_CATEGORIES):
            raise SourceError(f"{meta}: line {number}: target {row['target']!r} is not 0 .. 49")
        path = os.path.join(root, "audio", row["filename"])
        clips.append(Clip(path, (ESC50_CATEGORIES[target],), row["fold"]))
    return ClipSet(tuple(clips), ESC50_CATEGORIES)


def ravdess_fold(actor, actors_per_fold=4):
    """Actors 1-4 are fold 1, 5-8 fold 2, ...: two men and two women a fold,
    and no actor split across folds.

    Example:
    >>> ravdess_fold(5), ravdess_fold(24)
    ('2', '6')
    """
    return str((actor - 1) // actors_per_fold + 1)


def read_ravdess(root):
    """RAVDESS speech: Actor_XX/03-01-EE-II-SS-RR-AA.ext, EE the emotion and AA
    the actor; folds group four actors (`ravdess_fold`).

    Example:
    >>> read_ravdess("../shared/data/ravdess").classes[0]
    'neutral'
    """
    root = require_dir(root)
    clips = []
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            stem, ext = os.path.splitext(name)
            if ext.lower() not in AUDIO_EXTENSIONS:
                continue
            path = os.path.join(folder, name)
            parts = stem.split("-")
            if len(parts) != 7 or not all(p.isdigit() for p in parts):
                raise SourceError(f"{path}: not a RAVDESS name (03-01-EE-II-SS-RR-AA)")
            emotion, actor = int(parts[2]), int(parts[6])
            if not 1 <= emotion <= len(RAVDESS_EMOTIONS):
                raise SourceError(f"{path}: unknown emotion code {parts[2]} (01 .. 08)")
            clips.append(Clip(path, (RAVDESS_EMOTIONS[emotion - 1],), ravdess_fold(actor)))
    if not clips:
        raise SourceError(f"{root}: no RAVDESS audio files found")
    return ClipSet(tuple(clips), RAVDESS_EMOTIONS)


def read_fsdd(root):
    """Free Spoken Digit Dataset: {digit}_{speaker}_{index}.wav, in `root` or
    `root`/recordings. The fold is the speaker (cross-validation by speaker);
    the official test split is recording index 0-4.

    Example:
    >>> read_fsdd("../shared/data/fsdd").folds()
    ('george', 'jackson', 'lucas', 'nicolas', 'theo', 'yweweler')
    """
    root = require_dir(root)
    if os.path.isdir(os.path.join(root, "recordings")):
        root = os.path.join(root, "recordings")
    clips = []
    for path in audio_files_in(root):
        match = re.match(r"^(\d)_([^_]+)_(\d+)\.", os.path.basename(path))
        if not match:
            raise SourceError(f"{path}: not an FSDD name ({{digit}}_{{speaker}}_{{index}}.wav)")
        clips.append(Clip(path, (match.group(1),), match.group(2)))
    if not clips:
        raise SourceError(f"{root}: no FSDD recordings found")
    return ClipSet(tuple(clips), FSDD_DIGITS)


def read_audioset(segments_csv, audio_dir, class_csv):
    """AudioSet: a segment CSV (three comment lines, then YTID, start, end,
    "labels"), clips named Y{YTID}.ext or {YTID}.ext in `audio_dir`, and the
    527 classes of class_labels_indices.csv. Multi-label. Listed clips that
    are not in the folder are counted in `missing` (every download is partial).
    The fold is the CSV's file name without extension.

    Example:
        clips = read_audioset("balanced_train_segments.csv", "audio", "class_labels_indices.csv")
        print(len(clips), "found,", clips.missing, "missing")
    """
    mids, names = _read_audioset_classes(class_csv)
    audio_dir = require_dir(audio_dir)
    available = {}
    for path in audio_files_in(audio_dir):
        stem = os.path.splitext(os.path.basename(path))[0]
        available.setdefault(stem, path)
    split = os.path.splitext(os.path.basename(segments_csv))[0]
    clips, missing = [], 0
    for row_number, row in _segment_rows(segments_csv):
        if len(row) < 4:
            raise SourceError(
                f"{segments_csv}: line {row_number}: expected YTID, start, end, labels"
            )
        ytid, labels = row[0], [m.strip() for m in row[3].split(",") if m.strip()]
        unknown = [m for m in labels if m not in mids]
        if unknown:
            raise SourceError(f"{segments_csv}: line {row_number}: unknown label {unknown[0]!r}")
        path = available.get(f"Y{ytid}") or available.get(ytid)
        if path is None:
            missing += 1
            continue
        clips.append(Clip(path, tuple(names[mids[m]] for m in labels), split))
    return ClipSet(tuple(clips), tuple(names), multi_label=True, missing=missing)


def _read_audioset_classes(class_csv):
    rows = [row for _, row in csv_rows(class_csv, header=("index", "mid", "display_name"))]
    if not all((row["index"] or "").strip().isdigit() for row in rows):
        raise SourceError(f"{class_csv}: every index must be a whole number")
    mids = {row["mid"]: int(row["index"]) for row in rows}
    names = [row["display_name"] for row in sorted(rows, key=lambda r: int(r["index"]))]
    return mids, names


def _segment_rows(segments_csv):
    for number, row in csv_rows(segments_csv, skipinitialspace=True):
        if row and not row[0].startswith("#"):
            yield number, row


def read_folders(root):
    """Generic layout: one sub-folder per class, named by the class. With
    fold sub-folders above them (root/FOLD/CLASS/file), those are the folds;
    otherwise every clip is in fold "all".

    Example:
        read_folders("my_sounds").classes   # ('cough', 'laugh') for my_sounds/cough/*.wav ...
    """
    root = require_dir(root)
    clips = []
    for folder, _, _ in sorted(os.walk(root)):
        relative = os.path.relpath(folder, root).split(os.sep)
        if relative == ["."] or len(relative) > 2:
            continue
        fold = relative[0] if len(relative) == 2 else "all"
        for path in audio_files_in(folder):
            clips.append(Clip(path, (relative[-1],), fold))
    if len({len(os.path.relpath(os.path.dirname(c.path), root).split(os.sep)) for c in clips}) > 1:
        raise SourceError(f"{root}: mixes class folders and fold/class folders")
    if not clips:
        raise SourceError(f"{root}: no audio files in class sub-folders")
    return ClipSet(tuple(clips), tuple(sorted({c.labels[0] for c in clips})))


def read_manifest(csv_path):
    """CSV manifest with the header path,label,fold: paths relative to the
    CSV's folder or absolute; several labels separated by ";" make the set
    multi-label; the fold column may be empty (fold "all").

    Example:
        read_manifest("clips.csv")   # rows like: sounds/a.wav,dog;bark,1
    """
    csv_path = os.fspath(csv_path)
    base = os.path.dirname(os.path.abspath(csv_path))
    clips, first_line, duplicates = [], {}, 0
    for number, row in csv_rows(csv_path, header=("path", "label")):
        labels = tuple(x.strip() for x in (row["label"] or "").split(";") if x.strip())
        if not row["path"] or not labels:
            raise SourceError(f"{csv_path}: line {number}: a path and a label are required")
        clip = Clip(os.path.join(base, row["path"]), labels, (row.get("fold") or "all").strip())
        key = os.path.normpath(clip.path)
        if key in first_line:  # listed again: used once, or refused if it disagrees
            earlier = clips[first_line[key][1]]
            if (earlier.labels, earlier.fold) != (clip.labels, clip.fold):
                raise SourceError(
                    f"{csv_path}: line {number} lists {row['path']} again with other "
                    f"labels or fold than line {first_line[key][0]}"
                )
            duplicates += 1
            continue
        first_line[key] = (number, len(clips))
        clips.append(clip)
    if duplicates:
        print(f"{csv_path}: {duplicates} duplicate row(s) ignored; each clip is used once",
              file=sys.stderr)  # fmt: skip
    if not clips:
        raise SourceError(f"{csv_path}: no rows")
    classes = tuple(sorted({label for clip in clips for label in clip.labels}))
    return ClipSet(tuple(clips), classes, multi_label=any(len(c.labels) > 1 for c in clips))

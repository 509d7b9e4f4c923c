import collections
import csv
import os

import numpy as np
import pytest
import soundfile

from erann_tf.data import sources
from erann_tf.data.audio import load_audio


def _counts(clips, key):
    return collections.Counter(key(c) for c in clips.clips)


def test_esc10_labels_and_folds(shared):
    clips = sources.read_esc10(shared / "data" / "esc10")
    assert len(clips) == 320 and clips.classes == sources.ESC10_CATEGORIES
    assert set(_counts(clips, lambda c: c.labels[0]).values()) == {32}
    assert _counts(clips, lambda c: c.fold) == {"1": 80, "2": 80, "3": 80, "4": 80}
    assert clips.targets().sum(axis=0).tolist() == [32.0] * 10


def test_esc50_csv_rows(shared):
    clips = sources.read_esc50(shared / "data" / "esc50")
    assert len(clips) == 320 and len(clips.classes) == 50
    labels = _counts(clips, lambda c: c.labels[0])
    assert set(labels) == set(sources.ESC10_CATEGORIES) and set(labels.values()) == {32}
    assert _counts(clips, lambda c: c.fold) == {"1": 80, "2": 80, "3": 80, "4": 80}


def _esc10_ogg(shared, stem):
    for folder in (shared / "data" / "esc10").iterdir():
        if folder.is_dir() and (folder / f"{stem}.ogg").exists():
            return folder / f"{stem}.ogg"
    raise AssertionError(stem)


def test_esc50_current_release_layout(shared, tmp_path):
    """audio/*.wav + meta/esc50.csv, made by decoding a few shared Ogg clips."""
    with open(shared / "data" / "esc50" / "meta" / "esc50.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    picked = [row for row in rows if row["fold"] in "12"][::20]
    (tmp_path / "audio").mkdir()
    (tmp_path / "meta").mkdir()
    for row in picked:
        wave = load_audio(_esc10_ogg(shared, row["filename"].rsplit("-", 1)[0]))
        soundfile.write(tmp_path / "audio" / row["filename"], wave, 44100, subtype="PCM_16")
    with open(tmp_path / "meta" / "esc50.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    clips = sources.read_esc50(tmp_path)
    assert len(clips) == len(picked) == 8
    for clip, row in zip(clips.clips, picked, strict=True):
        assert clip.labels == (row["category"],) and clip.fold == row["fold"]
        assert load_audio(clip.path).shape[0] > 44100


def test_esc50_original_release_layout(shared, tmp_path):
    """Class folders "101 - Dog" .. "510 - Hand saw"; the fold is the first character."""
    for number, esc10_folder in [
        (101, "001 - Dog bark"),
        (201, "002 - Rain"),
        (102, "009 - Rooster"),
    ]:
        target = tmp_path / f"{number} - Name"
        target.mkdir()
        for ogg in sorted((shared / "data" / "esc10" / esc10_folder).glob("*.ogg"))[:5]:
            os.symlink(ogg, target / ogg.name)
    clips = sources.read_esc50(tmp_path)
    assert _counts(clips, lambda c: c.labels[0]) == {"dog": 5, "rain": 5, "rooster": 5}
    assert all(c.fold == os.path.basename(c.path)[0] for c in clips.clips)
    (tmp_path / "999 - Nothing").mkdir()
    with pytest.raises(sources.SourceError, match="999 - Nothing: not an ESC-50 class folder"):
        sources.read_esc50(tmp_path)


def test_ravdess_labels_and_actor_folds(shared):
    clips = sources.read_ravdess(shared / "data" / "ravdess")
    assert len(clips) == 960
    labels = _counts(clips, lambda c: c.labels[0])
    assert labels["neutral"] == 64 and all(labels[e] == 128 for e in sources.RAVDESS_EMOTIONS[1:])
    assert _counts(clips, lambda c: c.fold) == {"1": 240, "2": 240, "3": 240, "4": 240}
    actors_by_fold = collections.defaultdict(set)
    for clip in clips.clips:
        actors_by_fold[clip.fold].add(os.path.basename(clip.path)[-6:-4])
    assert sum(len(a) for a in actors_by_fold.values()) == 16  # no actor in two folds


def test_fsdd_labels_speakers_and_split(shared):
    clips = sources.read_fsdd(shared / "data" / "fsdd")
    assert len(clips) == 2700 and clips.classes == sources.FSDD_DIGITS
    assert set(_counts(clips, lambda c: c.labels[0]).values()) == {270}
    assert set(_counts(clips, lambda c: c.fold).values()) == {450} and len(clips.folds()) == 6
    indices = {int(c.path.rsplit("_", 1)[1].split(".")[0]) for c in clips.clips}
    assert min(indices) == 5  # recordings 0-4, the official test split, are held back
    train, held = clips.split("theo")
    assert len(held) == 450 and len(train) == 2250


def test_audioset_segments_and_missing_clips(shared, tmp_path):
    audioset = shared / "data" / "audioset"
    with open(audioset / "unbalanced_train_segments_head.csv", newline="") as handle:
        rows = [r for r in csv.reader(handle, skipinitialspace=True) if r and r[0][0] != "#"]
    audio = tmp_path / "audio"
    audio.mkdir()
    for i, row in enumerate(rows[:6]):  # clips made here; half named Y{YTID}
        name = f"Y{row[0]}.flac" if i % 2 else f"{row[0]}.flac"
        soundfile.write(audio / name, 0.1 * np.sin(np.arange(8000) * (i + 1) / 20), 16000)
    segments, classes = "unbalanced_train_segments_head.csv", "class_labels_indices.csv"
    clips = sources.read_audioset(audioset / segments, audio, audioset / classes)
    assert clips.multi_label and len(clips.classes) == 527
    assert len(clips) == 6 and clips.missing == len(rows) - 6
    names = {row[1]: row[2] for row in csv.reader(open(audioset / "class_labels_indices.csv"))}
    for clip, row in zip(clips.clips, rows, strict=False):
        assert clip.labels == tuple(names[m] for m in row[3].split(","))
    targets = clips.targets()
    assert targets.shape == (6, 527) and (targets.sum(axis=1) >= 1).all()


def test_audioset_unknown_label(shared, tmp_path):
    bad = tmp_path / "bad_segments.csv"
    header = "# a\n# b\n# YTID, start_seconds, end_seconds, positive_labels\n"
    bad.write_text(header + 'abc, 0.0, 10.0, "/m/not_a_class"\n')
    with pytest.raises(sources.SourceError, match="unknown label '/m/not_a_class'"):
        sources.read_audioset(
            bad, tmp_path, shared / "data" / "audioset" / "class_labels_indices.csv"
        )


def test_generic_folders_and_manifest(shared, tmp_path):
    recordings = sorted((shared / "data" / "fsdd" / "recordings").glob("*.wav"))
    for name, pick in [("zero", "0_"), ("one", "1_")]:
        (tmp_path / "sounds" / name).mkdir(parents=True)
        for path in [p for p in recordings if p.name.startswith(pick)][:3]:
            os.symlink(path, tmp_path / "sounds" / name / path.name)
    clips = sources.read_folders(tmp_path / "sounds")
    assert clips.classes == ("one", "zero") and len(clips) == 6 and clips.folds() == ("all",)
    manifest = tmp_path / "clips.csv"
    zeros = sorted((tmp_path / "sounds" / "zero").iterdir())
    lines = [f"sounds/zero/{p.name},zero;speech,{i % 2}\n" for i, p in enumerate(zeros)]
    manifest.write_text("path,label,fold\n" + "".join(lines))
    listed = sources.read_manifest(manifest)
    assert (
        listed.multi_label and listed.classes == ("speech", "zero") and listed.folds() == ("0", "1")
    )
    assert all(os.path.isfile(c.path) for c in listed.clips)


def test_manifest_duplicates_and_encoding(tmp_path, capsys):
    manifest = tmp_path / "clips.csv"
    rows = ["a.wav,dog,1", "b.wav,cat,1", "./a.wav,dog,1", "a.wav,dog,1"]
    manifest.write_text("path,label,fold\n" + "\n".join(rows) + "\n")
    listed = sources.read_manifest(manifest)
    assert [os.path.basename(c.path) for c in listed.clips] == ["a.wav", "b.wav"]
    assert "2 duplicate row(s) ignored; each clip is used once" in capsys.readouterr().err
    manifest.write_text("path,label,fold\na.wav,dog,1\nb.wav,cat,1\na.wav,cat,1\n")
    with pytest.raises(sources.SourceError, match="line 4 lists a.wav again .* than line 2"):
        sources.read_manifest(manifest)
    manifest.write_bytes("path,label,fold\nchien.wav,chien\xe9,1\n".encode("latin-1"))
    with pytest.raises(sources.SourceError, match="clips.csv: not UTF-8 text"):
        sources.read_manifest(manifest)


def test_manifest_csv_damage_is_one_line_naming_the_file_and_line(tmp_path):
    manifest = tmp_path / "clips.csv"
    manifest.write_text("path,label\na.wav," + "x" * 200_000 + "\n")  # over csv's field limit
    with pytest.raises(
        sources.SourceError, match=r"clips.csv: line 2: not valid CSV \(field larger"
    ):
        sources.read_manifest(manifest)
    manifest.write_text('path,label\n"a.wav,dog')  # a quote never closed
    with pytest.raises(sources.SourceError, match="clips.csv: line 2: "):
        sources.read_manifest(manifest)
    manifest.write_text("path,label\na.wav,dog\n", encoding="utf-8-sig")  # Excel's byte-order mark
    assert sources.read_manifest(manifest).classes == ("dog",)


def test_unknown_label_and_missing_fold():
    clips = sources.ClipSet((sources.Clip("a.wav", ("dgo",), "1"),), ("dog", "cat"))
    with pytest.raises(
        sources.SourceError, match="a.wav: unknown label 'dgo'; known labels: dog, cat"
    ):
        clips.targets()
    with pytest.raises(sources.SourceError, match="fold '7' does not exist; folds: 1"):
        clips.split(7)

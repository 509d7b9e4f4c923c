"""Where the sound is in each clip, against the training crop t_c.

For every clip of a dataset (decoded as training decodes it: mono, 44.1 kHz),
frames of 10 ms within DB decibels of the clip's loudest frame count as
active. Prints percentiles of the clip length, the leading and trailing
quiet, the active span, and the share of a clip's active frames that a random
crop of t_c seconds holds, averaged over every crop position (`erann train`
draws the start uniformly), per class and overall. A share near 1 says the
crops already hold the sound: trimming the quiet ends would change little.

    python benchmarks/speech_extent.py ../shared/data/ravdess --recipe ravdess
"""

import argparse

import numpy as np
import tqdm

from erann_tf.data.audio import SAMPLE_RATE, load_audio
from erann_tf.data.layouts import read_clips
from erann_tf.training.recipes import get_recipe

FRAMES_PER_SECOND = 100
FRAME = SAMPLE_RATE // FRAMES_PER_SECOND  # 10 ms


def extent(wave, crop_frames, db):
    """(seconds, leading quiet s, trailing quiet s, active span s, mean share
    of the active frames inside a random crop of `crop_frames` frames)."""
    frames = len(wave) // FRAME
    power = (wave[: frames * FRAME].reshape(frames, FRAME).astype(np.float64) ** 2).mean(axis=1)
    level = 10 * np.log10(power + 1e-12)
    active = level > level.max() - db
    where = np.flatnonzero(active)
    if frames <= crop_frames:
        share = 1.0
    else:
        inside = np.convolve(active, np.ones(crop_frames), mode="valid")  # every start
        share = float(inside.mean() / active.sum())
    return (
        len(wave) / SAMPLE_RATE,
        where[0] / FRAMES_PER_SECOND,
        (frames - 1 - where[-1]) / FRAMES_PER_SECOND,
        (where[-1] - where[0] + 1) / FRAMES_PER_SECOND,
        share,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="dataset folder")
    parser.add_argument("--recipe", required=True, help="its recipe (layout and t_c)")
    parser.add_argument("--db", type=float, default=40.0, help="active: within DB of the peak")
    args = parser.parse_args()
    recipe = get_recipe(args.recipe)
    clips = read_clips(recipe.source, args.data)
    crop_frames = int(recipe.crop_seconds * FRAMES_PER_SECOND)
    rows = {}
    for clip in tqdm.tqdm(clips.clips, unit="clip", desc="measuring"):
        row = extent(load_audio(clip.path), crop_frames, args.db)
        rows.setdefault(clip.labels[0], []).append(row)
    every = np.array([row for values in rows.values() for row in values])
    quantiles = (10, 50, 90)
    print(f"{len(every)} clips, active = within {args.db:g} dB of the loudest 10 ms frame")
    print(f"{'seconds (p10 / p50 / p90)':<28}" + "".join(f"{q:>8}" for q in quantiles))
    names = ("clip length", "leading quiet", "trailing quiet", "active span")
    for column, name in enumerate(names):
        values = np.percentile(every[:, column], quantiles)
        print(f"{name:<28}" + "".join(f"{v:8.2f}" for v in values))
    print(f"\nshare of the active frames in a random {recipe.crop_seconds:g} s crop")
    print(f"{'class':<16}{'clips':>6}{'mean':>8}{'min':>8}")
    for name in clips.classes:
        shares = np.array([row[4] for row in rows.get(name, [])])
        if len(shares):
            print(f"{name:<16}{len(shares):6d}{shares.mean():8.3f}{shares.min():8.3f}")
    print(f"{'all':<16}{len(every):6d}{every[:, 4].mean():8.3f}{every[:, 4].min():8.3f}")


if __name__ == "__main__":
    main()

"""Adds TFLite Model Metadata to the TFLite files of model folders exported
before `erann export` wrote it (the shipped models), in place, atomically.
The model's flatbuffer is unchanged, so its scores and parity are too.

    python scripts/add_tflite_metadata.py savedmodels/erann-esc10 [...]
"""

import dataclasses
import glob
import os
import sys

from erann_tf.atomic import atomic_path
from erann_tf.export.tflite_metadata import read_metadata, with_metadata
from erann_tf.inference.runners import TFLiteRunner
from erann_tf.models.metadata import read_metadata as read_model_metadata


def main(folders):
    for folder in folders:
        info = read_model_metadata(os.path.join(folder, "metadata.json"))
        for path in sorted(glob.glob(os.path.join(folder, "*.tflite"))):
            content = open(path, "rb").read()
            if read_metadata(content)[0] is not None:
                print(f"{path}: has metadata already")
                continue
            window = int(TFLiteRunner(path).input["shape"][1])
            file_info = dataclasses.replace(info, window_s=window / info.sample_rate)
            embedder = "embedder" in os.path.basename(path)
            with atomic_path(path) as tmp, open(tmp, "wb") as handle:
                handle.write(with_metadata(content, file_info, embedder=embedder))
            print(f"{path}: metadata added")


if __name__ == "__main__":
    main(sys.argv[1:])

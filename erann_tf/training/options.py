"""The allowed values of the training settings, kept apart from the code that
uses them so that `erann --help` lists them without importing Keras."""

PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
TRANSPORTS = ("tfdata", "pydataset")  # tf.data, or keras.utils.PyDataset (no TensorFlow)
STRATEGIES = ("none", "mirrored", "multiworker")  # erann_tf.training.distribute
SCHEDULES = ("constant", "one_cycle")  # erann_tf.training.schedules

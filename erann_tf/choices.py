"""The allowed values of the command line's choice flags, in one place that
imports nothing (so that `erann --help` lists them without loading Keras)."""

PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
TRANSPORTS = ("tfdata", "pydataset")  # tf.data, or keras.utils.PyDataset (no TensorFlow)
STRATEGIES = ("none", "mirrored", "multiworker")  # erann_tf.training.distribute
SCHEDULES = ("constant", "one_cycle")  # erann_tf.training.schedules
BAD_FILE_POLICIES = ("error", "skip")  # erann_tf.data.loader
TUNERS = ("random", "hyperband", "bayesian")  # erann_tf.tuning.search
FORMATS = ("savedmodel", "tflite", "all")  # erann_tf.export
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
RUNTIMES = ("auto", "litert", "keras")  # erann_tf.inference.runners

"""The allowed export formats and quantizations, importable without Keras or
TensorFlow (for `erann export --help`)."""

FORMATS = ("savedmodel", "tflite", "all")
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")

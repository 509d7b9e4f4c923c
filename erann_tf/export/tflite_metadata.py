"""TFLite Model Metadata, as MediaPipe's AudioClassifier and AudioEmbedder need it.

Written with the flatbuffer classes MediaPipe ships for the TFLite model and
metadata schemas (`mediapipe.tasks.metadata`, the `mediapipe` extra) and the
`flatbuffers` runtime: MediaPipe's own metadata writers do not import from its
wheel (a compiled module is missing), and tflite-support, the library that
first wrote this format, needs protobuf < 4, which TensorFlow no longer runs
with. What a file gets is what tflite-support's audio writers give: the model's
name, description, version, author and licence; the input's audio properties
(sample rate, one channel) and window; the output's score range, and the class
names as labels.txt packed into the file (a zip archive after the flatbuffer,
as the TFLite metadata format keeps its associated files).
"""

import io
import zipfile

METADATA_NAME = "TFLITE_METADATA"  # the key MediaPipe and LiteRT look the metadata up by
MIN_PARSER_VERSION = "1.3.0"  # AudioProperties came in metadata schema 1.3.0
LABELS_FILE = "labels.txt"
AUTHOR = "erann_tf"
LICENSE = "Apache-2.0"


def metadata_available():
    """Whether the `mediapipe` extra (its schema classes) is installed."""
    try:
        import mediapipe.tasks.metadata.metadata_schema_py_generated  # noqa: F401
    except ImportError:
        return False
    return True


def with_metadata(content, info, embedder=False, version="1"):
    """The TFLite model `content` (bytes) with metadata describing `info` (a
    models.metadata.Metadata): a classifier with its labels packed in, or with
    `embedder` a model whose output is the `embedding` layer.

    Example:
        content = with_metadata(open("model_float16.tflite", "rb").read(), info)
    """
    import flatbuffers
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta
    from mediapipe.tasks.metadata import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(content, 0))
    if any(m.name.decode() == METADATA_NAME for m in model.metadata or []):
        raise ValueError("the model already has TFLite metadata")
    builder = flatbuffers.Builder(0)
    builder.Finish(_model_metadata(meta, info, embedder, version).Pack(builder), b"M001")
    buffer = schema.BufferT()
    buffer.data = bytearray(builder.Output())
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), b"TFL3")
    output = io.BytesIO(bytes(builder.Output()))
    if not embedder:  # associated files: a zip archive appended to the flatbuffer
        output.seek(0, io.SEEK_END)
        with zipfile.ZipFile(output, "a") as archive:
            archive.writestr(LABELS_FILE, "".join(f"{label}\n" for label in info.classes))
    return output.getvalue()


def read_metadata(content):
    """(metadata fields as a dict, names of the packed files) of a TFLite
    model, or (None, []) when it has none."""
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta
    from mediapipe.tasks.metadata import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(content, 0)
    for i in range(model.MetadataLength()):
        if model.Metadata(i).Name().decode() == METADATA_NAME:
            data = model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy().tobytes()
            found = meta.ModelMetadataT.InitFromObj(meta.ModelMetadata.GetRootAs(data, 0))
            files = []
            if zipfile.is_zipfile(io.BytesIO(content)):  # an embedder packs no labels
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    files = archive.namelist()
            return _as_dict(found), files
    return None, []


def _model_metadata(meta, info, embedder, version):
    model = meta.ModelMetadataT()
    model.name = info.name
    kind = "embedding (128 * W) of" if embedder else "class scores for"
    model.description = (
        f"ERANN {info.preset or ''}: {kind} {info.window_s:g} s of mono audio at "
        f"{info.sample_rate} Hz, log-mel frontend inside ({len(info.classes)} classes: "
        f"{', '.join(info.classes[:10])}{', ...' if len(info.classes) > 10 else ''})"
    )
    model.version, model.author, model.license = version, AUTHOR, LICENSE
    model.minParserVersion = MIN_PARSER_VERSION
    graph = meta.SubGraphMetadataT()
    graph.inputTensorMetadata = [_audio_input(meta, info)]
    graph.outputTensorMetadata = [_output(meta, info, embedder)]
    model.subgraphMetadata = [graph]
    return model


def _audio_input(meta, info):
    tensor = meta.TensorMetadataT()
    tensor.name = "waveform"
    tensor.description = (
        f"{info.window_samples} samples ({info.window_s:g} s) of mono float audio in [-1, 1] "
        f"at {info.sample_rate} Hz"
    )
    properties = meta.AudioPropertiesT()
    properties.sampleRate, properties.channels = info.sample_rate, 1
    tensor.content = meta.ContentT()
    tensor.content.contentPropertiesType = meta.ContentProperties.AudioProperties
    tensor.content.contentProperties = properties
    return tensor


def _output(meta, info, embedder):
    tensor = meta.TensorMetadataT()
    tensor.content = meta.ContentT()
    tensor.content.contentPropertiesType = meta.ContentProperties.FeatureProperties
    tensor.content.contentProperties = meta.FeaturePropertiesT()
    if embedder:
        tensor.name, tensor.description = "embedding", "the clip embedding (layer `embedding`)"
        return tensor
    tensor.name = "scores"
    tensor.description = (
        "probability of each class (softmax)"
        if info.activation == "softmax"
        else "probability of each tag (independent sigmoids)"
    )
    tensor.stats = meta.StatsT()
    tensor.stats.min, tensor.stats.max = [0.0], [1.0]
    labels = meta.AssociatedFileT()
    labels.name, labels.description = LABELS_FILE, "class names, one a line, in output order"
    labels.type = meta.AssociatedFileType.TENSOR_AXIS_LABELS
    tensor.associatedFiles = [labels]
    return tensor


def _as_dict(found):
    graph = found.subgraphMetadata[0]
    audio = graph.inputTensorMetadata[0].content.contentProperties
    output = graph.outputTensorMetadata[0]
    return {
        "name": found.name.decode(),
        "description": found.description.decode(),
        "version": found.version.decode(),
        "author": found.author.decode(),
        "license": found.license.decode(),
        "sample_rate": audio.sampleRate,
        "channels": audio.channels,
        "output": output.name.decode(),
        "labels": [f.name.decode() for f in output.associatedFiles or []],
    }

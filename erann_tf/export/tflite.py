"""TFLite export with the log-mel frontend inside, builtin ops only.

The frontend's STFT is written with matmuls (TFLite's RFFT2D refuses n_fft =
1380 at run time). Every quantized model keeps the frontend in
float32: 8 bits cannot hold a power spectrum's 100 dB range, and 16-bit DFT
weights leave a noise floor some 35 dB under the loudest bin. Full-integer
models also keep bn0 and block 1 in float: at full time-frequency resolution,
int8 steps sized for loud clips erase quiet ones (docs/deploy.md has the measurement).
"""

import contextlib
import copy
import io
import os
import re
import tempfile
import warnings

import tensorflow as tf
import tqdm
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from erann_tf.choices import QUANTIZATIONS
from erann_tf.export.savedmodel import write_savedmodel
from erann_tf.models.erann import FRONTEND_LAYER
from erann_tf.quiet import quiet_stderr

FILENAMES = {
    "none": "model.tflite",
    "float16": "model_float16.tflite",
    "dynamic": "model_dynamic.tflite",
    "int8": "model_int8.tflite",
}
EMBEDDER_FILENAME = "model_embedder_float16.tflite"


def convert(model, window_samples, quantize="none", calibration=None, output="scores"):
    """The TFLite flatbuffer (bytes) of `model` for waveforms [1, window_samples].

    Args:
        model: an ERANN with its frontend.
        window_samples: the fixed input length N.
        quantize: "none" (float32), "float16" (weights), "dynamic" (int8
            weights, float activations) or "int8" (int8 weights and
            activations after the frontend; float input and output).
        calibration: for "int8", a sequence of float32 waveforms [1, N] drawn
            from real clips (representative data).
        output: "scores", or "embedding" for an embedder (the `embedding` layer).
    """
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize={quantize!r} is not allowed; use {', '.join(QUANTIZATIONS)}")
    if quantize == "int8" and not calibration:
        raise ValueError("int8 quantization needs calibration clips (representative data)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "saved_model")
        # One output: TFLite orders outputs by name, and output 0 must be this one.
        write_savedmodel(model, path, window_samples, outputs=(output,))
        if quantize == "none":
            return _float_model(path)
        if quantize == "int8":
            return _int8_model(path, calibration)
        converter = _converter(path)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return keep_frontend_float(_quiet(converter.convert), _float_model(path))


def _converter(saved_model):
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter


def _float_model(saved_model):
    return _quiet(_converter(saved_model).convert)


def _int8_model(saved_model, calibration):
    # The converter cannot leave ops out of full-integer quantization; its
    # quantization debugger can (denylisted_nodes).
    keep_float = _tensors_of(_float_model(saved_model), _FLOAT_IN_INT8)
    converter = _converter(saved_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
        tf.lite.OpsSet.TFLITE_BUILTINS,
    ]
    converter.representative_dataset = lambda: (
        [clip] for clip in tqdm.tqdm(calibration, desc="int8 calibration", unit="clip", leave=False)
    )

    def quantize_selectively():
        return tf.lite.experimental.QuantizationDebugger(
            converter=converter,
            debug_dataset=converter.representative_dataset,
            debug_options=tf.lite.experimental.QuantizationDebugOptions(
                denylisted_nodes=keep_float
            ),
        ).get_nondebug_quantized_model()

    return _quiet(quantize_selectively)


def keep_frontend_float(content, float_content):
    """Puts the float32 frontend constants of `float_content` back into the
    quantized model `content`.

    Float16 and dynamic-range conversion rewrite every large constant, the
    windowed DFT and mel matrices too; the rounding of the DFT alone leaves a
    noise floor some 35 dB under the loudest bin, and dynamic range also
    quantizes the waveform frames to 8 bits. The converter cannot leave ops
    out of these modes, so the frontend's matmuls get their float32 weights
    back here, and the ops that only dequantized the old ones are dropped.
    """
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    reference = flatbuffer_utils.read_model_from_bytearray(bytearray(float_content))
    graph = model.subgraphs[0]
    producers = {index: op for op in graph.operators for index in op.outputs}
    dropped, replaced, copies = set(), set(), {}
    for op, reference_op in _matching_frontend_ops(model, reference):
        for position, tensor, data in _float_constants(reference, reference_op):
            index = op.inputs[position]
            producer = producers.get(index)
            if producer is not None:  # a DEQUANTIZE of float16 weights
                dropped.add(id(producer))
                index = producer.inputs[0]
            replaced.add(index)
            if id(tensor) not in copies:  # one float copy of a constant several ops share
                model.buffers.append(_buffer(data))
                graph.tensors.append(copy.copy(tensor))
                graph.tensors[-1].buffer = len(model.buffers) - 1
                copies[id(tensor)] = len(graph.tensors) - 1
            op.inputs[position] = copies[id(tensor)]
    graph.operators = [op for op in graph.operators if id(op) not in dropped]
    still_used = {index for op in graph.operators for index in op.inputs}
    used_buffers = {graph.tensors[index].buffer for index in still_used if index >= 0}
    for index in replaced - still_used:  # drop the quantized copies' bytes
        if graph.tensors[index].buffer not in used_buffers:
            model.buffers[graph.tensors[index].buffer].data = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _matching_frontend_ops(model, reference):
    # The frontend's ops in the same order in both models, less the quantized
    # model's DEQUANTIZE ops (tensor names can differ, op order does not).
    def frontend_ops(flatbuffer, skip):
        graph, codes = flatbuffer.subgraphs[0], flatbuffer.operatorCodes
        found = []
        for op in graph.operators:
            code = codes[op.opcodeIndex]
            kind = max(code.builtinCode, code.deprecatedBuiltinCode)
            if kind != skip and _is_frontend(_tensor_name(graph.tensors[op.outputs[0]])):
                found.append((kind, op))
        return found

    ours = frontend_ops(model, schema.BuiltinOperator.DEQUANTIZE)
    theirs = frontend_ops(reference, None)
    if [kind for kind, _ in ours] != [kind for kind, _ in theirs]:
        raise ValueError("the quantized model's frontend differs from the float model's")
    return [(op, reference_op) for (_, op), (_, reference_op) in zip(ours, theirs, strict=True)]


def _float_constants(model, op):
    # (input position, tensor, data) of each float32 constant input of `op`.
    graph = model.subgraphs[0]
    for position, index in enumerate(op.inputs):
        tensor = graph.tensors[index] if index >= 0 else None
        data = model.buffers[tensor.buffer].data if tensor is not None else None
        if data is not None and tensor.type == schema.TensorType.FLOAT32:
            yield position, tensor, data


def _buffer(data):
    buffer = schema.BufferT()
    buffer.data = data
    return buffer


def _tensor_name(tensor):
    name = tensor.name
    return name.decode() if isinstance(name, bytes) else name


# Op output names in a converted model look like "erann_tm4_w1_serving_1/logmel_1/Log".
_FRONTEND = re.compile(rf"(^|/){FRONTEND_LAYER}(_\d+)?/")
_FLOAT_IN_INT8 = re.compile(
    rf"(^|/)({FRONTEND_LAYER}|pitch_shift|random_gain|time_padding|bn0|spec_augment|add_channel"
    r"|block1_unit\d+)(_\d+)?/"
)


def _is_frontend(name):
    return _FRONTEND.search(name) is not None


def _tensors_of(content, pattern):
    """Names of the output tensors of the ops whose names match `pattern`."""
    interpreter = _interpreter(content)
    tensors = interpreter.get_tensor_details()
    names = [tensors[op["outputs"][0]]["name"] for op in interpreter._get_ops_details()]
    return [name for name in names if pattern.search(name)]


def op_names(content):
    """The op names in a TFLite model, from TFLite's own model analyser."""
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        tf.lite.experimental.Analyzer.analyze(model_content=content)
    return set(re.findall(r"Op#\d+ (\w+)\(", report.getvalue()))


def check_builtin_only(content):
    """Raises ValueError naming any op that is not a TFLite builtin."""
    foreign = sorted(op for op in op_names(content) if op == "CUSTOM" or op.startswith("Flex"))
    if foreign:
        raise ValueError(f"the TFLite model needs non-builtin ops: {', '.join(foreign)}")


def _interpreter(content):
    from ai_edge_litert.interpreter import Interpreter

    with quiet_stderr():  # LiteRT announces its XNNPACK delegate from C++
        interpreter = Interpreter(model_content=content)
        interpreter.allocate_tensors()
    return interpreter


def _quiet(function):
    # The converter and the quantisation debugger print their settings on
    # stdout and from C++ on stderr ("fully_quantize: 0, ..."), and the
    # debugger warns that it uses tf.lite.Interpreter. Failures still raise.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), quiet_stderr():
        warnings.simplefilter("ignore", UserWarning)
        return function()

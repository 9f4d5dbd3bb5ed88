"""Import an int8 `.tflite` file as the project's Graph, with what the file stores and nothing else.

The flatbuffer is read with the `tflite` package (the TFLite schema's generated Python); weights and
biases are taken as stored (int8, int32), scales and zero points as stored (float32, per tensor or per
channel), and every requantizer is then derived from those float32 scales as TFLite derives it
(harness.model.constants). Nothing is quantized again from float. A file the project cannot run as
it is gets one line saying why: an op outside SUPPORTED_OPS, tensors that are not int8, a file that
is not a TFLite model.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import InputError
from harness.model import GraphBuilder, ModelError, Origin
from harness.model.graph import Graph
from harness.quant import QuantParams

try:
    import tflite
except ImportError:  # pragma: no cover - a core dependency; said plainly if someone removed it
    tflite = None

INSTALL_HINT = "pip install tflite (a dependency of cortexm-harness)"

#: The TFLite ops the importer maps, by their schema name, and the project op each becomes.
SUPPORTED_OPS = {
    "CONV_2D": "conv2d (or pointwise_conv2d for 1x1, stride 1)",
    "DEPTHWISE_CONV_2D": "depthwise_conv2d (any depth multiplier)",
    "FULLY_CONNECTED": "dense (per-tensor or per-channel)",
    "AVERAGE_POOL_2D": "avgpool2d",
    "MAX_POOL_2D": "maxpool2d",
    "ADD": "add (same shapes)",
    "PAD": "pad2d (height and width)",
    "RESHAPE": "reshape",
    "SOFTMAX": "softmax",
    "LOGISTIC": "sigmoid",
    "TANH": "tanh",
    "MEAN": "mean_hw (over height and width)",
    "RELU": "relu, or requantize with the activation where the grid changes",
    "RELU6": "relu6, or requantize with the activation where the grid changes",
    "QUANTIZE": "the model's float input edge",
    "DEQUANTIZE": "the model's float output edge",
}
INT8 = 9
FLOAT32 = 0
_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 7: "int16", 9: "int8", 17: "int4"}
_ACTIVATIONS = {0: "none", 1: "relu", 3: "relu6"}
_ACTIVATION_NAMES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}


class ImportRefused(InputError):
    """A file this importer cannot run as it is; the message says why and names the op."""


def _op_names() -> dict[int, str]:
    assert tflite is not None
    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}


def model_name(path: Path) -> str:
    """A model is named by its file's stem, lowercased, anything but letters, digits and '_' as '_'."""
    name = re.sub(r"[^a-z0-9_]", "_", path.stem.lower())
    return name if name and name[0].isalpha() else f"m_{name}"


@dataclass
class _File:
    """The parsed flatbuffer and the subgraph being imported."""

    path: Path
    shown: str
    model: Any
    graph: Any
    op_names: dict[int, str]
    names: dict[int, str] = field(default_factory=dict)  # tflite tensor index -> project tensor name

    def tensor(self, index: int) -> Any:
        return self.graph.Tensors(index)

    def type_of(self, index: int) -> int:
        return int(self.tensor(index).Type())

    def shape(self, index: int) -> tuple[int, ...]:
        t = self.tensor(index)
        return tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()

    def data(self, index: int, dtype: type[np.generic]) -> np.ndarray:
        """A constant tensor's values, as stored."""
        t = self.tensor(index)
        buffer = self.model.Buffers(t.Buffer())
        raw = buffer.DataAsNumpy() if buffer is not None and buffer.DataLength() else None
        if raw is None or isinstance(raw, int):
            raise ImportRefused(f"{self.shown}: tensor {index} ('{t.Name().decode()}') should hold constant data "
                                "but its buffer is empty")
        values = np.frombuffer(raw.tobytes(), dtype=dtype)
        shape = self.shape(index)
        if int(np.prod(shape, dtype=np.int64)) != values.size:
            raise ImportRefused(f"{self.shown}: tensor {index} has {values.size} values for shape {shape}")
        return values.reshape(shape)

    def quant(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(scales, zero points) as stored; empty when the tensor has none."""
        q = self.tensor(index).Quantization()
        if q is None or q.ScaleLength() == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        zps = q.ZeroPointAsNumpy() if q.ZeroPointLength() else np.zeros(q.ScaleLength(), np.int64)
        return np.asarray(q.ScaleAsNumpy(), np.float32), np.asarray(zps, np.int64)

    def grid(self, index: int, where: str) -> QuantParams:
        scales, zps = self.quant(index)
        if len(scales) != 1:
            raise ImportRefused(f"{self.shown}: {where}: tensor {index} has {len(scales)} scales; an activation "
                                "has one scale and zero point")
        return QuantParams(float(scales[0]), int(zps[0]))


def _fail_type(f: _File, index: int, where: str) -> ImportRefused:
    kind = f.type_of(index)
    name = _TYPE_NAMES.get(kind, f"type {kind}")
    why = {
        "float32": "a float model: it must be fully int8-quantized (the TFLite converter's full-integer "
                   "quantization, with a representative dataset)",
        "int16": "int16 activations (16x8 quantization): only int8 activations run here",
        "int4": "int4 weights: only int8 weights run here",
    }.get(name, "only int8 activations and weights (with int32 biases) run here")
    return ImportRefused(f"{f.shown}: {where}: tensor {index} is {name}: {why}")


def read_tflite(path: Path, shown: str | None = None) -> _File:
    """Parse the file, refusing what is not a single-subgraph TFLite model."""
    shown = shown or str(path)
    if tflite is None:
        raise InputError(f"{shown}: reading .tflite files needs the `tflite` package", INSTALL_HINT)
    try:
        buf = path.read_bytes()
    except OSError as e:
        raise InputError(f"{shown}: cannot read it: {e.strerror or e}") from None
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ImportRefused(f"{shown}: not a TFLite model (no TFL3 identifier at byte 4; {len(buf)} bytes)",
                            "give a .tflite file written by the TFLite converter")
    try:
        model = tflite.Model.GetRootAsModel(buf, 0)
        count = model.SubgraphsLength()
        graph = model.Subgraphs(0) if count else None
        if graph is not None:
            graph.OperatorsLength(), graph.TensorsLength()
            for i in range(graph.OperatorsLength()):
                graph.Operators(i).InputsAsNumpy()
    except Exception as e:  # the flatbuffer library raises whatever a truncated buffer makes it
        raise ImportRefused(f"{shown}: the TFLite flatbuffer is damaged or truncated ({type(e).__name__}: {e})",
                            "export the model again") from None
    if graph is None or count != 1:
        raise ImportRefused(f"{shown}: has {count} subgraphs; only single-subgraph models are supported")
    return _File(path, shown, model, graph, _op_names())


@dataclass
class _Op:
    index: int
    name: str
    inputs: list[int]
    outputs: list[int]
    options: Any

    def where(self) -> str:
        return f"op {self.index} ({self.name})"


def _ops(f: _File) -> list[_Op]:
    out = []
    for i in range(f.graph.OperatorsLength()):
        op = f.graph.Operators(i)
        code = f.model.OperatorCodes(op.OpcodeIndex())
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        name = f.op_names.get(builtin, f"builtin {builtin}")
        if builtin == 32:  # CUSTOM
            name = f"CUSTOM '{code.CustomCode().decode()}'"
        out.append(_Op(i, name, [int(x) for x in op.InputsAsNumpy()], [int(x) for x in op.OutputsAsNumpy()],
                       op.BuiltinOptions()))
    return out


def _options(op: _Op, kind: Callable[[], Any]) -> Any:
    o = kind()
    if op.options is not None:
        o.Init(op.options.Bytes, op.options.Pos)
    return o


def _activation(f: _File, op: _Op, options: Any) -> str:
    code = int(options.FusedActivationFunction())
    if code not in _ACTIVATIONS:
        raise ImportRefused(f"{f.shown}: {op.where()}: fused activation {_ACTIVATION_NAMES.get(code, code)} "
                            "is not supported (NONE, RELU and RELU6 are)")
    return _ACTIVATIONS[code]


def _padding(options: Any) -> str:
    return "same" if int(options.Padding()) == 0 else "valid"


def _image_shape(f: _File, index: int, op: _Op) -> tuple[int, ...]:
    shape = f.shape(index)
    if len(shape) != 4 or shape[0] != 1:
        raise ImportRefused(f"{f.shown}: {op.where()}: expects a 1xHxWxC image, tensor {index} is {list(shape)}")
    return shape[1:]


def _batchless(f: _File, index: int, op: _Op) -> tuple[int, ...]:
    shape = f.shape(index)
    if not shape or shape[0] != 1:
        raise ImportRefused(f"{f.shown}: {op.where()}: tensor {index} has shape {list(shape)}; a batch of 1 is "
                            "expected first")
    return shape[1:] or (1,)


def _weighted(f: _File, op: _Op, axis: int) -> dict[str, Any]:
    """The int8 weights, int32 bias (zeros where the file has none) and weight scales of a layer."""
    w_index = op.inputs[1]
    if f.type_of(w_index) != INT8:
        raise _fail_type(f, w_index, op.where())
    weights = f.data(w_index, np.int8)
    scales, zps = f.quant(w_index)
    if len(scales) == 0:
        raise ImportRefused(f"{f.shown}: {op.where()}: its weights have no quantization parameters")
    if np.any(zps != 0):
        raise ImportRefused(f"{f.shown}: {op.where()}: weight zero points must be 0 (symmetric int8), found "
                            f"{sorted(set(int(z) for z in zps))[:4]}")
    channels = weights.shape[axis]
    bias_index = op.inputs[2] if len(op.inputs) > 2 else -1
    if bias_index >= 0:
        if f.type_of(bias_index) != 2:
            raise _fail_type(f, bias_index, f"{op.where()} bias")
        bias = f.data(bias_index, np.int32).reshape(-1)
    else:
        bias = np.zeros(channels, np.int32)
    return {"weights": weights, "bias": bias, "weight_scales": scales, "per_channel": len(scales) > 1}


def _check_grids_equal(f: _File, op: _Op) -> None:
    a, b = f.grid(op.inputs[0], op.where()), f.grid(op.outputs[0], op.where())
    if a != b:
        raise ImportRefused(f"{f.shown}: {op.where()}: changes the grid from (scale {a.scale:.6g}, zero point "
                            f"{a.zero_point}) to (scale {b.scale:.6g}, zero point {b.zero_point}); this op keeps "
                            "the grid here")


def _convert(f: _File, op: _Op, builder: GraphBuilder) -> str:
    """Add one op to the graph; returns the project op it became."""
    T = tflite
    src = f.names[op.inputs[0]]
    out_q = f.grid(op.outputs[0], op.where())
    name = f"{op.index:02d}_{op.name.lower()}"
    if op.name == "CONV_2D":
        o = _options(op, T.Conv2DOptions)
        _image_shape(f, op.inputs[0], op)
        params = _weighted(f, op, 0)
        kh, kw = params["weights"].shape[1:3]
        stride, dilation = (int(o.StrideH()), int(o.StrideW())), (int(o.DilationHFactor()), int(o.DilationWFactor()))
        pointwise = (kh, kw) == (1, 1) and stride == (1, 1)
        kind = "pointwise_conv2d" if pointwise else "conv2d"
        attrs = {} if pointwise else {"stride": stride, "dilation": dilation, "padding": _padding(o)}
        builder.add(kind, src, name=name, quant=out_q, activation=_activation(f, op, o), **attrs, **params)
        return kind
    if op.name == "DEPTHWISE_CONV_2D":
        o = _options(op, T.DepthwiseConv2DOptions)
        _image_shape(f, op.inputs[0], op)
        params = _weighted(f, op, 3)
        params["weights"] = params["weights"].reshape(params["weights"].shape[1:])  # [1][kh][kw][c*m] -> [kh][kw][c*m]
        builder.add("depthwise_conv2d", src, name=name, quant=out_q, activation=_activation(f, op, o),
                    stride=(int(o.StrideH()), int(o.StrideW())),
                    dilation=(int(o.DilationHFactor()), int(o.DilationWFactor())), padding=_padding(o), **params)
        return "depthwise_conv2d"
    if op.name == "FULLY_CONNECTED":
        o = _options(op, T.FullyConnectedOptions)
        if int(o.WeightsFormat()) != 0:
            raise ImportRefused(f"{f.shown}: {op.where()}: shuffled weights are not supported")
        # the TFLite interpreter rounds a fully connected layer's requantization once (measured against it)
        builder.add("dense", src, name=name, quant=out_q, activation=_activation(f, op, o), rounding="single",
                    **_weighted(f, op, 0))
        return "dense"
    if op.name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = _options(op, T.Pool2DOptions)
        _image_shape(f, op.inputs[0], op)
        _check_grids_equal(f, op)
        kind = "avgpool2d" if op.name == "AVERAGE_POOL_2D" else "maxpool2d"
        builder.add(kind, src, name=name, quant=out_q, pool=(int(o.FilterHeight()), int(o.FilterWidth())),
                    stride=(int(o.StrideH()), int(o.StrideW())), padding=_padding(o),
                    activation=_activation(f, op, o))
        return kind
    if op.name == "ADD":
        o = _options(op, T.AddOptions)
        if f.shape(op.inputs[0]) != f.shape(op.inputs[1]):
            raise ImportRefused(f"{f.shown}: {op.where()}: adds shapes {list(f.shape(op.inputs[0]))} and "
                                f"{list(f.shape(op.inputs[1]))}; broadcasting is not supported")
        builder.add("add", [src, f.names[op.inputs[1]]], name=name, quant=out_q, activation=_activation(f, op, o))
        return "add"
    if op.name == "PAD":
        pads = f.data(op.inputs[1], np.int32).reshape(-1, 2) if f.type_of(op.inputs[1]) == 2 else None
        if pads is None or pads.shape != (4, 2) or pads[0].any() or pads[3].any():
            raise ImportRefused(f"{f.shown}: {op.where()}: only padding of height and width is supported")
        _check_grids_equal(f, op)
        builder.add("pad2d", src, name=name, quant=out_q,
                    pads=(int(pads[1][0]), int(pads[1][1]), int(pads[2][0]), int(pads[2][1])))
        return "pad2d"
    if op.name == "RESHAPE":
        _check_grids_equal(f, op)
        builder.add("reshape", src, name=name, quant=out_q, shape=_batchless(f, op.outputs[0], op))
        return "reshape"
    if op.name == "SOFTMAX":
        o = _options(op, T.SoftmaxOptions)
        builder.add("softmax", src, name=name, beta=float(o.Beta()))
        return "softmax"
    if op.name in ("LOGISTIC", "TANH"):
        kind = "sigmoid" if op.name == "LOGISTIC" else "tanh"
        builder.add(kind, src, name=name)
        return kind
    if op.name in ("RELU", "RELU6"):
        activation = op.name.lower()
        if f.grid(op.inputs[0], op.where()) != out_q:  # TFLite then rescales as it clamps
            builder.add("requantize", src, name=name, quant=out_q, activation=activation)
            return "requantize"
        builder.add(activation, src, name=name, quant=out_q)
        return activation
    if op.name == "MEAN":
        image = _image_shape(f, op.inputs[0], op)
        axes = sorted(int(a) % 4 for a in f.data(op.inputs[1], np.int32).reshape(-1)) if f.type_of(op.inputs[1]) == 2 \
            else []
        if axes != [1, 2]:
            raise ImportRefused(f"{f.shown}: {op.where()}: a mean over axes {axes} of {list(f.shape(op.inputs[0]))}; "
                                "only the mean over height and width is supported")
        out_shape = _batchless(f, op.outputs[0], op)
        if int(np.prod(out_shape)) != image[2]:
            raise ImportRefused(f"{f.shown}: {op.where()}: output shape {list(out_shape)} is not one value per channel")
        builder.add("mean_hw", src, name=name, quant=out_q)
        return "mean_hw"
    raise ImportRefused(
        f"{f.shown}: {op.where()} is not supported; supported ops: {', '.join(SUPPORTED_OPS)}",
        "see the supported-op table in the README")


def import_tflite(path: Path, shown: str | None = None) -> tuple[Graph, Origin]:
    """The file as a Graph, and where each of its layers came from in the file."""
    shown = shown or str(path)
    f = read_tflite(path, shown)
    ops = _ops(f)
    inputs = [int(x) for x in f.graph.InputsAsNumpy()]
    outputs = [int(x) for x in f.graph.OutputsAsNumpy()]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ImportRefused(f"{shown}: has {len(inputs)} inputs and {len(outputs)} outputs; one of each is supported")
    for op in ops:
        if op.name not in SUPPORTED_OPS:
            raise ImportRefused(f"{shown}: {op.where()} is not supported; supported ops: {', '.join(SUPPORTED_OPS)}",
                                "see the supported-op table in the README")
    first, last = inputs[0], outputs[0]
    float_input = bool(ops) and ops[0].name == "QUANTIZE" and f.type_of(first) == FLOAT32
    float_output = bool(ops) and ops[-1].name == "DEQUANTIZE" and f.type_of(last) == FLOAT32
    body = ops[(1 if float_input else 0): (len(ops) - 1 if float_output else len(ops))]
    int8_input = ops[0].outputs[0] if float_input else first
    int8_output = ops[-1].inputs[0] if float_output else last
    if f.type_of(int8_input) != INT8:
        raise _fail_type(f, int8_input, "the model's input")
    for op in body:
        if op.name in ("QUANTIZE", "DEQUANTIZE"):
            raise ImportRefused(f"{shown}: {op.where()}: a {op.name} inside the model is not supported (only at its "
                                "float input and output)")
        for index in [op.inputs[0], *op.outputs]:
            if f.type_of(index) != INT8:
                raise _fail_type(f, index, op.where())
    if f.type_of(int8_output) != INT8:
        raise _fail_type(f, int8_output, "the model's output")
    name = model_name(path)
    builder = GraphBuilder(name, _batchless(f, int8_input, ops[0] if ops else _Op(0, "input", [], [], None)),
                           f.grid(int8_input, "the model's input"))
    f.names[int8_input] = builder.input
    layer_tensors = []
    kinds = []
    try:
        for op in body:
            activations = op.inputs[:2] if op.name == "ADD" else op.inputs[:1]
            if any(i not in f.names for i in activations):
                raise ImportRefused(f"{shown}: {op.where()}: reads a tensor no earlier op writes (ops out of order?)")
            kinds.append(_convert(f, op, builder))
            f.names[op.outputs[0]] = builder.layers[-1].output
            layer_tensors.append(op.outputs[0])
        if int8_output not in f.names:
            raise ImportRefused(f"{shown}: its output tensor {int8_output} is written by no supported op")
        graph = builder.build(f.names[int8_output])
    except ModelError as e:
        raise ImportRefused(f"{shown}: {e.message}", e.next_step) from None
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    origin = Origin(path=path.resolve(), kind="tflite", sha256=sha, input_tensor=int8_input, output_tensor=int8_output,
                    layer_tensors=tuple(layer_tensors), layer_ops=tuple(op.name for op in body),
                    float_input=float_input, float_output=float_output)
    return graph, origin

"""Graph, tensors and layers of the int8 IR, a builder for writing models, and validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.errors import InputError
from harness.model.constants import layer_constants
from harness.model.ops import (
    ACTIVATIONS,
    GRID_FIXED,
    GRID_INHERITED,
    OPS,
    OpSpec,
    Shape,
    ShapeError,
    is_positive_shape,
)
from harness.quant import QuantError, QuantParams


class ModelError(InputError, ValueError):
    """A graph that cannot be run or compiled; the message names the layer or tensor at fault."""


#: The array parameters of a layer and the dtype each is stored as.
_PARAM_DTYPES: dict[str, type[np.generic]] = {
    "float_weights": np.float32,
    "float_bias": np.float32,
    "weights": np.int8,
    "bias": np.int32,
    "weight_scales": np.float32,
}


def _plain(value: Any) -> Any:
    """numpy integer scalars as Python ints, inside tuples and lists too: the reference and the code
    generator test attributes and shapes with isinstance(v, int)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (tuple, list)):
        items = [_plain(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    return value


@dataclass
class Tensor:
    """An activation tensor: shape without the batch dimension, NHWC images as (H, W, C)."""

    name: str
    shape: Shape
    quant: QuantParams | None = None

    def __post_init__(self) -> None:
        self.shape = _plain(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def grid(self) -> QuantParams:
        """The tensor's int8 grid; a graph that is not yet calibrated has none."""
        if self.quant is None:
            raise ModelError(f"tensor '{self.name}' has no int8 grid: calibrate the model first")
        return self.quant


@dataclass
class Layer:
    """One operation. Float parameters describe the model as trained; int8 ones are what runs.

    A calibrated model has both; a hand-set int8 model (xor_mlp) has only the int8 ones, and its
    float reference uses their dequantized values.
    """

    name: str
    op: str
    inputs: list[str]
    output: str
    attrs: dict[str, Any] = field(default_factory=dict)
    float_weights: np.ndarray | None = None
    float_bias: np.ndarray | None = None
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    weight_scales: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.attrs = {k: _plain(v) for k, v in self.attrs.items()}

    @property
    def spec(self) -> OpSpec:
        return OPS[self.op]

    def int8_weights(self) -> np.ndarray:
        """The int8 weights a quantized weighted layer runs with."""
        if self.weights is None:
            raise ModelError(f"layer '{self.name}' ({self.op}) has no int8 weights: quantize the model first")
        return self.weights

    def int32_bias(self) -> np.ndarray:
        if self.bias is None:
            raise ModelError(f"layer '{self.name}' ({self.op}) has no int32 bias: quantize the model first")
        return self.bias


@dataclass
class Graph:
    """Layers in execution order over named tensors, one input and one output."""

    name: str
    input: str
    output: str
    tensors: dict[str, Tensor]
    layers: list[Layer]

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def in_shapes(self, layer: Layer) -> list[Shape]:
        return [self.tensors[t].shape for t in layer.inputs]

    def macs(self, layer: Layer) -> int:
        return layer.spec.macs(layer, self.in_shapes(layer), self.tensors[layer.output].shape)

    @property
    def is_quantized(self) -> bool:
        return all(t.quant is not None for t in self.tensors.values()) and all(
            l.weights is not None for l in self.layers if l.spec.has_weights
        )

    def validate(self) -> None:
        """Check structure, shapes and every int8 parameter; raise ModelError naming the culprit."""
        validate_graph(self)


def _fail(layer: Layer, msg: str) -> ModelError:
    return ModelError(f"layer '{layer.name}' ({layer.op}): {msg}")


def _check_input_shape(model: str, shape: object) -> None:
    """An empty or negative dimension would reach the kernels as a zero-size buffer or a division by zero."""
    if not is_positive_shape(shape):
        raise ModelError(f"model '{model}': input shape {shape!r} must be a non-empty tuple of positive ints")


def _check_names(layer: Layer) -> None:
    """Refuse attributes the op does not read (a misspelt one would be ignored) and parameters it has no use for."""
    spec = layer.spec
    unknown = sorted(set(layer.attrs) - spec.attrs)
    if unknown:
        takes = ", ".join(sorted(spec.attrs)) or "no attributes"
        raise _fail(layer, f"unknown attribute {', '.join(map(repr, unknown))}; {layer.op} takes {takes}")
    given = [field for field in _PARAM_DTYPES if getattr(layer, field) is not None]
    if given and not spec.has_weights:
        raise _fail(layer, f"{layer.op} has no weights or bias, got {', '.join(given)}")


def _is_integer_array(arr: np.ndarray) -> bool:
    """Integer dtypes, and object arrays of ints too large for int64 (their range is checked next)."""
    if arr.dtype.kind == "O":
        return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr.flat)
    return arr.dtype.kind in "iu"


def _as_param(layer: Layer, field: str, value: Any) -> np.ndarray:
    """A parameter in its stored dtype, refused rather than wrapped or truncated when it does not fit."""
    try:
        arr = np.asarray(value)
    except ValueError:
        raise _fail(layer, f"{field} must be a rectangular array") from None
    dtype = _PARAM_DTYPES[field]
    if not np.issubdtype(dtype, np.integer):
        if arr.dtype.kind not in "iuf":
            raise _fail(layer, f"{field} must be a numeric array, got {arr.dtype}")
        return arr.astype(dtype, copy=False)
    if not _is_integer_array(arr):
        raise _fail(layer, f"{field} must be an integer array, got {arr.dtype}")
    info = np.iinfo(np.dtype(dtype))
    if arr.size and (int(arr.min()) < info.min or int(arr.max()) > info.max):
        raise _fail(layer, f"{field} must lie in {info.dtype} [{info.min}, {info.max}], "
                           f"found min {int(arr.min())} and max {int(arr.max())}")
    return arr.astype(dtype, copy=False)


def _check_parameters(layer: Layer, out_shape: Shape) -> None:
    """Bias length, and float and int8 weights that agree: shape inference reads only one of them."""
    for name in ("float_bias", "bias"):
        value = getattr(layer, name)
        if value is not None and np.shape(value) != (out_shape[-1],):
            raise _fail(layer, f"{name} has shape {np.shape(value)}, expected ({out_shape[-1]},)")
    w, fw = layer.weights, layer.float_weights
    if w is not None and fw is not None and np.shape(w) != np.shape(fw):
        raise _fail(layer, f"weights have shape {np.shape(w)} but float_weights {np.shape(fw)}")


def validate_graph(graph: Graph) -> None:
    if not graph.layers:
        raise ModelError(f"model '{graph.name}' has no layers")
    if graph.input not in graph.tensors:
        raise ModelError(f"model '{graph.name}': input tensor '{graph.input}' is not defined")
    _check_input_shape(graph.name, graph.tensors[graph.input].shape)
    defined = {graph.input}
    names = set()
    for layer in graph.layers:
        if layer.name in names:
            raise _fail(layer, "duplicate layer name")
        names.add(layer.name)
        if layer.op not in OPS:
            raise _fail(layer, f"unsupported op; supported: {', '.join(sorted(OPS))}")
        _check_names(layer)
        spec = layer.spec
        if len(layer.inputs) != spec.arity:
            raise _fail(layer, f"takes {spec.arity} input(s), got {len(layer.inputs)}")
        for t in layer.inputs:
            if t not in defined:
                raise _fail(layer, f"input tensor '{t}' is not produced by an earlier layer")
        if layer.output in defined:
            raise _fail(layer, f"output tensor '{layer.output}' is already produced by another layer")
        if layer.output not in graph.tensors:
            raise _fail(layer, f"output tensor '{layer.output}' is not defined")
        try:
            shape = spec.infer_shape(layer, graph.in_shapes(layer))
        except ShapeError as e:
            raise _fail(layer, str(e)) from None
        if tuple(shape) != tuple(graph.tensors[layer.output].shape):
            raise _fail(layer, f"output shape {graph.tensors[layer.output].shape} should be {shape}")
        _check_parameters(layer, shape)
        act = layer.attrs.get("activation", "none")
        if act not in ACTIVATIONS or (act != "none" and not spec.fused_activation):
            raise _fail(layer, f"activation {act!r} is not supported here")
        defined.add(layer.output)
        if graph.is_quantized:
            _validate_int8(graph, layer)
    if graph.output not in defined:
        raise ModelError(f"model '{graph.name}': output tensor '{graph.output}' is never produced")


def _validate_int8(graph: Graph, layer: Layer) -> None:
    spec = layer.spec
    out_q = graph.tensors[layer.output].quant
    in_q = graph.tensors[layer.inputs[0]].quant
    if spec.grid == GRID_INHERITED and out_q != in_q:
        raise _fail(layer, f"output grid {out_q} must equal the input grid {in_q} ({layer.op} does not rescale)")
    if spec.grid == GRID_FIXED and out_q != spec.fixed_grid:
        raise _fail(layer, f"output grid must be {spec.fixed_grid}, got {out_q}")
    if spec.has_weights:
        w, b, s = layer.weights, layer.bias, layer.weight_scales
        if w is None or b is None or s is None:
            raise _fail(layer, "int8 weights, int32 bias and weight scales are all required")
        if w.dtype != np.int8:
            raise _fail(layer, f"weights must be int8, got {w.dtype}")
        if int(w.min(initial=0)) < -127:
            raise _fail(layer, "weights must lie in [-127, 127] (symmetric); found -128")
        if b.dtype != np.int32:
            raise _fail(layer, f"bias must be int32, got {b.dtype}")
        out_c = graph.tensors[layer.output].shape[-1]
        if s.ndim != 1 or len(s) not in (1, out_c):
            raise _fail(layer, f"weight scales must number 1 or {out_c} (per channel), got {s.shape}")
        if not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise _fail(layer, "weight scales must be positive and finite")
    try:
        layer_constants(graph, layer)
    except QuantError as e:
        raise _fail(layer, str(e)) from None


class GraphBuilder:
    """Write a model as a sequence of calls; shapes are inferred and checked as layers are added."""

    def __init__(self, name: str, input_shape: Shape, input_quant: QuantParams | None = None):
        shape = _plain(tuple(input_shape)) if isinstance(input_shape, (tuple, list, np.ndarray)) else input_shape
        _check_input_shape(name, shape)
        self.name = name
        self.input = "input"
        self.tensors: dict[str, Tensor] = {"input": Tensor("input", shape, input_quant)}
        self.layers: list[Layer] = []
        self._count: dict[str, int] = {}

    def _auto_name(self, op: str) -> str:
        self._count[op] = self._count.get(op, 0) + 1
        return f"{op}_{self._count[op]}"

    def add(
        self,
        op: str,
        inputs: list[str] | str,
        name: str | None = None,
        quant: QuantParams | None = None,
        **kwargs: Any,
    ) -> str:
        """Append a layer; returns the name of its output tensor (the layer's name)."""
        if op not in OPS:
            raise ModelError(f"unsupported op '{op}'; supported: {', '.join(sorted(OPS))}")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        name = name or self._auto_name(op)
        params = {k: kwargs.pop(k) for k in list(kwargs) if k in _PARAM_DTYPES}
        layer = Layer(name, op, inputs, name, attrs=kwargs, **params)
        _check_names(layer)
        for param, value in params.items():
            if value is not None:
                setattr(layer, param, _as_param(layer, param, value))
        if layer.spec.defaults is not None:
            layer.spec.defaults(layer.attrs)
        for t in inputs:
            if t not in self.tensors:
                raise _fail(layer, f"input tensor '{t}' is not defined")
        try:
            shape = layer.spec.infer_shape(layer, [self.tensors[t].shape for t in inputs])
        except ShapeError as e:
            raise _fail(layer, str(e)) from None
        _check_parameters(layer, shape)
        if layer.spec.grid == GRID_FIXED:
            quant = layer.spec.fixed_grid
        self.tensors[name] = Tensor(name, tuple(shape), quant)
        self.layers.append(layer)
        return name

    def build(self, output: str) -> Graph:
        graph = Graph(self.name, self.input, output, self.tensors, self.layers)
        validate_graph(graph)
        return graph

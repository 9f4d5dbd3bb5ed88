"""Graph, tensors and layers of the int8 IR, a builder for writing models, and validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from harness.errors import HarnessError
from harness.model.ops import (
    ACTIVATIONS,
    GRID_FIXED,
    GRID_INHERITED,
    OPS,
    Shape,
    ShapeError,
)
from harness.quant import QuantError, QuantParams


class ModelError(HarnessError, ValueError):
    """A graph that cannot be run or compiled; the message names the layer or tensor at fault."""


@dataclass
class Tensor:
    """An activation tensor: shape without the batch dimension, NHWC images as (H, W, C)."""

    name: str
    shape: Shape
    quant: Optional[QuantParams] = None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


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
    float_weights: Optional[np.ndarray] = None
    float_bias: Optional[np.ndarray] = None
    weights: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None
    weight_scales: Optional[np.ndarray] = None

    @property
    def spec(self):
        return OPS[self.op]


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


def validate_graph(graph: Graph) -> None:
    if not graph.layers:
        raise ModelError(f"model '{graph.name}' has no layers")
    if graph.input not in graph.tensors:
        raise ModelError(f"model '{graph.name}': input tensor '{graph.input}' is not defined")
    defined = {graph.input}
    names = set()
    for layer in graph.layers:
        if layer.name in names:
            raise _fail(layer, "duplicate layer name")
        names.add(layer.name)
        if layer.op not in OPS:
            raise _fail(layer, f"unsupported op; supported: {', '.join(sorted(OPS))}")
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
        act = layer.attrs.get("activation", "none")
        if act not in ACTIVATIONS or (act != "none" and not spec.fused_activation):
            raise _fail(layer, f"activation {act!r} is not supported here")
        defined.add(layer.output)
        if graph.is_quantized:
            _validate_int8(graph, layer)
    if graph.output not in defined:
        raise ModelError(f"model '{graph.name}': output tensor '{graph.output}' is never produced")


def _validate_int8(graph: Graph, layer: Layer) -> None:
    from harness.quant.layer import layer_constants  # quant params are derived there

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
        if b.shape != (out_c,):
            raise _fail(layer, f"bias has shape {b.shape}, expected ({out_c},)")
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

    def __init__(self, name: str, input_shape: Shape, input_quant: Optional[QuantParams] = None):
        self.name = name
        self.input = "input"
        self.tensors: dict[str, Tensor] = {"input": Tensor("input", tuple(input_shape), input_quant)}
        self.layers: list[Layer] = []
        self._count: dict[str, int] = {}

    def _auto_name(self, op: str) -> str:
        self._count[op] = self._count.get(op, 0) + 1
        return f"{op}_{self._count[op]}"

    def add(
        self,
        op: str,
        inputs: list[str] | str,
        name: Optional[str] = None,
        quant: Optional[QuantParams] = None,
        **kwargs: Any,
    ) -> str:
        """Append a layer; returns the name of its output tensor (the layer's name)."""
        if op not in OPS:
            raise ModelError(f"unsupported op '{op}'; supported: {', '.join(sorted(OPS))}")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        name = name or self._auto_name(op)
        params = {k: kwargs.pop(k) for k in list(kwargs) if k in _PARAM_FIELDS}
        for k in ("float_weights", "float_bias", "weight_scales"):
            if params.get(k) is not None:
                params[k] = np.asarray(params[k], dtype=np.float32)
        if params.get("weights") is not None:
            params["weights"] = np.asarray(params["weights"], dtype=np.int8)
        if params.get("bias") is not None:
            params["bias"] = np.asarray(params["bias"], dtype=np.int32)
        attrs = dict(kwargs)
        if OPS[op].defaults is not None:
            OPS[op].defaults(attrs)
        layer = Layer(name, op, inputs, name, attrs=attrs, **params)
        for t in inputs:
            if t not in self.tensors:
                raise _fail(layer, f"input tensor '{t}' is not defined")
        try:
            shape = layer.spec.infer_shape(layer, [self.tensors[t].shape for t in inputs])
        except ShapeError as e:
            raise _fail(layer, str(e)) from None
        if layer.spec.grid == GRID_FIXED:
            quant = layer.spec.fixed_grid
        self.tensors[name] = Tensor(name, tuple(shape), quant)
        self.layers.append(layer)
        return name

    def build(self, output: str) -> Graph:
        graph = Graph(self.name, self.input, output, self.tensors, self.layers)
        validate_graph(graph)
        return graph


_PARAM_FIELDS = ("float_weights", "float_bias", "weights", "bias", "weight_scales")


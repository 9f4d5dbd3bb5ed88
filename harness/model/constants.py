"""Integer constants a layer needs at run time, derived from its graph's float32 scales.

The Python integer reference and the C code generator both take their constants from here, so the
host and the firmware cannot disagree on a multiplier, a shift, a bound or a table entry.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from harness.model.ops import rounding_of
from harness.quant import (
    INT8_MAX,
    INT8_MIN,
    QuantError,
    QuantParams,
    activation_bounds,
    quantize_multiplier,
    round_half_away,
)

if TYPE_CHECKING:
    from harness.model.graph import Graph, Layer


#: TFLite ADD scales both inputs up by 2^20 before rescaling them to a common grid.
ADD_LEFT_SHIFT = 20
#: TFLite softmax: the scaled input differences are Q5.26 fixed point.
SOFTMAX_DIFF_INTEGER_BITS = 5


@dataclass(frozen=True)
class LayerConstants:
    """Integer constants of one layer, as its kernel receives them.

    multipliers/shifts hold one entry per output channel (or one) for weighted layers, the three
    requantizers (input 1, input 2, output) for add, and the beta multiplier for softmax.
    """

    input_zp: int
    output_zp: int
    act_min: int = INT8_MIN
    act_max: int = INT8_MAX
    multipliers: np.ndarray | None = None  # int32
    shifts: np.ndarray | None = None  # int32, same length
    lut: np.ndarray | None = None  # int8[256], index q + 128
    input2_zp: int = 0  # add
    diff_min: int = 0  # softmax: differences below this contribute nothing
    rounding: str = "double"  # weighted layers: "double" (requantize) or "single" (requantize_single)

    def requantizers(self) -> tuple[np.ndarray, np.ndarray]:
        """(multipliers, shifts); only layers that rescale have them."""
        if self.multipliers is None or self.shifts is None:
            raise ValueError("this layer has no requantizers")
        return self.multipliers, self.shifts

    def table(self) -> np.ndarray:
        """The 256-entry lookup table of sigmoid and tanh."""
        if self.lut is None:
            raise ValueError("this layer has no lookup table")
        return self.lut


def _requant_arrays(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(m)) for m in real]
    return (
        np.array([p[0] for p in pairs], dtype=np.int64),
        np.array([p[1] for p in pairs], dtype=np.int64),
    )


def _grids(graph: Graph, layer: Layer) -> tuple[QuantParams, QuantParams]:
    in_q = graph.tensors[layer.inputs[0]].quant
    out_q = graph.tensors[layer.output].quant
    assert in_q is not None and out_q is not None, "graph is not quantized"
    return in_q, out_q


def _weighted(graph: Graph, layer: Layer) -> LayerConstants:
    in_q, out_q = _grids(graph, layer)
    ws = np.asarray(layer.weight_scales, dtype=np.float64)
    real = np.float64(in_q.scale) * ws / np.float64(out_q.scale)
    mult, shift = _requant_arrays(real)
    lo, hi = activation_bounds(layer.attrs.get("activation", "none"), out_q)
    return LayerConstants(in_q.zero_point, out_q.zero_point, lo, hi, mult, shift, rounding=rounding_of(layer))


def _passthrough(graph: Graph, layer: Layer) -> LayerConstants:
    """Layers that keep the grid; a fused activation (pools) clamps in that grid."""
    in_q, out_q = _grids(graph, layer)
    lo, hi = activation_bounds(layer.attrs.get("activation", "none"), out_q)
    return LayerConstants(in_q.zero_point, out_q.zero_point, lo, hi)


def _clamp(act: str) -> Callable[[Graph, Layer], LayerConstants]:
    def constants(graph: Graph, layer: Layer) -> LayerConstants:
        in_q, out_q = _grids(graph, layer)
        lo, hi = activation_bounds(act, out_q)
        return LayerConstants(in_q.zero_point, out_q.zero_point, lo, hi)

    return constants


def mean_hw_requantizer(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """(multiplier, shift) of mean_hw (TFLite MEAN): the sum of count values of (q - in_zp) times
    input_scale / (output_scale * count), in double."""
    return quantize_multiplier(float(np.float64(input_scale) / (np.float64(output_scale) * count)))


def _mean_hw(graph: Graph, layer: Layer) -> LayerConstants:
    in_q, out_q = _grids(graph, layer)
    h, w, _ = graph.tensors[layer.inputs[0]].shape
    m, s = mean_hw_requantizer(in_q.scale, out_q.scale, h * w)
    return LayerConstants(in_q.zero_point, out_q.zero_point, multipliers=np.array([m]), shifts=np.array([s]))


def rescale_requantizer(input_scale: float, output_scale: float) -> tuple[int, int]:
    """(multiplier, shift) of requantize: input_scale / output_scale, in double."""
    return quantize_multiplier(float(np.float64(input_scale) / np.float64(output_scale)))


def _requantize(graph: Graph, layer: Layer) -> LayerConstants:
    in_q, out_q = _grids(graph, layer)
    m, s = rescale_requantizer(in_q.scale, out_q.scale)
    lo, hi = activation_bounds(layer.attrs.get("activation", "none"), out_q)
    return LayerConstants(in_q.zero_point, out_q.zero_point, lo, hi, np.array([m]), np.array([s]))


def add_requantizers(a: QuantParams, b: QuantParams, out: QuantParams) -> tuple[np.ndarray, np.ndarray]:
    """(multipliers, shifts) for input 1, input 2 and the output of a TFLite ADD."""
    twice_max = 2.0 * max(a.scale, b.scale)
    reals = np.array([a.scale / twice_max, b.scale / twice_max, twice_max / ((1 << ADD_LEFT_SHIFT) * out.scale)])
    return _requant_arrays(reals)


def _add(graph: Graph, layer: Layer) -> LayerConstants:
    a = graph.tensors[layer.inputs[0]].quant
    b = graph.tensors[layer.inputs[1]].quant
    out = graph.tensors[layer.output].quant
    assert a is not None and b is not None and out is not None, "graph is not quantized"
    mult, shift = add_requantizers(a, b, out)
    lo, hi = activation_bounds(layer.attrs.get("activation", "none"), out)
    return LayerConstants(a.zero_point, out.zero_point, lo, hi, mult, shift, input2_zp=b.zero_point)


def softmax_params(input_scale: float, beta: float = 1.0) -> tuple[int, int, int]:
    """(input_beta_multiplier, input_beta_left_shift, diff_min) as TFLite's PreprocessSoftmaxScaling
    and CalculateInputRadius compute them for Q5.26 differences."""
    bits = SOFTMAX_DIFF_INTEGER_BITS
    real = min(beta * input_scale * float(1 << (31 - bits)), float((1 << 31) - 1))
    if not real > 1.0:
        raise QuantError(f"softmax input scale {input_scale:.6g} (beta {beta}) is below 2^-26: too small to represent")
    multiplier, shift = quantize_multiplier(real)
    radius = math.floor(((1 << bits) - 1) * float(1 << (31 - bits)) / float(1 << shift))
    return multiplier, shift, -radius


def _softmax(graph: Graph, layer: Layer) -> LayerConstants:
    in_q, out_q = _grids(graph, layer)
    m, shift, diff_min = softmax_params(in_q.scale, float(layer.attrs.get("beta", 1.0)))
    return LayerConstants(in_q.zero_point, out_q.zero_point, multipliers=np.array([m]),
                          shifts=np.array([shift]), diff_min=diff_min)


def sigmoid(x: float) -> float:
    """Logistic function in double, without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def lut_table(in_q: QuantParams, out_q: QuantParams, f: Callable[[float], float]) -> np.ndarray:
    """256-entry table, index q + 128: clamp(round_half_away(out_zp + f(real(q)) / out_scale))."""
    table = np.empty(256, dtype=np.int8)
    for q in range(INT8_MIN, INT8_MAX + 1):
        x = in_q.scale * (q - in_q.zero_point)
        v = round_half_away(out_q.zero_point + f(x) / out_q.scale)
        table[q + 128] = min(max(v, INT8_MIN), INT8_MAX)
    return table


def _lut(f: Callable[[float], float]) -> Callable[[Graph, Layer], LayerConstants]:
    def constants(graph: Graph, layer: Layer) -> LayerConstants:
        in_q, out_q = _grids(graph, layer)
        return LayerConstants(in_q.zero_point, out_q.zero_point, lut=lut_table(in_q, out_q, f))

    return constants


CONSTANTS: dict[str, Callable[[Graph, Layer], LayerConstants]] = {
    "conv2d": _weighted,
    "depthwise_conv2d": _weighted,
    "pointwise_conv2d": _weighted,
    "dense": _weighted,
    "relu": _clamp("relu"),
    "relu6": _clamp("relu6"),
    "maxpool2d": _passthrough,
    "avgpool2d": _passthrough,
    "global_avgpool2d": _passthrough,
    "mean_hw": _mean_hw,
    "requantize": _requantize,
    "pad2d": _passthrough,
    "add": _add,
    "sigmoid": _lut(sigmoid),
    "tanh": _lut(math.tanh),
    "softmax": _softmax,
    "reshape": _passthrough,
    "flatten": _passthrough,
}


def layer_constants(graph: Graph, layer: Layer) -> LayerConstants:
    """The integer constants of one layer (raises QuantError for unrepresentable parameters)."""
    return CONSTANTS[layer.op](graph, layer)

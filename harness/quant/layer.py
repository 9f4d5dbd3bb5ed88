"""Integer constants a layer needs at run time, derived from its graph's float32 scales.

The Python integer reference and the C code generator both take their constants from here, so the
host and the firmware cannot disagree on a multiplier, a shift, a bound or a table entry.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from harness.quant import (
    INT8_MAX,
    INT8_MIN,
    QuantParams,
    activation_bounds,
    quantize_multiplier,
    round_half_away,
)

if TYPE_CHECKING:
    from harness.model.graph import Graph, Layer


@dataclass(frozen=True)
class LayerConstants:
    input_zp: int
    output_zp: int
    act_min: int = INT8_MIN
    act_max: int = INT8_MAX
    multipliers: Optional[np.ndarray] = None  # int32, one or per output channel
    shifts: Optional[np.ndarray] = None  # int32, same length
    lut: Optional[np.ndarray] = None  # int8[256], index q + 128


def _requant_arrays(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(m)) for m in real]
    return (
        np.array([p[0] for p in pairs], dtype=np.int64),
        np.array([p[1] for p in pairs], dtype=np.int64),
    )


def _grids(graph: "Graph", layer: "Layer") -> tuple[QuantParams, QuantParams]:
    in_q = graph.tensors[layer.inputs[0]].quant
    out_q = graph.tensors[layer.output].quant
    assert in_q is not None and out_q is not None, "graph is not quantized"
    return in_q, out_q


def _weighted(graph: "Graph", layer: "Layer") -> LayerConstants:
    in_q, out_q = _grids(graph, layer)
    ws = np.asarray(layer.weight_scales, dtype=np.float64)
    real = np.float64(in_q.scale) * ws / np.float64(out_q.scale)
    mult, shift = _requant_arrays(real)
    lo, hi = activation_bounds(layer.attrs.get("activation", "none"), out_q)
    return LayerConstants(in_q.zero_point, out_q.zero_point, lo, hi, mult, shift)


def _passthrough(graph: "Graph", layer: "Layer") -> LayerConstants:
    in_q, out_q = _grids(graph, layer)
    return LayerConstants(in_q.zero_point, out_q.zero_point)


def _relu(graph: "Graph", layer: "Layer") -> LayerConstants:
    in_q, out_q = _grids(graph, layer)
    return LayerConstants(in_q.zero_point, out_q.zero_point, out_q.zero_point, INT8_MAX)


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


def _lut(f: Callable[[float], float]) -> Callable[["Graph", "Layer"], LayerConstants]:
    def constants(graph: "Graph", layer: "Layer") -> LayerConstants:
        in_q, out_q = _grids(graph, layer)
        return LayerConstants(in_q.zero_point, out_q.zero_point, lut=lut_table(in_q, out_q, f))

    return constants


CONSTANTS: dict[str, Callable[["Graph", "Layer"], LayerConstants]] = {
    "conv2d": _weighted,
    "depthwise_conv2d": _weighted,
    "pointwise_conv2d": _weighted,
    "dense": _weighted,
    "relu": _relu,
    "maxpool2d": _passthrough,
    "global_avgpool2d": _passthrough,
    "pad2d": _passthrough,
    "sigmoid": _lut(sigmoid),
}


def layer_constants(graph: "Graph", layer: "Layer") -> LayerConstants:
    """The integer constants of one layer (raises QuantError for unrepresentable parameters)."""
    return CONSTANTS[layer.op](graph, layer)

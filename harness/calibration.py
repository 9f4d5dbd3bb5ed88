"""Post-training calibration: from a float graph and sample inputs to an int8 graph."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from harness.model.graph import Graph, ModelError
from harness.model.ops import GRID_CALIBRATED, GRID_FIXED, GRID_INHERITED
from harness.quant import (
    QuantParams,
    calibrate_asymmetric,
    quantize_bias,
    quantize_weights,
    symmetric_weight_scales,
)
from harness.reference import run_float


def weights_per_channel(op: str, attrs: dict[str, Any]) -> bool:
    """Per-channel weights unless the layer says otherwise; depthwise defaults to per channel."""
    return bool(attrs.get("per_channel", op == "depthwise_conv2d"))


def _check_samples(graph: Graph, samples: object) -> np.ndarray:
    """Samples as an array of shape (batch, *input_shape), batch >= 1: an empty batch has no range to
    observe, and a wrong shape would broadcast silently or fail inside numpy."""
    expected = "(batch, " + ", ".join(str(d) for d in graph.tensors[graph.input].shape) + ")"
    where = f"model '{graph.name}': calibration samples"
    try:
        arr = np.asarray(samples)
    except ValueError:
        raise ModelError(f"{where} must be an array of shape {expected}, got a ragged sequence") from None
    if arr.dtype.kind not in "iuf":
        raise ModelError(f"{where} must be numeric, got {arr.dtype}")
    if arr.ndim < 1 or arr.shape[0] == 0 or arr.shape[1:] != tuple(graph.tensors[graph.input].shape):
        raise ModelError(f"{where} must have shape {expected} with batch >= 1, got {arr.shape}")
    return arr


def calibrate(graph: Graph, samples: np.ndarray, observe: dict[str, str] | None = None) -> Graph:
    """A quantized copy of `graph`, its grids fitted to the float activations over `samples`.

    `observe` maps a tensor to another whose observed range sets its grid (resnet18_block's add
    output is calibrated on the range seen after the ReLU that follows it).
    """
    observe = observe or {}
    samples = _check_samples(graph, samples)
    g = copy.deepcopy(graph)
    for layer in g.layers:
        for what, arr in (("weights", layer.float_weights), ("bias", layer.float_bias)):
            if arr is not None and not np.all(np.isfinite(arr)):
                raise ModelError(f"layer '{layer.name}' ({layer.op}): float {what} are not all finite")
    if not np.all(np.isfinite(samples)):
        raise ModelError(f"model '{g.name}': calibration samples are not all finite")
    values = run_float(g, samples)

    def observed(name: str) -> QuantParams:
        v = values[observe.get(name, name)]
        if not np.all(np.isfinite(v)):
            raise ModelError(f"tensor '{name}': the float model produces non-finite values during calibration")
        return calibrate_asymmetric(float(v.min()), float(v.max()))

    g.tensors[g.input].quant = observed(g.input)
    for layer in g.layers:
        spec = layer.spec
        out = g.tensors[layer.output]
        if spec.grid == GRID_FIXED:
            out.quant = spec.fixed_grid
        elif spec.grid == GRID_INHERITED:
            out.quant = g.tensors[layer.inputs[0]].quant
        else:
            assert spec.grid == GRID_CALIBRATED
            out.quant = observed(layer.output)
        if spec.has_weights:
            if layer.float_weights is None:
                raise ModelError(f"layer '{layer.name}' ({layer.op}): no float weights to calibrate")
            axis = spec.channel_axis
            w = layer.float_weights
            scales = symmetric_weight_scales(w, weights_per_channel(layer.op, layer.attrs), axis)
            b = layer.float_bias if layer.float_bias is not None else np.zeros(out.shape[-1], np.float32)
            in_scale = g.tensors[layer.inputs[0]].grid.scale
            layer.weight_scales = scales
            layer.weights = quantize_weights(w, scales, axis)
            layer.bias = quantize_bias(b, in_scale, scales)
    g.validate()
    return g

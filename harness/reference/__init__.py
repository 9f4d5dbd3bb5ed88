"""Integer and float references of every op, batched over samples (axis 0).

The integer reference is the specification the C kernels are held to: exact int64 arithmetic with
the helpers of harness.quant. The float reference runs in float32 and adds terms one at a time in a
fixed order (no BLAS, no CPU-dispatched SIMD transcendentals), so calibration, and therefore every
golden file, comes out the same on every machine.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from harness.model.graph import Graph, Layer
from harness.model.ops import resolve_padding
from harness.quant import INT8_MAX, INT8_MIN, div_round_half_away, requantize
from harness.quant.layer import LayerConstants, layer_constants, sigmoid

Array = np.ndarray


def _pair(v: object) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))  # type: ignore[index]


def _windows(
    x: Array, layer: Layer, kernel: tuple[int, int], out_hw: tuple[int, int], fill: float
) -> Iterator[tuple[int, int, Array]]:
    """Each kernel position (kh, kw) with the strided view of the padded input it multiplies."""
    top, bottom, left, right = resolve_padding(layer, x.shape[1:], kernel)
    sh, sw = _pair(layer.attrs.get("stride", 1))
    dh, dw = _pair(layer.attrs.get("dilation", 1))
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    oh, ow = out_hw
    for kh in range(kernel[0]):
        for kw in range(kernel[1]):
            h0, w0 = kh * dh, kw * dw
            yield kh, kw, xp[:, h0 : h0 + (oh - 1) * sh + 1 : sh, w0 : w0 + (ow - 1) * sw + 1 : sw, :]


def _conv_acc(x: Array, w: Array, bias: Array, layer: Layer, out_shape: tuple, fill: float) -> Array:
    """bias + sum over (kh, kw, ic) of w * x, OHWI weights, accumulated in x's dtype."""
    n = x.shape[0]
    acc = np.zeros((n,) + tuple(out_shape), dtype=x.dtype) + bias.astype(x.dtype)
    for kh, kw, view in _windows(x, layer, (w.shape[1], w.shape[2]), out_shape[:2], fill):
        for ic in range(w.shape[3]):
            acc += view[..., ic : ic + 1] * w[:, kh, kw, ic]
    return acc


def _depthwise_acc(x: Array, w: Array, bias: Array, layer: Layer, out_shape: tuple, fill: float) -> Array:
    """Depthwise: output channel c * multiplier + m reads input channel c; weights [kh][kw][c]."""
    mult = w.shape[2] // x.shape[3]
    xr = np.repeat(x, mult, axis=3) if mult > 1 else x
    n = x.shape[0]
    acc = np.zeros((n,) + tuple(out_shape), dtype=x.dtype) + bias.astype(x.dtype)
    for kh, kw, view in _windows(xr, layer, (w.shape[0], w.shape[1]), out_shape[:2], fill):
        acc += view * w[kh, kw, :]
    return acc


def _dense_acc(x: Array, w: Array, bias: Array) -> Array:
    flat = x.reshape(x.shape[0], -1)
    acc = np.zeros((x.shape[0], w.shape[0]), dtype=x.dtype) + bias.astype(x.dtype)
    for i in range(w.shape[1]):
        acc += flat[:, i : i + 1] * w[:, i]
    return acc


# ---------------------------------------------------------------- integer reference


def _requant_out(acc: Array, k: LayerConstants) -> Array:
    out = requantize(acc, k.multipliers, k.shifts) + k.output_zp
    return np.clip(out, k.act_min, k.act_max).astype(np.int8)


def _weighted_acc(graph: Graph, layer: Layer, x: Array, w: Array, b: Array) -> Array:
    """The accumulator of a weighted layer in x's dtype (padding contributes 0)."""
    out_shape = graph.tensors[layer.output].shape
    if layer.op == "depthwise_conv2d":
        return _depthwise_acc(x, w, b, layer, out_shape, 0)
    if layer.op == "dense":
        return _dense_acc(x, w, b)
    return _conv_acc(x, w, b, layer, out_shape, 0)


def _int_weighted(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    k = layer_constants(graph, layer)
    x = ins[0].astype(np.int64) - k.input_zp
    acc = _weighted_acc(graph, layer, x, layer.weights.astype(np.int64), layer.bias.astype(np.int64))
    return _requant_out(acc, k)


def _int_relu(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    k = layer_constants(graph, layer)
    return np.clip(ins[0], k.act_min, k.act_max).astype(np.int8)


def _int_maxpool(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    out_shape = graph.tensors[layer.output].shape
    pool = _pair(layer.attrs["pool"])
    views = [v for _, _, v in _windows(ins[0], layer, pool, out_shape[:2], INT8_MIN)]
    return np.maximum.reduce(views).astype(np.int8)


def _int_gap(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    x = ins[0].astype(np.int64)
    total = x.sum(axis=(1, 2))
    out = div_round_half_away(total, x.shape[1] * x.shape[2])
    return np.clip(out, INT8_MIN, INT8_MAX).astype(np.int8)


def _int_pad(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    k = layer_constants(graph, layer)
    t, b, l, r = layer.attrs["pads"]
    return np.pad(ins[0], ((0, 0), (t, b), (l, r), (0, 0)), constant_values=k.input_zp).astype(np.int8)


def _int_lut(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    k = layer_constants(graph, layer)
    return k.lut[ins[0].astype(np.int64) + 128]


INT_OPS: dict[str, Callable[[Graph, Layer, list[Array]], Array]] = {
    "conv2d": _int_weighted,
    "depthwise_conv2d": _int_weighted,
    "pointwise_conv2d": _int_weighted,
    "dense": _int_weighted,
    "relu": _int_relu,
    "maxpool2d": _int_maxpool,
    "global_avgpool2d": _int_gap,
    "pad2d": _int_pad,
    "sigmoid": _int_lut,
}


def run_int8(graph: Graph, x_q: Array) -> dict[str, Array]:
    """Every tensor of the graph for int8 inputs of shape (N, *input_shape)."""
    x_q = np.asarray(x_q)
    if x_q.dtype != np.int8:
        raise TypeError(f"int8 reference takes int8 input, got {x_q.dtype}")
    values = {graph.input: x_q}
    for layer in graph.layers:
        values[layer.output] = INT_OPS[layer.op](graph, layer, [values[t] for t in layer.inputs])
    return values


# ---------------------------------------------------------------- float reference


def float_params(graph: Graph, layer: Layer) -> tuple[Array, Array]:
    """float32 weights and bias: the trained ones, else the dequantized int8 ones."""
    if layer.float_weights is not None:
        w = layer.float_weights.astype(np.float32)
        b = layer.float_bias if layer.float_bias is not None else np.zeros(graph.tensors[layer.output].shape[-1])
        return w, np.asarray(b, dtype=np.float32)
    scales = np.asarray(layer.weight_scales, dtype=np.float32)
    shape = [1] * layer.weights.ndim
    shape[layer.spec.channel_axis] = -1
    w = (layer.weights.astype(np.float32) * scales.reshape(shape)).astype(np.float32)
    in_scale = np.float32(graph.tensors[layer.inputs[0]].quant.scale)
    b = (layer.bias.astype(np.float64) * np.float64(in_scale) * scales.astype(np.float64)).astype(np.float32)
    return w, b


def _float_activation(y: Array, act: str) -> Array:
    if act == "relu":
        return np.maximum(y, np.float32(0))
    if act == "relu6":
        return np.minimum(np.maximum(y, np.float32(0)), np.float32(6))
    return y


def _float_weighted(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    w, b = float_params(graph, layer)
    y = _weighted_acc(graph, layer, ins[0].astype(np.float32), w, b)
    return _float_activation(y, layer.attrs.get("activation", "none"))


def _float_relu(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    return _float_activation(ins[0], "relu")


def _float_maxpool(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    out_shape = graph.tensors[layer.output].shape
    views = [v for _, _, v in _windows(ins[0], layer, _pair(layer.attrs["pool"]), out_shape[:2], -np.inf)]
    return np.maximum.reduce(views).astype(np.float32)


def _float_gap(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    x = ins[0]
    acc = np.zeros((x.shape[0], x.shape[3]), dtype=np.float32)
    for h in range(x.shape[1]):
        for w in range(x.shape[2]):
            acc += x[:, h, w, :]
    return (acc / np.float32(x.shape[1] * x.shape[2])).astype(np.float32)


def _float_pad(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    t, b, l, r = layer.attrs["pads"]
    return np.pad(ins[0], ((0, 0), (t, b), (l, r), (0, 0)), constant_values=0.0).astype(np.float32)


def _elementwise(f: Callable[[float], float]) -> Callable[[Graph, Layer, list[Array]], Array]:
    """Apply a scalar libm function element by element (numpy's SIMD exp differs across CPUs)."""

    def run(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
        x = ins[0]
        flat = [f(float(v)) for v in x.reshape(-1)]
        return np.array(flat, dtype=np.float32).reshape(x.shape)

    return run


FLOAT_OPS: dict[str, Callable[[Graph, Layer, list[Array]], Array]] = {
    "conv2d": _float_weighted,
    "depthwise_conv2d": _float_weighted,
    "pointwise_conv2d": _float_weighted,
    "dense": _float_weighted,
    "relu": _float_relu,
    "maxpool2d": _float_maxpool,
    "global_avgpool2d": _float_gap,
    "pad2d": _float_pad,
    "sigmoid": _elementwise(sigmoid),
}


def run_float(graph: Graph, x: Array) -> dict[str, Array]:
    """Every tensor of the graph in float32 for real-valued inputs of shape (N, *input_shape)."""
    values = {graph.input: np.asarray(x, dtype=np.float32)}
    for layer in graph.layers:
        values[layer.output] = FLOAT_OPS[layer.op](graph, layer, [values[t] for t in layer.inputs])
    return values

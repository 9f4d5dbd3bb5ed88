"""Integer and float references of every op, batched over samples (axis 0).

The integer reference is the specification the C kernels are held to: exact int64 arithmetic with
the helpers of harness.quant. The float reference runs in float32 and adds terms one at a time in a
fixed order (no BLAS, no CPU-dispatched SIMD transcendentals), so calibration, and therefore every
golden file, comes out the same on every machine.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from harness.model.constants import ADD_LEFT_SHIFT, LayerConstants, layer_constants, sigmoid
from harness.model.graph import Graph, Layer
from harness.model.ops import resolve_padding
from harness.quant import INT8_MAX, INT8_MIN, IntLike, div_round_half_away, requantize
from harness.quant.arithmetic import requantize_single
from harness.reference.softmax import softmax_int8

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


def _conv_acc(x: Array, w: Array, bias: Array, layer: Layer, out_shape: tuple[int, ...], fill: float) -> Array:
    """bias + sum over (kh, kw, ic) of w * x, OHWI weights, accumulated in x's dtype."""
    n = x.shape[0]
    acc = np.zeros((n,) + tuple(out_shape), dtype=x.dtype) + bias.astype(x.dtype)
    for kh, kw, view in _windows(x, layer, (w.shape[1], w.shape[2]), (out_shape[0], out_shape[1]), fill):
        for ic in range(w.shape[3]):
            acc += view[..., ic : ic + 1] * w[:, kh, kw, ic]
    return acc


def _depthwise_acc(x: Array, w: Array, bias: Array, layer: Layer, out_shape: tuple[int, ...], fill: float) -> Array:
    """Depthwise: output channel c * multiplier + m reads input channel c; weights [kh][kw][c]."""
    mult = w.shape[2] // x.shape[3]
    xr = np.repeat(x, mult, axis=3) if mult > 1 else x
    n = x.shape[0]
    acc = np.zeros((n,) + tuple(out_shape), dtype=x.dtype) + bias.astype(x.dtype)
    for kh, kw, view in _windows(xr, layer, (w.shape[0], w.shape[1]), (out_shape[0], out_shape[1]), fill):
        acc += view * w[kh, kw, :]
    return acc


def _dense_acc(x: Array, w: Array, bias: Array) -> Array:
    flat = x.reshape(x.shape[0], -1)
    acc = np.zeros((x.shape[0], w.shape[0]), dtype=x.dtype) + bias.astype(x.dtype)
    for i in range(w.shape[1]):
        acc += flat[:, i : i + 1] * w[:, i]
    return acc


# ---------------------------------------------------------------- integer reference
#
# Each integer op takes the layer (attributes, int8 weights, int32 bias), its integer constants,
# the input arrays and the output shape, exactly what the C kernel receives, so tests can drive it
# with any multiplier and shift, not only those a calibrated graph produces.

IntOp = Callable[[Layer, LayerConstants, list[Array], tuple[int, ...]], Array]


#: The requantizer of each rounding (harness/model/ops.py: ROUNDINGS).
_RESCALE: dict[str, Callable[[Array, Array, Array], IntLike]] = {"double": requantize, "single": requantize_single}


def _requant_out(acc: Array, k: LayerConstants) -> Array:
    """The output stage of a weighted layer, with the layer's rounding ("double" or "single")."""
    multipliers, shifts = k.requantizers()
    out = _RESCALE[k.rounding](acc, multipliers, shifts) + k.output_zp
    return np.clip(out, k.act_min, k.act_max).astype(np.int8)


def _clamped(values: Array | int, k: LayerConstants) -> Array:
    return np.clip(values, k.act_min, k.act_max).astype(np.int8)


def _weighted_acc(layer: Layer, x: Array, w: Array, b: Array, out_shape: tuple[int, ...]) -> Array:
    """The accumulator of a weighted layer in x's dtype (padding contributes 0)."""
    if layer.op == "depthwise_conv2d":
        return _depthwise_acc(x, w, b, layer, out_shape, 0)
    if layer.op == "dense":
        return _dense_acc(x, w, b)
    return _conv_acc(x, w, b, layer, out_shape, 0)


def _int_weighted(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    x = ins[0].astype(np.int64) - k.input_zp
    acc = _weighted_acc(layer, x, layer.int8_weights().astype(np.int64), layer.int32_bias().astype(np.int64),
                        out_shape)
    return _requant_out(acc, k)


def _int_clamp(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    return _clamped(ins[0], k)


def _int_maxpool(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    views = [
        v for _, _, v in _windows(ins[0], layer, _pair(layer.attrs["pool"]), (out_shape[0], out_shape[1]), INT8_MIN)
    ]
    return _clamped(np.maximum.reduce(views), k)


def _window_sum_and_count(x: Array, layer: Layer, out_shape: tuple[int, ...]) -> tuple[Array, Array]:
    """Sum of the in-bounds values of each pooling window, and how many there are."""
    pool = _pair(layer.attrs["pool"])
    total = np.sum([v for _, _, v in _windows(x, layer, pool, (out_shape[0], out_shape[1]), 0)], axis=0)
    ones = np.ones((1,) + x.shape[1:3] + (1,), dtype=np.int64)
    count = np.sum([v for _, _, v in _windows(ones, layer, pool, (out_shape[0], out_shape[1]), 0)], axis=0)
    return total, count


def _int_avgpool(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    total, count = _window_sum_and_count(ins[0].astype(np.int64), layer, out_shape)
    return _clamped(div_round_half_away(total, count), k)


def _int_gap(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    x = ins[0].astype(np.int64)
    out = div_round_half_away(x.sum(axis=(1, 2)), x.shape[1] * x.shape[2])
    return np.clip(out, INT8_MIN, INT8_MAX).astype(np.int8)


def _int_mean_hw(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    """Per channel, the int32 sum over H and W of (q - in_zp), requantized onto the output grid
    (the requantizer holds the division by H * W), clamped."""
    acc = (ins[0].astype(np.int64) - k.input_zp).sum(axis=(1, 2))
    return _requant_out(acc, k)


def _int_requantize(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    """Each value's (q - in_zp) requantized onto the output grid, clamped to the activation."""
    return _requant_out(ins[0].astype(np.int64) - k.input_zp, k)


def _int_pad(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    t, b, l, r = layer.attrs["pads"]
    return np.pad(ins[0], ((0, 0), (t, b), (l, r), (0, 0)), constant_values=k.input_zp).astype(np.int8)


def _int_add(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    m, s = k.requantizers()
    a = requantize((ins[0].astype(np.int64) - k.input_zp) << ADD_LEFT_SHIFT, m[0], s[0])
    b = requantize((ins[1].astype(np.int64) - k.input2_zp) << ADD_LEFT_SHIFT, m[1], s[1])
    return _clamped(requantize(np.asarray(a) + np.asarray(b), m[2], s[2]) + k.output_zp, k)


def _int_lut(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    return k.table()[ins[0].astype(np.int64) + 128]


def _int_softmax(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    multipliers, shifts = k.requantizers()
    return softmax_int8(ins[0], int(multipliers[0]), int(shifts[0]), k.diff_min)


def _int_alias(layer: Layer, k: LayerConstants, ins: list[Array], out_shape: tuple[int, ...]) -> Array:
    return ins[0].reshape((ins[0].shape[0],) + tuple(out_shape))


INT_OPS: dict[str, IntOp] = {
    "conv2d": _int_weighted,
    "depthwise_conv2d": _int_weighted,
    "pointwise_conv2d": _int_weighted,
    "dense": _int_weighted,
    "relu": _int_clamp,
    "relu6": _int_clamp,
    "maxpool2d": _int_maxpool,
    "avgpool2d": _int_avgpool,
    "global_avgpool2d": _int_gap,
    "mean_hw": _int_mean_hw,
    "requantize": _int_requantize,
    "pad2d": _int_pad,
    "add": _int_add,
    "sigmoid": _int_lut,
    "tanh": _int_lut,
    "softmax": _int_softmax,
    "reshape": _int_alias,
    "flatten": _int_alias,
}


def run_layer_int8(layer: Layer, k: LayerConstants, inputs: list[Array], out_shape: tuple[int, ...]) -> Array:
    """One layer of the integer reference on a batch (axis 0) of int8 inputs."""
    return INT_OPS[layer.op](layer, k, inputs, tuple(out_shape))


def run_int8(graph: Graph, x_q: Array) -> dict[str, Array]:
    """Every tensor of the graph for int8 inputs of shape (N, *input_shape)."""
    x_q = np.asarray(x_q)
    if x_q.dtype != np.int8:
        raise TypeError(f"int8 reference takes int8 input, got {x_q.dtype}")
    values = {graph.input: x_q}
    for layer in graph.layers:
        ins = [values[t] for t in layer.inputs]
        values[layer.output] = run_layer_int8(
            layer, layer_constants(graph, layer), ins, graph.tensors[layer.output].shape
        )
    return values


# ---------------------------------------------------------------- float reference


def float_params(graph: Graph, layer: Layer) -> tuple[Array, Array]:
    """float32 weights and bias: the trained ones, else the dequantized int8 ones."""
    if layer.float_weights is not None:
        w = layer.float_weights.astype(np.float32)
        b = layer.float_bias if layer.float_bias is not None else np.zeros(graph.tensors[layer.output].shape[-1])
        return w, np.asarray(b, dtype=np.float32)
    scales = np.asarray(layer.weight_scales, dtype=np.float32)
    weights = layer.int8_weights()
    shape = [1] * weights.ndim
    shape[layer.spec.channel_axis] = -1
    w = (weights.astype(np.float32) * scales.reshape(shape)).astype(np.float32)
    in_scale = np.float32(graph.tensors[layer.inputs[0]].grid.scale)
    b = (layer.int32_bias().astype(np.float64) * np.float64(in_scale) * scales.astype(np.float64)).astype(np.float32)
    return w, b


def _float_activation(y: Array, act: str) -> Array:
    if act == "relu":
        return np.maximum(y, np.float32(0))
    if act == "relu6":
        return np.minimum(np.maximum(y, np.float32(0)), np.float32(6))
    return y


def _float_weighted(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    w, b = float_params(graph, layer)
    y = _weighted_acc(layer, ins[0].astype(np.float32), w, b, graph.tensors[layer.output].shape)
    return _float_activation(y, layer.attrs.get("activation", "none"))


def _fused(graph: Graph, layer: Layer, y: Array) -> Array:
    return _float_activation(y.astype(np.float32), layer.attrs.get("activation", "none"))


def _float_clamp(act: str) -> Callable[[Graph, Layer, list[Array]], Array]:
    def run(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
        return _float_activation(ins[0], act)

    return run


def _float_maxpool(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    out_shape = graph.tensors[layer.output].shape
    views = [
        v for _, _, v in _windows(ins[0], layer, _pair(layer.attrs["pool"]), (out_shape[0], out_shape[1]), -np.inf)
    ]
    return _fused(graph, layer, np.maximum.reduce(views))


def _float_avgpool(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    total, count = _window_sum_and_count(ins[0].astype(np.float32), layer, graph.tensors[layer.output].shape)
    return _fused(graph, layer, total / count.astype(np.float32))


def _float_gap(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    x = ins[0]
    acc = np.zeros((x.shape[0], x.shape[3]), dtype=np.float32)
    for h in range(x.shape[1]):
        for w in range(x.shape[2]):
            acc += x[:, h, w, :]
    return (acc / np.float32(x.shape[1] * x.shape[2])).astype(np.float32)


def _float_requantize(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    """The values unchanged (only their grid changes), then the fused activation."""
    return _fused(graph, layer, ins[0])


def _float_pad(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    t, b, l, r = layer.attrs["pads"]
    return np.pad(ins[0], ((0, 0), (t, b), (l, r), (0, 0)), constant_values=0.0).astype(np.float32)


def _float_add(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    return _fused(graph, layer, ins[0].astype(np.float32) + ins[1].astype(np.float32))


def _elementwise(f: Callable[[float], float]) -> Callable[[Graph, Layer, list[Array]], Array]:
    """Apply a scalar libm function element by element (numpy's SIMD exp differs across CPUs)."""

    def run(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
        x = ins[0]
        flat = [f(float(v)) for v in x.reshape(-1)]
        return np.array(flat, dtype=np.float32).reshape(x.shape)

    return run


def _float_softmax(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    """exp(beta (x - max)) / sum over the last axis, in double with libm, rounded to float32."""
    beta = float(layer.attrs.get("beta", 1.0))
    x = ins[0]
    rows = x.reshape(-1, x.shape[-1])
    out = np.empty(rows.shape, dtype=np.float32)
    for r, row in enumerate(rows):
        top = max(float(v) for v in row)
        exps = [math.exp(beta * (float(v) - top)) for v in row]
        total = 0.0
        for e in exps:
            total += e
        out[r] = [e / total for e in exps]
    return out.reshape(x.shape)


def _float_alias(graph: Graph, layer: Layer, ins: list[Array]) -> Array:
    return ins[0].reshape((ins[0].shape[0],) + tuple(graph.tensors[layer.output].shape))


FLOAT_OPS: dict[str, Callable[[Graph, Layer, list[Array]], Array]] = {
    "conv2d": _float_weighted,
    "depthwise_conv2d": _float_weighted,
    "pointwise_conv2d": _float_weighted,
    "dense": _float_weighted,
    "relu": _float_clamp("relu"),
    "relu6": _float_clamp("relu6"),
    "maxpool2d": _float_maxpool,
    "avgpool2d": _float_avgpool,
    "global_avgpool2d": _float_gap,
    "mean_hw": _float_gap,
    "requantize": _float_requantize,
    "pad2d": _float_pad,
    "add": _float_add,
    "sigmoid": _elementwise(sigmoid),
    "tanh": _elementwise(math.tanh),
    "softmax": _float_softmax,
    "reshape": _float_alias,
    "flatten": _float_alias,
}


def run_float(graph: Graph, x: Array) -> dict[str, Array]:
    """Every tensor of the graph in float32 for real-valued inputs of shape (N, *input_shape)."""
    values = {graph.input: np.asarray(x, dtype=np.float32)}
    for layer in graph.layers:
        values[layer.output] = FLOAT_OPS[layer.op](graph, layer, [values[t] for t in layer.inputs])
    return values

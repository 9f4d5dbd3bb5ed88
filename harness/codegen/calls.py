"""How each op calls its C kernel, described once as data.

A KernelCall names the kernel and lists its arguments: parameter structs (nested tuples in the C
field order of harness/firmware/kernels/include/hk_nn_types.h), constant arrays, activation buffers and
plain integers. The firmware code generator renders it as C; the host binding (harness.build.host)
turns the same description into ctypes objects, so the two can never call a kernel differently.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.model.constants import ADD_LEFT_SHIFT, LayerConstants
from harness.model.graph import Layer
from harness.model.ops import resolve_padding

Shape = tuple[int, ...]


@dataclass(frozen=True)
class CArray:
    """A constant array (weights, bias, multipliers, a table); passed as a pointer."""

    name: str
    ctype: str  # int8_t or int32_t
    values: np.ndarray


@dataclass(frozen=True)
class CStruct:
    """A parameter struct passed by pointer; fields nest as tuples and may hold CArrays."""

    name: str
    ctype: str
    fields: tuple[Any, ...]


@dataclass(frozen=True)
class Buffer:
    """An activation tensor: input `index` of the layer, or its output when index is None."""

    index: int | None


@dataclass(frozen=True)
class Context:
    """The scratch-buffer context (hk_context) of a call: the kernel whose `*_get_buffer_size` sizes
    it and that function's arguments. Its size depends on the kernel variant the image links
    (harness.codegen.scratch); with size 0 a NULL context is passed."""

    kernel: str
    args: tuple[Any, ...]


OUTPUT = Buffer(None)
Arg = CStruct | CArray | Buffer | Context | int


@dataclass(frozen=True)
class KernelCall:
    function: str
    args: tuple[Arg, ...]


Dims3 = tuple[int, int, int]


def _shape3(shape: Shape) -> Dims3:
    h, w, c = shape if len(shape) == 3 else (1, 1, int(np.prod(shape)))
    return int(h), int(w), int(c)


def _pair(v: object) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))  # type: ignore[index]


def _dims(name: str, shape: Shape) -> CStruct:
    return CStruct(name, "hk_dims", _shape3(shape))


def _size(shape: Shape) -> int:
    return int(np.prod(shape))


def _act(k: LayerConstants) -> tuple[int, int]:
    return (k.act_min, k.act_max)


#: hk_quant.rounding for each requantizer rounding (HK_ROUND_DOUBLE, HK_ROUND_SINGLE in hk_nn_types.h).
ROUNDING_CODES = {"double": 0, "single": 1}


def _quant(k: LayerConstants) -> CStruct:
    multipliers, shifts = k.requantizers()
    return CStruct("quant", "hk_quant", (
        CArray("mult", "int32_t", np.asarray(multipliers)),
        CArray("shift", "int32_t", np.asarray(shifts)),
        len(multipliers),
        ROUNDING_CODES[k.rounding],
    ))


def _conv_params(layer: Layer, k: LayerConstants, in_shape: Shape, kernel: tuple[int, int]) -> CStruct:
    return CStruct("params", "hk_conv_params", (
        -k.input_zp, k.output_zp, _pair(layer.attrs.get("stride", 1)), _pair(layer.attrs.get("dilation", 1)),
        resolve_padding(layer, in_shape, kernel), _act(k),
    ))


def _weights(layer: Layer) -> tuple[CArray, CArray]:
    return CArray("weights", "int8_t", layer.int8_weights()), CArray("bias", "int32_t", layer.int32_bias())


def _conv2d(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    _, kh, kw, ic = layer.int8_weights().shape
    w, b = _weights(layer)
    ctx = Context("hk_conv2d_s8", (_shape3(ins[0]), (kh, kw, ic)))
    return KernelCall("hk_conv2d_s8", (
        ctx, _conv_params(layer, k, ins[0], (kh, kw)), _quant(k), _dims("in_dims", ins[0]), Buffer(0),
        _dims("filter_dims", (kh, kw, ic)), w, b, _dims("out_dims", out), OUTPUT,
    ))


def _depthwise(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    kh, kw, _ = layer.int8_weights().shape
    w, b = _weights(layer)
    ctx = Context("hk_depthwise_conv2d_s8", (_shape3(ins[0]), (kh, kw, ins[0][-1])))
    return KernelCall("hk_depthwise_conv2d_s8", (
        ctx, _conv_params(layer, k, ins[0], (kh, kw)), _quant(k), _dims("in_dims", ins[0]), Buffer(0),
        _dims("filter_dims", (kh, kw, ins[0][-1])), w, b, _dims("out_dims", out), OUTPUT,
    ))


def _pointwise(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    w, b = _weights(layer)
    ctx = Context("hk_pointwise_conv2d_s8", (_shape3(ins[0]),))
    return KernelCall("hk_pointwise_conv2d_s8", (
        ctx, _conv_params(layer, k, ins[0], (1, 1)), _quant(k), _dims("in_dims", ins[0]), Buffer(0),
        w, b, _dims("out_dims", out), OUTPUT,
    ))


def _dense(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    out_n, in_n = layer.int8_weights().shape
    w, b = _weights(layer)
    params = CStruct("params", "hk_fc_params", (-k.input_zp, k.output_zp, _act(k)))
    ctx = Context("hk_fully_connected_s8", (in_n,))
    return KernelCall("hk_fully_connected_s8", (ctx, params, _quant(k), in_n, Buffer(0), out_n, w, b, OUTPUT))


def _clamp(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    return KernelCall("hk_relu_s8", (_size(out), Buffer(0), CStruct("act", "hk_activation", _act(k)), OUTPUT))


def _pool(function: str) -> Callable[[Layer, LayerConstants, list[Shape], Shape], KernelCall]:
    def call(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
        pool = _pair(layer.attrs["pool"])
        params = CStruct("params", "hk_pool_params", (
            _pair(layer.attrs["stride"]), resolve_padding(layer, ins[0], pool), _act(k),
        ))
        return KernelCall(function, (
            params, _dims("in_dims", ins[0]), Buffer(0), CStruct("pool", "hk_hw", pool), _dims("out_dims", out), OUTPUT,
        ))

    return call


def _gap(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    return KernelCall("hk_global_avgpool2d_s8", (_dims("in_dims", ins[0]), Buffer(0), OUTPUT))


def _rescale_params(k: LayerConstants) -> CStruct:
    return CStruct("params", "hk_fc_params", (-k.input_zp, k.output_zp, _act(k)))


def _mean_hw(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    ctx = Context("hk_mean_hw_s8", (_shape3(ins[0]),))
    return KernelCall("hk_mean_hw_s8",
                      (ctx, _rescale_params(k), _quant(k), _dims("in_dims", ins[0]), Buffer(0), OUTPUT))


def _requantize(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    ctx = Context("hk_requantize_s8", (_size(out),))
    return KernelCall("hk_requantize_s8", (ctx, _rescale_params(k), _quant(k), _size(out), Buffer(0), OUTPUT))


def _pad(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    pads = CStruct("pads", "hk_padding", tuple(layer.attrs["pads"]))
    return KernelCall("hk_pad2d_s8",
                      (_dims("in_dims", ins[0]), Buffer(0), pads, k.input_zp, _dims("out_dims", out), OUTPUT))


def _add(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    multipliers, shifts = k.requantizers()
    m, s = [int(v) for v in multipliers], [int(v) for v in shifts]
    params = CStruct(
        "params",
        "hk_add_params",
        (
            -k.input_zp,
            m[0],
            s[0],
            -k.input2_zp,
            m[1],
            s[1],
            k.output_zp,
            m[2],
            s[2],
            ADD_LEFT_SHIFT,
            _act(k),
        ),
    )
    return KernelCall("hk_add_s8", (params, _size(out), Buffer(0), Buffer(1), OUTPUT))


def _lut(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    return KernelCall("hk_lut_s8", (_size(out), Buffer(0), CArray("table", "int8_t", np.asarray(k.table())), OUTPUT))


def _softmax(layer: Layer, k: LayerConstants, ins: list[Shape], out: Shape) -> KernelCall:
    multipliers, shifts = k.requantizers()
    params = CStruct("params", "hk_softmax_params", (int(multipliers[0]), int(shifts[0]), k.diff_min))
    depth = out[-1]
    return KernelCall("hk_softmax_s8", (params, _size(out) // depth, depth, Buffer(0), OUTPUT))


CALLS: dict[str, Callable[[Layer, LayerConstants, list[Shape], Shape], KernelCall]] = {
    "conv2d": _conv2d,
    "depthwise_conv2d": _depthwise,
    "pointwise_conv2d": _pointwise,
    "dense": _dense,
    "relu": _clamp,
    "relu6": _clamp,
    "maxpool2d": _pool("hk_maxpool2d_s8"),
    "avgpool2d": _pool("hk_avgpool2d_s8"),
    "global_avgpool2d": _gap,
    "mean_hw": _mean_hw,
    "requantize": _requantize,
    "pad2d": _pad,
    "add": _add,
    "sigmoid": _lut,
    "tanh": _lut,
    "softmax": _softmax,
}
#: Ops whose output is their input's bytes under another shape: no kernel, no memory.
ALIASES = ("reshape", "flatten")


def kernel_call(layer: Layer, k: LayerConstants, in_shapes: list[Shape], out_shape: Shape) -> KernelCall | None:
    """The kernel call of one layer, or None for an alias (reshape, flatten)."""
    if layer.op in ALIASES:
        return None
    return CALLS[layer.op](layer, k, [tuple(s) for s in in_shapes], tuple(out_shape))

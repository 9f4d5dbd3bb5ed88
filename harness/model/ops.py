"""The op table: for each layer type, its arity, how its output grid is chosen, shape inference,
MAC count and parameter checks. Adding an op here is one row plus its reference and C kernel."""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.quant import QuantParams, f32

if TYPE_CHECKING:
    from harness.model.graph import Layer

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """A layer's attributes or weights do not fit its input shape."""


# How a layer's output quantization grid is decided.
GRID_CALIBRATED = "calibrated"  # observed range of the float output (requantizing layers)
GRID_INHERITED = "inherited"  # same (scale, zero_point) as the first input
GRID_FIXED = "fixed"  # a constant grid (LUT activations, softmax)

ACTIVATIONS = ("none", "relu", "relu6")
#: How a weighted layer rounds when it requantizes (docs/arithmetic.md: rounding of the requantizer):
#: "double" rounds twice (SRDHM, then a rounding divide: gemmlowp, TFLite's convolutions), "single"
#: rounds the 64-bit product once (TFLite's FULLY_CONNECTED). The first is the default.
ROUNDINGS = ("double", "single")

# Attribute names an op reads; GraphBuilder.add refuses any other (a misspelt one would be ignored).
_WINDOW_ATTRS = frozenset({"stride", "dilation", "padding"})
_WEIGHTED_ATTRS = frozenset({"activation", "per_channel", "rounding"})
_POOL_ATTRS = frozenset({"pool", "stride", "padding", "activation"})


@dataclass(frozen=True)
class OpSpec:
    name: str
    arity: int
    grid: str
    has_weights: bool
    infer_shape: Callable[[Layer, list[Shape]], Shape]
    macs: Callable[[Layer, list[Shape], Shape], int]
    fixed_grid: QuantParams | None = None
    description: str = ""
    defaults: Callable[[dict[str, Any]], None] | None = None
    channel_axis: int = 0  # output-channel axis of the weight layout
    attrs: frozenset[str] = frozenset()

    @property
    def fused_activation(self) -> bool:
        """An op takes a fused activation exactly when 'activation' is one of its attributes."""
        return "activation" in self.attrs


def _is_int(v: object) -> bool:
    """A Python int but not a bool (numpy integers are made Python ints when a layer is built)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_positive_shape(shape: object) -> bool:
    """A non-empty tuple or list of positive ints: every tensor has at least one value."""
    return isinstance(shape, (tuple, list)) and len(shape) > 0 and all(_is_int(d) and d >= 1 for d in shape)


def _is_padding(pads: object) -> bool:
    return isinstance(pads, (tuple, list)) and len(pads) == 4 and all(_is_int(p) and p >= 0 for p in pads)


def _pair(v: object, what: str) -> tuple[int, int]:
    if _is_int(v):
        v = (v, v)
    if not isinstance(v, (tuple, list)) or len(v) != 2 or not all(_is_int(i) and i >= 1 for i in v):
        raise ShapeError(f"{what} must be a positive int or a pair of positive ints, got {v!r}")
    return int(v[0]), int(v[1])


def _image(shape: Shape, what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(f"{what} must be an image (H, W, C), got shape {shape}")
    return shape[0], shape[1], shape[2]


def resolve_padding(layer: Layer, in_shape: Shape, kernel: tuple[int, int]) -> tuple[int, int, int, int]:
    """Explicit (top, bottom, left, right) padding of a windowed layer; 'same' follows TFLite."""
    pad = layer.attrs.get("padding", "valid")
    if pad == "valid":
        return (0, 0, 0, 0)
    h, w, _ = _image(in_shape, "input")
    sh, sw = _pair(layer.attrs.get("stride", 1), "stride")
    dh, dw = _pair(layer.attrs.get("dilation", 1), "dilation")
    if pad == "same":
        out = []
        for size, k, s, d in ((h, kernel[0], sh, dh), (w, kernel[1], sw, dw)):
            o = -(-size // s)
            total = max((o - 1) * s + (k - 1) * d + 1 - size, 0)
            out += [total // 2, total - total // 2]
        return (out[0], out[1], out[2], out[3])
    if _is_padding(pad):
        return (int(pad[0]), int(pad[1]), int(pad[2]), int(pad[3]))
    raise ShapeError(f"padding must be 'valid', 'same' or (top, bottom, left, right) >= 0, got {pad!r}")


def window_output(layer: Layer, in_shape: Shape, kernel: tuple[int, int]) -> tuple[int, int]:
    """Output (H, W) of a strided, dilated, padded window over an image."""
    h, w, _ = _image(in_shape, "input")
    sh, sw = _pair(layer.attrs.get("stride", 1), "stride")
    dh, dw = _pair(layer.attrs.get("dilation", 1), "dilation")
    top, bottom, left, right = resolve_padding(layer, in_shape, kernel)
    eff_h = (kernel[0] - 1) * dh + 1
    eff_w = (kernel[1] - 1) * dw + 1
    oh = (h + top + bottom - eff_h) // sh + 1
    ow = (w + left + right - eff_w) // sw + 1
    if oh < 1 or ow < 1 or h + top + bottom < eff_h or w + left + right < eff_w:
        raise ShapeError(
            f"window {kernel[0]}x{kernel[1]} (dilation {dh}x{dw}) does not fit the padded input "
            f"{h + top + bottom}x{w + left + right}"
        )
    return oh, ow


def rounding_of(layer: Layer) -> str:
    """A weighted layer's requantizer rounding, "double" unless its `rounding` attribute says otherwise."""
    rounding = layer.attrs.get("rounding", ROUNDINGS[0])
    if not isinstance(rounding, str) or rounding not in ROUNDINGS:
        raise ShapeError(f"rounding must be one of {', '.join(map(repr, ROUNDINGS))}, got {rounding!r}")
    return rounding


def _weights_shape(layer: Layer) -> Shape:
    w = layer.weights if layer.weights is not None else layer.float_weights
    if w is None:
        raise ShapeError("has no weights")
    if 0 in w.shape:
        raise ShapeError(f"weights have an empty dimension, shape {w.shape}")
    return tuple(int(d) for d in w.shape)


def _conv_shape(layer: Layer, ins: list[Shape]) -> Shape:
    rounding_of(layer)
    _, _, c = _image(ins[0], "input")
    ws = _weights_shape(layer)
    if len(ws) != 4:
        raise ShapeError(f"conv weights must be OHWI [out_c][kh][kw][in_c], got shape {ws}")
    if ws[3] != c:
        raise ShapeError(f"weights have {ws[3]} input channels, the input has {c}")
    oh, ow = window_output(layer, ins[0], (ws[1], ws[2]))
    return (oh, ow, ws[0])


def _conv_macs(layer: Layer, ins: list[Shape], out: Shape) -> int:
    ws = _weights_shape(layer)
    return out[0] * out[1] * out[2] * ws[1] * ws[2] * ws[3]


def _pointwise_shape(layer: Layer, ins: list[Shape]) -> Shape:
    ws = _weights_shape(layer)
    if len(ws) != 4 or ws[1] != 1 or ws[2] != 1:
        raise ShapeError(f"pointwise weights must be [out_c][1][1][in_c], got shape {ws}")
    return _conv_shape(layer, ins)


def _depthwise_shape(layer: Layer, ins: list[Shape]) -> Shape:
    rounding_of(layer)
    _, _, c = _image(ins[0], "input")
    ws = _weights_shape(layer)
    if len(ws) != 3:
        raise ShapeError(f"depthwise weights must be [kh][kw][c * multiplier], got shape {ws}")
    if ws[2] % c != 0:
        raise ShapeError(f"depthwise weights have {ws[2]} channels, not a multiple of the input's {c}")
    oh, ow = window_output(layer, ins[0], (ws[0], ws[1]))
    return (oh, ow, ws[2])


def _depthwise_macs(layer: Layer, ins: list[Shape], out: Shape) -> int:
    ws = _weights_shape(layer)
    return out[0] * out[1] * out[2] * ws[0] * ws[1]


def _size(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _dense_shape(layer: Layer, ins: list[Shape]) -> Shape:
    rounding_of(layer)
    ws = _weights_shape(layer)
    if len(ws) != 2:
        raise ShapeError(f"dense weights must be [out][in], got shape {ws}")
    if ws[1] != _size(ins[0]):
        raise ShapeError(f"weights take {ws[1]} inputs, the input has {_size(ins[0])} values {ins[0]}")
    return (ws[0],)


def _dense_macs(layer: Layer, ins: list[Shape], out: Shape) -> int:
    ws = _weights_shape(layer)
    return ws[0] * ws[1]


def _same_shape(layer: Layer, ins: list[Shape]) -> Shape:
    return ins[0]


def _pool_kernel(layer: Layer) -> tuple[int, int]:
    return _pair(layer.attrs.get("pool", 2), "pool")


def _pool_shape(layer: Layer, ins: list[Shape]) -> Shape:
    _, _, c = _image(ins[0], "input")
    kernel = _pool_kernel(layer)
    top, bottom, left, right = resolve_padding(layer, ins[0], kernel)
    if max(top, bottom) >= kernel[0] or max(left, right) >= kernel[1]:
        raise ShapeError(f"pooling padding {(top, bottom, left, right)} must be smaller than the window {kernel}")
    oh, ow = window_output(layer, ins[0], kernel)
    return (oh, ow, c)


def _pool_defaults(attrs: dict[str, Any]) -> None:
    attrs.setdefault("pool", 2)
    attrs.setdefault("stride", attrs["pool"])


def _gap_shape(layer: Layer, ins: list[Shape]) -> Shape:
    _, _, c = _image(ins[0], "input")
    return (c,)


#: mean_hw sums H * W values of (q - zero point), each within [-255, 255], in an int32: at most 2^23 of
#: them keep |sum| <= 255 * 2^23 < 2^31 (C: HK_MEAN_HW_MAX_COUNT).
MEAN_HW_MAX_COUNT = 1 << 23


def _mean_hw_shape(layer: Layer, ins: list[Shape]) -> Shape:
    h, w, c = _image(ins[0], "input")
    if h * w > MEAN_HW_MAX_COUNT:
        raise ShapeError(f"mean over {h}x{w} = {h * w} values: at most {MEAN_HW_MAX_COUNT} (2^23) fit "
                         "the int32 sum")
    return (c,)


def _pad_shape(layer: Layer, ins: list[Shape]) -> Shape:
    h, w, c = _image(ins[0], "input")
    pads = layer.attrs.get("pads")
    if pads is None or not _is_padding(pads):
        raise ShapeError(f"pads must be (top, bottom, left, right) >= 0, got {pads!r}")
    return (h + pads[0] + pads[1], w + pads[2] + pads[3], c)


def _add_shape(layer: Layer, ins: list[Shape]) -> Shape:
    if tuple(ins[0]) != tuple(ins[1]):
        raise ShapeError(f"inputs must have the same shape, got {ins[0]} and {ins[1]}")
    return ins[0]


SOFTMAX_MAX_DEPTH = 4095  # TFLite's Q12.19 sum of exponentials must stay below 4096


def _softmax_shape(layer: Layer, ins: list[Shape]) -> Shape:
    beta = layer.attrs.get("beta", 1.0)
    if not isinstance(beta, numbers.Real) or isinstance(beta, bool) or not math.isfinite(beta):
        raise ShapeError(f"beta must be a finite number, got {beta!r}")
    if ins[0][-1] > SOFTMAX_MAX_DEPTH:
        raise ShapeError(f"softmax over {ins[0][-1]} values: at most {SOFTMAX_MAX_DEPTH} (TFLite's fixed-point sum)")
    return ins[0]


def _reshape_shape(layer: Layer, ins: list[Shape]) -> Shape:
    shape = layer.attrs.get("shape")
    if shape is None or not is_positive_shape(shape):
        raise ShapeError(f"shape must be a non-empty tuple of positive ints, got {shape!r}")
    if _size(tuple(shape)) != _size(ins[0]):
        raise ShapeError(f"cannot reshape {ins[0]} ({_size(ins[0])} values) to {tuple(shape)}")
    return tuple(shape)


def _flatten_shape(layer: Layer, ins: list[Shape]) -> Shape:
    return (_size(ins[0]),)


def _no_macs(layer: Layer, ins: list[Shape], out: Shape) -> int:
    return 0


OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in (
        OpSpec("conv2d", 1, GRID_CALIBRATED, True, _conv_shape, _conv_macs, attrs=_WEIGHTED_ATTRS | _WINDOW_ATTRS,
               description="2-D convolution, OHWI weights, per-tensor or per-channel"),
        OpSpec("depthwise_conv2d", 1, GRID_CALIBRATED, True, _depthwise_shape, _depthwise_macs,
               attrs=_WEIGHTED_ATTRS | _WINDOW_ATTRS, channel_axis=2,
               description="depthwise convolution, [kh][kw][c] weights, per-channel"),
        OpSpec("pointwise_conv2d", 1, GRID_CALIBRATED, True, _pointwise_shape, _conv_macs,
               attrs=_WEIGHTED_ATTRS | _WINDOW_ATTRS, description="1x1 convolution"),
        OpSpec("dense", 1, GRID_CALIBRATED, True, _dense_shape, _dense_macs, attrs=_WEIGHTED_ATTRS,
               description="fully connected, [out][in] weights"),
        OpSpec("relu", 1, GRID_INHERITED, False, _same_shape, _no_macs, description="clamp at the zero point"),
        OpSpec("relu6", 1, GRID_INHERITED, False, _same_shape, _no_macs,
               description="clamp at the zero point and at 6.0"),
        OpSpec("maxpool2d", 1, GRID_INHERITED, False, _pool_shape, _no_macs, attrs=_POOL_ATTRS,
               description="max over a window (padding excluded)", defaults=_pool_defaults),
        OpSpec("avgpool2d", 1, GRID_INHERITED, False, _pool_shape, _no_macs, attrs=_POOL_ATTRS,
               description="mean over a window (padding excluded), rounded half away", defaults=_pool_defaults),
        OpSpec("global_avgpool2d", 1, GRID_INHERITED, False, _gap_shape, _no_macs,
               description="mean over H and W, rounded half away"),
        OpSpec("mean_hw", 1, GRID_CALIBRATED, False, _mean_hw_shape, _no_macs,
               description="mean over H and W onto its own grid: sum of (q - zp), requantized (TFLite MEAN)"),
        OpSpec("requantize", 1, GRID_CALIBRATED, False, _same_shape, _no_macs, attrs=frozenset({"activation"}),
               description="elementwise rescale onto another grid, optional relu/relu6 (TFLite RELU across grids)"),
        OpSpec("pad2d", 1, GRID_INHERITED, False, _pad_shape, _no_macs, attrs=frozenset({"pads"}),
               description="constant padding with the input zero point"),
        OpSpec("add", 2, GRID_CALIBRATED, False, _add_shape, _no_macs, attrs=frozenset({"activation"}),
               description="elementwise sum of two tensors on different grids (TFLite ADD)"),
        OpSpec("sigmoid", 1, GRID_FIXED, False, _same_shape, _no_macs,
               fixed_grid=QuantParams(f32(1 / 256), -128), description="256-entry int8 lookup table"),
        OpSpec("tanh", 1, GRID_FIXED, False, _same_shape, _no_macs,
               fixed_grid=QuantParams(f32(1 / 128), 0), description="256-entry int8 lookup table"),
        OpSpec("softmax", 1, GRID_FIXED, False, _softmax_shape, _no_macs, attrs=frozenset({"beta"}),
               fixed_grid=QuantParams(f32(1 / 256), -128),
               description="softmax over the last axis, TFLite's integer algorithm"),
        OpSpec("reshape", 1, GRID_INHERITED, False, _reshape_shape, _no_macs, attrs=frozenset({"shape"}),
               description="new shape, same bytes (no code runs)"),
        OpSpec("flatten", 1, GRID_INHERITED, False, _flatten_shape, _no_macs,
               description="to one dimension, same bytes (no code runs)"),
    )
}

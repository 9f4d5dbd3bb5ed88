"""Random single-layer kernel cases, described by small JSON configurations.

A generator draws a configuration for one op through a `Draw` (a seeded RNG for `harness fuzz`,
Hypothesis for the host differential tests), biased toward the edges: -128 inputs, zero points at
-128 and 127, multipliers near 2^31 and tiny ones, every shift from -31 to +30, biases near the
int32 limits, 1x1 images, odd channel counts. `build_case` turns a configuration into the exact
layer, integer constants and int8 inputs, deterministically, so a configuration is a reproducer.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from harness.codegen import SuiteCase
from harness.model.constants import (
    LayerConstants,
    add_requantizers,
    lut_table,
    mean_hw_requantizer,
    rescale_requantizer,
    sigmoid,
    softmax_params,
)
from harness.model.graph import Graph, Layer, Tensor
from harness.model.ops import OPS
from harness.quant import (
    INT32_MAX,
    INT32_MIN,
    QuantParams,
    activation_bounds,
    f32,
    quantize_multiplier,
)
from harness.reference import run_layer_int8

T = TypeVar("T")
Config = dict[str, Any]


class Draw(Protocol):
    def int(self, lo: int, hi: int) -> int: ...
    def pick(self, options: Sequence[T]) -> T: ...


class RngDraw:
    """Draws from a numpy Generator."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi, endpoint=True))

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.rng.integers(0, len(options)))]


# ------------------------------------------------------------------------- drawing configurations

# Each case pushes one dimension to its edges ("focus") and keeps the others neutral, so that edges
# are exercised in isolation while most outputs stay varied (a case whose every output saturates
# proves little); "mixed" draws every dimension freely, for the edges' interactions.
FOCUS = ("none", "none", "zero_point", "data", "requant", "bias", "act", "mixed", "mixed")
EDGES = {
    "data": ("extreme", "near_zero_point", "min"),
    "requant": ("near_max", "tiny", "any_shift"),
    "bias": ("zero", "extreme"),
    "act": ("relu", "relu6", "random"),
}
NEUTRAL = {"data": "uniform", "requant": "auto", "bias": "small", "act": "none"}


def _mode(d: Draw, focus: str, what: str) -> str:
    if focus == what:
        return d.pick(EDGES[what])
    if focus == "mixed":
        return d.pick((NEUTRAL[what],) + EDGES[what])
    return NEUTRAL[what]


def _zp(d: Draw, focus: str) -> int:
    if focus in ("zero_point", "mixed"):
        choice = d.pick(("min", "max", "zero", "any"))
        if choice != "any":
            return {"min": -128, "max": 127, "zero": 0}[choice]
    return d.int(-128, 127)


def _side(d: Draw, hi: int) -> int:
    """An image side: 1 a quarter of the time (1x1 images are an edge), else 2..hi."""
    return d.pick((1, d.int(2, hi), d.int(2, hi), d.int(2, hi)))


def _stride(d: Draw) -> int:
    return d.pick((1, 1, 2, 3))


def _common(d: Draw, **dims: Any) -> Config:
    focus = d.pick(FOCUS)
    return {**dims, "focus": focus, "in_zp": _zp(d, focus), "out_zp": _zp(d, focus), "data": _mode(d, focus, "data"),
            "act": _mode(d, focus, "act"), "requant": _mode(d, focus, "requant"), "bias": _mode(d, focus, "bias"),
            "seed": d.int(0, 2**31 - 1)}


def _weighted(d: Draw, **dims: Any) -> Config:
    return {**_common(d, **dims), "per_channel": d.pick((True, False)),
            "weights": d.pick(("uniform", "uniform", "extreme")), "rounding": d.pick(("double", "double", "single"))}


def _window(d: Draw, h: int, w: int, max_kernel: int, dilation: bool) -> Config:
    kh, kw = d.int(1, max_kernel), d.int(1, max_kernel)
    dh, dw = (d.int(1, 2), d.int(1, 2)) if dilation else (1, 1)
    padding = d.pick(("valid", "same", "explicit"))
    pads = [d.int(0, 2) for _ in range(4)] if padding == "explicit" else None
    # shrink the window until it fits the padded input (VALID and explicit pads can be too small)
    extra_h = (pads[0] + pads[1]) if pads else 0
    extra_w = (pads[2] + pads[3]) if pads else 0
    if padding != "same":
        while (kh - 1) * dh + 1 > h + extra_h:
            kh, dh = (kh - 1, dh) if kh > 1 else (1, 1)
        while (kw - 1) * dw + 1 > w + extra_w:
            kw, dw = (kw - 1, dw) if kw > 1 else (1, 1)
    return {"kh": kh, "kw": kw, "sh": _stride(d), "sw": _stride(d), "dh": dh, "dw": dw,
            "padding": padding, "pads": pads}


def gen_conv2d(d: Draw) -> Config:
    h, w = _side(d, 14), _side(d, 14)
    return _weighted(d, h=h, w=w, cin=d.int(1, 9), cout=d.int(1, 16), **_window(d, h, w, 5, True))


def gen_depthwise(d: Draw) -> Config:
    h, w = _side(d, 14), _side(d, 14)
    return _weighted(d, h=h, w=w, cin=d.int(1, 16), mult=d.pick((1, 1, 2, 3)), **_window(d, h, w, 5, True))


def gen_pointwise(d: Draw) -> Config:
    return _weighted(d, h=_side(d, 10), w=_side(d, 10), cin=d.int(1, 17), cout=d.int(1, 17),
                     kh=1, kw=1, sh=d.int(1, 2), sw=d.int(1, 2), dh=1, dw=1, padding="valid", pads=None)


def gen_dense(d: Draw) -> Config:
    return _weighted(d, n_in=d.pick((1, d.int(1, 64), d.int(1, 300))), n_out=d.int(1, 40))


def gen_elementwise(d: Draw) -> Config:
    return _common(d, h=_side(d, 8), w=_side(d, 8), c=d.int(1, 9))


def gen_pool(d: Draw) -> Config:
    h, w = _side(d, 10), _side(d, 10)
    ph, pw = d.int(1, min(4, h)), d.int(1, min(4, w))
    padding = d.pick(("valid", "same", "explicit"))
    pads = [d.int(0, ph - 1), d.int(0, ph - 1), d.int(0, pw - 1), d.int(0, pw - 1)] if padding == "explicit" else None
    return _common(d, h=h, w=w, c=d.int(1, 9), ph=ph, pw=pw, sh=_stride(d), sw=_stride(d),
                   padding=padding, pads=pads)


def gen_pad(d: Draw) -> Config:
    return _common(d, h=_side(d, 8), w=_side(d, 8), c=d.int(1, 9), pads=[d.int(0, 3) for _ in range(4)])


def gen_mean_hw(d: Draw) -> Config:
    return {**_common(d, h=_side(d, 16), w=_side(d, 16), c=d.int(1, 9)), "per_channel": d.pick((False, False, True))}


def gen_requantize(d: Draw) -> Config:
    return _common(d, h=_side(d, 8), w=_side(d, 8), c=d.int(1, 9))


def gen_add(d: Draw) -> Config:
    c = _common(d, h=_side(d, 8), w=_side(d, 8), c=d.int(1, 9))
    return {**c, "in2_zp": _zp(d, c["focus"]), "data2": _mode(d, c["focus"], "data")}


def gen_lut(d: Draw) -> Config:
    return {**_common(d, h=_side(d, 8), w=_side(d, 8), c=d.int(1, 9)), "table": d.pick(("function", "random")),
            "in_scale_exp": d.int(-9, 0)}


def gen_softmax(d: Draw) -> Config:
    return {**_common(d, rows=d.int(1, 4), depth=d.pick((1, d.int(2, 16), d.int(2, 300), d.int(2, 300)))),
            "in_scale_exp": d.pick((d.int(-12, 2), d.int(-7, -3), d.int(-7, -3))), "beta": d.pick((1.0, 1.0, 0.5, 2.0))}


def gen_reshape(d: Draw) -> Config:
    return _common(d, h=_side(d, 8), w=_side(d, 8), c=d.int(1, 9))


GENERATORS: dict[str, Callable[[Draw], Config]] = {
    "conv2d": gen_conv2d,
    "depthwise_conv2d": gen_depthwise,
    "pointwise_conv2d": gen_pointwise,
    "dense": gen_dense,
    "relu": gen_elementwise,
    "relu6": gen_elementwise,
    "maxpool2d": gen_pool,
    "avgpool2d": gen_pool,
    "global_avgpool2d": gen_elementwise,
    "mean_hw": gen_mean_hw,
    "requantize": gen_requantize,
    "pad2d": gen_pad,
    "add": gen_add,
    "sigmoid": gen_lut,
    "tanh": gen_lut,
    "softmax": gen_softmax,
    "reshape": gen_reshape,
    "flatten": gen_reshape,
}
assert set(GENERATORS) == set(OPS), "every op of the op table needs a fuzz generator"


# ------------------------------------------------------------------------- building cases


@dataclass
class KernelCase:
    """One layer with its integer constants and int8 inputs (no batch axis)."""

    op: str
    config: Config
    graph: Graph  # the single layer and its tensor shapes
    constants: LayerConstants
    inputs: list[np.ndarray]

    @property
    def layer(self) -> Layer:
        return self.graph.layers[0]

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.graph.tensors[self.layer.output].shape

    def reference(self) -> np.ndarray:
        return run_layer_int8(self.layer, self.constants, [x[None] for x in self.inputs], self.out_shape)[0]

    def suite_case(self) -> SuiteCase:
        return SuiteCase(self.graph, self.constants, self.inputs)

    def config_json(self) -> str:
        return json.dumps({"op": self.op, **self.config}, separators=(",", ":"), sort_keys=True)


def _data(rng: np.random.Generator, shape: tuple[int, ...], mode: str, zp: int) -> np.ndarray:
    if mode == "extreme":
        x = rng.choice(np.array([-128, 127]), size=shape)
    elif mode == "near_zero_point":
        x = np.clip(zp + rng.integers(-3, 4, size=shape), -128, 127)
    elif mode == "min":
        x = np.where(rng.random(shape) < 0.7, -128, rng.integers(-128, 128, size=shape))
    else:
        x = rng.integers(-128, 128, size=shape)
    return x.astype(np.int8)


def _weights(rng: np.random.Generator, shape: tuple[int, ...], mode: str) -> np.ndarray:
    if mode == "extreme":
        return rng.choice(np.array([-127, 127, 0]), size=shape).astype(np.int8)
    return rng.integers(-127, 128, size=shape).astype(np.int8)


def _bias(rng: np.random.Generator, mode: str, n: int) -> np.ndarray:
    if mode == "zero":
        return np.zeros(n, np.int32)
    if mode == "extreme":
        near = rng.integers(0, 1 << 20, size=n)
        return np.where(rng.random(n) < 0.5, INT32_MAX - near, INT32_MIN + near).astype(np.int32)
    return rng.integers(-20000, 20001, size=n).astype(np.int32)


def _requant(rng: np.random.Generator, mode: str, n: int, fan_in: int) -> tuple[np.ndarray, np.ndarray]:
    """n (multiplier, shift) pairs. 'auto' maps a typical accumulator onto the int8 range;
    'near_max' puts the multiplier within 1000 of 2^31 at a shift near that scale; 'tiny' uses
    multipliers below 1000; 'any_shift' draws the shift uniformly from -31 to 30."""
    mults, shifts = [], []
    for _ in range(n):
        real = float(rng.uniform(0.3, 3.0)) * 40.0 / (5300.0 * math.sqrt(max(fan_in, 1)))
        m, s = _requant_edge(rng, mode, *quantize_multiplier(real))
        mults.append(m)
        shifts.append(s)
    return np.array(mults, np.int64), np.array(shifts, np.int64)


def _requant_edge(rng: np.random.Generator, mode: str, m: int, s: int) -> tuple[int, int]:
    """(m, s) for 'auto', else the requantizer mode's edge drawn around it (see _requant)."""
    if mode == "near_max":
        return INT32_MAX - int(rng.integers(0, 1000)), int(np.clip(s + rng.integers(-2, 3), -31, 30))
    if mode == "tiny":
        return int(rng.integers(0, 1001)), int(rng.integers(-31, 31))
    if mode == "any_shift":
        return int(rng.integers(0, INT32_MAX, endpoint=True)), int(rng.integers(-31, 31))
    return m, s


def _rescale(rng: np.random.Generator, mode: str, n: int,
             requantizer: Callable[[float, float], tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """n (multiplier, shift) pairs of a layer that rescales onto another grid (mean_hw, requantize):
    'auto' takes them from `requantizer(input_scale, output_scale)` over drawn float32 scales whose
    ratio lies in [1/4, 4] (exactly 1 a fifth of the time), as the layer's constants would; the
    other modes draw the requantizer's edges around that as _requant does."""
    mults, shifts = [], []
    for _ in range(n):
        in_scale = f32(float(rng.uniform(0.005, 0.2)))
        ratio = 1.0 if rng.random() < 0.2 else float(np.exp(rng.uniform(-math.log(4.0), math.log(4.0))))
        m, s = _requant_edge(rng, mode, *requantizer(in_scale, f32(in_scale * ratio)))
        mults.append(m)
        shifts.append(s)
    return np.array(mults, np.int64), np.array(shifts, np.int64)


def _bounds(rng: np.random.Generator, mode: str, out_zp: int) -> tuple[int, int]:
    if mode == "random":
        lo, hi = sorted(int(v) for v in rng.integers(-128, 128, size=2))
        return lo, hi
    if mode == "relu6":
        return out_zp, min(127, out_zp + int(rng.integers(1, 256)))
    return activation_bounds(mode, QuantParams(1.0, out_zp))


def _graph(op: str, in_shapes: list[tuple[int, ...]], attrs: dict[str, Any], **params: Any) -> Graph:
    names = ["input"] + [f"input{i + 1}" for i in range(1, len(in_shapes))]
    layer = Layer("case", op, names, "case", attrs=attrs, **params)
    defaults = OPS[op].defaults
    if defaults is not None:
        defaults(layer.attrs)
    tensors = {n: Tensor(n, s) for n, s in zip(names, in_shapes)}
    out_shape = OPS[op].infer_shape(layer, list(in_shapes))
    tensors["case"] = Tensor("case", tuple(out_shape))
    return Graph(f"fuzz_{op}", "input", "case", tensors, [layer])


def _window_attrs(c: Config) -> dict[str, Any]:
    padding = c["padding"] if c["padding"] != "explicit" else tuple(c["pads"])
    return {"stride": (c["sh"], c["sw"]), "dilation": (c["dh"], c["dw"]), "padding": padding}


def _build_weighted(op: str, c: Config, rng: np.random.Generator) -> tuple[Graph, LayerConstants, list[np.ndarray]]:
    if op == "dense":
        in_shape: tuple[int, ...] = (c["n_in"],)
        w_shape: tuple[int, ...] = (c["n_out"], c["n_in"])
        attrs: dict[str, Any] = {}
        fan_in, out_c = c["n_in"], c["n_out"]
    else:
        in_shape = (c["h"], c["w"], c["cin"])
        attrs = _window_attrs(c)
        if op == "depthwise_conv2d":
            out_c = c["cin"] * c["mult"]
            w_shape, fan_in = (c["kh"], c["kw"], out_c), c["kh"] * c["kw"]
        else:
            out_c = c["cout"]
            w_shape, fan_in = (out_c, c["kh"], c["kw"], c["cin"]), c["kh"] * c["kw"] * c["cin"]
    weights = _weights(rng, w_shape, c["weights"])
    bias = _bias(rng, c["bias"], out_c)
    mult, shift = _requant(rng, c["requant"], out_c if c["per_channel"] else 1, fan_in)
    lo, hi = _bounds(rng, c["act"], c["out_zp"])
    graph = _graph(op, [in_shape], attrs, weights=weights, bias=bias)
    # a case printed before rounding was drawn has none: it was double
    k = LayerConstants(c["in_zp"], c["out_zp"], lo, hi, mult, shift, rounding=c.get("rounding", "double"))
    return graph, k, [_data(rng, in_shape, c["data"], c["in_zp"])]


def build_case(op: str, config: Config) -> KernelCase:
    """The case a configuration describes (raises KeyError/ValueError on a malformed one)."""
    c = config
    rng = np.random.default_rng(c["seed"])
    if op in ("conv2d", "depthwise_conv2d", "pointwise_conv2d", "dense"):
        graph, k, inputs = _build_weighted(op, c, rng)
        return KernelCase(op, config, graph, k, inputs)
    image: tuple[int, ...] = (c["h"], c["w"], c["c"]) if "h" in c else (c["rows"], c["depth"])
    lo, hi = _bounds(rng, c["act"], c["out_zp"])
    zp = c["in_zp"]
    if op in ("relu", "relu6"):
        bounds = (zp, 127) if op == "relu" else (zp, min(127, zp + int(rng.integers(1, 256))))
        graph, k = _graph(op, [image], {}), LayerConstants(zp, zp, *bounds)
    elif op in ("maxpool2d", "avgpool2d"):
        padding = c["padding"] if c["padding"] != "explicit" else tuple(c["pads"])
        attrs = {"pool": (c["ph"], c["pw"]), "stride": (c["sh"], c["sw"]), "padding": padding}
        graph, k = _graph(op, [image], attrs), LayerConstants(zp, zp, lo, hi)
    elif op in ("global_avgpool2d", "reshape", "flatten"):
        attrs = {"shape": (c["w"], c["h"] * c["c"])} if op == "reshape" else {}
        graph, k = _graph(op, [image], attrs), LayerConstants(zp, zp)
    elif op == "pad2d":
        graph, k = _graph(op, [image], {"pads": tuple(c["pads"])}), LayerConstants(zp, zp)
    elif op == "mean_hw":
        count = c["h"] * c["w"]
        mult, shift = _rescale(rng, c["requant"], c["c"] if c["per_channel"] else 1,
                               lambda i, o: mean_hw_requantizer(i, o, count))
        graph, k = _graph(op, [image], {}), LayerConstants(zp, c["out_zp"], lo, hi, mult, shift)
        if c["data"] == "uniform":  # values around a centre per channel, so that the means spread over int8
            centres = rng.integers(-128, 128, size=c["c"])
            x = np.clip(centres + rng.integers(-40, 41, size=image), -128, 127).astype(np.int8)
            return KernelCase(op, config, graph, k, [x])
    elif op == "requantize":
        mult, shift = _rescale(rng, c["requant"], 1, rescale_requantizer)
        graph, k = _graph(op, [image], {}), LayerConstants(zp, c["out_zp"], lo, hi, mult, shift)
    elif op == "add":
        if c["requant"] == "auto":
            scales = [QuantParams(f32(float(rng.uniform(0.005, 0.2))), 0) for _ in range(3)]
            mult, shift = add_requantizers(*scales)
        else:  # the input requantizers scale down (shift <= 0) in TFLite; the output one may not
            mult = rng.integers(0, INT32_MAX, size=3, endpoint=True)
            shift = np.array([rng.integers(-31, 1), rng.integers(-31, 1), rng.integers(-31, 31)])
        graph = _graph(op, [image, image], {})
        k = LayerConstants(zp, c["out_zp"], lo, hi, np.asarray(mult), np.asarray(shift), input2_zp=c["in2_zp"])
        x2 = _data(rng, image, c["data2"], c["in2_zp"])
        return KernelCase(op, config, graph, k, [_data(rng, image, c["data"], zp), x2])
    elif op in ("sigmoid", "tanh"):
        if c["table"] == "random":
            table = rng.integers(-128, 128, size=256).astype(np.int8)
        else:
            fixed = OPS[op].fixed_grid
            assert fixed is not None  # sigmoid and tanh have a fixed output grid
            table = lut_table(QuantParams(f32(2.0 ** c["in_scale_exp"]), zp), fixed,
                              sigmoid if op == "sigmoid" else math.tanh)
        graph, k = _graph(op, [image], {}), LayerConstants(zp, 0, lut=table)
    elif op == "softmax":
        m, s, diff_min = softmax_params(f32(2.0 ** c["in_scale_exp"]), c["beta"])
        graph = _graph(op, [image], {"beta": c["beta"]})
        k = LayerConstants(zp, -128, multipliers=np.array([m]), shifts=np.array([s]), diff_min=diff_min)
    else:
        raise ValueError(f"no fuzz case builder for op '{op}'")
    return KernelCase(op, config, graph, k, [_data(rng, image, c["data"], zp)])


def draw_case(op: str, d: Draw) -> KernelCase:
    return build_case(op, GENERATORS[op](d))


def case_from_json(text: str) -> KernelCase:
    """A case from its reproducer JSON ({"op": ..., config...})."""
    config = json.loads(text)
    if not isinstance(config, dict) or config.get("op") not in GENERATORS:
        raise ValueError(f"a fuzz configuration is a JSON object with an 'op' among {', '.join(GENERATORS)}")
    op = config.pop("op")
    return build_case(op, config)



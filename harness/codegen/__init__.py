"""C code for one quantized model: int8 weights, int32 biases, multipliers and shifts as integer
constants, a static arena plan (no malloc), the layer schedule as one switch, and the test inputs.

The output is deterministic text; its hash is part of the build cache key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from harness.model.graph import Graph, Layer
from harness.model.ops import resolve_padding
from harness.quant.layer import layer_constants
from harness.zoo.common import Model

ALIGN = 4


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[str, int]
    size: int


@dataclass(frozen=True)
class GeneratedModel:
    source: str  # model.c
    arena: ArenaPlan
    weight_bytes: int


def plan_arena(graph: Graph) -> ArenaPlan:
    """Offsets of every activation tensor in one static arena.

    A tensor lives from the layer that writes it to the last layer that reads it (the graph input
    from the start, the output to the end). Largest first, each goes to the lowest aligned offset
    that overlaps no placed tensor alive at the same time.
    """
    n = len(graph.layers)
    first = {graph.input: -1}
    last = {graph.input: -1}
    for i, layer in enumerate(graph.layers):
        first[layer.output] = i
        last.setdefault(layer.output, i)
        for t in layer.inputs:
            last[t] = max(last[t], i)
    last[graph.output] = n
    names = sorted(first, key=lambda t: (-graph.tensors[t].size, first[t]))
    placed: list[tuple[int, int, str]] = []
    offsets: dict[str, int] = {}
    for t in names:
        size = graph.tensors[t].size
        busy = sorted(
            (offsets[o], offsets[o] + graph.tensors[o].size)
            for _, _, o in placed
            if not (last[o] < first[t] or last[t] < first[o])
        )
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, _align(hi))
        offsets[t] = offset
        placed.append((offset, size, t))
    size = max((offsets[t] + graph.tensors[t].size for t in offsets), default=0)
    return ArenaPlan(offsets, _align(size))


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _c_array(ctype: str, name: str, values: Iterable[int], per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(list(values) if not isinstance(values, np.ndarray) else values).ravel()]
    if ctype == "int32_t":
        vals = [v if int(v) != -(2**31) else "INT32_MIN" for v in vals]
    lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


class _Emitter:
    """Collects declarations and the switch cases while walking the schedule."""

    def __init__(self, graph: Graph, arena: ArenaPlan):
        self.graph = graph
        self.arena = arena
        self.decls: list[str] = []
        self.cases: list[str] = []
        self.weight_bytes = 0

    def buf(self, tensor: str) -> str:
        return f"(arena + {self.arena.offsets[tensor]})"

    def const(self, ctype: str, name: str, values: np.ndarray) -> str:
        self.decls.append(_c_array(ctype, name, values))
        self.weight_bytes += int(np.asarray(values).size) * (1 if ctype == "int8_t" else 4)
        return name

    def dims(self, name: str, shape: tuple[int, ...]) -> str:
        h, w, c = shape if len(shape) == 3 else (1, 1, int(np.prod(shape)))
        self.decls.append(f"static const hk_dims {name} = {{{h}, {w}, {c}}};\n")
        return f"&{name}"


def _pair(v: object) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))  # type: ignore[index]


def _quant(e: _Emitter, p: str, layer: Layer) -> str:
    k = layer_constants(e.graph, layer)
    m = e.const("int32_t", f"{p}_mult", k.multipliers)
    s = e.const("int32_t", f"{p}_shift", k.shifts)
    e.decls.append(f"static const hk_quant {p}_quant = {{{m}, {s}, {len(k.multipliers)}}};\n")
    return f"&{p}_quant"


def _conv_params(e: _Emitter, p: str, layer: Layer, kernel: tuple[int, int]) -> str:
    k = layer_constants(e.graph, layer)
    sh, sw = _pair(layer.attrs.get("stride", 1))
    dh, dw = _pair(layer.attrs.get("dilation", 1))
    t, b, l, r = resolve_padding(layer, e.graph.tensors[layer.inputs[0]].shape, kernel)
    e.decls.append(
        f"static const hk_conv_params {p}_params = {{{-k.input_zp}, {k.output_zp}, {{{sh}, {sw}}}, "
        f"{{{dh}, {dw}}}, {{{t}, {b}, {l}, {r}}}, {{{k.act_min}, {k.act_max}}}}};\n"
    )
    return f"&{p}_params"


def _emit_windowed(e: _Emitter, p: str, layer: Layer, kernel: tuple[int, int], filter_c: int, fn: str) -> str:
    """A convolution-like call: params, requantizer, weights, bias, input/filter/output dims."""
    params = _conv_params(e, p, layer, kernel)
    quant = _quant(e, p, layer)
    w = e.const("int8_t", f"{p}_weights", layer.weights)
    bias = e.const("int32_t", f"{p}_bias", layer.bias)
    ind = e.dims(f"{p}_in_dims", e.graph.tensors[layer.inputs[0]].shape)
    fd = e.dims(f"{p}_filter_dims", (kernel[0], kernel[1], filter_c))
    od = e.dims(f"{p}_out_dims", e.graph.tensors[layer.output].shape)
    return (
        f"{fn}(&ctx, {params}, {quant}, {ind}, {e.buf(layer.inputs[0])}, {fd}, {w}, {bias}, "
        f"{od}, {e.buf(layer.output)})"
    )


def _emit_conv2d(e: _Emitter, p: str, layer: Layer) -> str:
    _, kh, kw, ic = layer.weights.shape
    return _emit_windowed(e, p, layer, (kh, kw), ic, "hk_conv2d_s8")


def _emit_depthwise(e: _Emitter, p: str, layer: Layer) -> str:
    kh, kw, oc = layer.weights.shape
    return _emit_windowed(e, p, layer, (kh, kw), oc, "hk_depthwise_conv2d_s8")


def _emit_pointwise(e: _Emitter, p: str, layer: Layer) -> str:
    params = _conv_params(e, p, layer, (1, 1))
    quant = _quant(e, p, layer)
    w = e.const("int8_t", f"{p}_weights", layer.weights)
    bias = e.const("int32_t", f"{p}_bias", layer.bias)
    ind = e.dims(f"{p}_in_dims", e.graph.tensors[layer.inputs[0]].shape)
    od = e.dims(f"{p}_out_dims", e.graph.tensors[layer.output].shape)
    return (
        f"hk_pointwise_conv2d_s8(&ctx, {params}, {quant}, {ind}, {e.buf(layer.inputs[0])}, {w}, {bias}, "
        f"{od}, {e.buf(layer.output)})"
    )


def _emit_dense(e: _Emitter, p: str, layer: Layer) -> str:
    k = layer_constants(e.graph, layer)
    out_n, in_n = layer.weights.shape
    e.decls.append(
        f"static const hk_fc_params {p}_params = {{{-k.input_zp}, {k.output_zp}, {{{k.act_min}, {k.act_max}}}}};\n"
    )
    quant = _quant(e, p, layer)
    w = e.const("int8_t", f"{p}_weights", layer.weights)
    bias = e.const("int32_t", f"{p}_bias", layer.bias)
    return (
        f"hk_fully_connected_s8(&ctx, &{p}_params, {quant}, {in_n}, {e.buf(layer.inputs[0])}, {out_n}, {w}, "
        f"{bias}, {e.buf(layer.output)})"
    )


def _emit_relu(e: _Emitter, p: str, layer: Layer) -> str:
    k = layer_constants(e.graph, layer)
    e.decls.append(f"static const hk_activation {p}_act = {{{k.act_min}, {k.act_max}}};\n")
    size = e.graph.tensors[layer.output].size
    return f"hk_relu_s8({size}, {e.buf(layer.inputs[0])}, &{p}_act, {e.buf(layer.output)})"


def _emit_maxpool(e: _Emitter, p: str, layer: Layer) -> str:
    ph, pw = _pair(layer.attrs["pool"])
    sh, sw = _pair(layer.attrs["stride"])
    e.decls.append(f"static const hk_pool_params {p}_params = {{{{{sh}, {sw}}}, {{-128, 127}}}};\n")
    e.decls.append(f"static const hk_hw {p}_pool = {{{ph}, {pw}}};\n")
    ind = e.dims(f"{p}_in_dims", e.graph.tensors[layer.inputs[0]].shape)
    od = e.dims(f"{p}_out_dims", e.graph.tensors[layer.output].shape)
    return f"hk_maxpool2d_s8(&{p}_params, {ind}, {e.buf(layer.inputs[0])}, &{p}_pool, {od}, {e.buf(layer.output)})"


def _emit_gap(e: _Emitter, p: str, layer: Layer) -> str:
    ind = e.dims(f"{p}_in_dims", e.graph.tensors[layer.inputs[0]].shape)
    return f"hk_global_avgpool2d_s8({ind}, {e.buf(layer.inputs[0])}, {e.buf(layer.output)})"


def _emit_pad(e: _Emitter, p: str, layer: Layer) -> str:
    k = layer_constants(e.graph, layer)
    t, b, l, r = layer.attrs["pads"]
    e.decls.append(f"static const hk_padding {p}_pads = {{{t}, {b}, {l}, {r}}};\n")
    ind = e.dims(f"{p}_in_dims", e.graph.tensors[layer.inputs[0]].shape)
    od = e.dims(f"{p}_out_dims", e.graph.tensors[layer.output].shape)
    return f"hk_pad2d_s8({ind}, {e.buf(layer.inputs[0])}, &{p}_pads, {k.input_zp}, {od}, {e.buf(layer.output)})"


def _emit_lut(e: _Emitter, p: str, layer: Layer) -> str:
    k = layer_constants(e.graph, layer)
    table = e.const("int8_t", f"{p}_table", k.lut)
    size = e.graph.tensors[layer.output].size
    return f"hk_lut_s8({size}, {e.buf(layer.inputs[0])}, {table}, {e.buf(layer.output)})"


EMITTERS: dict[str, Callable[[_Emitter, str, Layer], str]] = {
    "conv2d": _emit_conv2d,
    "depthwise_conv2d": _emit_depthwise,
    "pointwise_conv2d": _emit_pointwise,
    "dense": _emit_dense,
    "relu": _emit_relu,
    "maxpool2d": _emit_maxpool,
    "global_avgpool2d": _emit_gap,
    "pad2d": _emit_pad,
    "sigmoid": _emit_lut,
}


def generate(model: Model) -> GeneratedModel:
    """model.c for a quantized zoo model (HK_BUILD_ID is defined by the build)."""
    graph = model.graph
    graph.validate()
    arena = plan_arena(graph)
    e = _Emitter(graph, arena)
    for i, layer in enumerate(graph.layers):
        p = f"l{i}"
        e.decls.append(f"\n/* layer {i}: {layer.op} '{layer.name}' -> {graph.tensors[layer.output].shape} */\n")
        call = EMITTERS[layer.op](e, p, layer)
        e.cases.append(f"    case {i}: return {call};\n")
    samples = model.test_inputs_q.reshape(len(model.test_inputs_q), -1)
    in_size = graph.tensors[graph.input].size
    out_size = graph.tensors[graph.output].size
    source = "".join(
        [
            f"/* Generated by cortexm-harness for model '{graph.name}'. Do not edit. */\n",
            '#include <stdint.h>\n\n#include "hk_model.h"\n#include "hk_nn.h"\n\n',
            "#ifndef HK_BUILD_ID\n#error \"HK_BUILD_ID must be defined by the build\"\n#endif\n\n",
            f"static int8_t arena[{arena.size}] __attribute__((aligned({ALIGN})));\n",
            "static const hk_context ctx = {0, 0};\n",
            *e.decls,
            "\n/* test inputs, quantized on the host */\n",
            _c_array("int8_t", "samples", samples, per_line=20),
            "\nhk_status hk_model_run_layer(uint32_t index)\n{\n    switch (index) {\n",
            *e.cases,
            "    default: return HK_ERR_LAYER;\n    }\n}\n\n",
            "const hk_model_desc hk_model = {\n",
            f'    "{graph.name}",\n    HK_BUILD_ID,\n    {len(graph.layers)},\n    {len(samples)},\n',
            f"    {in_size},\n    {out_size},\n    samples,\n",
            f"    arena + {arena.offsets[graph.input]},\n    arena + {arena.offsets[graph.output]},\n",
            f"    {e.weight_bytes},\n    {arena.size}\n}};\n",
        ]
    )
    return GeneratedModel(source, arena, e.weight_bytes)

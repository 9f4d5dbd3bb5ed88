"""C code for one quantized model: int8 weights, int32 biases, multipliers and shifts as integer
constants, a static arena plan (no malloc), the layer schedule as one switch, the test inputs, and a
view of each layer's output for the runner's per-layer checksum.

`generate_suite` emits many independent one-layer cases into one image (for the fuzzer): same
emitters, inputs read straight from flash, every output in one arena slot.
The output is deterministic text; its hash is part of the build cache key.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from harness.codegen.calls import (
    ALIASES,
    Buffer,
    CArray,
    Context,
    CStruct,
    KernelCall,
    kernel_call,
)
from harness.codegen.scratch import scratch_bytes
from harness.model import Model
from harness.model.constants import LayerConstants, layer_constants
from harness.model.graph import Graph, Layer

ALIGN = 4


@dataclass(frozen=True)
class ArenaPlan:
    """Where each activation tensor lives in the one static arena, and its size in bytes. The last
    `scratch` bytes of it are the kernels' scratch, shared by the layers (they run one at a time)."""

    offsets: dict[str, int]
    size: int
    scratch: int = 0

    def with_scratch(self, scratch: int) -> ArenaPlan:
        """This plan with `scratch` bytes (aligned) added after the activations."""
        return ArenaPlan(self.offsets, self.size + _align(scratch), _align(scratch))


@dataclass(frozen=True)
class GeneratedModel:
    source: str  # model.c
    arena: ArenaPlan
    weight_bytes: int
    functions: tuple[str | None, ...] = ()  # the kernel function each layer (or case) calls; None: none


@dataclass(frozen=True)
class SuiteCase:
    """One layer to run on its own: its graph (for shapes), its constants, its int8 inputs."""

    graph: Graph
    constants: LayerConstants
    inputs: Sequence[np.ndarray]


def plan_arena(graph: Graph) -> ArenaPlan:
    """Offsets of every activation tensor in one static arena.

    Reshape and flatten outputs share their input's storage. A storage lives from the layer that
    writes it to the last layer that reads it or an alias of it (the graph input from the start,
    the output to the end). Largest first, each goes to the lowest aligned offset that overlaps no
    placed storage alive at the same time.
    """
    root = {graph.input: graph.input}
    first = {graph.input: -1}
    last = {graph.input: -1}
    for i, layer in enumerate(graph.layers):
        for t in layer.inputs:
            last[root[t]] = max(last[root[t]], i)
        if layer.op in ALIASES:
            root[layer.output] = root[layer.inputs[0]]
        else:
            root[layer.output] = layer.output
            first[layer.output] = i
            last[layer.output] = i
    last[root[graph.output]] = len(graph.layers)
    size_of = {t: graph.tensors[t].size for t in first}
    placed: list[str] = []
    offsets: dict[str, int] = {}
    for t in sorted(first, key=lambda t: (-size_of[t], first[t])):
        busy = sorted(
            (offsets[o], offsets[o] + size_of[o])
            for o in placed
            if not (last[o] < first[t] or last[t] < first[o])
        )
        offset = 0
        for lo, hi in busy:
            if offset + size_of[t] <= lo:
                break
            offset = max(offset, _align(hi))
        offsets[t] = offset
        placed.append(t)
    size = max((offsets[t] + size_of[t] for t in offsets), default=0)
    return ArenaPlan({t: offsets[r] for t, r in root.items()}, _align(size))


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _c_array(ctype: str, name: str, values: Iterable[int], per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    if ctype == "int32_t":
        vals = [v if int(v) != -(2**31) else "INT32_MIN" for v in vals]
    lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


class _Emitter:
    """Renders kernel calls as C: each struct and array becomes a static const declaration.

    Scratch: the arena's last bytes, after the activations (`scratch_at`), as many as the largest
    context needs under the kernel variant `variant` (layers run one at a time, so they share
    them); a call whose kernel needs none gets a NULL context, as the kernel contract allows."""

    def __init__(self, variant: str, scratch_at: int) -> None:
        self.variant = variant
        self.scratch_at = scratch_at
        self.decls: list[str] = []
        self.weight_bytes = 0
        self.scratch_bytes = 0
        self.functions: list[str | None] = []  # each layer's kernel function, in order
        self.checks: list[str] = []  # each layer's case of hk_model_check_layer

    def array(self, p: str, arr: CArray) -> str:
        name = f"{p}_{arr.name}"
        self.decls.append(_c_array(arr.ctype, name, arr.values))
        self.weight_bytes += int(arr.values.size) * (1 if arr.ctype == "int8_t" else 4)
        return name

    def initializer(self, p: str, value: object) -> str:
        if isinstance(value, tuple):
            return "{" + ", ".join(self.initializer(p, v) for v in value) + "}"
        if isinstance(value, CArray):
            return self.array(p, value)
        return str(int(value))  # type: ignore[call-overload]

    def context(self, p: str, ctx: Context) -> str:
        size = scratch_bytes(self.variant, ctx)
        if size <= 0:
            return "0"
        self.scratch_bytes = max(self.scratch_bytes, size)
        self.decls.append(f"static const hk_context {p}_ctx = {{arena + {self.scratch_at}, {size}}};\n")
        return f"&{p}_ctx"

    def arguments(self, p: str, call: KernelCall, buffers: list[str], output: str) -> str:
        """The C argument list of `call`, declaring its structs and arrays."""
        args = []
        for arg in call.args:
            if isinstance(arg, Context):
                args.append(self.context(p, arg))
            elif isinstance(arg, Buffer):
                args.append(output if arg.index is None else buffers[arg.index])
            elif isinstance(arg, CArray):
                args.append(self.array(p, arg))
            elif isinstance(arg, CStruct):
                self.decls.append(f"static const {arg.ctype} {p}_{arg.name} = {self.initializer(p, arg.fields)};\n")
                args.append(f"&{p}_{arg.name}")
            else:
                args.append(str(int(arg)))
        return ", ".join(args)

    def layer(self, p: str, graph: Graph, layer: Layer, k: LayerConstants, index: int, buffers: dict[str, str]) -> str:
        """One switch case; aliases (reshape, flatten) run no code."""
        out_shape = graph.tensors[layer.output].shape
        self.decls.append(f"\n/* layer {index}: {layer.op} '{layer.name}' -> {out_shape} */\n")
        call = kernel_call(layer, k, [graph.tensors[t].shape for t in layer.inputs], out_shape)
        self.functions.append(call.function if call is not None else None)
        if call is None:
            self.checks.append(f"    case {index}: return HK_CHECK_OK;\n")
            return f"    case {index}: return HK_OK; /* {layer.op}: same bytes, new shape */\n"
        args = self.arguments(p, call, [buffers[t] for t in layer.inputs], buffers[layer.output])
        # One small function per layer: GCC optimizes many small functions far faster than one
        # switch holding every call (a 400-case fuzz image: 10 s -> under 1 s at -O2).
        self.decls.append(f"__attribute__((noinline)) static hk_status {p}_run(void)\n{{\n"
                          f"    return {call.function}({args});\n}}\n")
        self.checks.append(f"    case {index}: return {call.function}_check({args});\n")
        return f"    case {index}: return {p}_run();\n"


def _source(name: str, arena_size: int, e: _Emitter, cases: list[str], outputs: list[tuple[str, int]],
            samples: np.ndarray, input_expr: str, input_size: int, output: tuple[str, int]) -> str:
    views = ",\n".join(f"    {{{expr}, {size}}}" for expr, size in outputs)
    sample_decl = (_c_array("int8_t", "samples", samples, per_line=20) if samples.size
                   else "static const int8_t *const samples = 0;\n")
    return "".join([
        f"/* Generated by cortexm-harness for '{name}'. Do not edit. */\n",
        '#include <stdint.h>\n\n#include "hk_model.h"\n#include "hk_nn.h"\n\n',
        "#ifndef HK_BUILD_ID\n#error \"HK_BUILD_ID must be defined by the build (it heads model.c)\"\n#endif\n\n",
        f"static int8_t arena[{max(arena_size, ALIGN)}] __attribute__((aligned({ALIGN})));\n",
        (f"/* the kernels' scratch: the arena's last {_align(e.scratch_bytes)} bytes, from {e.scratch_at} "
         f"(the largest *_get_buffer_size of kernels {e.variant}) */\n"
         if e.scratch_bytes else "/* no layer needs scratch: every context is NULL */\n"),
        *e.decls,
        "\n/* test inputs, quantized on the host */\n",
        sample_decl,
        "\nhk_status hk_model_run_layer(uint32_t index)\n{\n    switch (index) {\n",
        *cases,
        "    default: return HK_ERR_LAYER;\n    }\n}\n\n",
        "hk_check_id hk_model_check_layer(uint32_t index)\n{\n    switch (index) {\n",
        *e.checks,
        "    default: return HK_CHECK_DIMS;\n    }\n}\n\n",
        f"static const hk_tensor_view layer_outputs[{len(outputs)}] = {{\n{views}\n}};\n\n",
        "const hk_model_desc hk_model = {\n",
        f'    "{name}",\n    HK_BUILD_ID,\n    {len(cases)},\n    {max(len(samples), 1)},\n',
        f"    {input_size},\n    {output[1]},\n    samples,\n",
        f"    {input_expr},\n    {output[0]},\n",
        f"    {e.weight_bytes},\n    {arena_size},\n    layer_outputs\n}};\n",
    ])


def generate(model: Model, variant: str = "ref") -> GeneratedModel:
    """model.c for a quantized zoo model linked with the kernel variant `variant`, whose scratch
    sizes the arena plan holds (HK_BUILD_ID is defined by the build)."""
    graph = model.graph
    graph.validate()
    activations = plan_arena(graph)
    buffers = {t: f"(arena + {off})" for t, off in activations.offsets.items()}
    e = _Emitter(variant, activations.size)
    cases = [e.layer(f"l{i}", graph, layer, layer_constants(graph, layer), i, buffers)
             for i, layer in enumerate(graph.layers)]
    arena = activations.with_scratch(e.scratch_bytes)
    outputs = [(buffers[l.output], graph.tensors[l.output].size) for l in graph.layers]
    samples = model.test_inputs_q.reshape(len(model.test_inputs_q), -1)
    source = _source(
        graph.name, arena.size, e, cases, outputs, samples, buffers[graph.input],
        graph.tensors[graph.input].size, (buffers[graph.output], graph.tensors[graph.output].size),
    )
    return GeneratedModel(source, arena, e.weight_bytes, tuple(e.functions))


def generate_suite(name: str, suite: Sequence[SuiteCase], variant: str = "ref") -> GeneratedModel:
    """One image running each case's single layer once: inputs from flash, output to the arena.
    The image's output is the last case's, so a one-case suite prints every value it computed."""
    outputs_size = _align(max(c.graph.tensors[c.graph.layers[0].output].size for c in suite))
    e = _Emitter(variant, outputs_size)
    cases: list[str] = []
    outputs: list[tuple[str, int]] = []
    for i, case in enumerate(suite):
        layer = case.graph.layers[0]
        buffers: dict[str, str] = {}
        for j, (t, values) in enumerate(zip(layer.inputs, case.inputs)):
            buffers[t] = f"c{i}_in{j}"
            e.decls.append(_c_array("int8_t", f"c{i}_in{j}", values, per_line=20))
        buffers[layer.output] = buffers[layer.inputs[0]] if layer.op in ALIASES else "arena"
        cases.append(e.layer(f"c{i}", case.graph, layer, case.constants, i, buffers))
        outputs.append((f"(const int8_t *){buffers[layer.output]}", case.graph.tensors[layer.output].size))
    empty = np.zeros((0, 0), dtype=np.int8)
    arena = ArenaPlan({}, outputs_size).with_scratch(e.scratch_bytes)
    source = _source(name, arena.size, e, cases, outputs, empty, "arena", 0, outputs[-1])
    return GeneratedModel(source, arena, e.weight_bytes, tuple(e.functions))

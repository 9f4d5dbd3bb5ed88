"""The kernel benchmark suite (`harness bench --suite kernels`): single-layer shapes, one row each in
SHAPES, beside the count Arm's CMSIS-NN takes for the same shape on the same counter.

Each row becomes a small int8 model with seeded weights, bias, per-channel scales and grids, and runs
through the bench path like any model: the same build cache, two emulator runs, the exact
repeatability check of a deterministic counter, and the bit-exact verdict against the Python
reference. A shape's figure is the count the firmware measures for its layer: the kernel call with
its argument set-up. Adding a shape is adding a row.

A shape's layer is named by the shape's id, and its count alone is the shape's figure. Two shapes
need a layer beside it. An add needs two tensors and a graph has one input: its model first
requantizes the input onto a second grid, then adds the input and that tensor. And the firmware
prints a model's output as one UART record of bounded length, too short for a whole image: a layer
with an image output is followed by a global average pool, so the output is one value per channel
(the image is still verified, by its CRC, like every layer's output).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.bench.measure import BenchLayer, BenchReport, Log, run_bench
from harness.build import FIRMWARE_DIR
from harness.build.variants import KernelVariant, variant_for
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TIMEOUT
from harness.model import GraphBuilder, Model
from harness.quant import QuantParams, dequantize, f32
from harness.targets import Target

#: Where the CMSIS-NN figures come from (issue 13); they are references, not measured here.
CMSIS_NN_SOURCE = ("CMSIS-NN at commit 99f736a6, gcc 12.2 -O2, Cortex-M4 hard-float ABI, on the netduinoplus2 "
                   "icount counter, including a call's argument set-up")
#: CMSIS-NN's figures on other cores (issue 14): its DSP paths on the Cortex-M7 (mps2-an500) and its
#: MVE paths on the Cortex-M55 (mps3-an547), by shape id; a shape without one shows none.
CMSIS_NN_BY_CORE: dict[str, dict[str, int]] = {
    "cortex-m7": {"a": 343_144, "b": 144_433, "g": 1_386_776},
    "cortex-m55": {"a": 141_198, "b": 50_718, "c1": 35_151, "c2": 10_830, "d2": 5_888, "e": 7_133, "f1": 14_375,
                   "f2": 763, "g": 235_798},
}
CMSIS_NN_SOURCES = {
    "cortex-m4": CMSIS_NN_SOURCE,
    **{core: (f"CMSIS-NN's {'MVE' if core == 'cortex-m55' else 'DSP'} paths on QEMU's "
              f"{'mps3-an547' if core == 'cortex-m55' else 'mps2-an500'}, read from the board timer at 1/31 "
              "resolution over repetitions: approximate instruction counts")
       for core in CMSIS_NN_BY_CORE},
}


def cmsis_nn_figure(shape: KernelShape, core: str) -> int | None:
    """CMSIS-NN's count for `shape` on `core`, where one is known."""
    if core == "cortex-m4":
        return shape.cmsis_nn
    return CMSIS_NN_BY_CORE.get(core, {}).get(shape.id)
#: Samples each shape's firmware runs; a layer's count is the largest over them.
SAMPLES = 2
#: Weight scale of a weighted layer (per channel, each drawn within a factor of 1.5 of it).
WEIGHT_SCALE = 0.01
#: Standard deviation, in output steps, that a weighted layer's output grid is sized for, so that its
#: outputs spread over the int8 range without saturating.
OUTPUT_SPREAD = 40.0
#: Standard deviation of (q - zero point) for uniform int8 inputs and of uniform weights in [-127, 127].
INPUT_STD, WEIGHT_STD = 73.9, 73.6

INPUT_GRID = QuantParams(f32(0.05), -3)
WEIGHTED_OPS = ("conv2d", "depthwise_conv2d", "pointwise_conv2d", "dense")


@dataclass(frozen=True)
class KernelShape:
    """One shape of the suite. `filters` is a weighted layer's output channels (outputs of a dense);
    `kernel` and `stride` are a convolution's or a pool's window."""

    id: str
    layer: str  # what the shape is, as the tables print it
    op: str
    input_shape: tuple[int, ...]
    cmsis_nn: int  # CMSIS-NN's count on the Cortex-M4 (CMSIS_NN_SOURCE); other cores: CMSIS_NN_BY_CORE
    filters: int = 0
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    padding: str = "valid"
    per_channel: bool = False  # one weight scale per output channel (weighted layers)

    @property
    def model_name(self) -> str:
        return f"kernel_{self.id}"


SHAPES: tuple[KernelShape, ...] = (
    KernelShape("a", "Conv 3x3, 20x20x1 -> 8 filters, stride 1, VALID", "conv2d", (20, 20, 1), 327_819,
                filters=8, kernel=(3, 3), per_channel=True),
    KernelShape("a_same", "Conv 3x3, 20x20x1 -> 8 filters, stride 1, SAME", "conv2d", (20, 20, 1), 403_151,
                filters=8, kernel=(3, 3), padding="same", per_channel=True),
    KernelShape("b", "Depthwise 3x3, 8x8x32, stride 1, SAME", "depthwise_conv2d", (8, 8, 32), 144_427,
                filters=32, kernel=(3, 3), padding="same", per_channel=True),
    KernelShape("c1", "Pointwise 8x8x8 -> 32", "pointwise_conv2d", (8, 8, 8), 110_693, filters=32, per_channel=True),
    KernelShape("c2", "Pointwise 8x8x32 -> 8", "pointwise_conv2d", (8, 8, 32), 45_293, filters=8, per_channel=True),
    KernelShape("d1", "Dense 16 -> 4", "dense", (16,), 468, filters=4),
    KernelShape("d2", "Dense 1024 -> 10", "dense", (1024,), 19_844, filters=10),
    KernelShape("e", "Add, 8x8x8 (512 elements)", "add", (8, 8, 8), 41_323),
    KernelShape("f1", "MaxPool 2x2 stride 2, 18x18x8", "maxpool2d", (18, 18, 8), 33_816, kernel=(2, 2), stride=2),
    KernelShape("f2", "GlobalAvgPool 4x4x16", "global_avgpool2d", (4, 4, 16), 2_175),
    KernelShape("g", "Conv 3x3, 16x16x16 -> 16, stride 1, SAME", "conv2d", (16, 16, 16), 1_374_659,
                filters=16, kernel=(3, 3), padding="same", per_channel=True),
)


def get_shape(shape_id: str) -> KernelShape:
    for shape in SHAPES:
        if shape.id == shape_id:
            return shape
    raise KeyError(f"no kernel suite shape '{shape_id}'; the shapes: {', '.join(s.id for s in SHAPES)}")


def _weight_shape(shape: KernelShape) -> tuple[int, ...]:
    kh, kw = shape.kernel
    if shape.op == "depthwise_conv2d":
        return (kh, kw, shape.filters)
    if shape.op == "dense":
        return (shape.filters, math.prod(shape.input_shape))
    return (shape.filters, kh, kw, shape.input_shape[-1])


def _weighted(b: GraphBuilder, shape: KernelShape, rng: np.random.Generator) -> str:
    """The layer with uniform int8 weights, a small bias, and an output grid sized to its accumulators."""
    wshape = _weight_shape(shape)
    taps = math.prod(wshape) // shape.filters  # products summed into each output
    scales = (rng.uniform(1 / 1.5, 1.5, shape.filters if shape.per_channel else 1) * WEIGHT_SCALE).astype(np.float32)
    acc_std = INPUT_STD * WEIGHT_STD * math.sqrt(taps)
    out_scale = f32(INPUT_GRID.scale * WEIGHT_SCALE * acc_std / OUTPUT_SPREAD)
    bias = rng.integers(-int(acc_std / 4), int(acc_std / 4), shape.filters, endpoint=True)
    attrs: dict[str, object] = {"per_channel": shape.per_channel}
    if shape.op != "dense":
        attrs.update(stride=shape.stride, padding=shape.padding)
    return b.add(shape.op, "input", name=shape.id, quant=QuantParams(out_scale, int(rng.integers(-20, 21))),
                 weights=rng.integers(-127, 127, wshape, endpoint=True), bias=bias, weight_scales=scales, **attrs)


def _layer(b: GraphBuilder, shape: KernelShape, rng: np.random.Generator) -> str:
    """The shape's layer (and the add's second input); returns its output."""
    if shape.op in WEIGHTED_OPS:
        return _weighted(b, shape, rng)
    if shape.op == "add":
        other = b.add("requantize", "input", name="second_input", quant=QuantParams(f32(0.08), 10))
        return b.add("add", ["input", other], name=shape.id, quant=QuantParams(f32(0.1), -5))
    if shape.op == "maxpool2d":
        return b.add("maxpool2d", "input", name=shape.id, quant=INPUT_GRID, pool=shape.kernel, stride=shape.stride,
                     padding=shape.padding)
    if shape.op == "global_avgpool2d":
        return b.add("global_avgpool2d", "input", name=shape.id, quant=INPUT_GRID)
    raise ValueError(f"kernel suite: no model for op {shape.op!r} (shape {shape.id})")


def shape_model(shape: KernelShape) -> Model:
    """The shape as a model, seeded by the shape's id (the same model, and so the same cached
    firmware, every time)."""
    rng = np.random.default_rng(zlib.crc32(shape.id.encode()))
    b = GraphBuilder(shape.model_name, shape.input_shape, INPUT_GRID)
    out = _layer(b, shape, rng)
    if len(b.tensors[out].shape) == 3:  # an image: one value per channel leaves the firmware
        out = b.add("global_avgpool2d", out, name="output_mean", quant=b.tensors[out].quant)
    q = rng.integers(-128, 127, (SAMPLES, *shape.input_shape), endpoint=True).astype(np.int8)
    return Model(b.build(out), dequantize(q, INPUT_GRID), quantized_inputs=q,
                 inputs_note=f"{SAMPLES} int8 samples drawn uniformly, seeded by the shape's id")


@dataclass(frozen=True)
class KernelResult:
    shape: KernelShape
    layer: BenchLayer  # the shape's layer as the bench measured it
    cmsis_nn: int | None  # CMSIS-NN's figure on the suite's core, where one is known

    @property
    def count(self) -> int:
        return self.layer.count

    @property
    def macs(self) -> int:
        return self.layer.macs

    @property
    def ratio(self) -> float | None:
        """This variant's count over CMSIS-NN's (below 1: fewer instructions)."""
        return self.count / self.cmsis_nn if self.cmsis_nn else None


@dataclass
class KernelSuite:
    bench: BenchReport  # every shape's model, with provenance and repeatability
    results: list[KernelResult]
    variant: str = "ref"  # the kernels measured: ref (the portable C kernels) or a variant folder's name
    core: str = "cortex-m4"  # the core it ran on, which picks CMSIS-NN's figures

    @property
    def unit(self) -> str:
        return self.bench.models[0].unit

    @property
    def cmsis_nn_source(self) -> str | None:
        return CMSIS_NN_SOURCES.get(self.core)


def run_kernel_suite(target: Target, emulator: str = DEFAULT_EMULATOR, timeout: float = DEFAULT_TIMEOUT,
                     log: Log | None = None, firmware_dir: Path = FIRMWARE_DIR,
                     shapes: tuple[KernelShape, ...] = SHAPES, kernels: KernelVariant | None = None) -> KernelSuite:
    """Benchmark every shape's model built with `kernels` (the target's own when None); each shape's
    figure is the count of its layer."""
    kernels = variant_for(target, kernels)
    report = run_bench([shape_model(s) for s in shapes], target, emulator, timeout, log, firmware_dir, kernels)
    return KernelSuite(report, [KernelResult(s, next(l for l in m.layers if l.name == s.id),
                                             cmsis_nn_figure(s, target.core))
                                for s, m in zip(shapes, report.models)], kernels.name, target.core)

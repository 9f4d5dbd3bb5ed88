"""The dsp variant's depthwise convolution (harness/firmware/kernels/dsp/hk_depthwise_conv2d_s8.c):
bit-exact under fuzz and on single layers that take each of its paths (the unrolled 3x3 path and its
borders, the tap loop for other filters, dilations and paddings, the channel-multiplier paths, the
plain loop for filters of more taps than its buffer holds, both requantization forms), faster than
ref there and on the zoo's depthwise layers, within its goal on the kernel suite's depthwise shape;
its one-multiply requantization (hk_dsp_depthwise.h) equals hk_requant.h compiled for the host, and
the file defines no global symbol beside its two API functions."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from harness.bench.baseline import baseline_path, read_baseline
from harness.bench.kernel_suite import get_shape, run_kernel_suite
from harness.bench.measure import run_bench
from harness.build import FIRMWARE_DIR, kernel_variant
from harness.cli import main
from harness.model import GraphBuilder, Model
from harness.quant import QuantParams, dequantize, f32
from harness.targets import get_target

TARGET = get_target("stm32f405")
DSP_DIR = FIRMWARE_DIR / "kernels" / "dsp"
KERNEL = DSP_DIR / "hk_depthwise_conv2d_s8.c"
INPUT_GRID = QuantParams(f32(0.05), -3)
WEIGHT_SCALE = 0.01

#: The dsp host programs' shared random draws (hk_test_draws.h).
TEST_FIRMWARE = Path(__file__).parent / "firmware"


# ------------------------------------------------------------------ fuzz


# ------------------------------------------------------------------ single layers, path by path


@dataclass(frozen=True)
class Layer:
    """One depthwise layer. real: the requantization scale, else one that spreads the outputs over
    int8; weights: the largest |weight|. A scale of 0.5 or more (shift >= 0) or biases near +-2^30
    (bias_edge: every fourth channel's) take the general requantization for the group, whose other
    channels' outputs then show it at work."""

    name: str
    shape: tuple[int, int, int]
    mult: int = 1
    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: str | tuple[int, int, int, int] = "same"
    per_channel: bool = True
    rounding: str = "double"
    real: float | None = None
    weights: int = 127
    bias_edge: bool = False
    activation: str | None = None


def depthwise_model(layer: Layer, seed: int = 0) -> Model:
    """The layer on full-range int8 inputs, followed by a global average (one value per channel leaves
    the firmware; the image is checked by CRC)."""
    rng = np.random.default_rng(seed)
    kh, kw = layer.kernel
    out_c = layer.shape[2] * layer.mult
    acc_std = 74.0 * layer.weights / math.sqrt(3.0) * math.sqrt(kh * kw)
    scales = (rng.uniform(0.7, 1.4, out_c if layer.per_channel else 1) * WEIGHT_SCALE).astype(np.float32)
    bias = rng.integers(-int(acc_std), int(acc_std), out_c, endpoint=True)
    if layer.bias_edge:
        edge = (1 << 30) - rng.integers(0, 1 << 16, out_c)
        bias = np.where(np.arange(out_c) % 4 == 0, np.where(rng.random(out_c) < 0.5, edge, -edge), bias)
    real = layer.real if layer.real is not None else 40.0 / acc_std
    out_grid = QuantParams(f32(INPUT_GRID.scale * WEIGHT_SCALE / real), int(rng.integers(-20, 21)))
    attrs: dict[str, object] = {"per_channel": layer.per_channel, "rounding": layer.rounding, "stride": layer.stride,
                                "dilation": layer.dilation, "padding": layer.padding}
    if layer.activation is not None:
        attrs["activation"] = layer.activation
    b = GraphBuilder(layer.name, layer.shape, INPUT_GRID)
    weights = rng.integers(-layer.weights, layer.weights, (kh, kw, out_c), endpoint=True)
    out = b.add("depthwise_conv2d", "input", name=layer.name, quant=out_grid, weights=weights, bias=bias,
                weight_scales=scales, **attrs)
    out = b.add("global_avgpool2d", out, name="mean", quant=b.tensors[out].quant)
    q = rng.integers(-128, 127, (2, *layer.shape), endpoint=True).astype(np.int8)
    return Model(b.build(out), dequantize(q, INPUT_GRID), quantized_inputs=q, inputs_note="2 uniform int8 samples")


LAYERS = [
    # the unrolled 3x3 path (multiplier 1, four channels a group): interior, border rows and columns
    Layer("k3_same", (8, 8, 32)),
    Layer("k3_stride2_odd", (9, 7, 12), stride=(2, 2), rounding="single", per_channel=False),
    Layer("k3_stride21", (7, 10, 8), stride=(2, 1), padding="valid", activation="relu"),
    Layer("k3_dilated", (9, 9, 8), dilation=(2, 2), padding=(2, 1, 0, 3)),
    Layer("k3_pads", (6, 5, 4), padding=(2, 0, 1, 2), rounding="single"),
    # dilation along one axis only (the border bounds without and with the division), tiny images
    Layer("k3_dil_w", (7, 9, 8), dilation=(1, 2)),
    Layer("k3_dil_h", (9, 7, 8), dilation=(2, 1), stride=(1, 2)),
    Layer("k3_tiny", (3, 3, 16)),
    Layer("k3_tiny_s2", (6, 6, 16), stride=(2, 2)),
    # channels beyond a multiple of four: a last group overlapping the one before
    Layer("k3_c7", (5, 6, 7), per_channel=False),
    # fewer than four channels: one input channel a group, the tap loop
    Layer("k3_c1", (4, 4, 1), stride=(2, 2)),
    Layer("k3_c2", (12, 12, 2)),
    # windows with no tap inside the input (the bias alone)
    Layer("k3_all_pad", (2, 2, 4), padding=(3, 3, 3, 3)),
    # the tap loop: other filter shapes, dilations, strides
    Layer("k5", (9, 9, 8), kernel=(5, 5), stride=(2, 2)),
    Layer("k2x4_dilated", (8, 9, 12), kernel=(2, 4), dilation=(2, 1), padding=(1, 0, 2, 1), rounding="single"),
    Layer("k1", (4, 4, 8), kernel=(1, 1), padding="valid"),
    Layer("k7x1", (10, 3, 6), kernel=(7, 1)),
    # more taps than the group buffer (64): the plain loop
    Layer("k9_plain", (6, 6, 5), kernel=(9, 9), per_channel=True),
    # channel multipliers: 2 (two input channels a group, an odd count overlapping), 3, 4, 5 (two
    # overlapping groups of an input channel), 8
    Layer("m2", (6, 6, 5), mult=2),
    Layer("m2_k5_single", (7, 6, 4), mult=2, kernel=(5, 5), rounding="single", per_channel=False),
    Layer("m3", (5, 5, 3), mult=3, stride=(2, 2)),
    Layer("m4", (5, 4, 3), mult=4, padding="valid"),
    Layer("m5_dilated", (7, 7, 2), mult=5, dilation=(2, 2)),
    Layer("m8", (4, 4, 2), mult=8, rounding="single"),
    # the general requantization: shifts >= 0 (small weights keep the outputs inside int8), biases
    # past the double rounding's bound, shifts below its range
    Layer("gen_shift", (6, 6, 8), real=0.8, weights=1),
    Layer("gen_shift_single", (6, 6, 8), real=0.8, weights=1, rounding="single", per_channel=False),
    Layer("gen_bias", (6, 6, 8), bias_edge=True),
    Layer("gen_small_scale", (5, 5, 8), real=2.0 ** -24 * 1.2, bias_edge=True, padding="valid"),
    Layer("gen_m2", (5, 5, 3), mult=2, real=0.8, weights=1),
]


# Four outputs: the group's setup (filter pairs and requantizers, once per group) outweighs them.
NOT_FASTER = {"k3_c1"}


@pytest.mark.emulator
def test_layers_that_take_each_path_are_bit_exact_and_faster_than_ref() -> None:
    models = [depthwise_model(layer) for layer in LAYERS]
    dsp = run_bench(models, TARGET, kernels=kernel_variant(str(DSP_DIR)))  # raises unless bit-exact
    ref = run_bench(models, TARGET, kernels=kernel_variant("ref"))
    for layer, d, r in zip(LAYERS, dsp.models, ref.models, strict=True):
        assert d.repeatable and d.layers[0].name == layer.name
        if layer.name not in NOT_FASTER:
            assert d.layers[0].count < r.layers[0].count, (layer.name, d.layers[0].count, r.layers[0].count)


@pytest.mark.emulator
def test_the_suite_depthwise_shape_runs_in_at_most_0_7_of_cmsis_nn() -> None:
    """Kernel suite shape b (3x3, 8x8x32, SAME, per-channel): the goal is 0.8 of CMSIS-NN's count;
    the kernel does 0.59."""
    suite = run_kernel_suite(TARGET, shapes=(get_shape("b"),), kernels=kernel_variant(str(DSP_DIR)))
    assert suite.results[0].ratio <= 0.7, suite.results[0].count


# ------------------------------------------------------------------ the zoo


def ref_counts(model: str) -> dict[str, int]:
    baseline = read_baseline(baseline_path(None, TARGET.name))
    assert baseline is not None
    return {l["name"]: l["count"] for l in baseline["models"][model]["layers"]}


@pytest.mark.emulator
@pytest.mark.parametrize("model", ["kws_dscnn", "mobilenetv1_published", "mobilenetv2_block"])
def test_zoo_depthwise_layers_verify_with_dsp_and_run_faster_than_ref(model: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code = main(["run", model, "--kernels", str(DSP_DIR), "--json", str(out)])
    data = json.loads(out.read_text())
    assert code == 0 and data["match"] is True and data["outcome"] == "verified"
    ref = ref_counts(model)
    depthwise = [layer for layer in data["layers"] if layer["op"] == "depthwise_conv2d"]
    assert depthwise
    for layer in depthwise:
        assert layer["kernels"] == "dsp", layer["name"]
        assert layer["count"] < ref[layer["name"]] / 3, (layer["name"], layer["count"], ref[layer["name"]])


# ------------------------------------------------------------------ host: the one-multiply requantization

REQUANT_CHECK = r"""
#include <stdio.h>
#include "hk_dsp_depthwise.h"

#define HK_TEST_SEED 0x2545F4914F6CDD1Dull
#include "hk_test_draws.h"

static long failures, covered;

/* requantize(acc) + output_offset both ways, where the one-multiply form takes the shift (and, for the
 * double rounding, |acc| < 2^30, the kernel's bound). */
static void check(int32_t acc, int32_t m, int32_t s, int32_t oo)
{
    for (int32_t rounding = 0; rounding <= 1; rounding++) {
        hk_dw_rq q;
        if (!hk_dw_rq_prep(&q, m, s, oo, rounding)) {
            continue;
        }
        if (rounding == HK_ROUND_DOUBLE && (acc >= (1 << 30) || acc <= -(1 << 30))) {
            continue;
        }
        covered++;
        const int32_t want = hk_requantize_rounding(acc, m, s, rounding) + oo;
        const int32_t got = rounding == HK_ROUND_SINGLE ? hk_dw_rq_single(q.lo, q.hi, q.multiplier, q.n, acc)
                                                        : hk_dw_rq_double(q.lo, q.hi, q.multiplier, q.n, acc);
        if (got != want && failures++ < 10) {
            printf("acc=%d multiplier=%d shift=%d oo=%d rounding=%d: %d, want %d\n", acc, m, s, oo, rounding, got,
                   want);
        }
    }
}

int main(void)
{
    for (long i = 0; i < 3000000; i++) {
        int32_t acc;
        switch (next() % 3) {
        case 0: acc = (int32_t)next() >> (next() % 32); break;
        case 1: acc = (int32_t)(next() % 4001) - 2000; break;
        default: acc = (int32_t)next() >> 1; break;
        }
        check(acc, draw_multiplier(), -(int32_t)(next() % 26), (int32_t)(next() % 256) - 128);
    }
    for (int32_t s = -25; s <= 0; s++) { /* values next to every rounding tie */
        for (int32_t k = -2000; k <= 2000; k++) {
            const int32_t base = k * (int32_t)(1u << (-s > 19 ? 19 : -s));
            for (int32_t d = -2; d <= 2; d++) {
                for (int32_t oo = -128; oo <= 127; oo += 51) {
                    check(base + d, 1 << 30, s, oo);
                    check(base + d, INT32_MAX, s, oo);
                    check(base + d, 1, s, oo);
                }
            }
        }
    }
    for (int32_t s = -25; s <= 0; s++) { /* the accumulator bound and the largest products */
        const int32_t edges[] = {(1 << 30) - 1, -(1 << 30) + 1, INT32_MAX, INT32_MIN, INT32_MIN + 1, 0, -1, 1};
        for (unsigned e = 0; e < sizeof edges / sizeof edges[0]; e++) {
            check(edges[e], INT32_MAX, s, 127);
            check(edges[e], INT32_MAX, s, -128);
            check(edges[e], 0, s, -128);
        }
    }
    printf("%ld checked, %ld failures\n", covered, failures);
    return failures != 0 || covered < 1000000;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the host C compiler gcc is not installed")
def test_the_one_multiply_requantization_equals_hk_requant(tmp_path: Path) -> None:
    """hk_dw_rq_double and hk_dw_rq_single (the kernel's asm does the same instructions) against
    hk_requantize_rounding plus the output offset: random values, values next to every rounding tie
    and the accumulator bound, for every shift the form takes; both roundings."""
    source = tmp_path / "check.c"
    source.write_text(REQUANT_CHECK)
    exe = tmp_path / "check"
    kernels = FIRMWARE_DIR / "kernels"
    subprocess.run(["gcc", "-std=c11", "-O2", "-fwrapv", "-Wall", "-Wextra", "-Werror",
                    f"-I{TEST_FIRMWARE}", f"-I{kernels / 'include'}",
                    f"-I{DSP_DIR}", str(source), "-o", str(exe)], check=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout

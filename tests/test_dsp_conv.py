"""The dsp variant's 2-D convolution (harness/firmware/kernels/dsp/hk_conv2d_s8.c): bit-exact under
fuzz and on single layers that take each of its paths (the one-input-channel gather, the gather of
other channel counts not a multiple of four, the direct extension of multiples of four for whole
windows and for windows at the borders, every length of an incomplete last group of taps, odd pixel
and channel counts, more channels than one block of requantizers or one chunk of sums, 1x1 filters
with padding or dilation, every requantization form), faster than ref on each of them and on the
zoo's convolutions, and at or under its aims on the kernel suite's convolution shapes; and its output
stage (hk_dsp_conv.h) equal to hk_requant.h when compiled for the host."""
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
from harness.codegen.scratch import DSP_SIZES
from harness.model import GraphBuilder, Model
from harness.quant import QuantParams, dequantize, f32
from harness.targets import get_target
from harness.zoo import ZOO

TARGET = get_target("stm32f405")
DSP_DIR = FIRMWARE_DIR / "kernels" / "dsp"
INPUT_GRID = QuantParams(f32(0.05), -3)
WEIGHT_SCALE = 0.01

#: The dsp host programs' shared random draws (hk_test_draws.h).
TEST_FIRMWARE = Path(__file__).parent / "firmware"


# ------------------------------------------------------------------ fuzz


# ------------------------------------------------------------------ single layers, path by path


@dataclass(frozen=True)
class Conv:
    """One conv2d layer. gain: the real requantization scale times this (1 keeps the outputs spread
    over int8; >= 0.5 in total gives shifts >= 0). bias_edge: biases near +-2^30."""

    name: str
    shape: tuple[int, int, int]
    filters: int
    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: str | tuple[int, int, int, int] = "same"
    per_channel: bool = True
    rounding: str = "double"
    gain: float = 1.0
    bias_edge: bool = False
    activation: str | None = None
    pointwise: bool = False  # a 1x1 pointwise_conv2d layer (square stride, no padding or dilation)


def conv_model(layer: Conv, seed: int = 0) -> Model:
    """The layer on full-range int8 inputs and weights, its output grid sized to its sums, followed by
    a global average (one value per channel leaves the firmware; the image is checked by CRC)."""
    rng = np.random.default_rng(seed)
    kh, kw = layer.kernel
    taps = kh * kw * layer.shape[2]
    acc_std = 74.0 * 74.0 * math.sqrt(taps)
    scales = (rng.uniform(0.7, 1.4, layer.filters if layer.per_channel else 1) * WEIGHT_SCALE).astype(np.float32)
    if layer.bias_edge:
        near = rng.integers(0, 1 << 16, layer.filters)
        bias = np.where(rng.random(layer.filters) < 0.5, (1 << 30) - near, near - (1 << 30))
    else:
        bias = rng.integers(-int(acc_std), int(acc_std), layer.filters, endpoint=True)
    out_grid = QuantParams(f32(INPUT_GRID.scale * WEIGHT_SCALE * acc_std / 40.0 / layer.gain),
                           int(rng.integers(-20, 21)))
    attrs: dict[str, object] = {"per_channel": layer.per_channel, "rounding": layer.rounding,
                                "stride": layer.stride, "dilation": layer.dilation, "padding": layer.padding}
    if layer.pointwise:
        attrs = {"per_channel": layer.per_channel, "rounding": layer.rounding, "stride": layer.stride[0],
                 "padding": "valid"}
    if layer.activation is not None:
        attrs["activation"] = layer.activation
    b = GraphBuilder(layer.name, layer.shape, INPUT_GRID)
    out = b.add("pointwise_conv2d" if layer.pointwise else "conv2d", "input", name=layer.name, quant=out_grid,
                weights=rng.integers(-127, 127, (layer.filters, kh, kw, layer.shape[2]), endpoint=True), bias=bias,
                weight_scales=scales, **attrs)
    out = b.add("global_avgpool2d", out, name="mean", quant=b.tensors[out].quant)
    q = rng.integers(-128, 127, (2, *layer.shape), endpoint=True).astype(np.int8)
    return Model(b.build(out), dequantize(q, INPUT_GRID), quantized_inputs=q, inputs_note="2 uniform int8 samples")


LAYERS = [
    # one input channel (the kernel suite's shape a): a word per window row, the byte copy at the
    # input's end, an incomplete last group of one tap; borders zero-point filled
    Conv("c1_valid", (20, 20, 1), 8, padding="valid"),
    Conv("c1_same", (20, 20, 1), 8),
    # one channel, rows longer than a word, stride 2, an odd pixel count, per tensor, single rounding
    Conv("c1_k5_s2", (11, 11, 1), 6, kernel=(5, 5), stride=(2, 2), per_channel=False, rounding="single"),
    # two channels (last group of two taps), dilation, asymmetric explicit padding, odd channels
    Conv("c2_dilated", (9, 10, 2), 5, dilation=(2, 2), padding=(2, 1, 0, 3)),
    # three channels (last group of three taps), stride 2 with SAME padding, an activation
    Conv("c3_s2", (16, 16, 3), 16, stride=(2, 2), activation="relu"),
    # three channels, more output channels than the padded filter copy holds (16): the filter as it
    # is, its incomplete last group tap by tap; dilation along the height (the 3x3 word copy)
    Conv("c3_wide", (9, 9, 3), 20, stride=(2, 2)),
    Conv("c3_dil_h", (11, 10, 3), 8, dilation=(2, 1), padding="valid"),
    # three channels, a non-square filter, dilation along the width only (tap by tap), stride (1, 2)
    Conv("c3_k2x3", (7, 12, 3), 7, kernel=(2, 3), stride=(1, 2), dilation=(1, 2), rounding="single"),
    # the kernel suite's shape g: whole windows two at a time, border windows one at a time
    Conv("c16_same", (16, 16, 16), 16),
    # multiples of four: dilation along the width (tap by tap), odd output channels, per tensor
    Conv("c8_dilated_w", (9, 9, 8), 9, dilation=(1, 2), per_channel=False),
    # more output channels than a chunk of sums (16) and a block of requantizers (64), odd
    Conv("c4_wide", (5, 5, 4), 67, padding="valid"),
    # one output pixel
    Conv("c12_one", (3, 3, 12), 6, padding="valid"),
    # 1x1 filters that still reach conv2d: padding, dilation with stride 2, one channel
    Conv("k1_padded", (5, 5, 8), 6, kernel=(1, 1), padding=(1, 0, 2, 1)),
    Conv("k1_strided", (7, 7, 5), 4, kernel=(1, 1), stride=(2, 2), dilation=(2, 2), padding="valid"),
    Conv("k1_c1", (6, 6, 1), 3, kernel=(1, 1), padding=(1, 1, 1, 1), rounding="single"),
    # windows with no tap inside the input (the bias alone)
    Conv("all_pad", (2, 2, 4), 4, kernel=(3, 3), padding=(3, 3, 3, 3)),
    # the general requantization: shifts >= 0, biases past the double rounding's bound
    Conv("gen_shift", (6, 6, 4), 8, gain=3.0),
    Conv("gen_shift_single", (6, 6, 3), 8, gain=3.0, rounding="single", per_channel=False),
    Conv("gen_bias", (6, 6, 1), 8, bias_edge=True),
]


@pytest.mark.emulator
def test_layers_that_take_each_path_are_bit_exact_and_faster_than_ref() -> None:
    models = [conv_model(layer) for layer in LAYERS]
    dsp = run_bench(models, TARGET, kernels=kernel_variant(str(DSP_DIR)))  # raises unless bit-exact
    ref = run_bench(models, TARGET, kernels=kernel_variant("ref"))
    for layer, d, r in zip(LAYERS, dsp.models, ref.models, strict=True):
        assert d.repeatable and d.layers[0].name == layer.name and d.layers[0].op == "conv2d"
        assert d.layers[0].count < r.layers[0].count, (layer.name, d.layers[0].count, r.layers[0].count)


def test_the_scratch_mirror_is_four_or_twenty_two_bytes_a_tap_rounded_up() -> None:
    """4 bytes a tap for C_IN a multiple of four; else 6 for the patches and 16 for up to 16 filter
    rows padded to whole groups."""
    size = DSP_SIZES["hk_conv2d_s8"]
    assert size((20, 20, 1), (3, 3, 1)) == 22 * 12
    assert size((16, 16, 16), (3, 3, 16)) == 4 * 144
    assert size((32, 32, 3), (3, 3, 3)) == 22 * 28
    assert size((5, 5, 2), (1, 1, 2)) == 22 * 4


# pointwise_conv2d layers (hk_pointwise_conv2d_s8.c)
PW_LAYERS = [
    # the convolution's output stage (every shift in range, bounded sums), few input channels
    Conv("pw_small", (8, 8, 8), 16, kernel=(1, 1), pointwise=True),
    # more output channels than a block of requantizers (128), odd; 16 input channels (four groups)
    Conv("pw_rows", (4, 5, 16), 131, kernel=(1, 1), pointwise=True),
    # stride 2: pixels not contiguous, an odd pixel count (the last through the matrix-vector product)
    Conv("pw_stride", (9, 9, 8), 12, kernel=(1, 1), stride=(2, 2), pointwise=True, activation="relu"),
    # hk_dsp_rq_apply: biases near 2^30, shifts >= 0, the single rounding
    Conv("pw_bias_edge", (6, 6, 8), 8, kernel=(1, 1), pointwise=True, bias_edge=True),
    Conv("pw_shift", (6, 6, 12), 8, kernel=(1, 1), pointwise=True, gain=3.0),
    Conv("pw_single", (6, 6, 8), 9, kernel=(1, 1), pointwise=True, rounding="single", per_channel=False),
]


@pytest.mark.emulator
def test_pointwise_layers_that_take_each_output_stage_are_bit_exact_and_faster_than_ref() -> None:
    models = [conv_model(layer) for layer in PW_LAYERS]
    dsp = run_bench(models, TARGET, kernels=kernel_variant(str(DSP_DIR)))  # raises unless bit-exact
    ref = run_bench(models, TARGET, kernels=kernel_variant("ref"))
    for layer, d, r in zip(PW_LAYERS, dsp.models, ref.models, strict=True):
        assert d.repeatable and d.layers[0].name == layer.name and d.layers[0].op == "pointwise_conv2d"
        assert d.layers[0].count < r.layers[0].count, (layer.name, d.layers[0].count, r.layers[0].count)


# ------------------------------------------------------------------ the kernel suite's shapes


@pytest.mark.emulator
def test_the_suite_convolutions_meet_their_aims() -> None:
    """a and a_same at most 0.8 of CMSIS-NN's count, g at least 0.55 multiply-accumulates per
    instruction (icount is exact: the same build gives the same counts)."""
    suite = run_kernel_suite(TARGET, shapes=tuple(get_shape(s) for s in ("a", "a_same", "g")),
                             kernels=kernel_variant("dsp"))
    ratios = {r.shape.id: r.ratio for r in suite.results}
    assert ratios["a"] <= 0.8 and ratios["a_same"] <= 0.8, ratios
    g = next(r for r in suite.results if r.shape.id == "g")
    assert g.macs / g.count >= 0.55, g.count


# ------------------------------------------------------------------ the zoo


def ref_counts(model: str) -> dict[str, tuple[str, int]]:
    baseline = read_baseline(baseline_path(None, TARGET.name))
    assert baseline is not None
    return {l["name"]: (l["op"], l["count"]) for l in baseline["models"][model]["layers"]}


CONV_MODELS = sorted(name for name in ZOO if any(op == "conv2d" for op, _ in ref_counts(name).values()))


def test_the_zoo_has_convolutions() -> None:
    assert {"kws_cnn", "resnet18_block", "ic_resnet8", "vww_mobilenetv1", "kws_dscnn"} <= set(CONV_MODELS)


@pytest.mark.emulator
@pytest.mark.parametrize("model", CONV_MODELS)
def test_a_zoo_model_verifies_with_dsp_and_its_convolutions_are_faster(model: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code = main(["run", model, "--kernels", str(DSP_DIR), "--json", str(out)])
    data = json.loads(out.read_text())
    assert code == 0 and data["match"] is True and data["outcome"] == "verified"
    assert data["build"]["kernel_sources"]["hk_conv2d_s8"] == "dsp"
    ref = ref_counts(model)
    convs = [layer for layer in data["layers"] if layer["op"] == "conv2d"]
    assert convs
    for layer in convs:
        assert layer["kernels"] == "dsp", layer["name"]
        assert layer["count"] < ref[layer["name"]][1], (layer["name"], layer["count"], ref[layer["name"]])


# ------------------------------------------------------------------ host: the output stage

OUTPUT_STAGE_CHECK = r"""
#include <stdio.h>
#include "hk_dsp_conv.h"

#include "hk_test_draws.h"

static long failures, fast;

static void check(int32_t acc, int32_t m, int32_t s, int32_t oo)
{
    for (int32_t rounding = 0; rounding <= 1; rounding++) {
        const hk_dsp_cv_rq q = hk_dsp_cv_rq_prep(m, s, oo, rounding);
        const int32_t want = hk_requantize_rounding(acc, m, s, rounding) + oo;
        const int32_t got = hk_dsp_cv_rq_out(&q, acc, oo, rounding);
        fast += q.n >= 0;
        if (got != want && failures++ < 10) {
            printf("acc=%d m=%d shift=%d oo=%d rounding=%d: %d, want %d\n", acc, m, s, oo, rounding, got, want);
        }
    }
}

int main(void)
{
    for (long i = 0; i < 3000000; i++) {
        const int32_t oo = next() % 4 == 0 ? ((next() & 1) ? 127 : -128) : (int32_t)(next() % 256) - 128;
        check(draw_acc(), draw_multiplier(), (int32_t)(next() % 62) - 31, oo);
    }
    for (int32_t s = HK_SHIFT_MIN; s <= HK_SHIFT_MAX; s++) { /* values next to every rounding tie */
        for (int32_t k = -3000; k <= 3000; k++) {
            const int32_t base = k * (int32_t)(1u << (s < 0 ? (-s > 19 ? 19 : -s) : 0));
            for (int32_t d = -2; d <= 2; d++) {
                check(base + d, 1 << 30, s, -128);
                check(base + d, INT32_MAX, s, 127);
                check(base + d, 1 << 30, s, 5);
            }
        }
    }
    printf("%ld failures, %ld checks of the fast forms\n", failures, fast);
    return failures != 0 || fast == 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the host C compiler gcc is not installed")
def test_the_output_stage_equals_hk_requant(tmp_path: Path) -> None:
    """hk_dsp_cv_rq_out (plain C: the firmware's SMLAL is the compiler's) against hk_requantize_rounding
    plus the output offset, on random and tie-adjacent values, both roundings, every shift, offsets at
    both ends."""
    source = tmp_path / "check.c"
    source.write_text(OUTPUT_STAGE_CHECK)
    exe = tmp_path / "check"
    subprocess.run(["gcc", "-std=c11", "-O2", "-fwrapv", "-Wall", "-Wextra", "-Werror",
                    f"-I{TEST_FIRMWARE}",
                    f"-I{FIRMWARE_DIR / 'kernels' / 'include'}", f"-I{DSP_DIR}", str(source), "-o", str(exe)],
                   check=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout

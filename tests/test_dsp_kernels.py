"""The dsp kernel variant (harness/firmware/kernels/dsp, issue 13) as a whole: every zoo model verifies
bit-exact with it and runs each of its layers in fewer instructions than ref (icount is exact, so the
comparison is deterministic), the other layers unchanged; the fuzzer passes every op with it; its
scratch mirrors equal its C; the dense and 1x1 paths that are less common verify; and the
matrix-vector requantization shortcuts equal hk_requant.h (compiled for the host). Each kernel's own
paths are tested in tests/test_dsp_conv.py, test_dsp_depthwise.py and test_dsp_elementwise.py."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.bench.baseline import baseline_path, read_baseline
from harness.bench.measure import run_bench
from harness.build import FIRMWARE_DIR, kernel_variant
from harness.cli import main
from harness.fuzz import run_fuzz
from harness.fuzz.cases import GENERATORS
from harness.model import GraphBuilder, Model
from harness.quant import QuantParams, dequantize, f32
from harness.targets import get_target
from harness.zoo import ZOO

TARGET = get_target("stm32f405")
DSP_DIR = FIRMWARE_DIR / "kernels" / "dsp"
DSP_OPS = ("dense", "pointwise_conv2d", "conv2d", "depthwise_conv2d", "add", "maxpool2d", "avgpool2d",
           "global_avgpool2d")
DSP_FUNCTIONS = {"hk_fully_connected_s8", "hk_fully_connected_s8_get_buffer_size", "hk_pointwise_conv2d_s8",
                 "hk_pointwise_conv2d_s8_get_buffer_size", "hk_mat_vec_s8", "hk_conv2d_s8",
                 "hk_conv2d_s8_get_buffer_size", "hk_depthwise_conv2d_s8", "hk_depthwise_conv2d_s8_get_buffer_size",
                 "hk_add_s8", "hk_maxpool2d_s8", "hk_avgpool2d_s8", "hk_global_avgpool2d_s8"}

#: The dsp host programs' shared random draws (hk_test_draws.h).
TEST_FIRMWARE = Path(__file__).parent / "firmware"


def ref_layers() -> dict[str, list[dict[str, object]]]:
    """Each zoo model's ref counts per layer, as the committed baseline records them."""
    baseline = read_baseline(baseline_path(None, TARGET.name))
    assert baseline is not None
    return {name: baseline["models"][name]["layers"] for name in ZOO if name in baseline["models"]}


REF = ref_layers()
MODELS = sorted(name for name, layers in REF.items() if any(l["op"] in DSP_OPS for l in layers))


def test_the_zoo_has_models_for_the_dsp_layers() -> None:
    assert set(ZOO) == set(MODELS)  # every zoo model has a layer the dsp variant runs


@pytest.mark.emulator
@pytest.mark.parametrize("model", MODELS)
def test_a_zoo_model_verifies_with_dsp_and_its_dsp_layers_are_faster(model: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code = main(["run", model, "--kernels", "dsp", "--json", str(out)])
    data = json.loads(out.read_text())
    assert code == 0 and data["match"] is True and data["outcome"] == "verified"
    assert {f for f, source in data["build"]["kernel_sources"].items() if source == "dsp"} <= DSP_FUNCTIONS
    faster = 0
    for layer, ref in zip(data["layers"], REF[model], strict=True):
        assert (layer["name"], layer["op"]) == (ref["name"], ref["op"])
        if layer["op"] in DSP_OPS:
            assert layer["kernels"] == "dsp", layer["name"]
            assert layer["count"] < ref["count"], (layer["name"], layer["count"], ref["count"])
            faster += 1
        else:  # the same ref code (or none, for a reshape) on the same data: the same count
            assert layer["kernels"] in ("ref", None) and layer["count"] == ref["count"], layer["name"]
    assert faster > 0


# ------------------------------------------------------------------ the less common paths


def single_layer(name: str, op: str, input_shape: tuple[int, ...], outputs: int, per_channel: bool,
                 rounding: str, stride: int = 1, seed: int = 0) -> Model:
    """One dense or 1x1 layer with full-range int8 inputs and weights (symmetric, as TFLite's are), its
    output grid sized to its sums."""
    rng = np.random.default_rng(seed)
    grid = QuantParams(f32(0.05), -3)
    taps = input_shape[-1] if op == "pointwise_conv2d" else math.prod(input_shape)
    wshape = (outputs, 1, 1, taps) if op == "pointwise_conv2d" else (outputs, taps)
    acc_std = 74.0 * 74.0 * math.sqrt(taps)
    scales = (rng.uniform(0.7, 1.4, outputs if per_channel else 1) * 0.01).astype(np.float32)
    attrs: dict[str, object] = {"per_channel": per_channel, "rounding": rounding}
    if op == "pointwise_conv2d":
        attrs.update(stride=stride, padding="valid")
    b = GraphBuilder(name, input_shape, grid)
    out_grid = QuantParams(f32(0.05 * 0.01 * acc_std / 40.0), int(rng.integers(-20, 21)))
    out = b.add(op, "input", name=name, quant=out_grid, weights=rng.integers(-127, 127, wshape, endpoint=True),
                bias=rng.integers(-int(acc_std), int(acc_std), outputs, endpoint=True), weight_scales=scales, **attrs)
    if op == "pointwise_conv2d":  # one value per channel leaves the firmware (the image is checked by CRC)
        out = b.add("global_avgpool2d", out, name="mean", quant=b.tensors[out].quant)
    q = rng.integers(-128, 127, (2, *input_shape), endpoint=True).astype(np.int8)
    return Model(b.build(out), dequantize(q, grid), quantized_inputs=q, inputs_note="2 uniform int8 samples")


EDGE_SHAPES = [
    # more input channels than the pixel-pair buffer holds (256): the matrix-vector product per pixel,
    # with an odd number of pixels and channels not a multiple of four
    ("pw_wide", "pointwise_conv2d", (3, 3, 262), 19, True, "double", 1),
    # at the buffer's limit, strided, more output channels than one block of requantizers (16), odd
    ("pw_full", "pointwise_conv2d", (5, 5, 256), 37, True, "single", 2),
    # odd channel counts: every filter row unaligned, a last odd row, a last odd pixel
    ("pw_odd", "pointwise_conv2d", (3, 5, 7), 5, False, "double", 1),
    # longer than one chunk of columns (512), unaligned rows, several blocks of rows (32) and a last odd one
    ("fc_long_odd", "dense", (1030,), 67, True, "single", 1),
    # longer than one chunk, aligned, per-tensor, double rounding
    ("fc_long", "dense", (1536,), 34, False, "double", 1),
    # a single input, a single output
    ("fc_one", "dense", (1,), 1, False, "single", 1),
]


@pytest.mark.emulator
def test_shapes_that_take_the_less_common_paths_verify() -> None:
    models = [single_layer(*shape[:6], stride=shape[6]) for shape in EDGE_SHAPES]
    report = run_bench(models, TARGET, kernels=kernel_variant(str(DSP_DIR)))  # raises unless bit-exact
    for shape, bench in zip(EDGE_SHAPES, report.models, strict=True):
        assert bench.repeatable and bench.layers[0].name == shape[0]


# ------------------------------------------------------------------ host: the requantization shortcuts

REQUANT_CHECK = r"""
#include <stdio.h>
#include "hk_dsp_mac.h"

#include "hk_test_draws.h"

static long failures;

static void check(int32_t acc, int32_t m, int32_t s)
{
    for (int32_t rounding = 0; rounding <= 1; rounding++) {
        const hk_dsp_rq q = hk_dsp_rq_prep(m, s, rounding);
        const int32_t want = hk_requantize_rounding(acc, m, s, rounding);
        const int32_t got = hk_dsp_rq_apply(&q, acc, rounding);
        if (got != want && failures++ < 10) {
            printf("acc=%d multiplier=%d shift=%d rounding=%d: %d, want %d\n", acc, m, s, rounding, got, want);
        }
    }
}

int main(void)
{
    for (long i = 0; i < 2000000; i++) {
        check(draw_acc(), draw_multiplier(), (int32_t)(next() % 62) - 31);
    }
    for (int32_t s = HK_SHIFT_MIN; s <= HK_SHIFT_MAX; s++) { /* values next to every rounding tie */
        for (int32_t k = -3000; k <= 3000; k++) {
            const int32_t base = k * (int32_t)(1u << (s < 0 ? (-s > 19 ? 19 : -s) : 0));
            for (int32_t d = -2; d <= 2; d++) {
                check(base + d, 1 << 30, s);
                check(base + d, INT32_MAX, s);
            }
        }
    }
    printf("%ld failures\n", failures);
    return failures != 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the host C compiler gcc is not installed")
def test_the_requantization_shortcuts_equal_hk_requant(tmp_path: Path) -> None:
    """hk_dsp_rq_apply (its portable form: the firmware differs only in computing SMMULR with the
    instruction) against hk_requantize_rounding on random and tie-adjacent values, both roundings,
    every shift."""
    source = tmp_path / "check.c"
    source.write_text(REQUANT_CHECK)
    exe = tmp_path / "check"
    kernels = FIRMWARE_DIR / "kernels"
    subprocess.run(["gcc", "-std=c11", "-O2", "-fwrapv", "-Wall", "-Wextra", "-Werror",
                    f"-I{TEST_FIRMWARE}", f"-I{kernels / 'include'}",
                    f"-I{DSP_DIR}", str(source), "-o", str(exe)], check=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


#: Fuzz runs in `make test`: every op at two seeds, and more cases of each dsp kernel's op.
FUZZ_RUNS = [(tuple(sorted(GENERATORS)), 40, seed) for seed in (26, 27)] + [
    (("conv2d",), 250, seed) for seed in (103, 104, 105, 106)] + [
    (("depthwise_conv2d",), 250, seed) for seed in (11, 12, 13, 14)] + [
    (("add", "avgpool2d", "global_avgpool2d", "maxpool2d"), 250, seed) for seed in (31, 32, 33)]


@pytest.mark.emulator
@pytest.mark.parametrize("ops, cases, seed", FUZZ_RUNS, ids=[f"{len(r[0])}ops-{r[2]}" for r in FUZZ_RUNS])
def test_fuzz_is_bit_exact_with_the_dsp_kernels(ops: tuple[str, ...], cases: int, seed: int) -> None:
    """The fuzzer's edge-biased cases, on the emulator, with `--kernels dsp`: bit-exact."""
    report = run_fuzz(list(ops), cases, seed, TARGET, kernels=kernel_variant("dsp"))
    assert report.failed == 0, [f.command() for f in report.failures]
    assert report.passed == cases * len(ops)


@pytest.mark.parametrize("compiler, flags", [("gcc", ()), ("arm-none-eabi-gcc", ("-mcpu=cortex-m3", "-mthumb"))])
def test_the_dsp_files_build_without_the_dsp_extension(compiler: str, flags: tuple[str, ...]) -> None:
    """Every dsp file has a portable path: it compiles warning-free where __ARM_FEATURE_DSP is not
    defined (the host, a Cortex-M3), as a core without the extension would build it."""
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    kernels = FIRMWARE_DIR / "kernels"
    for source in sorted(DSP_DIR.glob("*.c")):
        subprocess.run([compiler, *flags, "-fsyntax-only", "-std=c11", "-fwrapv", "-Wall", "-Wextra", "-Werror",
                        f"-I{kernels / 'include'}", f"-I{kernels / 'src'}", str(source)], check=True)

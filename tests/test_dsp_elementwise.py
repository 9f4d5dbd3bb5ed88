"""The dsp variant's elementwise add and pooling kernels (harness/firmware/kernels/dsp: hk_add_s8.c,
hk_maxpool2d_s8.c, hk_avgpool2d_s8.c, hk_global_avgpool2d_s8.c, hk_dsp_simd.h): bit-exact under fuzz
and on single layers that take each of their paths (the add's tables, its direct loop and its general
forms; pooling windows clipped or whole, two taps wide or not, eight, four and single channels,
windows and images past what a 16-bit lane sums), faster than ref on the zoo's layers and within the
kernel suite's goals, and the add equal to the ref add when both are compiled for the host, on every
pair of int8 inputs for thousands of parameter sets."""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.bench.baseline import baseline_path, read_baseline
from harness.bench.kernel_suite import get_shape, run_kernel_suite
from harness.build import FIRMWARE_DIR, ScratchBuilder, kernel_variant
from harness.cli import main
from harness.fuzz.cases import KernelCase, build_case
from harness.fuzz.runner import SUITE_FLAGS, EmulatorOracle
from harness.model.constants import LayerConstants, add_requantizers
from harness.quant import INT32_MAX, QuantParams, f32
from harness.targets import get_target

TARGET = get_target("stm32f405")
DSP_DIR = FIRMWARE_DIR / "kernels" / "dsp"
DSP = kernel_variant("dsp")
OPS = ("add", "maxpool2d", "avgpool2d", "global_avgpool2d")
FILES = {"hk_add_s8.c": "hk_add_s8", "hk_maxpool2d_s8.c": "hk_maxpool2d_s8",
         "hk_avgpool2d_s8.c": "hk_avgpool2d_s8", "hk_global_avgpool2d_s8.c": "hk_global_avgpool2d_s8"}

#: The dsp host programs' shared random draws (hk_test_draws.h).
TEST_FIRMWARE = Path(__file__).parent / "firmware"


# ------------------------------------------------------------------ fuzz


# ------------------------------------------------------------------ single layers, path by path


def add_case(name: str, shape: tuple[int, int, int], requant: tuple[tuple[int, int], ...] | None = None,
             zps: tuple[int, int, int] = (-3, 10, -5), act: tuple[int, int] = (-128, 127), data: str = "uniform",
             seed: int = 0) -> KernelCase:
    """An add with the given (multiplier, shift) of input 1, input 2 and the output, or TFLite's for
    scales 0.05, 0.08 and 0.1 when None; inputs drawn uniformly (data "uniform") or at the extremes."""
    if requant is None:
        mult, shift = add_requantizers(QuantParams(f32(0.05), 0), QuantParams(f32(0.08), 0), QuantParams(f32(0.1), 0))
    else:
        mult, shift = np.array([m for m, _ in requant]), np.array([s for _, s in requant])
    base = build_case("add", {"h": shape[0], "w": shape[1], "c": shape[2], "focus": "none", "in_zp": zps[0],
                              "in2_zp": zps[1], "out_zp": zps[2], "data": data, "data2": data, "act": "none",
                              "requant": "auto", "bias": "small", "seed": seed})
    constants = LayerConstants(zps[0], zps[2], act[0], act[1], mult.astype(np.int64), shift.astype(np.int64),
                               input2_zp=zps[1])
    config = {**base.config, "name": name, "explicit": [[int(m), int(s)] for m, s in zip(mult, shift)],
              "bounds": list(act)}
    return dataclasses.replace(base, config=config, constants=constants)


def pool_case(op: str, shape: tuple[int, int, int], pool: tuple[int, int] = (1, 1), stride: tuple[int, int] = (1, 1),
              padding: str | list[int] = "valid", act: str = "none", data: str = "uniform", fill: int | None = None,
              seed: int = 0) -> KernelCase:
    """A pooling layer as the fuzzer builds it; fill: every input value this one instead (the largest
    sums a lane must hold)."""
    config: dict[str, Any] = {"h": shape[0], "w": shape[1], "c": shape[2], "focus": "none", "in_zp": 5,
                              "out_zp": 5, "data": data, "act": act, "requant": "auto", "bias": "small", "seed": seed}
    if op != "global_avgpool2d":
        config.update(ph=pool[0], pw=pool[1], sh=stride[0], sw=stride[1],
                      padding=padding if isinstance(padding, str) else "explicit",
                      pads=None if isinstance(padding, str) else padding)
    case = build_case(op, config)
    if fill is None:
        return case
    return dataclasses.replace(case, config={**case.config, "fill": fill}, inputs=[np.full(shape, fill, np.int8)])


BIG = INT32_MAX - 17
CASES = [
    # add: the tables and the four-at-a-time loop, unclamped and clamped, with a tail of 1 and 3
    add_case("add_tables", (8, 8, 8)),
    add_case("add_tables_relu_tail1", (9, 9, 5), act=(-5, 127)),
    add_case("add_tables_clamp_tail3", (7, 7, 3), act=(-20, 90), zps=(128 - 256, 127, 0)),
    add_case("add_tables_extremes", (8, 8, 4), zps=(-128, 127, -128), data="extreme"),
    add_case("add_tables_big_mult", (8, 8, 4), requant=((BIG, -1), (BIG, -1), (BIG, -20))),
    add_case("add_tables_tiny_mult", (8, 8, 4), requant=((3, 0), (1 << 30, -2), (7, -1))),
    # add: the direct loop (fewer elements than the tables repay), and a single element
    add_case("add_direct", (4, 5, 3)),
    add_case("add_direct_clamp", (2, 3, 7), act=(-7, 60), zps=(-128, 0, 127)),
    add_case("add_one", (1, 1, 1)),
    # add: the general output stage (n3 = 0; a shift whose offset term leaves int32), tables and not
    add_case("add_out_shift0_tables", (16, 16, 1), requant=((1 << 30, 0), (BIG, -1), (123456789, 0))),
    add_case("add_out_left_direct", (5, 5, 2), requant=((1 << 30, 0), (BIG, -1), (BIG, 3))),
    add_case("add_out_n27_tables", (8, 8, 4), requant=((1 << 30, 0), (BIG, -1), (BIG, -27)), zps=(0, 0, 100)),
    # add: input shifts > 0, whose shifted operands wrap (the reference's own arithmetic per entry)
    add_case("add_in_wrap_tables", (10, 10, 3), requant=((BIG, 5), (1 << 30, 2), (BIG, -25))),
    add_case("add_in_wrap_direct", (3, 3, 3), requant=((987654321, 9), (BIG, 1), (BIG, -29))),
    # max pool: 2x2 windows (two taps a row), clipped windows, 8 + 4 + 1 channels, 1x1, strides
    pool_case("maxpool2d", (18, 18, 8), (2, 2), (2, 2)),
    pool_case("maxpool2d", (9, 11, 13), (3, 3), (2, 2), "same", act="random"),
    pool_case("maxpool2d", (5, 7, 12), (2, 3), (1, 3), [1, 0, 2, 1], act="relu"),
    pool_case("maxpool2d", (4, 9, 16), (2, 2), (2, 2), [1, 1, 1, 1], data="extreme"),
    pool_case("maxpool2d", (3, 3, 3), (3, 3), (1, 1), "same", data="min"),
    pool_case("maxpool2d", (6, 6, 4), (1, 1), (1, 1), act="relu6"),
    pool_case("maxpool2d", (1, 1, 9), (1, 1), (1, 1)),
    # average pool: lanes, the scalar loop past 256 taps, exactly 256 taps at the extremes, corners
    pool_case("avgpool2d", (8, 8, 8), (2, 2), (2, 2)),
    pool_case("avgpool2d", (9, 11, 13), (3, 3), (2, 2), "same", act="relu"),
    pool_case("avgpool2d", (17, 17, 6), (17, 17), (1, 1)),
    pool_case("avgpool2d", (17, 17, 8), (17, 17), (1, 1), fill=-128),
    pool_case("avgpool2d", (16, 16, 12), (16, 16), (1, 1), fill=-128),
    pool_case("avgpool2d", (16, 16, 8), (16, 16), (1, 1), fill=127),
    pool_case("avgpool2d", (16, 16, 8), (16, 16), (1, 1), data="extreme"),
    pool_case("avgpool2d", (5, 5, 5), (4, 4), (1, 1), [3, 3, 3, 3], act="random"),
    pool_case("avgpool2d", (25, 5, 20), (25, 5), (1, 1), data="near_zero_point"),
    # global average pool: eight channels a pass, more than 256 pixels (32-bit sums every 256)
    pool_case("global_avgpool2d", (16, 16, 16), fill=-128),
    pool_case("global_avgpool2d", (16, 16, 8), fill=127),
    pool_case("global_avgpool2d", (20, 20, 13), data="extreme"),
    pool_case("global_avgpool2d", (23, 23, 4), fill=-128),
    pool_case("global_avgpool2d", (23, 23, 5), fill=127),
    pool_case("global_avgpool2d", (7, 7, 9)),
    pool_case("global_avgpool2d", (1, 1, 5)),
]


@pytest.mark.emulator
def test_layers_that_take_each_path_are_bit_exact() -> None:
    with ScratchBuilder(TARGET, SUITE_FLAGS, kernels=DSP) as builder:
        outcomes, _ = EmulatorOracle(builder, "qemu", 120).run(CASES)
    assert len(outcomes) == len(CASES)
    assert [o.case.config_json() for o in outcomes if not o.ok] == []


# ------------------------------------------------------------------ the zoo and the kernel suite


def ref_counts(model: str) -> dict[str, int]:
    baseline = read_baseline(baseline_path(None, TARGET.name))
    assert baseline is not None
    return {l["name"]: l["count"] for l in baseline["models"][model]["layers"]}


@pytest.mark.emulator
@pytest.mark.parametrize("model", ["kws_cnn", "resnet18_block", "mobilenetv2_block", "kws_dscnn", "ic_resnet8"])
def test_zoo_add_and_pooling_layers_verify_with_dsp_and_run_faster_than_ref(model: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code = main(["run", model, "--kernels", "dsp", "--json", str(out)])
    data = json.loads(out.read_text())
    assert code == 0 and data["match"] is True and data["outcome"] == "verified"
    ref = ref_counts(model)
    layers = [layer for layer in data["layers"] if layer["op"] in OPS]
    assert layers
    for layer in layers:
        assert layer["kernels"] == "dsp", layer["name"]
        assert layer["count"] < ref[layer["name"]] / 2, (layer["name"], layer["count"], ref[layer["name"]])


@pytest.mark.emulator
def test_the_kernel_suite_shapes_are_within_the_goal() -> None:
    """Add (e), max pool (f1) and global average pool (f2) at or below 0.8 of CMSIS-NN's count."""
    suite = run_kernel_suite(TARGET, shapes=tuple(get_shape(s) for s in ("e", "f1", "f2")), kernels=DSP)
    assert suite.variant == "dsp"
    for result in suite.results:
        assert result.ratio <= 0.8, (result.shape.id, result.count, result.shape.cmsis_nn)


# ------------------------------------------------------------------ host: the add against the ref add

ADD_CHECK = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hk_nn.h"
#include "hk_requant.h"

hk_status ref_hk_add_s8(const hk_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                        int8_t *output);

#include "hk_test_draws.h"

static int8_t in1[65536], in2[65536], want[65536], got[65536];

int main(void)
{
    long failures = 0;
    for (int32_t i = 0; i < 65536; i++) { /* every pair (q1, q2) once */
        in1[i] = (int8_t)(i & 255);
        in2[i] = (int8_t)(i >> 8);
    }
    for (long t = 0; t < 4000; t++) {
        /* two thirds as TFLite sets them (left shift 20, input shifts 0 to -2), a third anywhere the
         * checks allow: every shift, left shifts 0..23, wrapping operands */
        const int tflite = next() % 3 != 0;
        hk_add_params p;
        p.input1_offset = (int32_t)(next() % 256) - 127;
        p.input2_offset = (int32_t)(next() % 256) - 127;
        p.output_offset = (int32_t)(next() % 256) - 128;
        p.input1_multiplier = draw_multiplier();
        p.input2_multiplier = draw_multiplier();
        p.output_multiplier = draw_multiplier();
        p.input1_shift = tflite ? -(int32_t)(next() % 3) : (int32_t)(next() % 62) - 31;
        p.input2_shift = tflite ? -(int32_t)(next() % 3) : (int32_t)(next() % 62) - 31;
        p.output_shift = tflite ? -(int32_t)(next() % 32) : (int32_t)(next() % 62) - 31;
        p.left_shift = tflite ? 20 : (int32_t)(next() % 24);
        int32_t lo = -128, hi = 127;
        if (next() % 2) {
            lo = (int32_t)(next() % 256) - 128;
            hi = (int32_t)(next() % 256) - 128;
            if (lo > hi) {
                const int32_t x = lo;
                lo = hi;
                hi = x;
            }
        }
        p.activation.min = lo;
        p.activation.max = hi;
        /* mostly all 65536 pairs (the tables); else a short run (the direct loop) */
        const int32_t size = next() % 4 ? 65536 : (int32_t)(next() % 400) + 1;
        const int32_t start = size == 65536 ? 0 : (int32_t)(next() % (uint32_t)(65536 - size));
        ref_hk_add_s8(&p, size, in1 + start, in2 + start, want);
        hk_add_s8(&p, size, in1 + start, in2 + start, got);
        if (memcmp(want, got, (size_t)size) != 0 && failures++ < 10) {
            int32_t k = 0;
            while (want[k] == got[k]) {
                k++;
            }
            printf("offsets %d %d %d multipliers %d %d %d shifts %d %d %d left %d act %d %d size %d: "
                   "q %d %d gives %d, want %d\n", p.input1_offset, p.input2_offset, p.output_offset,
                   p.input1_multiplier, p.input2_multiplier, p.output_multiplier, p.input1_shift,
                   p.input2_shift, p.output_shift, p.left_shift, lo, hi, size, in1[start + k], in2[start + k],
                   got[k], want[k]);
        }
    }
    printf("%ld failures\n", failures);
    return failures != 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the host C compiler gcc is not installed")
def test_the_dsp_add_equals_the_ref_add_on_every_input_pair(tmp_path: Path) -> None:
    """hk_add_s8.c of the dsp variant compiled for the host (its tables, direct loop and general forms;
    SMMLAR in C, the firmware does the same with the instruction) against the ref kernel: every one of
    the 65536 input pairs for each of 4000 parameter sets, and short runs of them."""
    source = tmp_path / "check.c"
    source.write_text(ADD_CHECK)
    kernels = FIRMWARE_DIR / "kernels"
    flags = ["-std=c11", "-O2", "-fwrapv", "-Wall", "-Wextra", "-Werror", f"-I{TEST_FIRMWARE}",
             f"-I{kernels / 'include'}", f"-I{kernels / 'src'}", f"-I{DSP_DIR}"]
    ref_obj, dsp_obj, exe = tmp_path / "ref.o", tmp_path / "dsp.o", tmp_path / "check"
    subprocess.run(["gcc", *flags, "-DHK_WEAK=", "-Dhk_add_s8=ref_hk_add_s8", "-c",
                    str(kernels / "src" / "hk_add_s8.c"), "-o", str(ref_obj)], check=True)
    subprocess.run(["gcc", *flags, "-c", str(DSP_DIR / "hk_add_s8.c"), "-o", str(dsp_obj)], check=True)
    subprocess.run(["gcc", *flags, str(source), str(ref_obj), str(dsp_obj), "-o", str(exe)], check=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


# ------------------------------------------------------------------ the objects

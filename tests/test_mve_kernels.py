"""The mve kernel variant (harness/firmware/kernels/mve: Cortex-M55 Helium kernels) as a whole: the
fuzzer's edge-biased cases are bit-exact with it on the mps3-an547 (a Cortex-M55 with MVE, under
QEMU) for every op it replaces; a zoo model verifies with it; the folder builds warning-free where
there is no MVE (the host, a Cortex-M4: the portable paths) and with it. (That each file defines
only kernel API functions and no data, and that its scratch mirrors equal its C, is
tests/test_shipped_variants.py's, for every shipped variant.)"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.bench.kernel_suite import get_shape, run_kernel_suite
from harness.build import FIRMWARE_DIR, kernel_variant
from harness.build.variants import SHIPPED
from harness.cli import main
from harness.codegen.scratch import MVE_SIZES, SCRATCH
from harness.fuzz import run_fuzz
from harness.targets import get_target

TARGET = get_target("mps3-an547")
KERNELS = FIRMWARE_DIR / "kernels"
MVE_DIR = KERNELS / "mve"
MVE_FLAGS = ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard")
#: The ops whose kernels the mve variant replaces.
MVE_OPS = ("conv2d", "depthwise_conv2d", "pointwise_conv2d", "dense", "add", "maxpool2d", "avgpool2d",
           "global_avgpool2d")

needs_emulator = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="the Arm toolchain or qemu-system-arm is not installed")
needs_arm_gcc = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                   reason="the Arm toolchain is not installed")


def test_mve_is_a_shipped_variant_with_its_scratch_table() -> None:
    assert SHIPPED["mve"] == MVE_DIR
    assert SCRATCH["mve"] is MVE_SIZES
    variant = kernel_variant("mve")
    assert variant.shipped and variant.scratch_table == "mve"


#: Fuzz runs: each op at three fixed seeds (the fuzzer biases its draws towards the edges: -128
#: inputs, extreme zero points, multipliers near 2^31 and tiny, every shift, both roundings).
FUZZ_RUNS = [(op, seed) for op in MVE_OPS for seed in (1, 2, 3)]


@needs_emulator
@pytest.mark.emulator
@pytest.mark.parametrize("op, seed", FUZZ_RUNS, ids=[f"{op}-{seed}" for op, seed in FUZZ_RUNS])
def test_fuzz_is_bit_exact_with_the_mve_kernels(op: str, seed: int) -> None:
    report = run_fuzz([op], 250, seed, TARGET, kernels=kernel_variant("mve"))
    assert report.failed == 0, [f.command() for f in report.failures]
    assert report.passed == 250


@needs_emulator
@pytest.mark.emulator
def test_a_zoo_model_verifies_with_mve(tmp_path: Path) -> None:
    """kws_cnn has a conv2d, a depthwise, a pointwise and a dense layer: each runs on mve, bit-exact."""
    out = tmp_path / "run.json"
    code = main(["run", "kws_cnn", "--target", TARGET.name, "--kernels", "mve", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["match"] is True
    assert code == 0 or data["outcome"] != "verified"  # (a missing golden file is an input problem, not ours)
    ran = {layer["op"] for layer in data["layers"] if layer["kernels"] == "mve"}
    assert {"conv2d", "depthwise_conv2d", "pointwise_conv2d", "dense"} <= ran


@pytest.mark.parametrize("compiler, flags", [("gcc", ()), ("arm-none-eabi-gcc", ("-mcpu=cortex-m4", "-mthumb")),
                                             ("arm-none-eabi-gcc", MVE_FLAGS)])
def test_the_mve_files_build_warning_free(compiler: str, flags: tuple[str, ...]) -> None:
    """Every mve file compiles warning-free without MVE (the host, a Cortex-M4: its portable paths) and
    with it (a Cortex-M55)."""
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    sources = sorted(MVE_DIR.glob("*.c"))
    assert sources
    for source in sources:
        subprocess.run([compiler, *flags, "-fsyntax-only", "-O2", "-std=c11", "-fwrapv", "-Wall", "-Wextra", "-Werror",
                        f"-I{KERNELS / 'include'}", f"-I{KERNELS / 'src'}", str(source)], check=True)


@needs_emulator
@pytest.mark.emulator
def test_the_suite_shapes_run_below_cmsis_nns_mve_figures() -> None:
    """The issue's bar on the Cortex-M55: conv (a, g) and dense (d2) below CMSIS-NN's MVE figures, and
    every other shape with a figure too (b at 0.99x and f2 at 0.97x are the closest). The counts are
    exact, so the margins are as measured; CMSIS-NN's are approximate (1/31 resolution)."""
    shapes = tuple(get_shape(s) for s in ("a", "b", "c1", "c2", "d2", "e", "f1", "f2", "g"))
    suite = run_kernel_suite(TARGET, shapes=shapes, kernels=kernel_variant("mve"))
    assert suite.core == "cortex-m55" and suite.variant == "mve"
    ratios = {r.shape.id: r.ratio for r in suite.results}
    assert all(r is not None and r < 1.0 for r in ratios.values()), ratios
    assert ratios["a"] < 0.8 and ratios["g"] < 0.8 and ratios["d2"] < 0.6, ratios

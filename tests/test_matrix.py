"""The Cortex-M matrix (issue 14): every target of the table runs the zoo models that fit it, verified
bit-exact, with counts that repeat exactly and match that target's baseline; golden files are the
same on every core; a model too large for a board is that board's verdict, in one line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.bench import run_bench
from harness.bench.baseline import baseline_path, compare
from harness.build import ToolchainMissing, variant_for
from harness.cli import main
from harness.errors import EXIT_FIRMWARE, EXIT_VERIFIED, Problem
from harness.fuzz import run_fuzz
from harness.fuzz.cases import GENERATORS
from harness.matrix import MatrixRow, matrix_exit_code, matrix_targets
from harness.targets import TARGETS, get_target
from harness.verify.golden import golden_path
from harness.zoo import ZOO

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "harness" / "golden"
#: The board every golden file was first written for; the others must say the same.
FIRST = "stm32f405"


def fitting_models(target: str) -> list[str]:
    """The zoo models with a golden file for `target`: `harness golden` writes one only where the
    model fits and verifies."""
    return [m for m in ZOO if golden_path(m, target).is_file()]


def data_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_every_target_is_a_row_with_what_a_build_and_an_emulator_need() -> None:
    cores = {t.core for t in TARGETS.values()}
    assert {"cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"} <= cores
    firmware = Path(__file__).resolve().parents[1] / "harness" / "firmware" / "platform"
    for t in TARGETS.values():
        assert (firmware / t.platform).is_dir(), t.name
        assert f"-mcpu={t.core}" in t.cpu_flags and t.qemu_machine and t.qemu_counter in ("icount", "plugin")
        assert t.flash.size > 0 and t.ram.size > t.stack_bytes


def test_golden_files_are_the_same_on_every_core() -> None:
    """The logits do not depend on the core: each model's golden file for any target holds the very
    lines of its first target's, only the header naming the target differs."""
    compared = 0
    for model_dir in sorted(p for p in GOLDEN_DIR.iterdir() if (p / f"{FIRST}.txt").is_file()):
        first = data_lines(model_dir / f"{FIRST}.txt")
        for other in sorted(model_dir.glob("*.txt")):
            assert data_lines(other) == first, other
            assert f"target: {other.stem} " in other.read_text(), other
            compared += other.stem != FIRST
    assert compared >= 50


def test_every_zoo_model_has_a_golden_file_wherever_it_fits() -> None:
    """What the table below runs: the zoo on every target but where a model is too large (the
    micro:bit's 16 KiB of RAM)."""
    for target in TARGETS:
        missing = [m for m in ZOO if m not in fitting_models(target)]
        assert missing == [] or target == "microbit", (target, missing)
    assert {"xor_mlp", "kws_cnn"} <= set(fitting_models("microbit"))


def test_targets_are_named_all_or_by_list() -> None:
    assert [t.name for t in matrix_targets("all")] == list(TARGETS)
    assert [t.name for t in matrix_targets("microbit, mps2-an386,microbit")] == ["microbit", "mps2-an386"]
    with pytest.raises(KeyError, match="unknown target 'mps9'"):
        matrix_targets("mps9")


def test_a_board_too_small_is_a_row_and_not_a_failure_of_the_matrix() -> None:
    small = MatrixRow(get_target("microbit"), None, Problem("fit", "m does not fit microbit (RAM by 1680 bytes): ..."),
                      1.0)
    fine = MatrixRow(get_target("stm32f405"), None, None, 1.0)
    broken = MatrixRow(get_target("mps2-an386"), None, Problem("differs", "logit 3 differs"), 1.0)
    assert small.verdict == "does not fit (RAM by 1680 bytes)" and not small.fits
    assert matrix_exit_code([small, fine]) == EXIT_VERIFIED
    assert matrix_exit_code([small, fine, broken]) == EXIT_FIRMWARE
    assert matrix_exit_code([small]) == EXIT_FIRMWARE  # it fits nowhere: nothing was verified
    assert small.to_json()["verdict"] == "does not fit (RAM by 1680 bytes)"


@pytest.mark.emulator
def test_a_model_that_does_not_fit_says_by_how_much_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["run", "vww_mobilenetv1", "--target", "microbit"])
    except ToolchainMissing as e:
        pytest.skip(str(e))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_FIRMWARE
    assert "does not fit microbit (FLASH by " in err[-1] and " bytes, RAM by " in err[-1], err
    assert "Traceback" not in "\n".join(err)


@pytest.mark.emulator
def test_the_matrix_runs_a_model_on_every_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "matrix.json"
    code = main(["matrix", "kws_cnn", "--json", str(out)])
    text = capsys.readouterr().out
    rows = json.loads(out.read_text())["targets"]
    assert code == EXIT_VERIFIED, text
    assert [r["target"] for r in rows] == list(TARGETS) and all(r["verdict"] == "verified" for r in rows)
    counters = {r["target"]: r["counter"] for r in rows}
    assert counters["stm32f405"] == counters["stm32f205"] == "icount"
    assert {counters[t] for t in ("mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "microbit")} == {"plugin"}
    assert all(r["unit"] == "instructions" and r["count"] > 0 and r["stack_used"] > 0 for r in rows)
    for head in ("target", "core", "verdict", "flash", "RAM", "stack"):
        assert head in text


@pytest.mark.emulator
@pytest.mark.parametrize("target", [t for t in TARGETS if t != FIRST])
def test_the_zoo_on_every_target_verifies_and_matches_its_baseline(target: str) -> None:
    """Every model that fits, with the target's own kernels: bit-exact, counts repeated exactly over
    two runs, and every layer's count equal to harness/golden/cycles/TARGET[.VARIANT].json (the
    stm32f405 gate is tests/test_bench.py's)."""
    board = get_target(target)
    variant = variant_for(board, None)
    try:
        report = run_bench(fitting_models(target), board, kernels=variant)
    except ToolchainMissing as e:
        pytest.skip(str(e))
    assert all(m.repeatable for m in report.models)
    comparison = compare(report, baseline_path(None, target, variant))
    assert comparison.tolerance_pct == 0.0 and comparison.kernels == variant.name
    assert comparison.ok, "\n".join(comparison.lines())


@pytest.mark.emulator
@pytest.mark.parametrize("target", [t for t in TARGETS if t != FIRST])
def test_fuzz_is_bit_exact_on_every_core(target: str) -> None:
    """The fuzzer's edge-biased cases for every op, with the target's own kernels: the same C
    compiled for another core (and the ref kernels' 64-bit arithmetic through libgcc on the M0)
    gives the same bits. Each core gets its own seed."""
    board = get_target(target)
    seed = 140 + list(TARGETS).index(target)
    try:
        report = run_fuzz(sorted(GENERATORS), 40, seed, board, kernels=variant_for(board, None))
    except ToolchainMissing as e:
        pytest.skip(str(e))
    assert report.failed == 0, [f.command() for f in report.failures]
    assert report.passed == 40 * len(GENERATORS)


@pytest.mark.emulator
def test_a_stopped_matrix_starts_no_more_targets_and_leaves_nothing_running(tmp_path: Path) -> None:
    """SIGTERM while the targets build and run: exit 143 within the time of the runs under way, and no
    compiler or QEMU of this matrix left behind."""
    harness = Path(sys.executable).parent / "harness"
    env = {**os.environ, "HARNESS_BUILD_DIR": str(tmp_path / "build")}
    proc = subprocess.Popen([str(harness), "matrix", "kws_cnn", "--jobs", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and err.count(": verified (") < len(TARGETS)
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert left == [], left

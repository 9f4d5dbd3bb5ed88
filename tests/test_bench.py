"""`harness bench`: reports, repeatability, and the cycle baseline gate (CI's guard on speed)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from harness.bench import run_bench
from harness.bench.baseline import BaselineError, baseline_path, compare, write_baseline
from harness.build import FIRMWARE_DIR
from harness.cli import main
from harness.targets import get_target
from harness.zoo import ZOO

pytestmark = pytest.mark.emulator
TARGET = get_target("stm32f405")


def test_no_layer_is_slower_than_its_baseline() -> None:
    """The gate CI runs: every model against harness/golden/cycles/stm32f405.json, exactly."""
    report = run_bench(list(ZOO), TARGET)
    assert all(m.repeatable for m in report.models)
    comparison = compare(report, baseline_path(None, TARGET.name))
    assert comparison.tolerance_pct == 0.0
    assert comparison.ok, "\n".join(comparison.lines())


def test_bench_writes_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {k: tmp_path / f"b.{k}" for k in ("csv", "json", "md", "html", "png")}
    args = ["bench", "kws_cnn", "resnet18_block"] + [a for k, p in files.items()
                                                     for a in (f"--{'plot' if k == 'png' else k}", str(p))]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "repeated exactly over 2 runs" in out and "icount" in out and "arm-none-eabi-gcc" in out
    rows = list(csv.DictReader(files["csv"].open()))
    assert {"model", "layer", "op", "macs", "cycles"} <= set(rows[0])
    data = json.loads(files["json"].read_text())
    for m in data["models"]:
        layers = [r for r in rows if r["model"] == m["model"]]
        assert len(layers) == len(m["layers"]) and m["total_cycles"] == sum(int(r["cycles"]) for r in layers)
        assert m["repeatable"] and m["flash_bytes"] > 0 and m["arena_bytes"] > 0
    prov = data["provenance"]
    assert prov["emulator"] == "qemu" and "QEMU" in prov["emulator_version"] and "-O2" in prov["flags"]
    assert prov["kernel_variant"] == "portable" and "gcc" in prov["compiler"]
    assert "kws_cnn" in files["md"].read_text() and "<table>" in files["html"].read_text()
    assert files["png"].read_bytes()[:4] == b"\x89PNG"


def test_a_kernel_that_adds_instructions_fails_the_gate_naming_the_layer(tmp_path: Path) -> None:
    baseline = tmp_path / "cycles"
    write_baseline(run_bench(["xor_mlp"], TARGET), baseline_path(baseline, TARGET.name))
    mutant = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, mutant)
    relu = mutant / "kernels" / "src" / "hk_relu_s8.c"
    line = "        output[i] = hk_clamp_s8(input[i], activation->min, activation->max);"
    assert line in relu.read_text()
    relu.write_text(relu.read_text().replace(line, '        __asm volatile("nop");\n' + line))
    comparison = compare(run_bench(["xor_mlp"], TARGET, firmware_dir=mutant), baseline_path(baseline, TARGET.name))
    assert not comparison.ok
    assert [(c.layer, c.new - c.old) for c in comparison.regressions] == [("relu1", 4)]  # one nop per element
    assert any("REGRESSION: xor_mlp layer 1 'relu1' (relu)" in line for line in comparison.lines())
    # the unmodified kernels pass again
    back = compare(run_bench(["xor_mlp"], TARGET), baseline_path(baseline, TARGET.name))
    assert back.ok


def test_baselines_merge_and_refuse_what_they_cannot_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = baseline_path(tmp_path, TARGET.name)
    with pytest.raises(BaselineError, match="no cycle baseline"):
        compare(run_bench(["xor_mlp"], TARGET), path)
    assert main(["bench", "xor_mlp", "--update-baseline", str(tmp_path)]) == 0
    assert main(["bench", "kws_cnn", "--update-baseline", str(tmp_path)]) == 0
    data = json.loads(path.read_text())
    assert set(data["models"]) == {"xor_mlp", "kws_cnn"} and data["counter"] == "icount"
    assert main(["bench", "mobilenetv1_friendly", "--baseline", str(tmp_path)]) == 1
    assert "MISSING: mobilenetv1_friendly has no baseline" in capsys.readouterr().out
    data["counter"] = "dwt"
    path.write_text(json.dumps(data))
    assert main(["bench", "xor_mlp", "--baseline", str(tmp_path)]) == 2
    assert "cannot be compared" in capsys.readouterr().err


def test_bench_needs_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench"]) == 2
    assert "name the models" in capsys.readouterr().err
    assert main(["bench", "nope"]) == 2
    assert "unknown model(s) nope" in capsys.readouterr().err

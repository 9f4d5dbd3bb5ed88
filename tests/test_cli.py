"""The `harness` command as users and the acceptance checks drive it."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.files import PACKAGE_DIR
from harness.targets import get_target
from harness.verify.golden import read_golden

GOLDEN = PACKAGE_DIR / "golden"


def test_list_names_models_and_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "xor_mlp" in out and "kws_cnn" in out and "stm32f405" in out and "kernels dsp by default" in out
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {m["name"] for m in data["models"]} >= {"xor_mlp", "kws_cnn"}
    assert {t["name"]: t["kernels"] for t in data["targets"]} == {
        "stm32f405": "dsp", "stm32f205": "ref", "mps2-an386": "dsp", "mps2-an500": "dsp", "mps2-an505": "dsp",
        "mps3-an547": get_target("mps3-an547").kernels, "microbit": "ref"}


def test_unknown_model_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'; available: xor_mlp" in err and "Traceback" not in err


def test_missing_toolchain_is_explained(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["run", "xor_mlp"]) == 3
    err = capsys.readouterr().err
    assert "not found on PATH" in err and "make bootstrap" in err and "Traceback" not in err


def test_doctor_reports_every_required_tool(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor"])
    out = capsys.readouterr().out
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-objdump", "cmake", "qemu-system-arm", "netduinoplus2",
                 "newlib for cortex-m4", "matplotlib", "pytest-xdist", "robotframework", "renode"):
        assert tool in out
    assert code == (0 if "MISSING" not in out else 3)
    for line in out.splitlines():
        if line.startswith(("MISSING", "absent")):
            assert "install" in line or "renode.io" in line, line  # every gap names its fix


@pytest.mark.emulator
def test_run_xor_mlp_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"
    assert main(["run", "xor_mlp", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["match"] is True and data["counter"] == "icount" and data["unit"] == "instructions"
    assert data["logits"] == data["reference"] == data["golden"]
    assert data["accuracy"]["correct"] == 4 and data["accuracy"]["predictions"] == [0, 1, 1, 0]
    assert all(layer["count"] > 0 and layer["instructions"] == layer["count"] for layer in data["layers"])
    assert {"index", "name", "op", "count", "instructions", "counts_per_sample", "macs"} <= set(data["layers"][0])
    assert data["total_count"] == data["total_instructions"] == sum(layer["count"] for layer in data["layers"])
    assert not any("cycles" in key for key in data) and not any("cycles" in key for key in data["layers"][0])
    assert data["flash_bytes"] > 0 and data["ram_bytes"] > 0
    # a second run gives identical counts
    again = tmp_path / "again.json"
    assert main(["run", "xor_mlp", "--json", str(again)]) == 0
    second = json.loads(again.read_text())
    assert [l["counts_per_sample"] for l in second["layers"]] == [l["counts_per_sample"] for l in data["layers"]]
    assert "VERIFIED" in capsys.readouterr().out


@pytest.mark.emulator
def test_changed_golden_value_fails_and_golden_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    golden_dir = tmp_path / "golden"
    shutil.copytree(GOLDEN / "kws_cnn", golden_dir / "kws_cnn")
    monkeypatch.setenv("HARNESS_GOLDEN_DIR", str(golden_dir))
    path = golden_dir / "kws_cnn" / "stm32f405.txt"
    original = path.read_text()
    rows = read_golden(path)
    assert rows is not None
    rows[2][5] = rows[2][5] + 1 if rows[2][5] < 127 else rows[2][5] - 1
    lines = [l if not l.startswith("2:") else "2: " + " ".join(map(str, rows[2])) for l in original.splitlines()]
    path.write_text("\n".join(lines) + "\n")

    assert main(["run", "kws_cnn"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH vs" in out and "sample 2 position 5" in out

    assert main(["golden", "kws_cnn"]) == 0
    assert "sample 2 position 5" in capsys.readouterr().out
    assert path.read_text() == original
    assert main(["run", "kws_cnn"]) == 0


@pytest.mark.emulator
def test_run_without_golden_file_fails_and_says_how_to_create_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARNESS_GOLDEN_DIR", str(tmp_path))
    assert main(["run", "xor_mlp"]) == 2  # the harness cannot judge without a golden file: an input problem
    assert "harness golden xor_mlp" in capsys.readouterr().out
    assert main(["golden", "xor_mlp"]) == 0
    assert (tmp_path / "xor_mlp" / "stm32f405.txt").exists()


@pytest.mark.emulator
def test_golden_on_a_hanging_firmware_exits_1_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hang is the firmware's failure (1) for `golden` as for `run`, not a harness error (2)."""
    from harness import cli
    from harness.errors import Problem
    from harness.session import Emulated, emulate

    def hanging(*args: object, **kwargs: object) -> Emulated:
        done = emulate(*args, **kwargs)  # type: ignore[arg-type]
        return Emulated(done.run.__class__(), done.version, Problem("hang", "no @done record within 2 s"),
                        done.evidence)

    monkeypatch.setenv("HARNESS_GOLDEN_DIR", str(tmp_path))
    monkeypatch.setattr(cli, "emulate", hanging)
    assert main(["golden", "xor_mlp"]) == 1
    err = capsys.readouterr().err
    assert "FAILED, the firmware (hang)" in err and "evidence:" in err and "Traceback" not in err
    assert not (tmp_path / "xor_mlp" / "stm32f405.txt").exists()


@pytest.mark.emulator
def test_golden_refuses_a_firmware_that_differs_from_the_reference_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness import cli
    from harness.reference import compute_reference

    def shifted(model):  # type: ignore[no-untyped-def]
        ref = compute_reference(model)
        return dataclasses.replace(ref, logits=[[v + 1 for v in row] for row in ref.logits])

    monkeypatch.setenv("HARNESS_GOLDEN_DIR", str(tmp_path))
    monkeypatch.setattr(cli, "compute_reference", shifted)
    assert main(["golden", "xor_mlp"]) == 1
    assert "FAILED, the firmware (differs)" in capsys.readouterr().err
    assert not (tmp_path / "xor_mlp").exists()


@pytest.mark.emulator
def test_a_run_cut_short_by_its_timeout_is_a_hang_with_a_full_report(tmp_path: Path) -> None:
    """ic_resnet8 needs about a second of emulation with the portable kernels; 0.2 s stops it
    mid-sample. The report is still written, with the outcome and the evidence, and only whole samples
    are totalled."""
    out = tmp_path / "out.json"
    assert main(["run", "ic_resnet8", "--kernels", "ref", "--timeout", "0.2", "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    assert data["outcome"] == "hang" and data["exit_code"] == 1 and not data["match"]
    assert [p["kind"] for p in data["problems"]] == ["hang"] and data["problems"][0]["party"] == "firmware"
    assert Path(data["evidence"]["uart_log"]).is_file()  # what arrived, however little under load
    assert len(data["total_counts_per_sample"]) < 8

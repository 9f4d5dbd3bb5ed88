"""The model zoo: float parity, per-layer SQNR (the MobileNetV1 collapse and recovery), memory
limits, the PyTorch retraining path, and `harness run` on every model."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from harness.build import ModelTooLarge, build_firmware
from harness.calibration import calibrate
from harness.cli import main
from harness.model import GraphBuilder, Model
from harness.reference import compute_reference
from harness.targets import get_target
from harness.verify import degenerate, float_parity
from harness.verify.sqnr import layer_sqnr, lowest_sqnr
from harness.zoo import ZOO, load
from harness.zoo.common import pattern_samples

TARGET = get_target("stm32f405")


@pytest.mark.parametrize("name", sorted(ZOO))
def test_int8_stays_within_the_models_parity_threshold(name: str) -> None:
    model = load(name)
    reference = compute_reference(model)
    parity = float_parity(model, reference.logits, reference)
    assert parity.ok, str(parity)
    assert model.parity_note


@pytest.mark.parametrize("name", sorted(ZOO))
def test_no_zoo_model_is_degenerate(name: str) -> None:
    assert degenerate(compute_reference(load(name)).logits) is None


def test_published_mobilenetv1_collapses_and_the_friendly_one_recovers() -> None:
    published = layer_sqnr(load("mobilenetv1_published"))
    friendly = layer_sqnr(load("mobilenetv1_friendly"))
    assert lowest_sqnr(friendly) >= lowest_sqnr(published) + 10.0
    # the loss starts at the first depthwise layer, where the folded batch-norm exploded
    by_name = {r.name: r.sqnr_db for r in published}
    assert by_name["stem"] - by_name["dw1"] > 15.0
    assert {r.name: r.sqnr_db for r in friendly}["dw1"] - by_name["dw1"] > 10.0


def test_sqnr_command_writes_json_and_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, png = tmp_path / "s.json", tmp_path / "s.png"
    assert main(["sqnr", "resnet18_block", "--json", str(out), "--plot", str(png)]) == 0
    data = json.loads(out.read_text())
    assert data["model"] == "resnet18_block"
    assert [l["name"] for l in data["layers"]] == [l.name for l in load("resnet18_block").graph.layers]
    assert all({"name", "op", "sqnr_db"} <= set(l) for l in data["layers"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "lowest:" in capsys.readouterr().out


def _huge(name: str, input_shape: tuple[int, ...], dense_out: int) -> Model:
    b = GraphBuilder(name, input_shape)
    x = b.add("flatten", "input", name="flat") if len(input_shape) > 1 else "input"
    size = int(np.prod(input_shape))
    x = b.add("dense", x, name="fc", float_weights=np.ones((dense_out, size), np.float32) * 0.01)
    calib = pattern_samples(2, input_shape)
    return Model(calibrate(b.build(x), calib), calib)


def test_a_model_too_big_for_flash_fails_at_build_saying_by_how_much() -> None:
    with pytest.raises(ModelTooLarge, match=r"FLASH by \d+ bytes"):
        build_firmware(_huge("too_much_flash", (1200,), 1000), TARGET)


def test_a_model_too_big_for_ram_fails_at_build_saying_by_how_much() -> None:
    with pytest.raises(ModelTooLarge, match=r"RAM by \d+ bytes"):
        build_firmware(_huge("too_much_ram", (240, 240, 2), 1), TARGET)


HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed: pip install torch to test the XOR retraining path")
def test_pytorch_retraining_path_solves_xor() -> None:
    from harness.verify import classify
    from harness.zoo.xor_mlp import train_with_pytorch

    model = train_with_pytorch()
    reference = compute_reference(model)
    logits = reference.logits
    assert classify(model, logits) == [0, 1, 1, 0]
    assert float_parity(model, logits, reference).ok


def test_without_torch_the_retraining_path_explains_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from harness.errors import HarnessError
    from harness.zoo.xor_mlp import train_with_pytorch

    real_import = builtins.__import__

    def no_torch(name: str, *args: object, **kwargs: object) -> object:
        if name == "torch" or name.startswith("torch."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(HarnessError, match="needs torch: pip install torch"):
        train_with_pytorch()


@pytest.mark.emulator
@pytest.mark.parametrize("name", sorted(ZOO))
def test_harness_run_verifies_every_model(name: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    assert main(["run", name, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["match"] and data["parity"]["ok"] and data["float_free"]
    assert data["total_count"] > 0 and data["total_count"] == sum(l["count"] for l in data["layers"])
    assert (
        data["unit"] == "instructions"
        and data["total_instructions"] == data["total_count"]
        and "total_cycles" not in data
    )
    assert 0 < data["flash_bytes"] <= TARGET.flash.size and 0 < data["ram_bytes"] <= TARGET.ram.size
    assert 0 < data["stack_used_bytes"] < data["stack_reserved_bytes"]
    assert data["weight_bytes"] > 0 and data["arena_bytes"] > 0

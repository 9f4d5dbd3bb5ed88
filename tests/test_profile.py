"""`harness profile`: the counting plugin's per-block run counts, put down to functions. Every
instruction of the run lands in exactly one function, and the layer kernels are where the work is."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.build import ToolchainMissing
from harness.cli import main
from harness.emu.plugin import PluginUnavailable, require_plugin
from harness.emu.qemu import qemu_binary
from harness.errors import EmulatorError
from harness.profile import NO_SYMBOL, FunctionCount, attribute, profile_model


def needs_plugin() -> None:
    try:
        require_plugin(qemu_binary())
    except (PluginUnavailable, EmulatorError) as e:
        pytest.skip(str(e))


RANGES = [(0x100, 0x140, "hk_a"), (0x140, 0x200, "hk_b")]


def test_blocks_go_to_the_function_that_holds_them() -> None:
    blocks = ((0x100, 4, 10), (0x120, 3, 10), (0x140, 5, 2), (0x150, 2, 7), (0x100, 4, 1), (0x300, 2, 5))
    assert attribute(blocks, RANGES) == [
        FunctionCount("hk_a", 4 * 10 + 3 * 10 + 4 * 1, 11),  # a block translated twice: both counts
        FunctionCount("hk_b", 5 * 2 + 2 * 7, 2),
        FunctionCount(NO_SYMBOL, 10, 0),
    ]


@pytest.mark.emulator
@pytest.mark.parametrize("target", ["stm32f405", "mps2-an386", "microbit"])
def test_a_profile_accounts_for_every_instruction(target: str) -> None:
    needs_plugin()
    try:
        profile = profile_model("kws_cnn", target)
    except ToolchainMissing as e:
        pytest.skip(str(e))
    assert sum(f.instructions for f in profile.functions) == profile.total
    assert all(f.name != NO_SYMBOL for f in profile.functions)
    names = [f.name for f in profile.functions]
    assert "main" in names and "hk_model_run_layer" in names
    kernels = sum(f.instructions for f in profile.functions if f.name.startswith(("hk_conv", "hk_dsp_cv")))
    assert kernels > profile.total // 3  # the first convolution is most of kws_cnn's work


@pytest.mark.emulator
def test_the_command_prints_the_top_functions_and_writes_json(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    needs_plugin()
    out = tmp_path / "profile.json"
    assert main(["profile", "xor_mlp", "--target", "mps2-an505", "--top", "3", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["unit"] == "instructions" and data["target"] == "mps2-an505"
    assert sum(f["instructions"] for f in data["functions"]) == data["total_instructions"]
    assert "function" in text and "share" in text and f"({len(data['functions']) - 3} more)" in text

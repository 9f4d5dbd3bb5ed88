"""Where a run's instructions go (`harness profile MODEL`): every instruction QEMU executed, from
reset to the halt after the @done record, put down to the function it belongs to.

QEMU's counting plugin (harness/emu/plugin) counts how many times each translated block runs; a
block's instructions times its runs go to the function that holds the block's first instruction
(a block ends at a branch, so it does not straddle a call). The counts are QEMU's executed
instructions, as the `plugin` counter's are: not cycles. Under -icount a block cut short by a
device access counts the rest of its instructions twice, which shows only in the functions that
touch the UART or a timer. A profile is not a verdict: `harness run` judges the firmware.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.build import Firmware, KernelVariant
from harness.build.elfinfo import function_ranges
from harness.defaults import DEFAULT_TARGET, DEFAULT_TIMEOUT
from harness.emu.qemu import count_instructions
from harness.errors import Problem, VerificationFailed
from harness.session import build
from harness.targets import Target

#: The name given to instructions outside every sized function symbol.
NO_SYMBOL = "(no symbol)"


@dataclass(frozen=True)
class FunctionCount:
    name: str
    instructions: int  # executed instructions in the function's blocks
    entries: int  # runs of the block that starts at the function's first instruction (calls, mostly)


@dataclass(frozen=True)
class Profile:
    model: str
    target: Target
    firmware: Firmware
    total: int  # every instruction QEMU executed, by the plugin's own total
    functions: tuple[FunctionCount, ...]  # most instructions first
    evidence: Path

    def share(self, row: FunctionCount) -> float:
        return row.instructions / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model, "target": self.target.name, "core": self.target.core,
            "kernels": self.firmware.variant, "unit": "instructions", "total_instructions": self.total,
            "functions": [{"function": f.name, "instructions": f.instructions, "share": round(self.share(f), 6),
                           "entries": f.entries} for f in self.functions],
            "evidence": str(self.evidence),
        }


def attribute(blocks: tuple[tuple[int, int, int], ...], ranges: list[tuple[int, int, str]]) -> list[FunctionCount]:
    """Each block's instructions times its runs, summed by the function that holds the block."""
    starts = [r[0] for r in ranges]
    instructions: dict[str, int] = {}
    entries: dict[str, int] = {}
    for address, insns, runs in blocks:
        i = bisect.bisect_right(starts, address) - 1
        inside = i >= 0 and address < ranges[i][1]
        name = ranges[i][2] if inside else NO_SYMBOL
        instructions[name] = instructions.get(name, 0) + insns * runs
        if inside and address == ranges[i][0]:
            entries[name] = entries.get(name, 0) + runs
    rows = [FunctionCount(n, c, entries.get(n, 0)) for n, c in instructions.items() if c]
    return sorted(rows, key=lambda r: (-r.instructions, r.name))


def profile_model(model_name: str, target_name: str = DEFAULT_TARGET, kernels: str | KernelVariant | None = None,
                  timeout: float = DEFAULT_TIMEOUT, log: Callable[[str], None] | None = None) -> Profile:
    """Build the model (as `harness run` does) and run it once under QEMU with the plugin profiling."""
    model, target, firmware = build(model_name, target_name, log, kernels=kernels)
    if log:
        log(f"running {model.name} on {target.name} under QEMU with the profiling plugin")
    run = count_instructions(firmware.elf, target, timeout, profile=True)
    if run.firmware.status != "ok":
        kind = "fault" if run.firmware.status == "fault" else "error"
        raise VerificationFailed([Problem(kind, f"{model.name} on {target.name} ended with status "
                                                f"{run.firmware.status}, not ok: a failed run has no profile",
                                          "run `harness run` for the verdict")], run.run_dir)
    assert run.counts.total is not None  # read_counts refuses a result without one
    return Profile(model.name, target, firmware, run.counts.total,
                   tuple(attribute(run.counts.blocks, function_ranges(firmware.elf))), run.run_dir)

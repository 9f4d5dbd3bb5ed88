"""One ELF on several emulators: each run is verified on its own, then the runs must agree.

Agreement means the same records (every layer's output CRC, every logit) and per-layer counts
within a stated bound. Both emulators count instructions (QEMU's icount; Renode's DWT at one count
per instruction), but each may read its counter a few instructions apart and some count only to a
granularity, so the bound on a layer is the coarser granularity of the two plus COUNT_BOUND_PPM of
the larger count.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.build import KernelVariant
from harness.defaults import DEFAULT_TARGET, DEFAULT_TIMEOUT
from harness.emu.backends import BACKENDS
from harness.errors import InputError, Problem, exit_code_of, most_telling
from harness.reference import compute_reference
from harness.session import Emulated, build, check_golden_fits, emulate, judge
from harness.verify import Verdict
from harness.verify.golden import golden_path

Log = Callable[[str], None]

#: Counters that count instructions on an emulator, so their figures can be compared.
INSTRUCTION_COUNTERS = ("icount", "plugin", "dwt")
#: The relative part of the bound on a layer's counts, in parts per million of the larger count.
COUNT_BOUND_PPM = 100


@dataclass
class EmulatorRun:
    emulator: str
    emulated: Emulated
    verdict: Verdict

    @property
    def counter(self) -> str:
        return self.emulated.run.boot.counter if self.emulated.run.boot else "none"

    def layer_counts(self) -> list[int]:
        """Each layer's largest count over the samples."""
        return [max(c, default=0) for c in self.emulated.run.counts_by_layer()]


@dataclass
class LayerAgreement:
    index: int
    name: str
    counts: list[int]  # one per emulator, in the order of the runs
    bound: int

    @property
    def difference(self) -> int:
        return max(self.counts) - min(self.counts)

    @property
    def ok(self) -> bool:
        return self.difference <= self.bound


@dataclass
class CrossReport:
    model: str
    target: str
    elf: Path
    build_id: str
    runs: list[EmulatorRun]
    layers: list[LayerAgreement] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "target": self.target,
            "elf": str(self.elf),
            "build_id": self.build_id,
            "agree": self.ok,
            "exit_code": self.exit_code,
            "outcome": "agree" if self.ok else most_telling(self.problems).kind,
            "bound": f"per layer: the coarser granularity plus {COUNT_BOUND_PPM} ppm of the larger count",
            "emulators": [
                {
                    "emulator": r.emulator,
                    "version": r.emulated.version,
                    "counter": r.counter,
                    "unit": r.emulated.unit,
                    "granularity": r.emulated.granularity,
                    **({"count_note": r.emulated.count_note} if r.emulated.count_note else {}),
                    "verified": r.verdict.match,
                    "problems": [p.to_json() for p in r.verdict.problems],
                    "evidence": str(r.emulated.evidence),
                }
                for r in self.runs
            ],
            "layers": [
                {"index": a.index, "name": a.name, "counts": a.counts, "difference": a.difference,
                 "bound": a.bound, "ok": a.ok}
                for a in self.layers
            ],
            "problems": [p.to_json() for p in self.problems],
        }


def parse_emulators(text: str) -> list[str]:
    """`qemu,renode` as a list; at least two different names."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise InputError(f"unknown emulator '{unknown[0]}'", f"choose from: {', '.join(BACKENDS)}")
    if len(set(names)) < 2:
        raise InputError(f"a cross check needs two different emulators, got '{text}'", "e.g. qemu,renode")
    return names


def layer_bound(counts: Sequence[int], granularity: int) -> int:
    return granularity + (max(counts, default=0) * COUNT_BOUND_PPM + 999_999) // 1_000_000


def cross_check(model_name: str, emulators: Sequence[str], target_name: str = DEFAULT_TARGET,
                timeout: float = DEFAULT_TIMEOUT, log: Log | None = None,
                kernels: str | KernelVariant | None = None) -> CrossReport:
    """Run the one ELF of `model_name` (built with the kernel variant `kernels`) on every emulator and
    compare what they report."""
    say = log or (lambda msg: None)
    for emulator in emulators:  # a missing emulator is said before any run
        BACKENDS[emulator].require()
    model, target, firmware = build(model_name, target_name, log, kernels=kernels)
    gpath = golden_path(model.name, target.name)
    check_golden_fits(model, gpath)
    reference = compute_reference(model)
    runs = []
    for emulator in emulators:
        say(f"running {firmware.elf.name} of {model_name} on {emulator}")
        emulated = emulate(firmware, target, emulator, timeout)
        runs.append(EmulatorRun(emulator, emulated, judge(model, firmware, emulated, reference, golden_file=gpath)))
    report = CrossReport(model.name, target.name, firmware.elf, firmware.build_id, runs)
    _compare(report, [layer.name for layer in model.graph.layers])
    return report


def _compare(report: CrossReport, layer_names: list[str]) -> None:
    runs = report.runs
    failed = [r for r in runs if not r.verdict.match]
    if failed and len(failed) == len(runs):
        # the same ELF failed everywhere: the firmware's fault, as each run says
        report.problems += [Problem(p.kind, f"{r.emulator}: {p.message}", p.next_step)
                            for r in runs for p in [most_telling(r.verdict.problems)] if r.verdict.problems]
        return
    for r in failed:
        problem = most_telling(r.verdict.problems) if r.verdict.problems else None
        passed = ", ".join(x.emulator for x in runs if x.verdict.match)
        report.problems.append(Problem(
            "disagree", f"the ELF verified on {passed} but not on {r.emulator}: {problem or 'unverified'}",
            f"see {r.emulated.evidence / 'uart.log'}"))
    if failed:
        return
    first = runs[0]
    for r in runs[1:]:
        mine, theirs = r.emulated.run, first.emulated.run
        if mine.output_crcs() != theirs.output_crcs() or mine.logits != theirs.logits:
            report.problems.append(Problem("disagree", f"{first.emulator} and {r.emulator} report different outputs"))
    counters = {r.counter for r in runs}
    if not counters <= set(INSTRUCTION_COUNTERS):
        report.problems.append(Problem(
            "disagree", f"counts cannot be compared: counters {', '.join(f'{r.emulator} {r.counter}' for r in runs)} "
            "do not all count instructions", "give every emulator a counter that counts instructions"))
        return
    per_run = [r.layer_counts() for r in runs]
    granularity = max(r.emulated.granularity for r in runs)
    for i, name in enumerate(layer_names):
        counts = [c[i] if i < len(c) else 0 for c in per_run]
        report.layers.append(LayerAgreement(i, name, counts, layer_bound(counts, granularity)))
    apart = [a for a in report.layers if not a.ok]
    if apart:
        worst = max(apart, key=lambda a: a.difference - a.bound)
        report.problems.append(Problem(
            "disagree",
            f"{len(apart)} layer count(s) differ beyond the bound; worst: layer {worst.index} '{worst.name}' "
            f"{' vs '.join(f'{r.emulator} {c:,}' for r, c in zip(runs, worst.counts))} "
            f"(difference {worst.difference:,}, bound {worst.bound:,})"))

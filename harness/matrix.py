"""The matrix run: one model built and verified on many targets at once, a row per target.

Each target is an ordinary `harness run` (session.run_model): its own build, its own golden file, its
own emulator process and evidence folder, so the rows are as independent as runs one after another.
They run in threads, since a run's time goes to the compiler and the emulator, in processes of their
own. A model too large for a board is that board's row, `does not fit (RAM by N bytes)`, not a
failure of the matrix: a team asks which of its candidate cores can take the network at all.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from harness.build import KernelVariant, ModelTooLarge
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TIMEOUT
from harness.errors import EXIT_FIRMWARE, EXIT_VERIFIED, HarnessError, Problem, most_telling
from harness.results import RunReport
from harness.session import Inputs, run_model
from harness.targets import TARGETS, Target, get_target

ALL = "all"


@dataclass(frozen=True)
class MatrixRow:
    """One target's outcome: its run's report, or the problem that stopped the run before a report."""

    target: Target
    report: RunReport | None
    problem: Problem | None  # the most telling problem; None when the run verified
    seconds: float

    @property
    def fits(self) -> bool:
        return self.problem is None or self.problem.kind != "fit"

    @property
    def verdict(self) -> str:
        if self.problem is None:
            return "verified"
        if self.problem.kind == "fit":
            return f"does not fit ({_overflow(self.problem.message)})"
        return f"{self.problem.kind}: {self.problem.message}"

    @property
    def exit_code(self) -> int:
        return EXIT_VERIFIED if self.problem is None else self.problem.exit_code

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"target": self.target.name, "core": self.target.core, "verdict": self.verdict,
                                "fits": self.fits, "seconds": round(self.seconds, 2)}
        if self.problem is not None:
            data["problem"] = self.problem.to_json()
        rep = self.report
        if rep is not None:
            data.update({
                "kernels": rep.firmware.variant, "counter": rep.counter, "unit": rep.unit,
                "count": rep.total_count, "flash_bytes": rep.firmware.footprint.flash_bytes,
                "ram_bytes": rep.firmware.footprint.ram_bytes, "stack_used": rep.run.stack_used,
                "stack_size": rep.run.stack_size, "evidence": str(rep.evidence) if rep.evidence else None,
            })
        return data


def _overflow(message: str) -> str:
    """`RAM by N bytes` (and FLASH's) out of a ModelTooLarge message: what the row shows."""
    start, end = message.find("("), message.find(")")
    return message[start + 1 : end] if 0 <= start < end else message


def matrix_targets(spec: str) -> list[Target]:
    """`all`, or target names separated by commas (each known, each once)."""
    if spec == ALL:
        return list(TARGETS.values())
    names = [n.strip() for n in spec.split(",") if n.strip()]
    targets = [get_target(n) for n in names]
    return list({t.name: t for t in targets}.values())


def run_target(model_name: str, target: Target, emulator: str, timeout: float, inputs: Inputs | None,
               kernels: str | KernelVariant | None) -> MatrixRow:
    start = time.monotonic()
    try:
        report = run_model(model_name, target.name, emulator, timeout, inputs=inputs, kernels=kernels)
    except ModelTooLarge as e:
        return MatrixRow(target, None, e.problem(), time.monotonic() - start)
    except HarnessError as e:
        if e.kind == "interrupted":
            raise
        return MatrixRow(target, None, e.problem(), time.monotonic() - start)
    problem = None if report.verdict.match else most_telling(report.verdict.problems)
    return MatrixRow(target, report, problem, time.monotonic() - start)


def run_matrix(model_name: str, targets: Sequence[Target], emulator: str = DEFAULT_EMULATOR,
               timeout: float = DEFAULT_TIMEOUT, jobs: int | None = None, inputs: Inputs | None = None,
               kernels: str | KernelVariant | None = None,
               log: Callable[[str], None] | None = None) -> list[MatrixRow]:
    """Build and verify `model_name` on every target, `jobs` at a time (default: one per core); rows
    in the order of `targets`. `kernels` None builds each target with its own default variant."""
    say = log or (lambda msg: None)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(targets)))

    def one(target: Target) -> MatrixRow:
        row = run_target(model_name, target, emulator, timeout, inputs, kernels)
        say(f"{target.name}: {row.verdict} ({row.seconds:.1f} s)")
        return row

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        return list(pool.map(one, targets))
    finally:
        # Stopped (SIGINT, SIGTERM): the targets not yet started are not started; those running end
        # their build or run, whose emulators stop with them.
        pool.shutdown(wait=True, cancel_futures=True)


def matrix_exit_code(rows: Sequence[MatrixRow]) -> int:
    """The most telling problem among the targets the model fits; 1 when it fits none."""
    fitting = [r for r in rows if r.fits]
    if not fitting:
        return EXIT_FIRMWARE
    problems = [r.problem for r in fitting if r.problem is not None]
    return most_telling(problems).exit_code if problems else EXIT_VERIFIED

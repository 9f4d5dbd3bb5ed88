"""Several kernel variants in one benchmark (`harness bench --kernels ref,dsp`): every model measured
with each variant, in the order given, then compared model by model: each variant's total count,
its ratio to the first variant's, and its image's flash and RAM beside the first's. For the MLPerf
Tiny reference models the published figures on silicon come along (harness.bench.published): cycles
on a board, not instructions under an emulator, kept apart from the measured figures."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.bench.measure import BenchReport, Log, run_bench
from harness.bench.published import Published, published_for
from harness.build import FIRMWARE_DIR, KernelVariant
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TIMEOUT
from harness.targets import Target


def run_variants(names: Sequence[str], target: Target, variants: Sequence[KernelVariant],
                 emulator: str = DEFAULT_EMULATOR, timeout: float = DEFAULT_TIMEOUT, log: Log | None = None,
                 firmware_dir: Path = FIRMWARE_DIR, skip_unfit: bool = False) -> list[BenchReport]:
    """One report per variant, each of every model in `names` (those too large for the target left
    out with `skip_unfit`); with several variants each progress line names the variant it is about."""
    say = log or (lambda msg: None)
    reports = []
    for variant in variants:
        prefix = f"kernels {variant.name}: " if len(variants) > 1 else ""
        reports.append(run_bench(names, target, emulator, timeout, _prefixed(say, prefix), firmware_dir, variant,
                                 skip_unfit))
    return reports


def _prefixed(say: Log, prefix: str) -> Log:
    return lambda msg: say(prefix + msg)


@dataclass(frozen=True)
class VariantTotal:
    """One model's figures with one variant."""

    kernels: str
    count: int  # the model's total count, in its counter's unit
    flash_bytes: int
    ram_bytes: int


@dataclass(frozen=True)
class ModelComparison:
    """One model across the variants; the first variant is what the others are compared with."""

    model: str
    counter: str
    unit: str
    totals: tuple[VariantTotal, ...]
    published: tuple[Published, ...] = ()

    def ratio(self, i: int) -> float | None:
        """Variant i's count over the first's (below 1: fewer)."""
        first = self.totals[0].count
        return self.totals[i].count / first if first else None

    def flash_change(self, i: int) -> int:
        return self.totals[i].flash_bytes - self.totals[0].flash_bytes

    def ram_change(self, i: int) -> int:
        return self.totals[i].ram_bytes - self.totals[0].ram_bytes


def compare_variants(reports: Sequence[BenchReport]) -> list[ModelComparison]:
    """A row per model of the reports (each the same models, in the same order, one variant each)."""
    rows = []
    for benches in zip(*(r.models for r in reports)):
        names = {m.model for m in benches}
        if len(names) != 1:
            raise ValueError(f"the variants' reports hold different models: {', '.join(sorted(names))}")
        first = benches[0]
        totals = tuple(VariantTotal(r.provenance.kernel_variant, m.total_count, m.firmware.footprint.flash_bytes,
                                    m.firmware.footprint.ram_bytes) for r, m in zip(reports, benches))
        rows.append(ModelComparison(first.model, first.counter, first.unit, totals,
                                    published_for(first.model, first.total_macs)))
    return rows

"""What one verified run produced, for people (harness.report renders it) and machines (`to_json`):
the verdict, the per-layer counts with their unit, the footprint, parity and the evidence folder."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.build import Firmware
from harness.build.floatscan import FloatScan
from harness.build.isascan import IsaScan
from harness.errors import EXIT_FIRMWARE, exit_code_of, most_telling
from harness.protocol import FirmwareRun
from harness.protocol.counters import unit_named, unit_of
from harness.targets import Target
from harness.verify import Parity, Verdict


@dataclass(frozen=True)
class LayerRow:
    index: int
    name: str
    op: str
    output_shape: tuple[int, ...]
    macs: int
    count: int  # the largest over the test samples, in the unit of the run's counter
    counts_per_sample: tuple[int, ...]


@dataclass
class RunReport:
    model: str
    target: Target
    emulator: str
    emulator_version: str
    firmware: Firmware
    run: FirmwareRun
    verdict: Verdict
    layers: list[LayerRow]
    golden_file: Path
    predictions: list[int] | None = None
    labels: list[int] | None = None
    float_scan: FloatScan | None = None
    isa_scan: IsaScan | None = None
    parity: Parity | None = None
    evidence: Path | None = None  # the run's folder: uart.log, the emulator's log, report.json
    count_note: str | None = None  # what the counter counts on this emulator, where its name does not say
    count_unit: str = ""  # the unit the emulator gives the counter ("": the counter's own)
    references: list[str] = field(default_factory=lambda: ["integer reference"])  # what the run was compared with
    source: str = ""  # an imported model's file and its SHA-256
    inputs_note: str = ""  # where the test inputs came from, where that is worth saying

    @property
    def exit_code(self) -> int:
        """0 verified; else the code of the most telling problem (harness.errors.KINDS)."""
        if self.verdict.match:
            return 0
        return exit_code_of(self.verdict.problems) or EXIT_FIRMWARE

    @property
    def counter(self) -> str:
        return self.run.boot.counter if self.run.boot else "none"

    @property
    def unit(self) -> str:
        return self.count_unit or unit_of(self.counter)

    @property
    def total_count(self) -> int:
        return sum(row.count for row in self.layers)

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.layers)

    def sample_totals(self) -> list[int]:
        """The count of each sample that every layer reported (a run cut short has fewer)."""
        n = min((len(row.counts_per_sample) for row in self.layers), default=0)
        return [sum(row.counts_per_sample[s] for row in self.layers) for s in range(n)]

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        fp = self.firmware.footprint
        data: dict[str, Any] = {
            "model": self.model,
            "target": self.target.name,
            "emulator": self.emulator,
            "emulator_version": self.emulator_version,
            "counter": self.counter,
            "unit": self.unit,
            **({"count_note": self.count_note} if self.count_note else {}),
            "references": self.references,
            **({"source": self.source} if self.source else {}),
            **({"inputs": self.inputs_note} if self.inputs_note else {}),
            "match": v.match,
            "outcome": "verified" if v.match else most_telling(v.problems).kind if v.problems else "unverified",
            "exit_code": self.exit_code,
            "reference_match": v.reference_match,
            "golden_match": v.golden_match,
            "golden_file": str(self.golden_file),
            "checks": [c.to_json() for c in v.checks],
            "problems": [p.to_json() for p in v.problems],
            "evidence": {"dir": str(self.evidence), "uart_log": str(self.evidence / "uart.log")}
            if self.evidence else None,
            "mismatches": [m.__dict__ for m in v.mismatches],
            "first_divergence": v.divergence.__dict__ if v.divergence else None,
            "logits": [self.run.logits.get(s, []) for s in range(len(v.reference))],
            "reference": v.reference,
            "golden": v.golden,
            "layers": [
                {
                    "index": r.index, "name": r.name, "op": r.op, "output_shape": list(r.output_shape),
                    "macs": r.macs, "count": r.count, **unit_named(self.unit, r.count),
                    "counts_per_sample": list(r.counts_per_sample),
                    "kernel": self.firmware.layer_functions[r.index] if r.index < len(
                        self.firmware.layer_functions) else None,
                    "kernels": self.firmware.layer_variant(r.index) or None,
                }
                for r in self.layers
            ],
            "total_count": self.total_count,
            **unit_named(self.unit, self.total_count, "total_"),
            "total_counts_per_sample": self.sample_totals(),
            "total_macs": self.total_macs,
            "flash_bytes": fp.flash_bytes,
            "ram_bytes": fp.ram_bytes,
            "stack_reserved_bytes": fp.stack_bytes,
            "stack_used_bytes": self.run.stack_used,
            "weight_bytes": self.firmware.weight_bytes,
            "parity": {"worst_abs": self.parity.worst_abs, "float_range": self.parity.float_range,
                       "fraction": self.parity.fraction, "threshold": self.parity.threshold,
                       "ok": self.parity.ok, "note": self.parity.note} if self.parity else None,
            "float_free": self.float_scan.ok if self.float_scan else None,
            "float_scan": self.float_scan.summary() if self.float_scan else None,
            "isa_scan": self.isa_scan.summary() if self.isa_scan else None,
            "arena_bytes": self.firmware.arena_bytes,
            "build": {
                "id": self.firmware.build_id,
                "elf": str(self.firmware.elf),
                "cached": self.firmware.cached,
                "compiler": self.firmware.compiler,
                "flags": list(self.firmware.flags),
                "kernel_variant": self.firmware.variant,
                "kernel_dir": str(self.firmware.variant_dir) if self.firmware.variant_dir else None,
                "kernel_sources": dict(self.firmware.kernel_sources),
            },
        }
        if self.labels is not None and self.predictions is not None:
            correct = sum(int(p == l) for p, l in zip(self.predictions, self.labels))
            data["accuracy"] = {"correct": correct, "total": len(self.labels), "predictions": self.predictions}
        elif self.predictions is not None:
            data["predictions"] = self.predictions
        return data

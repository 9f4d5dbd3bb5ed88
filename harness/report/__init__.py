"""Reports of a verified run: a table for people, JSON for machines. Every count carries the counter
it came from and that counter's unit: on QEMU the counter counts instructions, not cycles."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from harness.build import Firmware
from harness.build.floatscan import FloatScan
from harness.errors import EXIT_FIRMWARE, exit_code_of, most_telling
from harness.protocol import FirmwareRun
from harness.targets import Target
from harness.verify import Parity, Verdict

#: What each firmware counter counts.
COUNTER_UNITS = {
    "dwt": "cycles",
    "icount": "instructions",
    "timer": "timer ticks",
    "none": "nothing (no counter advanced)",
}
#: The JSON key that names each counter's unit, so a reader asking for `cycles` cannot get instructions.
COUNT_KEYS = {"dwt": "cycles", "icount": "instructions", "timer": "timer_ticks"}
#: Each unit in the singular, short enough for a column head such as `MACs/instr`.
PER_UNIT = {"dwt": "cycle", "icount": "instr", "timer": "tick"}


def unit_of(counter: str) -> str:
    """What `counter` counts; a counter this harness does not know is not guessed at."""
    return COUNTER_UNITS.get(counter, "unknown")


def per_unit(counter: str) -> str:
    """`MACs/instr`, `MACs/cycle`, `MACs/tick`: a ratio's head names the unit it divides by."""
    return f"MACs/{PER_UNIT.get(counter, 'count')}"


def unit_named(counter: str, value: int, prefix: str = "") -> dict[str, int]:
    """`value` again under the key of its unit (`instructions`, `cycles`, `timer_ticks`, after
    `prefix`); empty when the counter counted nothing, as there is then no unit to name."""
    key = COUNT_KEYS.get(counter)
    return {prefix + key: value} if key else {}


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
    predictions: Optional[list[int]] = None
    labels: Optional[list[int]] = None
    float_scan: Optional[FloatScan] = None
    parity: Optional[Parity] = None
    evidence: Optional[Path] = None  # the run's folder: uart.log, the emulator's log, report.json

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
        return unit_of(self.counter)

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
                    "macs": r.macs, "count": r.count, **unit_named(self.counter, r.count),
                    "counts_per_sample": list(r.counts_per_sample),
                }
                for r in self.layers
            ],
            "total_count": self.total_count,
            **unit_named(self.counter, self.total_count, "total_"),
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
            "arena_bytes": self.firmware.arena_bytes,
            "build": {
                "id": self.firmware.build_id,
                "elf": str(self.firmware.elf),
                "cached": self.firmware.cached,
                "compiler": self.firmware.compiler,
                "flags": list(self.firmware.flags),
                "kernel_variant": "portable",
            },
        }
        if self.labels is not None and self.predictions is not None:
            correct = sum(int(p == l) for p, l in zip(self.predictions, self.labels))
            data["accuracy"] = {"correct": correct, "total": len(self.labels), "predictions": self.predictions}
        elif self.predictions is not None:
            data["predictions"] = self.predictions
        return data

    def render(self) -> str:
        return "\n".join(_render_lines(self))


def shown(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def text_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """A plain-text table: columns padded to their widest cell, the `right` ones right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]


def _render_lines(rep: RunReport) -> list[str]:
    v = rep.verdict
    counted = "exact, repeatable" if rep.counter == "icount" else rep.unit
    out = [
        f"{rep.model} on {rep.target.name} ({rep.target.core}) under {rep.emulator_version}",
        f"counter: {rep.counter} ({rep.unit}; {counted}), per layer the largest of {len(v.reference)} samples",
        "",
    ]
    total = rep.total_count
    rows = []
    for r in rep.layers:
        rows.append([
            str(r.index), r.name, r.op, "x".join(map(str, r.output_shape)), f"{r.macs:,}", f"{r.count:,}",
            f"{r.macs / r.count:.3f}" if r.macs and r.count else "-",
            f"{100 * r.count / total:.1f}%" if total else "-",
        ])
    rows.append(["", "total", "", "", f"{rep.total_macs:,}", f"{total:,}",
                 f"{rep.total_macs / total:.3f}" if total else "-", "100.0%" if total else "-"])
    headers = ["#", "layer", "op", "output", "MACs", rep.unit, per_unit(rep.counter), "share"]
    out += text_table(headers, rows, right={0, 4, 5, 6, 7})
    fp = rep.firmware.footprint
    stack = f"stack {rep.run.stack_used} B used of {fp.stack_bytes} B" if rep.run.stack_used is not None else ""
    out += [
        "",
        f"memory: flash {kib(fp.flash_bytes)} of {kib(rep.target.flash.size)}, RAM {kib(fp.ram_bytes)} of "
        f"{kib(rep.target.ram.size)} ({stack}); weights {rep.firmware.weight_bytes} B, arena {rep.firmware.arena_bytes} B",
        *([str(rep.parity)] if rep.parity else []),
        *([rep.float_scan.summary()] if rep.float_scan else []),
        f"image: {shown(rep.firmware.elf)} ({'cached' if rep.firmware.cached else 'built'}; {rep.firmware.compiler})",
    ]
    if rep.labels is not None and rep.predictions is not None:
        correct = sum(int(p == l) for p, l in zip(rep.predictions, rep.labels))
        out.append(f"accuracy on the test samples: {correct}/{len(rep.labels)} (predictions {rep.predictions})")
    elif rep.predictions is not None:
        out.append(f"predicted classes of the test samples: {rep.predictions}")
    out.append("")
    out.append("checks: " + ", ".join(f"{c.name} {'ok' if c.ok else 'FAILED' if c.ok is False else 'not run'}"
                                      for c in v.checks))
    for p in v.problems:
        out.append(f"PROBLEM ({p.party}: {p.kind}): {p}")
    ref_bad = [m for m in v.mismatches if m.against == "reference"]
    gold_bad = [m for m in v.mismatches if m.against == "golden"]
    if v.divergence is not None:
        out.append(f"DIVERGENCE: {v.divergence}")
    golden = shown(rep.golden_file)
    for label, bad in (("Python reference", ref_bad), (golden, gold_bad)):
        for m in bad[:20]:
            out.append(f"MISMATCH vs {label}: {m}")
        if len(bad) > 20:
            out.append(f"... and {len(bad) - 20} more mismatches vs {label}")
    if rep.evidence is not None:
        out.append(f"evidence: {shown(rep.evidence / 'uart.log')} (the UART transcript; the emulator's log and "
                   "report.json beside it)")
    n = len(v.reference)
    if v.match:
        out.append(f"VERIFIED: {n} samples bit-exact, every layer's output equal: firmware = Python reference = "
                   f"golden ({golden}); {len(v.checks)} checks passed")
    else:
        worst = most_telling(v.problems) if v.problems else None
        if worst is None or worst.party == "firmware":
            out.append(f"FAILED: the firmware ({worst.kind if worst else 'unverified'}): "
                       f"{worst.message if worst else 'not every check passed'}")
        elif worst.party == "model":
            out.append(f"FAILED: the model ({worst.kind}): {worst.message}")
        else:
            out.append(f"NOT JUDGED: {worst.party} problem ({worst.kind}): {worst.message}")
    return out

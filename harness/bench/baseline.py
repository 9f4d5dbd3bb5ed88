"""Count baselines, one file per target and kernel variant: harness/golden/cycles/<target>.json for
the ref kernels, <target>.<variant>.json for any other (dsp, a folder's name); and the gate that
compares a benchmark with the file of its own kernels.

A baseline records each layer's `count` with the `counter` and `unit` it was measured in (the folder
keeps its old name; under QEMU the counts are instructions). Format 1 called every count `cycles`,
instructions included; it is still read, and rewritten as format 2 by the next update. A file
records the variant whose counts it holds (`kernels`; a file without it holds ref's, the only
kernels recorded before variants had baselines), and the gate refuses a file of other kernels.

A layer regresses when its count grows past the tolerance: exact (0%) by default for deterministic
counters, where one extra instruction is a real change; a percentage for counters with granularity
(Renode's DWT moves in quanta). A model without a baseline fails the gate too: it would otherwise
pass unchecked. Baselines change only through `harness bench --update-baseline`, written atomically.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.bench import DETERMINISTIC, BenchReport
from harness.build import REF, KernelVariant
from harness.errors import InputError
from harness.files import write_atomic
from harness.protocol.counters import unit_of
from harness.verify.golden import golden_dir

FORMAT = 2
#: The format that named the counts `cycles`; read and upgraded.
FORMAT_CYCLES = 1
#: Tolerance for counters that are not exact (percent).
GRANULAR_TOLERANCE_PCT = 5.0


class BaselineError(InputError):
    pass


def baseline_path(directory: Path | None, target: str, kernels: KernelVariant | str = REF) -> Path:
    """DIR/<target>.json for ref, DIR/<target>.<variant>.json for another variant (a name that is a
    path, as for a folder called dsp, keeps its letters, digits, _ and -); DIR defaults to
    harness/golden/cycles."""
    name = kernels if isinstance(kernels, str) else kernels.name
    folder = directory if directory is not None else golden_dir() / "cycles"
    if name == REF:
        return folder / f"{target}.json"
    return folder / f"{target}.{re.sub(r'[^A-Za-z0-9_-]+', '_', name).strip('_') or 'variant'}.json"


def recorded_kernels(data: dict[str, Any]) -> str:
    """The kernel variant whose counts a baseline holds (ref for a file that does not say)."""
    return str(data.get("kernels", REF))


def check_kernels(data: dict[str, Any], path: Path, report_kernels: str, target: str) -> None:
    """Refuse a baseline of other kernels than the run's: each variant is gated by its own file."""
    held = recorded_kernels(data)
    if held != report_kernels:
        own = baseline_path(path.parent, target, report_kernels)
        raise BaselineError(f"{path} holds the counts of kernels {held}, not of kernels {report_kernels}: each "
                            "variant is compared with its own baseline",
                            f"use {own}" if own != path else "record this variant's baseline in another folder")


def read_baseline(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BaselineError(f"{path}: not valid JSON ({e})") from None
    if (not isinstance(data, dict) or data.get("format") not in (FORMAT, FORMAT_CYCLES)
            or not isinstance(data.get("models"), dict)):
        raise BaselineError(f"{path}: not a baseline of counts of format {FORMAT} (or {FORMAT_CYCLES})")
    return upgraded(data) if data["format"] == FORMAT_CYCLES else data


def upgraded(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 as format 2: each layer's `cycles` becomes `count`, whatever the counter counted."""
    models = {name: {**entry, "layers": [{("count" if k == "cycles" else k): v for k, v in layer.items()}
                                         for layer in entry["layers"]]}
              for name, entry in data["models"].items()}
    return {**data, "format": FORMAT, "models": models}


def write_baseline(report: BenchReport, path: Path) -> list[str]:
    """Record the report's models in the baseline (others are kept); returns the models written."""
    if len(report.counters) != 1:
        raise BaselineError(f"the models used different counters ({', '.join(sorted(report.counters))})")
    counter = next(iter(report.counters))
    kernels = report.provenance.kernel_variant
    old = read_baseline(path)
    if old is not None:
        check_kernels(old, path, kernels, report.provenance.target)
    else:
        old = {"models": {}}
    if old.get("counter", counter) != counter:
        raise BaselineError(f"{path} holds {old['counter']} counts; these are {counter}: refusing to mix them")
    models = {**old["models"], **{m.model: {
        "total": m.total_count,
        "layers": [{"index": l.index, "name": l.name, "op": l.op, "count": l.count} for l in m.layers],
    } for m in report.models}}
    data = {"format": FORMAT, "target": report.provenance.target, "kernels": kernels, "counter": counter,
            "unit": report.models[0].unit, "models": dict(sorted(models.items())),
            "provenance": asdict(report.provenance)}
    write_atomic(path, json.dumps(data, indent=1) + "\n")
    return [m.model for m in report.models]


@dataclass(frozen=True)
class Change:
    model: str
    index: int
    layer: str
    op: str
    old: int
    new: int

    @property
    def percent(self) -> float:
        return 100.0 * (self.new - self.old) / self.old if self.old else float("inf")

    def describe(self, unit: str) -> str:
        sign = "+" if self.new >= self.old else ""
        return (f"{self.model} layer {self.index} '{self.layer}' ({self.op}): {self.old:,} -> {self.new:,} {unit} "
                f"({sign}{self.new - self.old:,}, {sign}{self.percent:.2f}%)")


@dataclass
class Comparison:
    path: Path
    tolerance_pct: float
    unit: str
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kernels: str = REF

    @property
    def ok(self) -> bool:
        return not self.regressions and not self.missing

    def lines(self) -> list[str]:
        out = [f"baseline {self.path}, kernels {self.kernels} (tolerance {self.tolerance_pct:g}%)"]
        out += [f"NOTE: {n}" for n in self.notes]
        out += [f"REGRESSION: {c.describe(self.unit)}" for c in self.regressions]
        out += [f"MISSING: {m}" for m in self.missing]
        out += [f"improved: {c.describe(self.unit)}" for c in self.improvements]
        if self.ok:
            out.append(f"baseline gate passed: no layer takes more {self.unit} than its baseline allows"
                       f"{f' ({len(self.improvements)} improved)' if self.improvements else ''}")
        else:
            out.append(f"baseline gate FAILED: {len(self.regressions)} layer(s) take more {self.unit}, "
                       f"{len(self.missing)} without a baseline")
        return out


def compare(report: BenchReport, path: Path, tolerance_pct: float | None = None) -> Comparison:
    data = read_baseline(path)
    kernels = report.provenance.kernel_variant
    if data is None:
        raise BaselineError(f"no baseline of counts at {path}: create it with `harness bench --all"
                            f"{'' if kernels == REF else f' --kernels {kernels}'} --update-baseline`")
    check_kernels(data, path, kernels, report.provenance.target)
    counters = report.counters
    if counters != {data.get("counter")}:
        raise BaselineError(f"{path} holds {data.get('counter')} counts, this run measured "
                            f"{', '.join(sorted(counters))}: they cannot be compared")
    counter = data["counter"]
    tol = tolerance_pct if tolerance_pct is not None else (0.0 if counter in DETERMINISTIC else GRANULAR_TOLERANCE_PCT)
    result = Comparison(path, tol, data.get("unit", unit_of(counter)), kernels=kernels)
    recorded = data.get("provenance", {})
    for key in ("compiler", "emulator_version"):
        now = getattr(report.provenance, key)
        if recorded.get(key) and recorded[key] != now:
            result.notes.append(
                f"{key} differs from the baseline's ({recorded[key]} vs {now}); counts may move for that reason")
    for m in report.models:
        base = data["models"].get(m.model)
        if base is None:
            result.missing.append(
                f"{m.model} has no baseline; record it with `harness bench {m.model} --update-baseline`"
            )
            continue
        old_layers = {(l["index"], l["name"]): l["count"] for l in base["layers"]}
        for l in m.layers:
            old = old_layers.get((l.index, l.name))
            if old is None:
                result.missing.append(
                    f"{m.model} layer {l.index} '{l.name}' is not in the baseline (the model changed)"
                )
                continue
            change = Change(m.model, l.index, l.name, l.op, old, l.count)
            if l.count > old * (1.0 + tol / 100.0):
                result.regressions.append(change)
            elif l.count < old:
                result.improvements.append(change)
    return result

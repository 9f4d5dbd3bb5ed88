"""Benchmarks: per-layer counts of zoo models on a target, with footprint and provenance, and the
baseline gate that fails when a layer's count grows. A count is in the unit of the firmware's counter:
instructions under QEMU (icount), cycles on silicon (dwt), ticks of a board timer (timer).

Each model runs twice. A deterministic counter (icount) must give the same count for every layer
and sample both times, or the benchmark is an error; the report says which held. The logits are
checked against the integer reference too: a fast wrong kernel is not an improvement.
"""
from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.build import FIRMWARE_DIR, PROJECT_ROOT, Firmware, KernelVariant, ModelTooLarge, build_firmware
from harness.codegen.calls import CArray, CStruct, kernel_call
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TIMEOUT
from harness.errors import FirmwareFailure, InputError, VerificationFailed
from harness.model import Model
from harness.model.constants import layer_constants
from harness.protocol.counters import unit_of
from harness.reference import compute_reference
from harness.results import LayerRow
from harness.session import Emulated, build, emulate, judge, layer_rows
from harness.targets import Target

Log = Callable[[str], None]
#: Counters whose counts are exact and repeat run after run.
DETERMINISTIC = ("icount", "plugin")
RUNS = 2


class NotRepeatable(FirmwareFailure):
    """A deterministic counter gave different counts on two identical runs."""


@dataclass(frozen=True)
class BenchLayer(LayerRow):
    """A run's layer row plus its footprint."""

    weight_bytes: int = 0  # constants the layer's kernel reads: weights, bias, requantizers, tables
    activation_bytes: int = 0  # its input and output tensors

    @property
    def macs_per_count(self) -> float | None:
        return self.macs / self.count if self.macs and self.count else None


@dataclass
class ModelBench:
    model: str
    layers: list[BenchLayer]
    firmware: Firmware
    counter: str
    stack_used: int
    runs: int
    repeatable: bool
    count_unit: str = ""  # the unit the emulator gives the counter ("": the counter's own)
    wall_seconds: list[float] = field(default_factory=list)  # each run's emulation, start to @done (not a gate)

    @property
    def total_count(self) -> int:
        return sum(l.count for l in self.layers)

    @property
    def total_macs(self) -> int:
        return sum(l.macs for l in self.layers)

    @property
    def unit(self) -> str:
        return self.count_unit or unit_of(self.counter)


@dataclass
class Provenance:
    target: str
    core: str
    emulator: str
    emulator_version: str
    compiler: str
    flags: tuple[str, ...]
    kernel_variant: str
    harness_version: str
    source: str  # git commit of the harness and firmware, or "unknown"
    count_note: str | None = None  # what the counter counts on this emulator, where its name does not say


@dataclass
class BenchReport:
    provenance: Provenance
    models: list[ModelBench] = field(default_factory=list)
    unfit: list[str] = field(default_factory=list)  # why each model skipped as too large for the target was

    @property
    def counters(self) -> set[str]:
        return {m.counter for m in self.models}


def _layer_weight_bytes(model: Model) -> list[int]:
    """Bytes of constants each layer's kernel call carries, as the generated code stores them."""
    graph = model.graph
    out = []
    for layer in graph.layers:
        call = kernel_call(layer, layer_constants(graph, layer), [graph.tensors[t].shape for t in layer.inputs],
                           graph.tensors[layer.output].shape)
        total = 0
        pending = list(call.args) if call else []
        while pending:
            arg = pending.pop()
            if isinstance(arg, CArray):
                total += int(arg.values.size) * (1 if arg.ctype == "int8_t" else 4)
            elif isinstance(arg, CStruct):
                pending += [f for f in _flatten(arg.fields) if isinstance(f, CArray)]
        out.append(total)
    return out


def _flatten(fields: tuple[Any, ...]) -> list[Any]:
    flat: list[Any] = []
    for f in fields:
        flat += _flatten(f) if isinstance(f, tuple) else [f]
    return flat


def _source_revision() -> str:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def bench_model(name: str | Model, target: Target, emulator: str, timeout: float,
                firmware_dir: Path = FIRMWARE_DIR, kernels: KernelVariant | None = None) -> tuple[ModelBench, Emulated]:
    """Benchmark one model, named as a user would name it or given as a Model built in this process
    (the kernel suite's shapes): returns it and its last emulator run (for the emulator's version and
    notes)."""
    if isinstance(name, Model):
        model, firmware = name, build_firmware(name, target, firmware_dir=firmware_dir, kernels=kernels)
    else:
        model, _, firmware = build(name, target.name, firmware_dir=firmware_dir, kernels=kernels)
    reference = compute_reference(model)
    runs = []
    walls = []
    for _ in range(RUNS):
        began = time.monotonic()
        emulated = emulate(firmware, target, emulator, timeout)
        walls.append(time.monotonic() - began)
        verdict = judge(model, firmware, emulated, reference)  # counts of wrong code are not benchmarks
        if not verdict.match:
            raise VerificationFailed(verdict.problems, emulated.evidence)
        runs.append(emulated.run)
    assert runs[0].boot is not None  # the verdict requires the boot record
    counter = runs[0].boot.counter
    repeatable = all(r.counts_by_layer() == runs[0].counts_by_layer() for r in runs[1:])
    if counter in DETERMINISTIC and not repeatable:
        raise NotRepeatable(f"{name}: the {counter} counter gave different counts on two identical runs")
    rows = layer_rows(model, runs[0])
    weights = _layer_weight_bytes(model)
    graph = model.graph
    layers = []
    for r in rows:
        layer = graph.layers[r.index]
        activations = sum(graph.tensors[t].size for t in layer.inputs) + graph.tensors[layer.output].size
        layers.append(BenchLayer(**asdict(r), weight_bytes=weights[r.index], activation_bytes=activations))
    bench = ModelBench(model.name, layers, firmware, counter, runs[0].stack_used or 0, RUNS, repeatable, emulated.unit,
                       walls)
    return bench, emulated


def run_bench(names: Sequence[str | Model], target: Target, emulator: str = DEFAULT_EMULATOR,
              timeout: float = DEFAULT_TIMEOUT, log: Log | None = None,
              firmware_dir: Path = FIRMWARE_DIR, kernels: KernelVariant | None = None,
              skip_unfit: bool = False) -> BenchReport:
    """Benchmark `names` (model names, or Models built in this process) built with the kernel
    variant `kernels` (the target's own when None); `firmware_dir` lets tests measure a modified
    firmware tree. `skip_unfit`: a model too large for the target is left out (and listed in the
    report's `unfit`) instead of ending the bench."""
    say = log or (lambda msg: None)
    report: BenchReport | None = None
    unfit: list[str] = []
    for i, entry in enumerate(names, start=1):
        name = entry.name if isinstance(entry, Model) else entry
        say(f"[{i}/{len(names)}] {name}: building and running {RUNS} times on {emulator}")
        try:
            bench, emulated = bench_model(entry, target, emulator, timeout, firmware_dir, kernels)
        except ModelTooLarge as e:
            if not skip_unfit:
                raise
            unfit.append(e.message)
            say(f"[{i}/{len(names)}] {name}: skipped: {e.message}")
            continue
        if report is None:
            fw = bench.firmware
            report = BenchReport(Provenance(target.name, target.core, emulator, emulated.version, fw.compiler,
                                            fw.flags, fw.variant, __version__, _source_revision(),
                                            emulated.count_note))
        report.models.append(bench)
        say(f"[{i}/{len(names)}] {name}: {bench.total_count:,} {bench.unit}"
            f"{', repeated exactly' if bench.repeatable else ''}")
    if report is None:
        raise InputError("no models to benchmark" + (f": none fits {target.name}" if unfit else ""))
    report.unfit = unfit
    return report



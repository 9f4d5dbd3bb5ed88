"""Verification: firmware logits against the Python integer reference and the golden file, byte
for byte, plus the checks that make a run trustworthy (it finished, it ran the image we built, the
model is not degenerate)."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from harness.build.elfinfo import function_at
from harness.emu import describe_fault
from harness.protocol import KERNEL_STATUS, FirmwareRun
from harness.quant import dequantize
from harness.reference import run_float, run_int8
from harness.zoo.common import Model


@dataclass(frozen=True)
class Mismatch:
    sample: int
    position: int
    firmware: Optional[int]
    expected: Optional[int]
    against: str  # "reference" or "golden"

    def __str__(self) -> str:
        return (
            f"sample {self.sample} position {self.position}: firmware {self.firmware}, "
            f"{self.against} {self.expected}"
        )


@dataclass(frozen=True)
class Divergence:
    """The first layer whose output differs from the reference's, by its CRC32."""

    sample: int
    layer: int
    name: str
    op: str

    def __str__(self) -> str:
        return f"first differing layer: {self.layer} '{self.name}' ({self.op}) on sample {self.sample}"


@dataclass
class Verdict:
    reference: list[list[int]]
    golden: Optional[list[list[int]]]
    mismatches: list[Mismatch] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    divergence: Optional[Divergence] = None

    @property
    def reference_match(self) -> bool:
        return not self.problems and not any(m.against == "reference" for m in self.mismatches)

    @property
    def golden_match(self) -> Optional[bool]:
        if self.golden is None:
            return None
        return not self.problems and not any(m.against == "golden" for m in self.mismatches)

    @property
    def match(self) -> bool:
        """The contract of `harness run`: equal to the reference and to an existing golden file."""
        return self.reference_match and self.golden_match is True


def reference_logits(model: Model) -> list[list[int]]:
    out = run_int8(model.graph, model.test_inputs_q)[model.graph.output]
    return out.reshape(len(out), -1).astype(int).tolist()


def crc32_of(values: np.ndarray) -> int:
    """CRC32 of int8 values as the firmware's checksum reads their bytes."""
    return zlib.crc32(np.ascontiguousarray(values, dtype=np.int8).tobytes()) & 0xFFFFFFFF


def first_divergence(model: Model, run: FirmwareRun) -> Optional[Divergence]:
    """The earliest (layer, sample) whose output CRC differs from the integer reference's."""
    values = run_int8(model.graph, model.test_inputs_q)
    crcs = run.output_crcs()
    for i, layer in enumerate(model.graph.layers):
        for s in range(len(model.test_inputs_q)):
            got = crcs.get((s, i))
            if got is not None and got != crc32_of(values[layer.output][s]):
                return Divergence(s, i, layer.name, layer.op)
    return None


def _diff(firmware: list[list[int]], expected: list[list[int]], against: str) -> list[Mismatch]:
    found = []
    for s in range(max(len(firmware), len(expected))):
        fw = firmware[s] if s < len(firmware) else []
        ex = expected[s] if s < len(expected) else []
        for p in range(max(len(fw), len(ex))):
            a = fw[p] if p < len(fw) else None
            b = ex[p] if p < len(ex) else None
            if a != b:
                found.append(Mismatch(s, p, a, b, against))
    return found


def degenerate(logits: list[list[int]]) -> Optional[str]:
    """Why a set of logits cannot come from a working model, or None."""
    arr = np.asarray(logits)
    if arr.size == 0:
        return None
    if arr.shape[1] > 1:
        flat = [s for s, row in enumerate(logits) if len(set(row)) == 1]
        if flat:
            return f"degenerate model: every logit of sample(s) {flat} is the same value"
    if len(np.unique(arr)) == 1:
        return f"degenerate model: every logit of every sample is {int(arr.flat[0])}"
    return None


def verify_run(
    model: Model, run: FirmwareRun, golden: Optional[list[list[int]]], build_id: str, elf: Optional[Path] = None
) -> Verdict:
    reference = reference_logits(model)
    v = Verdict(reference, golden)
    layer_names = [layer.name for layer in model.graph.layers]
    if run.fault is not None:
        func = function_at(elf, run.fault.pc) if elf else None
        v.problems.append(f"firmware fault: {describe_fault(run.fault, func)}")
    if run.error is not None:
        sample, layer, status = run.error
        name = layer_names[layer] if layer < len(layer_names) else f"#{layer}"
        v.problems.append(
            f"kernel of layer {layer} '{name}' returned status {status} "
            f"({KERNEL_STATUS.get(status, 'unknown status')}) on sample {sample}"
        )
    if run.status is None:
        v.problems.append("the firmware did not finish (no @done record)")
    elif run.status != "ok" and run.fault is None and run.error is None:
        v.problems.append(f"the firmware finished with status '{run.status}'")
    if run.model is not None and run.model.build != build_id:
        v.problems.append(f"the emulator ran image {run.model.build}, not the one just built ({build_id})")
    if v.problems:
        return v
    firmware = [run.logits.get(s, []) for s in range(len(reference))]
    missing = [s for s in range(len(reference)) if s not in run.logits]
    if missing:
        v.problems.append(f"no logits from the firmware for sample(s) {missing}")
    v.mismatches += _diff(firmware, reference, "reference")
    if any(m.against == "reference" for m in v.mismatches):
        v.divergence = first_divergence(model, run)
    if golden is not None:
        v.mismatches += _diff(firmware, golden, "golden")
    reason = degenerate(firmware)
    if reason:
        v.problems.append(reason)
    return v


def classify(model: Model, logits: list[list[int]]) -> list[int]:
    """Predicted class per sample: argmax, or for one output the side of 0.5 it falls on."""
    out_q = model.graph.tensors[model.graph.output].quant
    arr = np.asarray(logits)
    if arr.shape[1] == 1:
        return [int(out_q.scale * (v - out_q.zero_point) >= 0.5) for v in arr[:, 0]]
    return [int(i) for i in arr.argmax(axis=1)]


@dataclass(frozen=True)
class Parity:
    """Worst |dequantized int8 output - float output| over the test samples, as a fraction of the
    float outputs' range over the reference (calibration) samples."""

    worst_abs: float
    float_range: float
    threshold: float
    note: str

    @property
    def fraction(self) -> float:
        return self.worst_abs / self.float_range if self.float_range > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.fraction <= self.threshold

    def __str__(self) -> str:
        return (f"float parity: worst |int8 - float| {self.worst_abs:.4g} = {100 * self.fraction:.1f}% of the float "
                f"range {self.float_range:.4g} (threshold {100 * self.threshold:.0f}%: {self.note})")


def float_parity(model: Model, logits: list[list[int]]) -> Parity:
    """Parity of int8 `logits` (one row per test sample) against the float reference."""
    graph = model.graph
    out = graph.tensors[graph.output]
    ref_all = run_float(graph, model.reference_inputs)[graph.output].reshape(len(model.reference_inputs), -1)
    test = run_float(graph, model.test_inputs)[graph.output].reshape(len(model.test_inputs), -1)
    q = dequantize(np.asarray(logits), out.quant).astype(np.float64)
    return Parity(float(np.abs(q - test).max()), float(ref_all.max() - ref_all.min()), model.parity_threshold,
                  model.parity_note)

"""Verification: the one judge of a firmware run, used by the command line, pytest and Robot.

It compares what the firmware reported with the Python integer reference (every layer's output by
its CRC32, and the logits byte for byte) and with the golden file, and checks that the run is
whole: it booted, ran the image that was built, reported every layer of every sample once,
finished, and kept its stack. Each check is listed in the verdict with its outcome, and every
finding is a typed Problem that names whose fault it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.build.elfinfo import function_at
from harness.errors import Problem
from harness.model import Model
from harness.protocol import FirmwareRun, describe_fault
from harness.quant import dequantize
from harness.reference import Reference

#: What to do about a record that is missing, repeated or inconsistent.
READ_TRANSCRIPT = "read the run's UART transcript (uart.log) to see what the firmware printed"


@dataclass(frozen=True)
class Mismatch:
    sample: int
    position: int
    firmware: int | None
    expected: int | None
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


@dataclass(frozen=True)
class Check:
    """One thing a verdict requires; `ok` is None when it could not be checked."""

    name: str
    ok: bool | None
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Verdict:
    reference: list[list[int]]
    golden: list[list[int]] | None
    checks: list[Check] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    divergence: Divergence | None = None

    @property
    def reference_match(self) -> bool:
        return self._passed("logits = reference")

    @property
    def golden_match(self) -> bool | None:
        if self.golden is None:
            return None
        return self._passed("logits = golden")

    @property
    def match(self) -> bool:
        """The contract of `harness run`: every check ran and passed, and nothing else went wrong."""
        return not self.problems and bool(self.checks) and all(c.ok for c in self.checks)

    def _passed(self, name: str) -> bool:
        return any(c.name == name and c.ok for c in self.checks)

    def check(self, name: str, ok: bool | None, detail: str, problem: Problem | None = None) -> None:
        self.checks.append(Check(name, ok, detail))
        if problem is not None:
            self.problems.append(problem)


def model_argument(model: Model) -> str:
    """What to type as MODEL to name this model again: an imported model's file, else its name."""
    return str(model.origin.path) if model.origin is not None else model.name


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


def degenerate(logits: list[list[int]]) -> str | None:
    """Why a set of logits cannot come from a working model, or None."""
    rows = [row for row in logits if row]
    if not rows:
        return None
    flat = [s for s, row in enumerate(logits) if len(row) > 1 and len(set(row)) == 1]
    if flat:
        return f"degenerate model: every logit of sample(s) {flat} is the same value"
    values = {v for row in rows for v in row}
    if len(values) == 1:
        return f"degenerate model: every logit of every sample is {values.pop()}"
    return None


def first_divergence(model: Model, run: FirmwareRun, reference: Reference) -> Divergence | None:
    """The earliest (layer, sample) whose output CRC differs from the integer reference's."""
    crcs = run.output_crcs()
    for i, layer in enumerate(model.graph.layers):
        for s in range(len(model.test_inputs_q)):
            got = crcs.get((s, i))
            if got is not None and got != reference.layer_crcs[(s, i)]:
                return Divergence(s, i, layer.name, layer.op)
    return None


def _check_ending(v: Verdict, model: Model, run: FirmwareRun, ended: Problem | None,
                  elf: Path | None) -> bool:
    """Did the firmware finish its work? Records the outcome; True when the content can be judged."""
    names = [layer.name for layer in model.graph.layers]
    if run.fault is not None:
        func = function_at(elf, run.fault.pc) if elf else None
        v.check("finished", False, "the firmware faulted",
                Problem("fault", f"firmware fault: {describe_fault(run.fault, func)}",
                        "the fault registers and function are above; the UART transcript has the records before it"))
        return False
    if run.error is not None:
        layer = run.error.layer
        name = names[layer] if layer < len(names) else f"#{layer}"
        what = "a layer's kernel check refused it" if run.error.check is not None else "a kernel returned an error"
        v.check("finished", False, what,
                Problem("error", run.error.describe(name),
                        "check the generated parameters of that layer against the kernel's ranges (hk_nn.h)"))
        return False
    if ended is not None:
        v.check("finished", None if ended.party != "firmware" else False, ended.message, ended)
        return False
    if run.status is None:
        v.check(
            "finished",
            False,
            "no @done record",
            Problem("records", "the firmware did not finish (no @done record)", READ_TRANSCRIPT),
        )
        return False
    if run.status != "ok":
        v.check(
            "finished",
            False,
            f"status {run.status}",
            Problem("records", f"the firmware finished with status '{run.status}'", READ_TRANSCRIPT),
        )
        return False
    v.check("finished", True, "@done status=ok")
    return True


def _check_header(v: Verdict, model: Model, run: FirmwareRun, build_id: str) -> None:
    if run.boot is None:
        v.check(
            "boot record",
            False,
            "missing",
            Problem("records", "no @boot record: the firmware's start is missing", READ_TRANSCRIPT),
        )
    else:
        v.check("boot record", True, f"board {run.boot.board}, counter {run.boot.counter}")
    if run.model is None:
        v.check(
            "model record",
            False,
            "missing",
            Problem("records", "no @model record: cannot tell which image ran", READ_TRANSCRIPT),
        )
        v.check("build id", None, "no @model record")
        return
    info, samples, layers = run.model, len(model.test_inputs_q), len(model.graph.layers)
    wrong = [
        f"{what} {got} (expected {want})"
        for what, got, want in (
            ("name", info.name, model.name),
            ("layers", info.layers, layers),
            ("samples", info.samples, samples),
        )
        if got != want
    ]
    v.check(
        "model record",
        not wrong,
        "; ".join(wrong) or f"{info.name}, {info.layers} layers, {info.samples} samples",
        Problem(
            "records",
            f"the @model record disagrees with the model: {'; '.join(wrong)}",
            "the generated model code does not describe this model: rebuild it",
        )
        if wrong
        else None,
    )
    same = info.build == build_id
    v.check(
        "build id",
        same,
        info.build,
        None
        if same
        else Problem(
            "environment",
            f"the emulator ran image {info.build}, not the one just built ({build_id})",
            "remove the build directory and run again",
        ),
    )


def _check_layers(v: Verdict, model: Model, run: FirmwareRun, reference: Reference, fuzz_options: str) -> None:
    expected = set(reference.layer_crcs)
    got = run.output_crcs()
    missing = sorted(expected - set(got))
    extra = sorted(set(got) - expected)
    if missing or extra or run.repeated:
        parts = (
            ([f"missing (sample, layer) {missing[:5]}{' ...' if len(missing) > 5 else ''}"] if missing else [])
            + ([f"unexpected (sample, layer) {extra[:5]}"] if extra else [])
            + ([f"{len(run.repeated)} repeated record(s), first {run.repeated[0]!r}"] if run.repeated else [])
        )
        v.check(
            "layer records",
            False,
            "; ".join(parts),
            Problem(
                "records",
                "the firmware's @layer records are not one per layer and sample: " + "; ".join(parts),
                READ_TRANSCRIPT,
            ),
        )
    else:
        v.check("layer records", True, f"{len(expected)} (every layer of every sample, once)")
    v.divergence = first_divergence(model, run, reference)
    if v.divergence is None:
        v.check("layer outputs = reference", True, f"{len(expected & set(got))} layer output CRCs equal")
    else:
        v.check(
            "layer outputs = reference",
            False,
            str(v.divergence),
            Problem(
                "differs",
                f"a layer's output differs from the reference: {v.divergence}",
                f"run `harness fuzz --op {v.divergence.op}{fuzz_options}` to find the smallest failing case",
            ),
        )


def _check_stack(v: Verdict, run: FirmwareRun) -> None:
    if run.stack_used is None or run.stack_size is None:
        v.check("stack", None, "not reported")
    elif run.stack_used >= run.stack_size:
        v.check(
            "stack",
            False,
            f"{run.stack_used} of {run.stack_size} B",
            Problem(
                "stack",
                f"the stack was used to its last byte ({run.stack_used} of {run.stack_size} B): "
                "it overflowed or is about to",
                "give the target a larger stack",
            ),
        )
    else:
        v.check("stack", True, f"{run.stack_used} of {run.stack_size} B used")


@dataclass(frozen=True)
class InterpreterDivergence:
    """The first layer where the integer reference and the TFLite interpreter part."""

    layer: int
    name: str
    op: str
    file_op: str
    sample: int
    element: int
    reference: int
    interpreter: int
    count: int  # values of that layer that differ, over all samples

    def __str__(self) -> str:
        return (f"layer {self.layer} '{self.name}' ({self.op}, the file's {self.file_op}): sample {self.sample} "
                f"element {self.element}: integer reference {self.reference}, interpreter {self.interpreter} "
                f"({self.count} value(s) of that layer differ)")


def interpreter_divergence(model: Model, reference: Reference) -> InterpreterDivergence | None:
    """Where the integer reference first parts from the TFLite interpreter, layer by layer."""
    interp = reference.interpreter
    if interp is None or model.origin is None:
        return None
    samples = len(model.test_inputs_q)
    for i, layer in enumerate(model.graph.layers):
        ours = reference.layer_outputs[layer.output].reshape(samples, -1)
        theirs = interp.layer_outputs[i].reshape(samples, -1)
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
            differ = np.argwhere(ours != theirs) if ours.shape == theirs.shape else np.array([[0, 0]])
            s, e = int(differ[0][0]), int(differ[0][1])
            return InterpreterDivergence(i, layer.name, layer.op, model.origin.layer_ops[i], s, e, int(ours[s, e]),
                                         int(theirs[s, e]) if e < theirs.shape[1] else 0, len(differ))
    return None


def _check_interpreter(v: Verdict, model: Model, run: FirmwareRun, reference: Reference) -> None:
    """For an imported .tflite: the integer reference equals the interpreter at every layer, and the
    firmware's logits equal the interpreter's."""
    interp = reference.interpreter
    if interp is None:
        return
    parted = interpreter_divergence(model, reference)
    v.check(
        "integer reference = TFLite interpreter",
        parted is None,
        f"every layer's output equal ({interp.name})" if parted is None else f"they part at {parted}",
        None if parted is None else Problem(
            "differs", f"the integer reference (which the firmware follows) parts from the TFLite interpreter at "
            f"{parted}", "the harness computes this op differently from TFLite: report it with the .tflite file"),
    )
    firmware = [run.logits.get(s, []) for s in range(len(interp.logits))]
    bad = _diff(firmware, interp.logits, "interpreter")
    v.mismatches += bad
    v.check(
        "logits = TFLite interpreter",
        not bad,
        f"{len(interp.logits)} samples x {len(interp.logits[0]) if interp.logits else 0} values"
        if not bad else f"{len(bad)} value(s) differ",
        None if not bad or parted is not None else Problem(
            "differs", f"the firmware's logits differ from the TFLite interpreter's in {len(bad)} value(s), first "
            f"{bad[0]}", "compare the logits in the report with the interpreter's"),
    )


def _check_logits(v: Verdict, model: Model, run: FirmwareRun, golden_file: Path | None, fuzz_options: str) -> None:
    reference, golden = v.reference, v.golden
    firmware = [run.logits.get(s, []) for s in range(max([len(reference), *[s + 1 for s in run.logits]]))]
    ref_bad = _diff(firmware, reference, "reference")
    v.mismatches += ref_bad
    where = f" ({v.divergence})" if v.divergence else ""
    v.check(
        "logits = reference",
        not ref_bad,
        f"{len(ref_bad)} value(s) differ{where}"
        if ref_bad
        else f"{len(reference)} samples x {len(reference[0]) if reference else 0} values",
        Problem(
            "differs",
            f"the firmware's logits differ from the Python reference in {len(ref_bad)} "
            f"value(s), first {ref_bad[0]}{where}",
            f"run `harness fuzz --op {v.divergence.op}{fuzz_options}` to find the smallest failing case"
            if v.divergence
            else "compare the logits in the report with the reference",
        )
        if ref_bad
        else None,
    )
    if golden_file is None:
        pass  # the golden file is not part of this verdict
    elif golden is None:
        v.check(
            "logits = golden",
            None,
            f"no golden file at {golden_file}",
            Problem(
                "input",
                f"no golden file at {golden_file}",
                f"create it with `harness golden {model_argument(model)} --target {golden_file.stem}`",
            ),
        )
    elif len(golden) != len(reference) or any(len(g) != len(r) for g, r in zip(golden, reference)):
        shape = f"{len(golden)} sample(s) of {sorted({len(g) for g in golden})} value(s)"
        v.check(
            "logits = golden",
            None,
            f"the golden file does not fit the model ({shape})",
            Problem(
                "input",
                f"{golden_file} has {shape}; the model has {len(reference)} of {len(reference[0]) if reference else 0}",
                f"rewrite it with `harness golden {model_argument(model)} --target {golden_file.stem}`",
            ),
        )
    else:
        gold_bad = _diff(firmware, golden, "golden")
        v.mismatches += gold_bad
        hint = (
            (
                "the firmware matches the reference: the model's outputs changed; if that is intended, "
                f"`harness golden {model_argument(model)} --target {golden_file.stem}`"
            )
            if not ref_bad
            else ""
        )
        v.check(
            "logits = golden",
            not gold_bad,
            f"{len(gold_bad)} value(s) differ" if gold_bad else "equal",
            Problem(
                "differs",
                f"the firmware's logits differ from {golden_file} in {len(gold_bad)} value(s), first {gold_bad[0]}",
                hint,
            )
            if gold_bad
            else None,
        )
    reason = degenerate(firmware)
    v.check(
        "not degenerate",
        reason is None,
        reason or "the logits vary",
        Problem("degenerate", reason, "the model must give different outputs to be tested") if reason else None,
    )


def verify_run(
    model: Model,
    run: FirmwareRun,
    reference: Reference,
    golden: list[list[int]] | None,
    build_id: str,
    elf: Path | None = None,
    ended: Problem | None = None,
    golden_file: Path | None = None,
    fuzz_options: str = "",
) -> Verdict:
    """Judge one run against the `reference` it is handed (computed once, by
    harness.reference.compute_reference); `ended` is how the run ended when it did not end by itself
    (a hang, an emulator crash, garbage on the UART); `golden_file` None leaves the golden file out of
    the verdict; `fuzz_options` are added to the `harness fuzz` command a differing layer suggests
    (the firmware's --kernels). When the run's ending was not the firmware's doing, nothing else is
    judged: the harness only says what stopped it."""
    v = Verdict(reference.logits, golden)
    judged = ended is None or ended.party == "firmware"
    if judged:
        _check_header(v, model, run, build_id)
    if _check_ending(v, model, run, ended, elf):
        _check_layers(v, model, run, reference, fuzz_options)
        _check_logits(v, model, run, golden_file, fuzz_options)
        _check_interpreter(v, model, run, reference)
        _check_stack(v, run)
    elif judged:
        v.divergence = first_divergence(model, run, reference)
    return v


def classify(model: Model, logits: list[list[int]]) -> list[int]:
    """Predicted class per sample: argmax, or for one output the side of 0.5 it falls on."""
    out_q = model.graph.tensors[model.graph.output].grid
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
        return (
            f"float parity: worst |int8 - float| {self.worst_abs:.4g} = {100 * self.fraction:.1f}% of the float "
            f"range {self.float_range:.4g} (threshold {100 * self.threshold:.0f}%: {self.note})"
        )


def float_parity(model: Model, logits: list[list[int]], reference: Reference) -> Parity:
    """Parity of int8 `logits` (one row per test sample) against the float reference's outputs."""
    out = model.graph.tensors[model.graph.output]
    q = dequantize(np.asarray(logits), out.grid).astype(np.float64)
    return Parity(float(np.abs(q - reference.float_outputs).max()), reference.float_range, model.parity_threshold,
                  model.parity_note)

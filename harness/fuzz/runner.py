"""`harness fuzz`: random single-layer cases run on the emulator in batches and compared bit for bit
with the integer reference.

Many cases share one image and one emulator start: each case is one "layer" of a generated suite,
and the runner's per-layer output CRC is compared with the reference's. A case that faults or gets
an error status stops its image; the cases after it are run again in the next image. Failures are
shrunk to the smallest configuration that still fails (on the host build of the same C kernels when
the failure reproduces there, else on the emulator, a batch of candidates per image) and reported as
a command that reruns exactly that case.
"""
from __future__ import annotations

import json
import shlex
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.build import FIRMWARE_DIR, REF_KERNELS, KernelVariant, ScratchBuilder
from harness.codegen import generate_suite
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TIMEOUT
from harness.emu import make_emulator
from harness.errors import FirmwareFailure, HarnessError, InputError
from harness.fuzz.cases import KernelCase, RngDraw, build_case, draw_case
from harness.protocol import FirmwareRun, describe_fault
from harness.reference import crc32_of
from harness.targets import Target

Log = Callable[[str], None]

#: Bytes of constants (weights, inputs, tables) per image: well inside 1 MiB of flash.
IMAGE_BUDGET_BYTES = 400 * 1024
#: Cases per image: keeps the generated switch and the compile time reasonable.
IMAGE_MAX_CASES = 400
SHRINK_ROUNDS = 12
#: The suite's model.c only sets up kernel arguments: compiled fast, the kernels keep their flags.
SUITE_FLAGS = ("-O0", "-g0")

#: Configuration keys that are sizes (shrunk toward 1) and the neutral values of the edge modes.
SIZE_KEYS = ("h", "w", "c", "cin", "cout", "mult", "n_in", "n_out", "kh", "kw", "sh", "sw", "dh", "dw",
             "ph", "pw", "rows", "depth")
NEUTRAL = {"data": "uniform", "data2": "uniform", "act": "none", "requant": "auto", "bias": "small",
           "weights": "uniform", "per_channel": False, "table": "function"}


@dataclass
class Outcome:
    case: KernelCase
    ok: bool
    reason: str = ""


@dataclass
class FuzzFailure:
    original: KernelCase
    minimal: KernelCase
    reason: str
    target: str
    kernels: KernelVariant = REF_KERNELS

    def command(self) -> str:
        return (f"harness fuzz --target {self.target} --kernels {self.kernels.option} "
                f"--replay {shlex.quote(self.minimal.config_json())}")


@dataclass
class FuzzReport:
    passed: int = 0
    failures: list[FuzzFailure] = field(default_factory=list)
    per_op: dict[str, list[int]] = field(default_factory=dict)  # op -> [passed, failed]
    images: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)


def op_seed(seed: int, op: str) -> np.random.Generator:
    """A generator per (seed, op): adding an op or changing --op never changes another op's cases."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(op.encode())]))


def generate_cases(ops: Sequence[str], cases_per_op: int, seed: int) -> list[KernelCase]:
    out = []
    for op in ops:
        draw = RngDraw(op_seed(seed, op))
        out += [draw_case(op, draw) for _ in range(cases_per_op)]
    return out


def case_bytes(case: KernelCase) -> int:
    layer, k = case.layer, case.constants
    n = sum(x.size for x in case.inputs)
    for arr, width in ((layer.weights, 1), (layer.bias, 4), (k.multipliers, 8), (k.lut, 1)):
        if arr is not None:
            n += int(np.asarray(arr).size) * width
    return n


def pack(cases: Sequence[KernelCase]) -> list[list[KernelCase]]:
    """Consecutive cases grouped into images within the byte and count budgets."""
    batches: list[list[KernelCase]] = []
    current: list[KernelCase] = []
    used = 0
    for case in cases:
        size = case_bytes(case)
        if current and (used + size > IMAGE_BUDGET_BYTES or len(current) >= IMAGE_MAX_CASES):
            batches.append(current)
            current, used = [], 0
        current.append(case)
        used += size
    if current:
        batches.append(current)
    return batches


class EmulatorOracle:
    """Runs batches of cases on the emulator; each call is one image and one emulator start."""

    def __init__(self, builder: ScratchBuilder, emulator: str, timeout: float):
        self.builder, self.target, self.emulator, self.timeout = builder, builder.target, emulator, timeout
        self.images = 0

    def run(self, cases: Sequence[KernelCase]) -> tuple[list[Outcome], FirmwareRun]:
        """Outcomes of the cases the image got through; a fault or error ends the list early."""
        gen = generate_suite(f"fuzz_{self.target.name}", [c.suite_case() for c in cases],
                             self.builder.kernels.scratch_table)
        image = self.builder.build(gen.source)
        self.images += 1
        failure = None
        with make_emulator(self.emulator, image.elf, self.target, self.timeout) as emu:
            try:
                emu.run_to_completion()
            except FirmwareFailure as e:  # a hang or lock-up is the case's; emulator trouble is raised
                failure = str(e)
            run = emu.run
        if run.error is not None and run.error.check is not None and run.error.layer < len(cases):
            # refused before anything ran: the cases before it are run again without it
            refused = run.error.layer
            outcomes = self.run(cases[:refused])[0] if refused else []
            if len(outcomes) == refused:
                outcomes.append(Outcome(cases[refused], False, run.error.describe(cases[refused].op)))
            return outcomes, run
        crcs = run.output_crcs()
        outcomes = []
        for i, case in enumerate(cases):
            crc = crcs.get((0, i))
            if crc is not None:
                ok = crc == crc32_of(case.reference())
                outcomes.append(Outcome(case, ok, "" if ok else "output differs from the reference"))
                continue
            if run.error is not None and run.error.layer == i:
                outcomes.append(Outcome(case, False, run.error.describe(case.op)))
            elif run.fault is not None:
                outcomes.append(Outcome(case, False, f"firmware fault: {describe_fault(run.fault)}"))
            elif failure is not None:
                outcomes.append(Outcome(case, False, failure))
            break
        return outcomes, run

    def fails(self, cases: Sequence[KernelCase]) -> list[bool]:
        """For shrinking: which of `cases` fail (every case gets an answer)."""
        answers: list[bool] = []
        pending = list(cases)
        while pending:
            outcomes, _ = self.run(pending)
            answers += [not o.ok for o in outcomes]
            pending = pending[len(outcomes) :]
        return answers


class HostOracle:
    """The same C kernels compiled for the host: shrinking there costs no build per round."""

    def __init__(self, firmware_dir: Path) -> None:
        from harness.build.host import HostKernels, build_host_library

        self.kernels = HostKernels(build_host_library(firmware_dir))

    def fails(self, cases: Sequence[KernelCase]) -> list[bool]:
        out = []
        for case in cases:
            got = self.kernels.run(case.layer, case.constants, case.inputs, case.out_shape)
            out.append(got.status != 0 or not got.guards_intact or not np.array_equal(got.output, case.reference()))
        return out


def _size(case: KernelCase) -> tuple[int, int]:
    return (case_bytes(case) + int(np.prod(case.out_shape)), len(json.dumps(case.config)))


def shrink_candidates(case: KernelCase) -> list[KernelCase]:
    """Smaller or more neutral variants of a case that are still valid configurations."""
    variants = []
    c = case.config
    for key in SIZE_KEYS:
        if isinstance(c.get(key), int) and c[key] > 1:
            for value in {1, c[key] // 2, c[key] - 1}:
                variants.append({**c, key: value})
    if c.get("pads"):
        for i, p in enumerate(c["pads"]):
            if p > 0:
                variants.append({**c, "pads": c["pads"][:i] + [0] + c["pads"][i + 1 :]})
    if c.get("padding") == "explicit":
        variants.append({**c, "padding": "valid", "pads": None})
    for key, neutral in NEUTRAL.items():
        if key in c and c[key] != neutral:
            variants.append({**c, key: neutral})
    out = []
    for v in variants:
        try:
            out.append(build_case(case.op, v))
        except (ValueError, KeyError, HarnessError):
            continue  # not a valid configuration (a window that no longer fits, say)
    return out


def shrink(case: KernelCase, oracle: EmulatorOracle | HostOracle) -> KernelCase:
    """Greedy: each round, the smallest failing candidate replaces the case, until none fails."""
    for _ in range(SHRINK_ROUNDS):
        candidates = sorted(shrink_candidates(case), key=_size)
        if not candidates:
            break
        failing = [c for c, bad in zip(candidates, oracle.fails(candidates)) if bad]
        if not failing:
            break
        case = failing[0]
    return case


def run_fuzz(
    ops: Sequence[str],
    cases_per_op: int,
    seed: int,
    target: Target,
    emulator: str = DEFAULT_EMULATOR,
    timeout: float = DEFAULT_TIMEOUT,
    log: Log | None = None,
    firmware_dir: Path = FIRMWARE_DIR,
    kernels: KernelVariant | None = None,
) -> FuzzReport:
    """Run `cases_per_op` random cases of each op on the kernel variant `kernels` (the target's own
    when None); `firmware_dir` lets tests fuzz a mutated tree."""
    say = log or (lambda msg: None)
    start = time.monotonic()
    report = FuzzReport(per_op={op: [0, 0] for op in ops})
    say(f"generating {cases_per_op} cases for each of {len(ops)} op(s), seed {seed}")
    pending = generate_cases(ops, cases_per_op, seed)
    with ScratchBuilder(target, SUITE_FLAGS, firmware_dir, kernels) as builder:
        return _run_cases(pending, EmulatorOracle(builder, emulator, timeout), report, say, start)


def _run_cases(
    pending: list[KernelCase], oracle: EmulatorOracle, report: FuzzReport, say: Log, start: float
) -> FuzzReport:
    failed: list[Outcome] = []
    done = 0
    total = len(pending)
    while pending:
        batch = pack(pending)[0]
        t0 = time.monotonic()
        outcomes, _ = oracle.run(batch)
        for o in outcomes:
            report.per_op[o.case.op][0 if o.ok else 1] += 1
            if not o.ok:
                failed.append(o)
        done += len(outcomes)
        pending = pending[len(outcomes) :]
        bad = sum(not o.ok for o in outcomes)
        say(
            f"image {oracle.images}: {len(outcomes)} cases in {time.monotonic() - t0:.1f} s, {bad} failed "
            f"({done}/{total} done)"
        )
    report.passed = done - len(failed)
    # the host build is of the ref kernels: a variant's failure is shrunk on the emulator, which runs it
    host = _host_oracle(oracle.builder.firmware_dir) if oracle.builder.kernels.is_ref else None
    for o in failed:
        reproduces_on_host = host is not None and host.fails([o.case])[0]
        say(f"shrinking a failing {o.case.op} case on the {'host' if reproduces_on_host else 'emulator'}")
        minimal = shrink(o.case, host if reproduces_on_host and host is not None else oracle)
        report.failures.append(FuzzFailure(o.case, minimal, o.reason, oracle.target.name, oracle.builder.kernels))
    report.images = oracle.images
    report.seconds = time.monotonic() - start
    return report


def _host_oracle(firmware_dir: Path) -> HostOracle | None:
    try:
        return HostOracle(firmware_dir)
    except HarnessError:
        return None  # no host compiler: shrink on the emulator


@dataclass
class Replay:
    case: KernelCase
    output: np.ndarray | None
    expected: np.ndarray
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.output is not None and np.array_equal(self.output, self.expected)


def replay(
    config_json: str,
    target: Target,
    emulator: str = DEFAULT_EMULATOR,
    timeout: float = DEFAULT_TIMEOUT,
    firmware_dir: Path = FIRMWARE_DIR,
    kernels: KernelVariant | None = None,
) -> Replay:
    """Run exactly one case on the emulator, with the kernel variant `kernels` (the target's own when
    None), and return its full output."""
    from harness.fuzz.cases import case_from_json

    try:
        case = case_from_json(config_json)
    except KeyError as e:
        raise InputError(
            f"not a fuzz configuration: the key {e} is missing", "pass the JSON a failure printed"
        ) from None
    except (ValueError, TypeError, HarnessError) as e:
        raise InputError(f"not a fuzz configuration: {e}", "pass the JSON a failure printed") from None
    with ScratchBuilder(target, SUITE_FLAGS, firmware_dir, kernels) as builder:
        outcomes, run = EmulatorOracle(builder, emulator, timeout).run([case])
    problem = (
        None
        if outcomes and (outcomes[0].ok or outcomes[0].reason.startswith("output"))
        else (outcomes[0].reason if outcomes else "the image did not run the case")
    )
    output = np.array(run.logits[0], dtype=np.int8).reshape(case.out_shape) if 0 in run.logits else None
    return Replay(case, output, case.reference(), problem)

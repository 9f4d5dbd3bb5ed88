"""One verified run of a zoo model on a target: load, build, emulate, verify, report.

The command line, the pytest plugin and the Robot library all go through here, and all judge a
run with the same `verify_run`.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.build import FIRMWARE_DIR, Firmware, KernelVariant, build_firmware, variant_for
from harness.build.floatscan import scan_elf
from harness.build.isascan import scan_isa
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TARGET, DEFAULT_TIMEOUT
from harness.emu import Emulator, make_emulator
from harness.errors import EmulatorError, FirmwareFailure, Problem, ProtocolError
from harness.model import Model
from harness.protocol import FirmwareRun
from harness.reference import Reference, compute_reference
from harness.results import LayerRow, RunReport
from harness.targets import Target, get_target
from harness.verify import Verdict, classify, float_parity, verify_run
from harness.verify.golden import GoldenError, golden_path, read_golden
from harness.verify.judge import model_argument
from harness.zoo import load
from harness.zoo.inputs import with_inputs

Log = Callable[[str], None]


@dataclass(frozen=True)
class Inputs:
    """A file of test inputs (`--inputs`), and the dtype of a raw .bin file's values."""

    path: Path
    dtype: str = "float32"


__all__ = ["DEFAULT_EMULATOR", "DEFAULT_TARGET", "DEFAULT_TIMEOUT", "Emulated", "Inputs", "build", "emulate",
           "emulated", "judge", "finish", "layer_rows", "run_model", "start"]


def build(model_name: str, target_name: str = DEFAULT_TARGET, log: Log | None = None,
          firmware_dir: Path = FIRMWARE_DIR, inputs: Inputs | None = None,
          kernels: str | KernelVariant | None = None) -> tuple[Model, Target, Firmware]:
    """The model's firmware for the target; `inputs` replaces the model's test samples; `kernels`
    is `ref`, `dsp` or a kernel variant's folder (`--kernels`), None for the target's own."""
    target = get_target(target_name)
    variant = variant_for(target, kernels)  # a bad folder is said before the model is loaded
    model = load(model_name)
    if inputs is not None:
        model = with_inputs(model, inputs.path, inputs.dtype)
    return model, target, build_firmware(model, target, log=log, firmware_dir=firmware_dir, kernels=variant)


@dataclass
class Emulated:
    """What one emulator run gave: the records (partial if it ended early), how it ended when it
    did not end by itself, and where its evidence is kept."""

    run: FirmwareRun
    version: str
    ended: Problem | None
    evidence: Path
    count_note: str | None = None  # the emulator's word on what its counter counts
    granularity: int = 1  # its counts are exact to within this many units
    unit: str = ""  # what the counter counted on this emulator ("" before the boot record)


def start(firmware: Firmware, target: Target, emulator: str = DEFAULT_EMULATOR,
          timeout: float = DEFAULT_TIMEOUT) -> Emulator:
    """An emulator running `firmware`, for front-ends that read it record by record; stop it (or use
    it as a context manager) when done."""
    emu = make_emulator(emulator, firmware.elf, target, timeout)
    emu.start()
    return emu


def finish(emu: Emulator) -> Problem | None:
    """Read a started emulator's records to @done; how it ended when not by itself."""
    try:
        emu.run_to_completion()
        doubt = emu.vouch(emu.run)
        return Problem("emulator", doubt, "report it with the run's evidence") if doubt else None
    except (FirmwareFailure, EmulatorError, ProtocolError) as e:
        return e.problem()


def emulate(firmware: Firmware, target: Target, emulator: str = DEFAULT_EMULATOR,
            timeout: float = DEFAULT_TIMEOUT) -> Emulated:
    """Run the image to its @done record. A missing emulator or bad arguments raise; a hang, a
    crash or garbage is returned as `ended`, with the records that arrived before it."""
    with make_emulator(emulator, firmware.elf, target, timeout) as emu:
        return emulated(emu, finish(emu))


def emulated(emu: Emulator, ended: Problem | None) -> Emulated:
    """What a finished emulator gave, with its word on what its counter counted."""
    counter = emu.run.boot.counter if emu.run.boot else "none"
    return Emulated(emu.run, emu.version(), ended, emu.run_dir, emu.count_note, emu.granularity,
                    emu.unit_of(counter))


def judge(model: Model, firmware: Firmware, emulated: Emulated, reference: Reference,
          golden_file: Path | None = None) -> Verdict:
    """The verdict on one run: `verify_run` with the golden file read from `golden_file` (None:
    golden not judged, as when `harness golden` is about to write it)."""
    golden = read_golden(golden_file) if golden_file is not None else None
    fuzz_options = f" --kernels {firmware.kernels_option}"
    return verify_run(model, emulated.run, reference, golden, firmware.build_id, firmware.elf, emulated.ended,
                      golden_file, fuzz_options)


def check_golden_fits(model: Model, path: Path) -> None:
    """Refuse a golden file that is malformed or not shaped like the model's outputs."""
    golden = read_golden(path)
    samples, width = len(model.test_inputs_q), model.graph.tensors[model.graph.output].size
    if golden is not None and (len(golden) != samples or any(len(row) != width for row in golden)):
        raise GoldenError(
            f"{path} has {len(golden)} sample(s) of {sorted({len(r) for r in golden})} value(s); "
            f"the model has {samples} of {width}",
            f"rewrite it with `harness golden {model_argument(model)} --target {path.stem}`",
        )


def layer_rows(model: Model, run: FirmwareRun) -> list[LayerRow]:
    """Each layer's count (in the unit of the run's counter): the largest over the samples."""
    graph = model.graph
    counts = run.counts_by_layer()  # the UART record's field is named `cycles` whatever the counter
    rows = []
    for i, layer in enumerate(graph.layers):
        per_sample = tuple(counts[i]) if i < len(counts) else ()
        rows.append(
            LayerRow(
                i,
                layer.name,
                layer.op,
                graph.tensors[layer.output].shape,
                graph.macs(layer),
                max(per_sample, default=0),
                per_sample,
            )
        )
    return rows


def _source(model: Model) -> str:
    """An imported model's file, and what of it the firmware runs."""
    origin = model.origin
    if origin is None:
        return ""
    edges = [side for side, flag in (("input", origin.float_input), ("output", origin.float_output)) if flag]
    core = (f"; the file's float32 {' and '.join(edges)} edge{'s' if len(edges) > 1 else ''} (QUANTIZE/DEQUANTIZE) "
            "stay outside: the firmware runs its int8 core") if edges else ""
    return f"{origin.path} (sha256 {origin.sha256[:16]}){core}"


def run_model(
    model_name: str,
    target_name: str = DEFAULT_TARGET,
    emulator: str = DEFAULT_EMULATOR,
    timeout: float = DEFAULT_TIMEOUT,
    log: Log | None = None,
    inputs: Inputs | None = None,
    kernels: str | KernelVariant | None = None,
) -> RunReport:
    """Build (with the kernel variant `kernels`), emulate and verify; the report is also written as
    report.json beside the run's UART transcript, so the evidence and the verdict stay together."""
    say = log or (lambda msg: None)
    model, target, firmware = build(model_name, target_name, log, inputs=inputs, kernels=kernels)
    gpath = golden_path(model.name, target.name)  # MODEL may be a file's path: its model has a name
    check_golden_fits(model, gpath)  # a golden file that cannot be judged by is an input error before the run
    reference = compute_reference(model)  # each reference runs once; everything below only compares
    say(f"running {firmware.elf.name} of {model_name} on {emulator}")
    emulated = emulate(firmware, target, emulator, timeout)
    verdict = judge(model, firmware, emulated, reference, golden_file=gpath)
    float_scan = scan_elf(firmware.elf, vector_integer=target.mve)
    verdict.check(
        "no floating point",
        float_scan.ok,
        float_scan.summary(),
        None
        if float_scan.ok
        else Problem("float", float_scan.summary(), "keep float out of kernels, runtime and generated code"),
    )
    isa_scan = scan_isa(firmware.elf, target.arch)
    verdict.check(
        "instruction set",
        isa_scan.ok,
        isa_scan.summary(),
        None
        if isa_scan.ok
        else Problem("isa", isa_scan.summary(), f"build for {target.arch}: no inline assembly or intrinsics beyond "
                     "it (guard them with the core's ACLE feature macros)"),
    )
    logits = [emulated.run.logits[s] for s in sorted(emulated.run.logits)]
    complete = verdict.reference_match
    parity = float_parity(model, logits if complete else reference.logits, reference)
    verdict.check(
        "float parity",
        parity.ok,
        str(parity),
        None
        if parity.ok
        else Problem(
            "parity", f"{parity} exceeds its threshold", "look at `harness sqnr` for the layer that loses precision"
        ),
    )
    predictions = classify(model, logits) if complete else None
    report = RunReport(
        model=model.name,
        target=target,
        emulator=emulator,
        emulator_version=emulated.version,
        firmware=firmware,
        run=emulated.run,
        verdict=verdict,
        layers=layer_rows(model, emulated.run),
        golden_file=gpath,
        predictions=predictions,
        labels=model.labels,
        float_scan=float_scan,
        isa_scan=isa_scan,
        parity=parity,
        evidence=emulated.evidence,
        count_note=emulated.count_note,
        count_unit=emulated.unit,
        references=reference.names,
        source=_source(model),
        inputs_note=model.inputs_note,
    )
    (emulated.evidence / "report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report

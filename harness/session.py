"""One verified run of a zoo model on a target: load, build, emulate, verify, report.

The command line, the pytest plugin and the Robot library all go through here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from harness.build import FIRMWARE_DIR, Firmware, build_firmware
from harness.build.floatscan import scan_elf
from harness.emu import EmulatorCrashed, EmulatorTimeout, make_emulator
from harness.protocol import FirmwareRun, ProtocolError
from harness.report import LayerRow, RunReport
from harness.targets import Target, get_target
from harness.verify import classify, float_parity, reference_logits, verify_run
from harness.verify.golden import golden_path, read_golden
from harness.zoo import Model, load

Log = Callable[[str], None]

DEFAULT_TARGET = "stm32f405"
DEFAULT_EMULATOR = "qemu"
DEFAULT_TIMEOUT = 120.0


def build(model_name: str, target_name: str = DEFAULT_TARGET, log: Optional[Log] = None,
          firmware_dir: Path = FIRMWARE_DIR) -> tuple[Model, Target, Firmware]:
    model = load(model_name)
    target = get_target(target_name)
    return model, target, build_firmware(model, target, log=log, firmware_dir=firmware_dir)


def emulate(firmware: Firmware, target: Target, emulator: str = DEFAULT_EMULATOR,
            timeout: float = DEFAULT_TIMEOUT) -> tuple[FirmwareRun, str, Optional[str]]:
    """Run the image to its @done record. Returns the run (partial if the emulator crashed, hung
    or printed garbage), the emulator's version, and what went wrong, if anything."""
    run = FirmwareRun()
    with make_emulator(emulator, firmware.elf, target, timeout) as emu:
        try:
            emu.run_to_completion(run=run)
            failure = None
        except (EmulatorCrashed, EmulatorTimeout, ProtocolError) as e:
            failure = str(e)
        return run, emu.version(), failure


def layer_rows(model: Model, run: FirmwareRun) -> list[LayerRow]:
    graph = model.graph
    cycles = run.cycles_by_layer()
    rows = []
    for i, layer in enumerate(graph.layers):
        per_sample = tuple(cycles[i]) if i < len(cycles) else ()
        rows.append(LayerRow(
            i, layer.name, layer.op, graph.tensors[layer.output].shape, graph.macs(layer),
            max(per_sample, default=0), per_sample,
        ))
    return rows


def run_model(model_name: str, target_name: str = DEFAULT_TARGET, emulator: str = DEFAULT_EMULATOR,
              timeout: float = DEFAULT_TIMEOUT, log: Optional[Log] = None) -> RunReport:
    say = log or (lambda msg: None)
    model, target, firmware = build(model_name, target_name, log)
    say(f"running {firmware.elf.name} of {model_name} on {emulator} ({target.qemu_machine})")
    run, version, failure = emulate(firmware, target, emulator, timeout)
    gpath = golden_path(model_name, target_name)
    verdict = verify_run(model, run, read_golden(gpath), firmware.build_id, firmware.elf)
    if failure is not None:
        verdict.problems.insert(0, failure)
    float_scan = scan_elf(firmware.elf)
    if not float_scan.ok:
        verdict.problems.append(float_scan.summary())
    logits = [run.logits[s] for s in sorted(run.logits)]
    complete = not verdict.problems and len(logits) == len(model.test_inputs)
    parity = float_parity(model, logits if complete else reference_logits(model))
    if not parity.ok:
        verdict.problems.append(f"{parity} exceeds its threshold")
    predictions = classify(model, logits) if complete else None
    return RunReport(
        model=model_name, target=target, emulator=emulator, emulator_version=version, firmware=firmware,
        run=run, verdict=verdict, layers=layer_rows(model, run), golden_file=gpath,
        predictions=predictions, labels=model.labels, float_scan=float_scan, parity=parity,
    )

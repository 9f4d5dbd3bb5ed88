"""Robot Framework keywords over the harness: build a model's firmware, run it on an emulator,
read its UART records and verify them. The same keywords serve every emulator backend.

Every check is judged by harness.verify, as `harness run` judges; a failing keyword puts the run's
UART transcript and its path in the Robot log."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

from robot.api import logger

from harness.build import Firmware
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TARGET, DEFAULT_TIMEOUT
from harness.emu import Emulator
from harness.errors import Problem
from harness.model import Model
from harness.protocol import FirmwareRun
from harness.reference import compute_reference
from harness.report import render_run
from harness.session import Emulated, build, finish, judge, run_model, start
from harness.targets import Target, get_target
from harness.verify import Verdict
from harness.verify.golden import golden_path

#: Transcript bytes put in the Robot log of a failing keyword.
SHOWN_TRANSCRIPT_BYTES = 4000


class HarnessLibrary:
    """Keywords for int8 firmware verification on an emulated Cortex-M board."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, renode: str | None = None) -> None:
        """`renode`: the Renode program for `Start Emulator    renode` (default: $RENODE, else on PATH)."""
        if renode:
            os.environ["RENODE"] = renode
        self._model: Model | None = None
        self._target: Target | None = None
        self._firmware: Firmware | None = None
        self._emulator: Emulator | None = None
        self._run: FirmwareRun | None = None
        self._ended: Problem | None = None
        self._evidence: Path | None = None

    # ------------------------------------------------------------------ build and run
    def build_firmware(self, model: str, target: str = DEFAULT_TARGET, kernels: str | None = None) -> str:
        """Build (or take from the cache) the firmware of `model` for `target` with `kernels`: ref, dsp
        or a kernel variant's folder of C files, as `harness run --kernels` (default: the target's
        own); returns the ELF path."""
        self._target = get_target(target)
        self._model, _, self._firmware = build(model, target, kernels=kernels)
        return str(self._firmware.elf)

    def start_emulator(self, emulator: str = DEFAULT_EMULATOR, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Start the emulator on the built firmware; stops a previous one first."""
        firmware, target = self._need_firmware()
        self.stop_emulator()
        self._run = None
        self._ended = None
        self._emulator = start(firmware, target, emulator, float(timeout))
        self._evidence = self._emulator.run_dir

    def wait_for_record(self, kind: str, timeout: float | None = None) -> dict[str, str]:
        """Read until a record of `kind` (boot, model, layer, logits, done) and return its fields.
        Fails at once if the firmware reports a fault."""
        try:
            rec = self._need_emulator().expect(kind, None if timeout is None else float(timeout))
        except Exception as e:
            self._fail(str(e))
        return dict(rec.fields)

    def run_to_completion(self) -> str:
        """Collect every record up to @done (those `Wait For Record` read included); returns the final
        status (ok, error, fault), or the kind of what stopped the run early (hang, emulator,
        protocol). The checks below judge it."""
        emu = self._need_emulator()
        self._ended = finish(emu)
        self._run = emu.run
        return str(self._run.status) if self._ended is None else self._ended.kind

    def stop_emulator(self) -> None:
        """Stop the emulator if one is running (safe to call at any time)."""
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    def run_model_and_verify(self, model: str, target: str = DEFAULT_TARGET,
                             emulator: str = DEFAULT_EMULATOR, kernels: str | None = None) -> dict[str, Any]:
        """Build (with `kernels`, as `Build Firmware`), emulate and verify `model` as `harness run`
        does; fails unless it verifies. Returns the JSON report as a dictionary."""
        report = run_model(model, target, emulator, kernels=kernels)
        if not report.verdict.match:
            self._evidence = report.evidence
            self._fail(render_run(report))
        return report.to_json()

    def counts_should_not_regress(self, *models: str, target: str = DEFAULT_TARGET,
                                  emulator: str = DEFAULT_EMULATOR, kernels: str | None = None) -> None:
        """Benchmark `models` (every model when none is given) built with `kernels` (ref, dsp, a
        folder, or several separated by commas, as `harness bench --kernels`; default: the target's
        own) and fail, naming each layer with its old and new count and their unit, when one exceeds
        the variant's own baseline: harness/golden/cycles/TARGET.json for ref, TARGET.VARIANT.json for
        another (the same gate as `harness bench --baseline`)."""
        from harness.bench import run_bench
        from harness.bench.baseline import baseline_path, compare
        from harness.build import kernel_variants, variant_for
        from harness.zoo import ZOO

        tgt = get_target(target)
        failed: list[str] = []
        for variant in kernel_variants(kernels) if kernels else (variant_for(tgt, None),):
            report = run_bench(list(models) or list(ZOO), tgt, emulator, kernels=variant)
            comparison = compare(report, baseline_path(None, tgt.name, variant))
            logger.info("\n".join(comparison.lines()))
            if not comparison.ok:
                failed += comparison.lines()
        if failed:
            raise AssertionError("\n".join(failed))

    # ------------------------------------------------------------------ checks
    def logits_should_match_reference(self) -> None:
        """Every sample's logits, and every layer's output, equal the Python integer reference, and
        the run is whole (no extra or missing sample or value, no missing record)."""
        self._require(self._verdict(golden=False), "logits = reference", "layer outputs = reference")

    def logits_should_match_golden(self) -> None:
        """Every sample's logits equal the golden file of the model and target, value for value."""
        self._require(self._verdict(golden=True), "logits = golden")

    def counter_should_be(self, expected: str) -> None:
        """The counter the firmware chose (dwt, icount, timer, none) is `expected`."""
        run, _ = self._need_run()
        actual = run.boot.counter if run.boot else None
        if actual != expected:
            raise AssertionError(f"counter is {actual}, expected {expected}")

    def every_layer_should_report_a_positive_count(self) -> list[list[int]]:
        """Each layer has a positive count, in the unit of the run's counter, for every sample;
        returns counts[layer][sample]."""
        run, model = self._need_run()
        table = run.counts_by_layer()  # the UART record's field is named `cycles` whatever the counter
        samples = len(model.test_inputs_q)
        for i, per_sample in enumerate(table):
            if len(per_sample) != samples or min(per_sample, default=0) <= 0:
                raise AssertionError(f"layer {i} '{model.graph.layers[i].name}' reported {per_sample}")
        return table

    def status_should_be(self, expected: str) -> None:
        run, _ = self._need_run()
        if run.status != expected:
            raise AssertionError(f"firmware finished with status {run.status}, expected {expected}")

    # ------------------------------------------------------------------ internals
    def _verdict(self, golden: bool) -> Verdict:
        run, model = self._need_run()
        firmware, target = self._need_firmware()
        emulated = Emulated(run, "", self._ended, self._evidence or Path("."))
        return judge(model, firmware, emulated, compute_reference(model),
                     golden_path(model.name, target.name) if golden else None)

    def _require(self, verdict: Verdict, *checks: str) -> None:
        """Fail unless the named checks passed and the verdict found no problem of the run itself."""
        wanted = [c for c in verdict.checks if c.name in checks]
        problems = verdict.problems
        if problems or len(wanted) != len(checks) or not all(c.ok for c in wanted):
            self._fail("; ".join(str(p) for p in problems) or
                       "; ".join(f"{c.name}: {c.detail}" for c in wanted) or "the run could not be judged")

    def _fail(self, message: str) -> NoReturn:
        """Fail the keyword with the run's UART transcript in the log: the evidence."""
        if self._evidence is not None:
            path = self._evidence / "uart.log"
            text = path.read_bytes().decode("latin-1") if path.exists() else "(no transcript was written)"
            logger.info(f"UART transcript {path}:\n{text[-SHOWN_TRANSCRIPT_BYTES:]}")
        raise AssertionError(message)

    def _need_firmware(self) -> tuple[Firmware, Target]:
        if self._firmware is None or self._target is None:
            raise AssertionError("no firmware: use 'Build Firmware' first")
        return self._firmware, self._target

    def _need_emulator(self) -> Emulator:
        if self._emulator is None:
            raise AssertionError("no emulator running: use 'Start Emulator' first")
        return self._emulator

    def _need_run(self) -> tuple[FirmwareRun, Model]:
        if self._run is None or self._model is None:
            raise AssertionError("no completed run: use 'Run To Completion' first")
        return self._run, self._model

"""Robot Framework keywords over the harness: build a model's firmware, run it on an emulator,
read its UART records and verify them. The same keywords serve every emulator backend."""
from __future__ import annotations

from typing import Any, Optional

from harness.build import Firmware, build_firmware
from harness.emu import Emulator, make_emulator
from harness.protocol import FirmwareRun
from harness.session import DEFAULT_EMULATOR, DEFAULT_TARGET, DEFAULT_TIMEOUT, run_model
from harness.targets import Target, get_target
from harness.verify import reference_logits
from harness.verify.golden import golden_path, read_golden
from harness.zoo import Model, load


class HarnessLibrary:
    """Keywords for int8 firmware verification on an emulated Cortex-M board."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._model: Optional[Model] = None
        self._target: Optional[Target] = None
        self._firmware: Optional[Firmware] = None
        self._emulator: Optional[Emulator] = None
        self._run: Optional[FirmwareRun] = None

    # ------------------------------------------------------------------ build and run
    def build_firmware(self, model: str, target: str = DEFAULT_TARGET) -> str:
        """Build (or take from the cache) the firmware of `model` for `target`; returns the ELF path."""
        self._model = load(model)
        self._target = get_target(target)
        self._firmware = build_firmware(self._model, self._target)
        return str(self._firmware.elf)

    def start_emulator(self, emulator: str = DEFAULT_EMULATOR, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Start the emulator on the built firmware; stops a previous one first."""
        firmware, target = self._need_firmware()
        self.stop_emulator()
        self._run = None
        self._emulator = make_emulator(emulator, firmware.elf, target, float(timeout))
        self._emulator.start()

    def wait_for_record(self, kind: str, timeout: Optional[float] = None) -> dict[str, str]:
        """Read until a record of `kind` (boot, model, layer, logits, done) and return its fields.
        Fails at once if the firmware reports a fault."""
        rec = self._need_emulator().expect(kind, None if timeout is None else float(timeout))
        return dict(rec.fields)

    def run_to_completion(self, timeout: Optional[float] = None) -> str:
        """Collect every record up to @done; returns the final status (ok, error, fault)."""
        self._run = self._need_emulator().run_to_completion(None if timeout is None else float(timeout))
        return str(self._run.status)

    def stop_emulator(self) -> None:
        """Stop the emulator if one is running (safe to call at any time)."""
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    def run_model_and_verify(self, model: str, target: str = DEFAULT_TARGET,
                             emulator: str = DEFAULT_EMULATOR) -> dict[str, Any]:
        """Build, emulate and verify `model` as `harness run` does; fails unless it verifies.
        Returns the JSON report as a dictionary."""
        report = run_model(model, target, emulator)
        if not report.verdict.match:
            raise AssertionError(report.render())
        return report.to_json()

    def cycles_should_not_regress(self, *models: str, target: str = DEFAULT_TARGET,
                                  emulator: str = DEFAULT_EMULATOR) -> None:
        """Benchmark `models` (every model when none is given) and fail, naming each slower layer
        with its old and new count, when one exceeds golden/cycles/TARGET.json (the same gate as
        `harness bench --baseline`)."""
        from harness.bench import run_bench
        from harness.bench.baseline import baseline_path, compare
        from harness.zoo import ZOO

        tgt = get_target(target)
        comparison = compare(run_bench(list(models) or list(ZOO), tgt, emulator), baseline_path(None, tgt.name))
        if not comparison.ok:
            raise AssertionError("\n".join(comparison.lines()))

    # ------------------------------------------------------------------ checks
    def logits_should_match_reference(self) -> None:
        """Every sample's logits equal the Python integer reference, byte for byte."""
        run, model = self._need_run()
        got = [run.logits.get(s) for s in range(len(model.test_inputs_q))]
        want = reference_logits(model)
        bad = [f"sample {s}: firmware {g} reference {w}" for s, (g, w) in enumerate(zip(got, want)) if g != w]
        if bad:
            raise AssertionError("logits differ from the Python reference: " + "; ".join(bad))

    def logits_should_match_golden(self) -> None:
        """Every sample's logits equal the golden file of the model and target."""
        run, model = self._need_run()
        assert self._target is not None
        path = golden_path(model.name, self._target.name)
        golden = read_golden(path)
        if golden is None:
            raise AssertionError(f"no golden file at {path}; create it with `harness golden {model.name}`")
        got = [run.logits.get(s) for s in range(len(golden))]
        bad = [f"sample {s} position {p}: firmware {g[p] if g and p < len(g) else None} golden {v}"
               for s, (g, row) in enumerate(zip(got, golden)) for p, v in enumerate(row)
               if not g or p >= len(g) or g[p] != v]
        if bad:
            raise AssertionError(f"logits differ from {path}: " + "; ".join(bad[:10]))

    def counter_should_be(self, expected: str) -> None:
        """The counter the firmware chose (dwt, icount, timer, none) is `expected`."""
        run, _ = self._need_run()
        actual = run.boot.counter if run.boot else None
        if actual != expected:
            raise AssertionError(f"counter is {actual}, expected {expected}")

    def every_layer_should_report_positive_cycles(self) -> list[list[int]]:
        """Each layer has a positive count for every sample; returns counts[layer][sample]."""
        run, model = self._need_run()
        table = run.cycles_by_layer()
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

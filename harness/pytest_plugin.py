"""pytest plugin (entry point `harness`): fixtures that build firmware and yield a running device.

    @pytest.mark.parametrize("device", ["kws_cnn"], indirect=True)
    def test_logits(device):
        assert device.expect("boot").str("counter") == "icount"
        run = device.run_to_completion()
        assert device.logits(run) == device.reference
        device.verify()  # the same judge as `harness run`: raises with every problem found

Records that `expect` reads stay in the run that `run_to_completion` returns. When a test that
used a device fails, the report carries the device's UART transcript and where it is kept.
Tests that need the cross toolchain or the emulator are skipped, with the reason and the fix, when
those are absent; they never pass without running.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import pytest

from harness.build import Firmware, KernelVariant, ToolchainMissing, variant_for
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TARGET, DEFAULT_TIMEOUT
from harness.emu import Emulator, EmulatorNotFound
from harness.errors import HarnessError, VerificationFailed
from harness.model import Model
from harness.protocol import FirmwareRun, Record
from harness.reference import Reference, compute_reference
from harness.session import build, emulated, finish, judge, start
from harness.targets import Target, get_target
from harness.verify import Verdict
from harness.verify.golden import golden_path
from harness.zoo import load

#: Transcript bytes shown in a failing test's report; the whole file is named beside them.
SHOWN_TRANSCRIPT_BYTES = 4000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "cortexm-harness")
    group.addoption("--harness-target", default=DEFAULT_TARGET, help=f"target to build and emulate "
                    f"(default {DEFAULT_TARGET})")
    group.addoption(
        "--harness-emulator", default=DEFAULT_EMULATOR, help=f"emulator backend (default {DEFAULT_EMULATOR})"
    )
    group.addoption(
        "--harness-renode", metavar="PATH", help="the Renode program for --harness-emulator renode (default: $RENODE, "
        "else `renode` on PATH)"
    )
    group.addoption(
        "--harness-kernels", default=None, metavar="ref|dsp|mve|DIR", help="the kernels firmware is built with: ref, "
        "dsp or a kernel variant's folder of C files (as `harness run --kernels`); default: the target's own "
        "(dsp on stm32f405)"
    )
    group.addoption(
        "--harness-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds per emulator run (default {DEFAULT_TIMEOUT:g})",
    )


def pytest_configure(config: pytest.Config) -> None:
    renode = config.getoption("--harness-renode", None)
    if renode:
        os.environ["RENODE"] = str(renode)  # as `harness --renode`: the backend, and any worker, find it there
    config.addinivalue_line("markers", "emulator: runs firmware on an emulator (needs the cross toolchain and QEMU)")
    _kernels(config)  # a folder that is missing or holds no .c file stops the session at once


def _kernels(config: pytest.Config) -> KernelVariant:
    try:
        return variant_for(get_target(config.getoption("--harness-target")), config.getoption("--harness-kernels"))
    except HarnessError as e:
        raise pytest.UsageError(f"--harness-kernels: {e}") from None


@pytest.fixture(scope="session")
def harness_target(request: pytest.FixtureRequest) -> Target:
    return get_target(request.config.getoption("--harness-target"))


@pytest.fixture(scope="session")
def harness_emulator(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--harness-emulator"))


@pytest.fixture(scope="session")
def harness_timeout(request: pytest.FixtureRequest) -> float:
    return float(request.config.getoption("--harness-timeout"))


@pytest.fixture(scope="session")
def harness_kernels(request: pytest.FixtureRequest) -> KernelVariant:
    """The kernel variant of --harness-kernels (the target's own by default)."""
    return _kernels(request.config)


@pytest.fixture(scope="session")
def firmware_builder(harness_target: Target, harness_kernels: KernelVariant) -> Callable[[str], Firmware]:
    """Build (or take from the cache) a zoo model's firmware with the kernels of --harness-kernels;
    skips when the toolchain is absent."""
    built: dict[str, Firmware] = {}

    def get(model_name: str) -> Firmware:
        if model_name not in built:
            try:
                built[model_name] = build(model_name, harness_target.name, kernels=harness_kernels)[2]
            except ToolchainMissing as e:
                pytest.skip(str(e))
        return built[model_name]

    return get


@dataclass
class Device:
    """A running emulated board with the firmware of one model."""

    model: Model
    firmware: Firmware
    emulator: Emulator
    target: Target
    expected: Reference = field(init=False)

    def __post_init__(self) -> None:
        self.expected = compute_reference(self.model)

    @property
    def reference(self) -> list[list[int]]:
        """The Python integer reference's logits, one row per test sample."""
        return self.expected.logits

    def read_record(self, timeout: float | None = None) -> Record:
        return self.emulator.read_record(timeout)

    def expect(self, kind: str, timeout: float | None = None) -> Record:
        return self.emulator.expect(kind, timeout)

    def run_to_completion(self, timeout: float | None = None) -> FirmwareRun:
        return self.emulator.run_to_completion(timeout)

    @staticmethod
    def logits(run: FirmwareRun) -> list[list[int]]:
        return [run.logits[s] for s in sorted(run.logits)]

    def verdict(self) -> Verdict:
        """Read to the end and judge the run as `harness run` does, golden file included."""
        run = emulated(self.emulator, finish(self.emulator))
        return judge(self.model, self.firmware, run, self.expected, golden_path(self.model.name, self.target.name))

    def verify(self) -> Verdict:
        """The verdict, or VerificationFailed naming every problem (its kind says whose fault)."""
        verdict = self.verdict()
        if not verdict.match:
            raise VerificationFailed(verdict.problems, self.emulator.run_dir)
        return verdict


def start_emulator(firmware: Firmware, target: Target, emulator: str, timeout: float) -> Emulator:
    """A started emulator, or a skip naming what is missing."""
    try:
        emu = start(firmware, target, emulator, timeout)
    except EmulatorNotFound as e:
        pytest.skip(str(e))
    return emu


DEVICES = pytest.StashKey[list[Device]]()


@pytest.fixture
def device(
    request: pytest.FixtureRequest,
    firmware_builder: Callable[[str], Firmware],
    harness_target: Target,
    harness_emulator: str,
    harness_timeout: float,
) -> Iterator[Device]:
    """Parametrize indirectly with a model name; yields that model running on the emulator."""
    model_name = getattr(request, "param", None)
    if model_name is None:
        raise pytest.UsageError("the device fixture needs a model: parametrize it indirectly with a model name")
    firmware = firmware_builder(model_name)
    emu = start_emulator(firmware, harness_target, harness_emulator, harness_timeout)
    try:
        dev = Device(load(model_name), firmware, emu, harness_target)
        request.node.stash.setdefault(DEVICES, []).append(dev)
        yield dev
    finally:
        emu.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the UART transcript of every device a failing test used: the evidence of the run."""
    report = yield
    if report.failed:
        for dev in item.stash.get(DEVICES, []):
            path = dev.emulator.transcript
            text = path.read_bytes().decode("latin-1") if path.exists() else "(no transcript was written)"
            if len(text) > SHOWN_TRANSCRIPT_BYTES:
                text = f"... ({len(text) - SHOWN_TRANSCRIPT_BYTES} bytes before)\n" + text[-SHOWN_TRANSCRIPT_BYTES:]
            report.sections.append((f"harness UART transcript ({dev.model.name}): {path}", text))
    return report

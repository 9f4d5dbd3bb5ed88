"""pytest plugin (entry point `harness`): fixtures that build firmware and yield a running device.

    @pytest.mark.parametrize("device", ["kws_cnn"], indirect=True)
    def test_logits(device):
        run = device.run_to_completion()
        assert device.logits(run) == device.reference

Tests that need the cross toolchain or the emulator are skipped, with the reason and the fix, when
those are absent; they never pass without running.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import pytest

from harness.build import Firmware, ToolchainMissing, build_firmware
from harness.emu import Emulator, EmulatorNotFound, make_emulator
from harness.protocol import FirmwareRun
from harness.targets import Target, get_target
from harness.verify import reference_logits
from harness.zoo import Model, load


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "cortexm-harness")
    group.addoption("--harness-target", default="stm32f405", help="target to build and emulate")
    group.addoption("--harness-emulator", default="qemu", help="emulator backend")
    group.addoption("--harness-timeout", type=float, default=120.0, help="seconds per emulator run")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator: runs firmware on an emulator (needs the cross toolchain and QEMU)")


@pytest.fixture(scope="session")
def harness_target(request: pytest.FixtureRequest) -> Target:
    return get_target(request.config.getoption("--harness-target"))


@pytest.fixture(scope="session")
def harness_emulator(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--harness-emulator")


@pytest.fixture(scope="session")
def harness_timeout(request: pytest.FixtureRequest) -> float:
    return request.config.getoption("--harness-timeout")


@pytest.fixture(scope="session")
def firmware_builder(harness_target: Target) -> Callable[[str], Firmware]:
    """Build (or take from the cache) a zoo model's firmware; skips when the toolchain is absent."""
    built: dict[str, Firmware] = {}

    def get(model_name: str) -> Firmware:
        if model_name not in built:
            try:
                built[model_name] = build_firmware(load(model_name), harness_target)
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
    reference: list[list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.reference = reference_logits(self.model)

    def read_record(self, timeout: float | None = None):
        return self.emulator.read_record(timeout)

    def expect(self, kind: str, timeout: float | None = None):
        return self.emulator.expect(kind, timeout)

    def run_to_completion(self, timeout: float | None = None) -> FirmwareRun:
        return self.emulator.run_to_completion(timeout)

    @staticmethod
    def logits(run: FirmwareRun) -> list[list[int]]:
        return [run.logits[s] for s in sorted(run.logits)]


def start_emulator(firmware: Firmware, target: Target, emulator: str, timeout: float) -> Emulator:
    """A started emulator, or a skip naming what is missing."""
    try:
        emu = make_emulator(emulator, firmware.elf, target, timeout)
        emu.start()
    except EmulatorNotFound as e:
        pytest.skip(str(e))
    return emu


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
        yield Device(load(model_name), firmware, emu)
    finally:
        emu.stop()

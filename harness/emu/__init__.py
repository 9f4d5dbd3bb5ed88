"""Emulator backends: run an ELF, hand back its UART records. They know nothing of models."""
from __future__ import annotations

import abc
import time
from pathlib import Path
from types import TracebackType
from typing import Optional

from harness.errors import HarnessError
from harness.protocol import FaultInfo, FirmwareRun, ProtocolError, Record, parse_line
from harness.targets import Target

#: Non-record output tolerated before the stream is declared garbage.
MAX_NOISE_BYTES = 4096
#: After a @fault, how long to wait for the firmware's closing @done.
FAULT_GRACE_SECONDS = 2.0


class EmulatorError(HarnessError):
    """The emulator could not run the firmware to its end."""


class EmulatorNotFound(EmulatorError):
    pass


class EmulatorCrashed(EmulatorError):
    pass


class EmulatorTimeout(EmulatorError):
    pass


class FirmwareFault(EmulatorError):
    """The firmware reported a CPU fault (a @fault record)."""

    def __init__(self, fault: FaultInfo, message: str):
        super().__init__(message)
        self.fault = fault


def describe_fault(fault: FaultInfo, function: Optional[str] = None) -> str:
    names = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault"}
    where = f" in {function}()" if function else ""
    return (
        f"{names.get(fault.exception, f'exception {fault.exception}')} at pc={fault.pc:#010x}{where}, "
        f"lr={fault.lr:#010x}, cfsr={fault.cfsr:#010x}, hfsr={fault.hfsr:#010x}, "
        f"mmfar={fault.mmfar:#010x}, bfar={fault.bfar:#010x}"
    )


class Emulator(abc.ABC):
    """One emulated board running one ELF; use as a context manager so it always stops."""

    name = "emulator"

    def __init__(self, elf: Path, target: Target, timeout: float = 60.0):
        self.elf = Path(elf)
        self.target = target
        self.timeout = timeout
        self._buffer = b""
        self._noise = 0
        self.noise_lines: list[str] = []
        self.last_record: Optional[Record] = None

    # -- what a backend provides
    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def _read_chunk(self, timeout: float) -> bytes:
        """Bytes from the UART, b'' if none arrived within `timeout`; raises EmulatorCrashed when
        the emulator has exited and nothing is left to read."""

    @abc.abstractmethod
    def version(self) -> str: ...

    # -- shared reading logic
    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, exc_type: Optional[type], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.stop()

    def _read_line(self, deadline: float, waiting_for: str) -> str:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                last = self.last_record.line if self.last_record else "none"
                raise EmulatorTimeout(
                    f"{self.name}: no {waiting_for} within {self.timeout:g} s; the firmware may be hung "
                    f"(last record: {last})"
                )
            self._buffer += self._read_chunk(min(remaining, 0.2))
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("ascii", errors="replace")

    def read_record(self, timeout: Optional[float] = None, waiting_for: str = "record") -> Record:
        """The next record; non-record lines are kept in noise_lines up to MAX_NOISE_BYTES."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            line = self._read_line(deadline, waiting_for)
            rec = parse_line(line)
            if rec is not None:
                self.last_record = rec
                return rec
            if line.strip():
                self.noise_lines.append(line)
                self._noise += len(line) + 1
                if self._noise > MAX_NOISE_BYTES:
                    raise ProtocolError(
                        f"{self.name}: over {MAX_NOISE_BYTES} bytes of output that is not a record stream; "
                        f"first line: {self.noise_lines[0][:120]!r}"
                    )

    def expect(self, kind: str, timeout: Optional[float] = None) -> Record:
        """Read until a record of `kind`; a @fault on the way raises FirmwareFault at once."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            rec = self.read_record(max(deadline - time.monotonic(), 0.0), waiting_for=f"@{kind} record")
            if rec.kind == kind:
                return rec
            if rec.kind == "fault":
                run = FirmwareRun()
                run.feed(rec)
                assert run.fault is not None
                raise FirmwareFault(run.fault, f"firmware fault: {describe_fault(run.fault)}")

    def run_to_completion(self, timeout: Optional[float] = None, run: Optional[FirmwareRun] = None) -> FirmwareRun:
        """Collect records until @done into `run` (a new one by default), so that what arrived
        before a crash or a hang is still there. After a @fault, waits briefly for @done."""
        run = run if run is not None else FirmwareRun()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not run.done:
            remaining = deadline - time.monotonic()
            if run.fault is not None:
                remaining = min(remaining, FAULT_GRACE_SECONDS)
            try:
                rec = self.read_record(max(remaining, 0.0), waiting_for="@done record")
            except (EmulatorTimeout, EmulatorCrashed):
                if run.fault is not None:
                    return run
                raise
            run.feed(rec)
        return run


def make_emulator(name: str, elf: Path, target: Target, timeout: float = 60.0) -> Emulator:
    from harness.emu.qemu import QemuBackend

    backends = {"qemu": QemuBackend}
    if name not in backends:
        raise EmulatorError(f"unknown emulator '{name}'; available: {', '.join(backends)}")
    return backends[name](elf, target, timeout)

"""Emulator backends: start a process that runs an ELF and supply its UART bytes. Records are read
by harness.protocol.stream; a backend knows nothing of models."""
from __future__ import annotations

import abc
from pathlib import Path
from types import TracebackType

from harness.defaults import DEFAULT_TIMEOUT
from harness.errors import EmulatorError, EnvironmentProblem, InputError, UsageError
from harness.files import OwnedDir, new_run_dir
from harness.protocol import FirmwareRun, Record
from harness.protocol.counters import unit_of
from harness.protocol.stream import RecordStream
from harness.targets import Target


class EmulatorNotFound(EnvironmentProblem):
    """The emulator's program is not installed."""


class Emulator(abc.ABC):
    """One emulated board running one ELF; use as a context manager so it always stops.

    Each run has an evidence folder (build/runs/...) holding `uart.log`, every byte the firmware
    sent, and the emulator's own log; both stay after the run.
    """

    name = "emulator"

    def __init__(self, elf: Path, target: Target, timeout: float = DEFAULT_TIMEOUT,
                 run_dir: Path | None = None):
        self.elf = Path(elf)
        self.target = target
        self.timeout = timeout
        self._run_dir = run_dir
        self._owned: OwnedDir | None = None
        self._records: RecordStream | None = None

    # -- what a backend provides
    @abc.abstractmethod
    def _launch(self, run_dir: Path) -> None:
        """Start the emulator with its logs in `run_dir`; return once its UART is connected."""

    @abc.abstractmethod
    def _halt(self) -> None:
        """End the emulator process and release its connection; safe in any state."""

    @abc.abstractmethod
    def read(self, timeout: float) -> bytes:
        """UART bytes that arrived within `timeout`, b'' if none; raises once the emulator is gone."""

    @abc.abstractmethod
    def version(self) -> str: ...

    @classmethod
    @abc.abstractmethod
    def require(cls) -> None:
        """Raise EmulatorNotFound, with how to install it, when the emulator's program is missing."""

    def amend_record(self, rec: Record) -> Record:
        """A record as the run should see it: the firmware's own, unless the emulator counts for it."""
        return rec

    def vouch(self, run: FirmwareRun) -> str | None:
        """The emulator's own doubt about a finished run's counts, if it has one."""
        return None

    def unit_of(self, counter: str) -> str:
        """What the firmware's `counter` counts on this emulator."""
        return unit_of(counter)

    @property
    def granularity(self) -> int:
        """The counts this emulator's counter gives are exact to within this many units."""
        return 1

    @property
    def count_note(self) -> str | None:
        """What the firmware's counter counts on this emulator, where its name alone does not say."""
        return None

    # -- lifecycle
    @property
    def run_dir(self) -> Path:
        """The evidence folder of this run (made on first use)."""
        if self._run_dir is None:
            self._owned = new_run_dir(f"{self.elf.parent.name}-{self.name}")
            self._run_dir = self._owned.path
        return self._run_dir

    @property
    def transcript(self) -> Path:
        return self.run_dir / "uart.log"

    def start(self) -> None:
        if not self.elf.is_file():
            raise EmulatorError(f"no ELF at {self.elf}", "build the firmware first")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._records = RecordStream(self, self.timeout, self.transcript, self.amend_record)
        try:
            self._launch(self.run_dir)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the emulator and close the transcript; safe to call more than once."""
        self._halt()
        if self._records is not None:
            self._records.close()
        if self._owned is not None:
            self._owned.release()
            self._owned = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- records
    @property
    def records(self) -> RecordStream:
        if self._records is None:
            raise UsageError(f"{self.name}: no records to read before start(); start the emulator first "
                             "(or use it as a context manager)")
        return self._records

    @property
    def run(self) -> FirmwareRun:
        """Everything the firmware has reported so far."""
        return self.records.run

    def read_record(self, timeout: float | None = None) -> Record:
        return self.records.read_record(timeout)

    def expect(self, kind: str, timeout: float | None = None) -> Record:
        return self.records.expect(kind, timeout)

    def run_to_completion(self, timeout: float | None = None) -> FirmwareRun:
        return self.records.run_to_completion(timeout)


def make_emulator(name: str, elf: Path, target: Target, timeout: float = DEFAULT_TIMEOUT,
                  run_dir: Path | None = None) -> Emulator:
    from harness.emu.backends import BACKENDS

    if name not in BACKENDS:
        raise InputError(f"unknown emulator '{name}'", f"choose one of: {', '.join(BACKENDS)}")
    return BACKENDS[name](elf, target, timeout, run_dir)

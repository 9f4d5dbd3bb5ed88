"""QEMU backend: `qemu-system-arm -M <machine> -icount shift=0`, its console UART on a TCP connection.

Counts: on boards whose timer ticks once per instruction under -icount (the STM32 models) the
firmware proves and reads it (`counter=icount`). On the others (target rows with
qemu_counter="plugin") QEMU loads the project's counting plugin, which records the instruction count
at each of the firmware's counter reads, and the records get those counts (`counter=plugin`,
harness.emu.plugin).

The harness listens first, on a port the kernel gives it, and QEMU dials in (`-serial
tcp:127.0.0.1:PORT`, client mode): QEMU connects while it sets up the machine, before the guest
runs its first instruction, and the bytes wait in the socket until the harness reads them. So no
byte is lost however loaded the machine is, and no run can read another run's UART: the port is
held by this process from before QEMU starts. The connection is read through pyserial
(harness.emu.uart).
"""
from __future__ import annotations

import ctypes
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.defaults import DEFAULT_TIMEOUT
from harness.emu import Emulator, EmulatorNotFound
from harness.emu.plugin import PluginCounter, PluginCounts, plugin_option, read_counts, require_plugin, wait_for_halt
from harness.emu.symbols import COUNTER_SYMBOL, HALT_SYMBOL, function_address
from harness.emu.uart import SocketUart, UartClosed
from harness.errors import EmulatorError, FirmwareFault
from harness.protocol import FirmwareRun, Record
from harness.targets import Target

QEMU = "qemu-system-arm"
INSTALL_HINT = "run `make bootstrap` (or: apt-get install qemu-system-arm)"
#: The least time QEMU gets to start and connect its UART (more when the run's timeout is longer):
#: on a machine under full load, starting takes seconds.
CONNECT_SECONDS = 30.0
#: After the UART closes, how long QEMU may take to exit before it is called stuck.
EXIT_SECONDS = 5.0


def qemu_binary() -> str:
    path = shutil.which(QEMU)
    if path is None:
        raise EmulatorNotFound(f"{QEMU} not found on PATH", INSTALL_HINT)
    return path


@cache
def qemu_version() -> str:
    out = subprocess.run([qemu_binary(), "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].strip() if out else "QEMU (unknown version)"


def _die_with_parent() -> None:
    """In the child: ask Linux to kill QEMU if the harness dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def lockup_line(log: str) -> str | None:
    """QEMU's own words when the guest CPU locked up (a fault while handling a fault, e.g. a stack
    that overflowed below RAM)."""
    match = re.search(r"^.*Lockup.*$", log, re.M)
    return match.group(0).strip() if match else None


class QemuBackend(Emulator):
    """`marks`: load the counting plugin and keep its raw marks in counts.txt without putting them
    into the records (what tests of the plugin itself use); `profile`: the plugin also counts each
    block's runs (harness profile); `icount=False` runs QEMU without -icount, where every plugin
    count is exact but the board's timer runs on the host's clock."""

    name = "qemu"

    def __init__(self, elf: Path, target: Target, timeout: float, run_dir: Path | None = None, *,
                 marks: bool = False, icount: bool = True, profile: bool = False):
        super().__init__(elf, target, timeout, run_dir)
        if target.qemu_machine is None:
            raise EmulatorError(f"target '{target.name}' has no QEMU machine", "choose a target with one")
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: SocketUart | None = None
        self._closed_at: float | None = None
        self.icount = icount
        self.profile = profile
        self.counts_with_plugin = target.qemu_counter == "plugin"
        self._counter: PluginCounter | None = None
        self._plugin: Path | None = None
        self._marker: int | None = None
        self._halt_address: int | None = None
        if self.counts_with_plugin or marks or profile:
            self._plugin = require_plugin(qemu_binary())
            self._marker = function_address(self.elf, COUNTER_SYMBOL)
            self._halt_address = function_address(self.elf, HALT_SYMBOL)
            if self._marker is None or self._halt_address is None:
                missing = COUNTER_SYMBOL if self._marker is None else HALT_SYMBOL
                raise EmulatorError(f"{self.elf} has no function {missing}: the counting plugin needs "
                                    f"{COUNTER_SYMBOL} and {HALT_SYMBOL}", "build the image with the harness's runtime")

    @property
    def counts_path(self) -> Path:
        """Where the counting plugin writes (when it is loaded)."""
        return self.run_dir / "counts.txt"

    def amend_record(self, rec: Record) -> Record:
        if self.counts_with_plugin:
            if self._counter is None:
                self._counter = PluginCounter(self.counts_path)
            return self._counter.amend(rec)
        return rec

    @property
    def count_note(self) -> str | None:
        if not self.counts_with_plugin:
            return None
        return (f"QEMU's TCG plugin (hk_count) counts every executed instruction from one entry of "
                f"{COUNTER_SYMBOL} to the next: exact, repeatable; the firmware's own counter is none")

    def version(self) -> str:
        return qemu_version()

    @classmethod
    def require(cls) -> None:
        qemu_binary()

    def command(self, port: int) -> list[str]:
        cmd = [
            qemu_binary(),
            "-M", str(self.target.qemu_machine),
            "-nodefaults", "-display", "none", "-monitor", "none", "-net", "none",
            *(("-icount", "shift=0") if self.icount else ()),
            "-kernel", str(self.elf),
            "-serial", f"tcp:127.0.0.1:{port}",
        ]
        if self._plugin is not None:
            cmd += ["-plugin", plugin_option(self._plugin, self.counts_path, self._marker, self._halt_address,
                                                  self.profile)]
        return cmd

    @property
    def log_path(self) -> Path:
        return self.run_dir / "qemu.log"

    def _log_text(self) -> str:
        return self.log_path.read_text(errors="replace").strip() if self.log_path.exists() else ""

    def _launch(self, run_dir: Path) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            port = listener.getsockname()[1]
            command = self.command(port)
            (run_dir / "command.txt").write_text(" ".join(command) + "\n")
            with open(self.log_path, "wb") as log:
                self._proc = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=_die_with_parent,
                )
            connect_seconds = max(CONNECT_SECONDS, self.timeout)
            deadline = time.monotonic() + connect_seconds
            while not select.select([listener], [], [], 0.05)[0]:
                if self._proc.poll() is not None:
                    raise EmulatorError(
                        f"{QEMU} exited with status {self._proc.returncode} at start: {self._cause()}",
                        f"see {self.log_path}")
                if time.monotonic() > deadline:
                    raise EmulatorError(f"{QEMU} did not connect its UART within {connect_seconds:g} s",
                                        f"see {self.log_path}")
            connection, _ = listener.accept()
        self._port = SocketUart(connection, f"socket://127.0.0.1:{port}")

    def _cause(self) -> str:
        """The line of QEMU's log that says why it stopped (its first error line, else its last)."""
        lines = [line for line in self._log_text().splitlines() if line.strip()]
        errors = [line for line in lines if "qemu" in line.lower() or "error" in line.lower()]
        return (errors or lines or ["no message"])[0][:300]

    def read(self, timeout: float) -> bytes:
        if self._port is None or self._proc is None:
            raise EmulatorError(f"{QEMU} is not running")
        data = b""
        if self._closed_at is None:
            try:
                data = self._port.take(timeout)
            except UartClosed:
                self._closed_at = time.monotonic()  # QEMU closed the UART: it is exiting
        if data:
            return data
        if self._closed_at is not None:
            self._wait_for_exit(timeout)
        if self._proc.poll() is not None:
            self._raise_exit()
        return b""

    def _wait_for_exit(self, timeout: float) -> None:
        assert self._proc is not None and self._closed_at is not None
        try:
            self._proc.wait(timeout=max(timeout, 0.001))
        except subprocess.TimeoutExpired:
            if time.monotonic() - self._closed_at > EXIT_SECONDS:
                raise EmulatorError(f"{QEMU} closed the UART but did not exit", f"see {self.log_path}") from None

    def _raise_exit(self) -> None:
        """QEMU ended before the firmware did: a guest lock-up is the firmware's fault, anything
        else the emulator's."""
        assert self._proc is not None
        log = self._log_text()
        lockup = lockup_line(log)
        if lockup is not None:
            raise FirmwareFault(
                f"the CPU locked up (a fault while handling a fault, such as a stack overflow below RAM); "
                f"QEMU: {lockup}", f"see {self.log_path} for the registers")
        raise EmulatorError(
            f"{QEMU} exited with status {self._proc.returncode} before the firmware finished: {self._cause()}",
            f"see {self.log_path}")

    def _halt(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


@dataclass(frozen=True)
class PluginRun:
    firmware: FirmwareRun  # the records the firmware sent
    counts: PluginCounts
    run_dir: Path  # the run's evidence: uart.log, qemu.log, command.txt, counts.txt


def count_instructions(elf: Path, target: Target, timeout: float = DEFAULT_TIMEOUT, run_dir: Path | None = None,
                       icount: bool = True, profile: bool = False) -> PluginRun:
    """Run `elf` on `target`'s QEMU machine with the counting plugin until its @done record and its
    halt, stop QEMU (the plugin writes its total at exit) and return the plugin's raw marks at every
    entry of the counter read beside the firmware's own records; with `profile`, every block's runs
    too. Waiting for the halt makes the total every instruction before it, in every run."""
    backend = QemuBackend(elf, target, timeout, run_dir, marks=True, icount=icount, profile=profile)
    with backend:
        run = backend.run_to_completion()
        wait_for_halt(backend.counts_path)
    return PluginRun(run, read_counts(backend.counts_path), backend.run_dir)

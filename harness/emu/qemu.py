"""QEMU backend: `qemu-system-arm -M <machine> -icount shift=0`, USART1 on a local TCP socket that
pyserial reads through `socket://`. One process per run, killed on every path."""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Optional

import serial

from harness.emu import Emulator, EmulatorCrashed, EmulatorError, EmulatorNotFound
from harness.targets import Target

QEMU = "qemu-system-arm"
INSTALL_HINT = "run `make bootstrap` (or: apt-get install qemu-system-arm)"
CONNECT_SECONDS = 10.0
PORT_ATTEMPTS = 5


def qemu_binary() -> str:
    path = shutil.which(QEMU)
    if path is None:
        raise EmulatorNotFound(f"{QEMU} not found on PATH: {INSTALL_HINT}")
    return path


@lru_cache(maxsize=None)
def qemu_version() -> str:
    out = subprocess.run([qemu_binary(), "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].strip() if out else "QEMU (unknown version)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to kill QEMU if the harness dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _close_socket(port: serial.SerialBase) -> None:
    """Close a socket:// port at once. pyserial's close() sleeps 0.3 s afterwards to let a server
    accept a quick reconnect; we never reconnect, and that pause would tax every run."""
    sock = getattr(port, "_socket", None)
    if sock is None:
        port.close()
        return
    try:
        sock.close()
    finally:
        port._socket = None  # type: ignore[attr-defined]
        port.is_open = False


class QemuBackend(Emulator):
    name = "qemu"

    def __init__(self, elf: Path, target: Target, timeout: float = 60.0):
        super().__init__(elf, target, timeout)
        if target.qemu_machine is None:
            raise EmulatorError(f"target '{target.name}' has no QEMU machine")
        self._proc: Optional[subprocess.Popen] = None
        self._serial: Optional[serial.SerialBase] = None
        self._workdir: Optional[tempfile.TemporaryDirectory] = None
        self.port: Optional[int] = None

    def version(self) -> str:
        return qemu_version()

    def command(self, port: int) -> list[str]:
        return [
            qemu_binary(),
            "-M", str(self.target.qemu_machine),
            "-nodefaults", "-display", "none", "-monitor", "none",
            "-icount", "shift=0",
            "-kernel", str(self.elf),
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on",
        ]

    def _log_text(self) -> str:
        assert self._workdir is not None
        path = Path(self._workdir.name) / "qemu.log"
        return path.read_text(errors="replace").strip() if path.exists() else ""

    def start(self) -> None:
        if not self.elf.exists():
            raise EmulatorError(f"no ELF at {self.elf}")
        self._workdir = tempfile.TemporaryDirectory(prefix="harness-qemu-")
        try:
            for _ in range(PORT_ATTEMPTS):
                port = _free_port()
                if self._launch(port):
                    self.port = port
                    return
            raise EmulatorError(f"{QEMU} could not get a free TCP port in {PORT_ATTEMPTS} attempts")
        except BaseException:
            self.stop()
            raise

    def _launch(self, port: int) -> bool:
        """Start QEMU on `port` and connect; False if the port was taken meanwhile."""
        assert self._workdir is not None
        log = open(Path(self._workdir.name) / "qemu.log", "wb")
        self._proc = subprocess.Popen(
            self.command(port),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + CONNECT_SECONDS
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                text = self._log_text()
                self._reap()
                if "in use" in text.lower():
                    return False
                raise EmulatorCrashed(f"{QEMU} exited with status {self._proc.returncode} at start: {text[-600:]}")
            try:
                self._serial = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.05)
                return True
            except serial.SerialException:
                time.sleep(0.02)
        raise EmulatorCrashed(f"{QEMU} did not open its UART socket within {CONNECT_SECONDS:g} s: {self._log_text()[-600:]}")

    def _read_chunk(self, timeout: float) -> bytes:
        """Wait up to `timeout` for one byte, then take whatever else is ready without waiting
        (pyserial's socket read would otherwise wait out its timeout for a full buffer)."""
        assert self._serial is not None and self._proc is not None
        try:
            self._serial.timeout = max(timeout, 0.001)
            data = self._serial.read(1)
            if data:
                self._serial.timeout = 0
                data += self._serial.read(1 << 16)
        except serial.SerialException:
            data = b""
        if not data and self._proc.poll() is not None:
            raise EmulatorCrashed(
                f"{QEMU} exited with status {self._proc.returncode} before the firmware finished: "
                f"{self._log_text()[-600:] or 'no message'}"
            )
        return data

    def _reap(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
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

    def stop(self) -> None:
        """Close the UART and end QEMU; safe to call more than once and from any state."""
        if self._serial is not None:
            _close_socket(self._serial)
            self._serial = None
        self._reap()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

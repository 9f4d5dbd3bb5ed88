"""Renode backend: the target's .resc (harness.emu.renode_scripts) on a Renode kept per process.

Renode takes about 3 s to start, so each harness process keeps one running (a small pool: one per
emulator in use at once) and switches ELFs through its Monitor: `Clear`, then the whole script
again, which gives a clean machine (RAM zeroed, virtual time 0) in about 0.3 s. A Renode is
recycled after RECYCLE_RUNS runs, as its memory grows with each, and quit when the process exits.

The UART: the .resc puts the firmware's USART on a raw TCP socket Renode serves; the harness
connects before `start`, and Renode keeps whatever the guest writes until a client is connected,
so no byte is lost. Ports are chosen below the ephemeral range and held (PortLease) for as long
as they are used, so parallel runs never share one.

Counts: the firmware times layers with DWT CYCCNT. Renode's DWT counts virtual time, which
advances by executed instructions at the CPU's PerformanceInMips, and only at time-quantum
boundaries. So the backend hooks the firmware's counter read (`hk_counter_read`) and sets CYCCNT to
Renode's exact ExecutedInstructions there: every count is an exact instruction count, at one
count per instruction, not a model of the pipeline's cycles, and the quantum can stay at Renode's
fast default. An ELF without that symbol runs with a 1 µs quantum instead: counts to the nearest
`mips` instructions.
"""
from __future__ import annotations

import atexit
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from harness.emu.base import Emulator, EmulatorNotFound
from harness.emu.renode_scripts import (
    DWT_ADDRESS,
    FAST_QUANTUM,
    SCRIPT_QUANTUM,
    board_resc,
    platform_repl,
    renode_board,
)
from harness.emu.symbols import COUNTER_SYMBOL, function_address
from harness.emu.uart import SocketUart, UartClosed
from harness.errors import EmulatorError, EnvironmentProblem
from harness.files import OwnedDir, new_temp_dir, remove
from harness.protocol import FirmwareRun
from harness.targets import Target

INSTALL_HINT = (
    "install Renode 1.15 from https://github.com/renode/renode/releases (see https://renode.io; it is not "
    "in Debian or PyPI; on Debian it needs the Mono runtime), then put `renode` on PATH, set RENODE=PATH "
    "or pass --renode PATH"
)
#: What the count hook on the counter read's entry (COUNTER_SYMBOL) does there.
HOOK_SCRIPT = f"self.Bus.WriteDoubleWord({DWT_ADDRESS + 4:#x}, self.ExecutedInstructions & 0xFFFFFFFF)"
#: Runs one Renode serves before it is replaced (its memory grows about 3 MB a run).
RECYCLE_RUNS = 40
#: The least time Renode gets to start and answer on its Monitor (start-up is ~3 s idle).
START_SECONDS = 60.0
#: The longest a Monitor command may take (loading a platform and an ELF takes well under 1 s).
COMMAND_SECONDS = 30.0
#: Ports are picked from here up to the start of the kernel's ephemeral range.
LOWEST_PORT = 20000
MONITOR_ERRORS = re.compile(
    r"No such command|does not exist|Could not|[Ee]rror|[Ee]xception|[Ff]ailed|[Ii]nvalid|"
    r"Address already in use|not found|[Cc]annot"
)
_PROMPT = re.compile(rb"\((?:monitor|[^()\r\n]+)\) $")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def renode_program() -> str:
    """The Renode to run: $RENODE (set by --renode), else `renode` on PATH."""
    chosen = os.environ.get("RENODE")
    if chosen:
        path = shutil.which(chosen) if os.sep not in chosen else chosen
        if path is None or not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise EmulatorNotFound(f"RENODE={chosen} is not an executable program", INSTALL_HINT)
        return os.path.abspath(path)
    found = shutil.which("renode")
    if found is None:
        raise EmulatorNotFound("renode not found on PATH (nor RENODE set)", INSTALL_HINT)
    return found


@cache
def renode_version(program: str) -> str:
    """The first line of `renode --version` (e.g. `Renode v1.15.1.4474`)."""
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EmulatorError(f"`{program} --version` failed: {e}", INSTALL_HINT) from None
    lines = [line.strip() for line in (out.stdout or out.stderr).splitlines() if line.strip()]
    return lines[0] if lines else "Renode (unknown version)"


# -------------------------------------------------------------------------------------- ports


def _port_range() -> range:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(LOWEST_PORT, max(low, LOWEST_PORT + 1000))


@dataclass
class PortLease:
    """A TCP port this process holds. The hold is a Unix socket bound in Linux's abstract namespace
    under the port's name: another harness process cannot bind the same name, and the name vanishes
    when the socket is closed or its process dies, so no lock file is ever left behind."""

    port: int
    lock: socket.socket

    def release(self) -> None:
        self.lock.close()


def lease_port() -> PortLease:
    """A port that is free now (Renode binds 0.0.0.0) and held against other harness runs."""
    candidates = list(_port_range())
    for port in random.sample(candidates, 200):
        lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            lock.bind(f"\0cortexm-harness-tcp-port-{port}")
        except OSError:
            lock.close()
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("0.0.0.0", port))
        except OSError:
            lock.close()
            continue
        return PortLease(port, lock)
    raise EnvironmentProblem(f"no free TCP port for Renode in {candidates[0]}-{candidates[-1]}",
                             "close programs holding many ports, or run fewer harness runs at once")


# ------------------------------------------------------------------------------------ monitor


class MonitorRefused(Exception):
    """Renode answered a Monitor command with an error."""

    def __init__(self, command: str, answer: str):
        super().__init__(f"{command}: {answer}")
        self.command, self.answer = command, answer


class MonitorGone(Exception):
    """The Monitor connection closed or stopped answering."""


class Monitor:
    """Renode's Monitor over its telnet port: send a line, read to the next prompt."""

    def __init__(self, connection: socket.socket):
        self._sock = connection
        self.lines: list[str] = []  # the conversation, for each run's evidence
        self._sock.sendall(b" " * 9)  # Renode discards the first 9 bytes a client sends
        self._until_prompt(COMMAND_SECONDS)

    def _until_prompt(self, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        data = b""
        while not _PROMPT.search(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MonitorGone(f"no Monitor prompt within {seconds:g} s (got {data[-200:]!r})")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as e:
                raise MonitorGone(str(e)) from None
            if not chunk:
                raise MonitorGone("Renode closed its Monitor")
            data += chunk
        data = re.sub(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", b"", data, flags=re.S)  # telnet negotiation
        return _ANSI.sub("", data.decode("utf-8", "replace"))

    def command(self, line: str, seconds: float = COMMAND_SECONDS, check: bool = True) -> str:
        """Run one command; its output (echo and prompt removed). Raises MonitorRefused when the
        output reads as an error and `check` is set."""
        self.lines.append(f"> {line}")
        try:
            self._sock.sendall(line.encode() + b"\n")
        except OSError as e:
            raise MonitorGone(str(e)) from None
        text = self._until_prompt(seconds)
        lines = [x.strip() for x in text.replace("\r", "").split("\n")]
        lines = [x for x in lines[:-1] if x and x != line.strip()]  # the last line is the prompt
        answer = "\n".join(lines)
        self.lines += [f"< {x}" for x in lines]
        if check and MONITOR_ERRORS.search(answer):
            raise MonitorRefused(line, answer)
        return answer

    def close(self) -> None:
        self._sock.close()


# ------------------------------------------------------------------------------------ process


def _die_with_parent() -> None:
    """In the child: ask Linux to kill Renode if the harness dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class RenodeProcess:
    """One running Renode with its Monitor, serving runs one after another."""

    program: str
    folder: OwnedDir
    proc: subprocess.Popen[bytes]
    monitor_port: PortLease
    monitor: Monitor
    log_path: Path
    runs: int = 0
    busy: bool = False
    scripts: dict[str, tuple[Path, Path]] = field(default_factory=dict)

    @classmethod
    def launch(cls, program: str) -> RenodeProcess:
        folder = new_temp_dir("renode")
        try:
            for _ in range(3):  # another program may take the port between our check and Renode's bind
                lease = lease_port()
                log_path = folder.path / f"renode-{lease.port}.log"
                command = [program, "--disable-xwt", "--plain", "-P", str(lease.port)]
                with open(log_path, "wb") as log:
                    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=_die_with_parent)
                try:
                    monitor = cls._connect(proc, lease.port, log_path)
                    return cls(program, folder, proc, lease, monitor, log_path)
                except _PortTaken:
                    pass
                finally:
                    if proc.poll() is not None:  # it did not start: its port and log go with it
                        lease.release()
                _kill(proc)
            raise EmulatorError("Renode could not bind its Monitor port three times", f"see {log_path}")
        except BaseException:
            folder.release()  # its log is the evidence the error points to; a later run sweeps it
            raise

    @staticmethod
    def _connect(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> Monitor:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                cause = _log_cause(log_path)
                if "already in use" in cause:
                    raise _PortTaken()
                raise EmulatorError(f"Renode exited with status {proc.returncode} at start: {cause}",
                                    f"see {log_path}")
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    _kill(proc)
                    raise EmulatorError(f"Renode did not open its Monitor within {START_SECONDS:g} s",
                                        f"see {log_path}") from None
                time.sleep(0.1)
        try:
            return Monitor(connection)
        except MonitorGone as e:
            _kill(proc)
            raise EmulatorError(f"Renode's Monitor did not answer: {e}", f"see {log_path}") from None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def scripts_for(self, target: Target) -> tuple[Path, Path]:
        """The target's .repl and .resc, written once into this Renode's folder."""
        if target.name not in self.scripts:
            repl = self.folder.path / f"{target.name}.repl"
            resc = self.folder.path / f"{target.name}.resc"
            repl.write_text(platform_repl(target))
            resc.write_text(board_resc(target))
            self.scripts[target.name] = (repl, resc)
        return self.scripts[target.name]

    def quit(self) -> None:
        """Ask Renode to quit; kill it if it does not within 5 s. Releases everything it held."""
        if self.alive:
            try:
                self.monitor.command("quit", seconds=5, check=False)
            except MonitorGone:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        _kill(self.proc)
        self.monitor.close()
        self.monitor_port.release()
        remove(self.folder)


class _PortTaken(Exception):
    pass


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=3)
                break
            except subprocess.TimeoutExpired:
                continue
    if proc.stdin is not None:
        proc.stdin.close()


def _log_cause(log_path: Path) -> str:
    """The line of Renode's output that says why it stopped (its first error line, else its last)."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    lines = [_ANSI.sub("", x).strip() for x in text.splitlines() if x.strip()]
    errors = [x for x in lines if re.search(r"error|exception|fatal|already in use", x, re.I)]
    return (errors or lines[-1:] or ["no message"])[0][:300]


class _Pool:
    """The Renodes of this process; each serves one run at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: list[RenodeProcess] = []

    def acquire(self, program: str) -> RenodeProcess:
        with self._lock:
            for process in list(self._processes):
                if process.busy or process.program != program:
                    continue
                if process.alive and process.runs < RECYCLE_RUNS:
                    process.busy = True
                    return process
                self._processes.remove(process)
                process.quit()
        process = RenodeProcess.launch(program)
        process.busy = True
        with self._lock:
            self._processes.append(process)
        return process

    def release(self, process: RenodeProcess, healthy: bool) -> None:
        with self._lock:
            process.busy = False
            if not healthy and process in self._processes:
                self._processes.remove(process)
        if not healthy:
            process.quit()

    def stop_all(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, []
        for process in processes:
            process.quit()


_POOL = _Pool()
stop_all = _POOL.stop_all
atexit.register(stop_all)


# ------------------------------------------------------------------------------------ backend


class RenodeBackend(Emulator):
    name = "renode"

    def __init__(self, elf: Path, target: Target, timeout: float, run_dir: Path | None = None):
        super().__init__(elf, target, timeout, run_dir)
        self.board = renode_board(target)
        self._process: RenodeProcess | None = None
        self._uart_port: PortLease | None = None
        self._uart: SocketUart | None = None
        self._log_start = 0
        self._monitor_start = 0
        self._hooked: bool | None = None  # known once the ELF is loaded
        self._healthy = True

    def version(self) -> str:
        return renode_version(renode_program())

    @classmethod
    def require(cls) -> None:
        renode_program()

    def vouch(self, run: FirmwareRun) -> str | None:
        """Two reads in a row are a few instructions apart when the hook fires; 0 means it did not,
        and the counts are virtual time at the quantum's granularity, not exact."""
        if self._hooked and run.boot is not None and run.boot.counter == "dwt" and run.boot.read_overhead == 0:
            return (f"Renode's hook on {COUNTER_SYMBOL} did not fire (read_overhead=0): the counts are not "
                    "exact instruction counts")
        return None

    def unit_of(self, counter: str) -> str:
        return "instructions" if counter == "dwt" else super().unit_of(counter)

    @property
    def granularity(self) -> int:
        return 1 if self._hooked is not False else self.board.mips

    @property
    def count_note(self) -> str:
        how = ("exact: the firmware's counter read is hooked and set to Renode's ExecutedInstructions"
               if self._hooked is not False else f"to the nearest {self.board.mips} instructions (1 µs quantum)")
        return (f"Renode's DWT counts virtual time at the CPU's {self.board.mips} MIPS: one count per executed "
                f"instruction, not a model of pipeline cycles; {how}")

    def _launch(self, run_dir: Path) -> None:
        program = renode_program()
        self._process = _POOL.acquire(program)
        process = self._process
        self._log_start = process.log_path.stat().st_size if process.log_path.exists() else 0
        self._monitor_start = len(process.monitor.lines)
        process.runs += 1
        repl, resc = process.scripts_for(self.target)
        hook = function_address(self.elf, COUNTER_SYMBOL)
        self._hooked = hook is not None
        commands = [
            "Clear",
            f"$bin=@{self.elf.resolve()}",
            f"$platform=@{repl}",
            None,  # the UART port, leased below
            f'$quantum="{FAST_QUANTUM if hook is not None else SCRIPT_QUANTUM}"',
            f"include @{resc}",
        ]
        if hook is not None:
            commands.append(f'sysbus.cpu AddHook {hook:#x} "{HOOK_SCRIPT}"')
        try:
            self._load(commands)
            (run_dir / "command.txt").write_text(
                f"{program} --disable-xwt --plain -P {process.monitor_port.port}\n(Monitor, this run:)\n"
                + "\n".join(c or f"$uart_port={self._uart_port.port if self._uart_port else '?'}" for c in commands)
                + "\nstart\n")
            process.monitor.command("start")
        except MonitorRefused as e:
            raise EnvironmentProblem(f"Renode refused `{e.command}`: {e.answer}",
                                     f"see {run_dir / 'renode.log'}") from None
        except MonitorGone as e:
            self._healthy = False
            raise EmulatorError(f"Renode stopped answering on its Monitor: {e}", self._cause_hint()) from None

    def _load(self, commands: list[str | None]) -> None:
        """Load the machine and connect to its UART socket, on a fresh port if one is taken."""
        assert self._process is not None
        monitor = self._process.monitor
        for _ in range(3):
            self._uart_port = lease_port()
            port = self._uart_port.port
            try:
                for line in commands:
                    monitor.command(line if line is not None else f"$uart_port={port}")
            except MonitorRefused as e:
                if "already in use" not in e.answer:
                    raise
                self._uart_port.release()
                self._uart_port = None
                continue
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=COMMAND_SECONDS)
            except OSError as e:
                raise EmulatorError(f"cannot connect to Renode's UART socket on port {port}: {e}",
                                    self._cause_hint()) from None
            self._uart = SocketUart(connection, f"socket://127.0.0.1:{port}")
            return
        raise EnvironmentProblem("Renode found its UART port taken three times",
                                 "run fewer harness runs at once")

    def _cause_hint(self) -> str:
        return f"see {self.run_dir / 'renode.log'}"

    def read(self, timeout: float) -> bytes:
        if self._uart is None or self._process is None:
            raise EmulatorError("Renode is not running")
        try:
            data = self._uart.take(timeout)
        except UartClosed:
            data = b""
            self._gone("closed the UART")
        if not data and not self._process.alive:
            self._gone("exited")
        return data

    def _gone(self, how: str) -> None:
        """Renode ended the run before the firmware did: its fault, never the firmware's."""
        assert self._process is not None
        self._healthy = False
        process = self._process
        if process.alive:
            try:
                process.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        status = f" with status {process.proc.returncode}" if not process.alive else ""
        raise EmulatorError(
            f"Renode {how}{status} before the firmware finished: {_log_cause(process.log_path)}",
            self._cause_hint())

    def _halt(self) -> None:
        if self._uart is not None:
            self._uart.close()
            self._uart = None
        process, self._process = self._process, None
        if process is not None:
            if self._healthy and process.alive:
                try:
                    process.monitor.command("pause", check=False)  # an idle running machine burns a core
                except MonitorGone:
                    self._healthy = False
            self._keep_log(process)
            _POOL.release(process, self._healthy and process.alive)
        if self._uart_port is not None:
            self._uart_port.release()
            self._uart_port = None

    def _keep_log(self, process: RenodeProcess) -> None:
        """This run's part of Renode's output and of its Monitor conversation, beside its UART transcript."""
        if self._run_dir is None:
            return
        if process.log_path.exists():
            with open(process.log_path, "rb") as log:
                log.seek(self._log_start)
                (self._run_dir / "renode.log").write_bytes(log.read())
        conversation = process.monitor.lines[self._monitor_start:]
        (self._run_dir / "renode-monitor.log").write_text("".join(f"{x}\n" for x in conversation))

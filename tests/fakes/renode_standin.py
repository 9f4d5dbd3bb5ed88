#!/usr/bin/env python3
"""A stand-in for Renode, for testing the harness's Renode backend where Renode is not installed.

It is NOT Renode and says so (`--version`, the Monitor's `version`). It speaks Renode's Monitor
protocol on a telnet port as measured on Renode 1.15.1 (`-P PORT`: 12 telnet bytes on
connect, the client's first 9 bytes discarded, commands echoed, lines ending CR LF, the prompt
`(monitor) ` or `(<machine>) `), runs the few Monitor commands a board script uses, checks the
files they name the way Renode does, and opens raw UART socket terminals. On `start` it does not
emulate anything: it replays a UART transcript to the terminal connected to the board's usart1.

Environment:
  RENODE_STANDIN_UART      the transcript, read at the first `start` after a machine is created (a
                           `start` after `pause` resumes it). Raw bytes, sent line by line, except
                           lines beginning `#!`: `#!sleep SECONDS`, `#!hang` (send no more, keep
                           answering), `#!crash` (the process exits at once, status 134), `#!eof`
                           (close the UART client's connection). Unset: `start` sends nothing.
  RENODE_STANDIN_LOG       a file to which every Monitor command received is appended, one a line.
  RENODE_STANDIN_PIDS      a file to which this process appends its PID when it starts.
  RENODE_STANDIN_REFUSE_ELF  if set, `sysbus LoadELF` refuses every file as not an ELF.

Standard library only.
"""
from __future__ import annotations

import argparse
import errno
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

VERSION_LINES = (
    "Renode stand-in (cortexm-harness tests): NOT Renode",
    "  build: replays a UART transcript",
)
TELNET_OPENING = bytes([0xFF, 0xFD, 0x00, 0xFF, 0xFB, 0x01, 0xFF, 0xFB, 0x03, 0xFF, 0xFC, 0x22])
#: Renode's Monitor drops this many bytes at the start of each connection (the client's telnet answer).
DISCARDED_BYTES = 9
CRASH_STATUS = 134
ELF_MAGIC = b"\x7fELF"
HERE = Path(__file__).resolve().parent

HIDE_LOG = False


def log(message: str, level: str = "INFO") -> None:
    """A line of the emulator's own log (its standard output), as Renode logs to its console."""
    if not HIDE_LOG or level == "ERROR":
        print(f"[{level}] stand-in: {message}", flush=True)


class MonitorError(Exception):
    """A command failed: its text is what the Monitor prints before the prompt."""


class Quit(Exception):
    """`quit` was given."""


# ----------------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Token:
    kind: str  # word | string | path
    text: str


def split_quoted(line: str) -> Iterator[tuple[bool, str]]:
    """The line as (inside a string, text) pieces; strings are "..." or triple-quoted."""
    i, start, n = 0, 0, len(line)
    while i < n:
        if line[i] == '"':
            quote = '"""' if line.startswith('"""', i) else '"'
            end = line.find(quote, i + len(quote))
            if end < 0:
                raise MonitorError(f"Unterminated string in: {line}")
            if start < i:
                yield False, line[start:i]
            yield True, line[i:end + len(quote)]
            i = start = end + len(quote)
        else:
            i += 1
    if start < n:
        yield False, line[start:]


VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def tokenize(line: str) -> list[Token]:
    tokens: list[Token] = []
    pending_path = False
    for quoted, piece in split_quoted(line):
        if quoted:
            inner = piece[3:-3] if piece.startswith('"""') else piece[1:-1]
            tokens.append(Token("path" if pending_path else "string", inner))
            pending_path = False
            continue
        for word in piece.split():
            if pending_path:  # `@` then a space: Renode would not take it either
                raise MonitorError(f"Invalid path: {line}")
            if word == "@":
                pending_path = True
            elif word.startswith("@"):
                tokens.append(Token("path", word[1:]))
            else:
                tokens.append(Token("word", word))
    if pending_path:
        raise MonitorError(f"Invalid path: {line}")
    return tokens


# ----------------------------------------------------------------------------------- the UART


class Terminal:
    """`emulation CreateServerSocketTerminal PORT NAME false`: a raw TCP socket, one client at a
    time; what the board writes while no client is connected waits for the next one."""

    def __init__(self, name: str, port: int):
        self.name = name
        self.port = port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.listener.bind(("0.0.0.0", port))
        except OSError:
            self.listener.close()
            raise
        self.listener.listen(1)
        self.lock = threading.Lock()
        self.client: socket.socket | None = None
        self.pending = bytearray()
        self.closed = False
        threading.Thread(target=self._serve, name=f"terminal-{name}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                if self.closed:
                    conn.close()
                    return
                log(f"terminal {self.name}: client {peer[0]}:{peer[1]} connected")
                self.client = conn
                if self.pending:
                    try:
                        conn.sendall(bytes(self.pending))
                    except OSError:
                        pass
                    self.pending.clear()
            try:
                while conn.recv(4096):  # bytes typed into the UART: the replay ignores them
                    pass
            except OSError:
                pass
            with self.lock:
                if self.client is conn:
                    self.client = None
            conn.close()
            log(f"terminal {self.name}: client disconnected")

    def write(self, data: bytes) -> None:
        with self.lock:
            if self.closed:
                return
            if self.client is None:
                self.pending += data
                return
            try:
                self.client.sendall(data)
            except OSError:
                self.client = None  # gone: what was in flight is lost, as on a real socket

    def hang_up(self) -> None:
        """Close the client's connection (it sees end-of-file); keep listening."""
        with self.lock:
            if self.client is not None:
                try:
                    self.client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for sock in (self.listener, self.client):
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            self.listener.close()
            self.client = None
        log(f"terminal {self.name} on port {self.port} closed")


class Replay:
    """The firmware's UART output: the transcript's lines, sent from a thread; pausable."""

    def __init__(self, terminal: Terminal | None, lines: list[bytes]):
        self.terminal = terminal
        self.lines = lines
        self.position = 0
        self.finished = False
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def resume(self) -> None:
        if self.finished or (self.thread is not None and self.thread.is_alive()):
            return
        self.stop_event.clear()
        self.thread = threading.Thread(target=self._run, name="replay", daemon=True)
        self.thread.start()

    def pause(self) -> None:
        self.stop_event.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        while self.position < len(self.lines) and not self.stop_event.is_set():
            line = self.lines[self.position]
            self.position += 1
            if line.startswith(b"#!"):
                if not self._directive(line[2:].decode("utf-8", "replace").strip()):
                    return
            elif self.terminal is not None:
                self.terminal.write(line)
        if self.position >= len(self.lines):
            self.finished = True

    def _directive(self, text: str) -> bool:
        """Carry out one `#!` line; False to send nothing more."""
        word, _, argument = text.partition(" ")
        if word == "sleep":
            self.stop_event.wait(float(argument))
        elif word == "hang":
            log("transcript: #!hang: the board sends nothing more")
            self.finished = True
            return False
        elif word == "crash":
            print("Fatal error: stand-in crash", flush=True)
            os._exit(CRASH_STATUS)
        elif word == "eof":
            if self.terminal is not None:
                self.terminal.hang_up()
        else:
            log(f"transcript: unknown directive #!{text} (ignored)", "WARNING")
        return True


def read_transcript() -> list[bytes]:
    name = os.environ.get("RENODE_STANDIN_UART")
    if not name:
        log("RENODE_STANDIN_UART is not set: the board sends nothing")
        return []
    try:
        return Path(name).read_bytes().splitlines(keepends=True)
    except OSError as e:
        log(f"cannot read the transcript {name}: {e}", "ERROR")
        return []


# ---------------------------------------------------------------------------------- the Monitor


@dataclass
class Machine:
    name: str
    peripherals: set[str] = field(default_factory=set)
    elf: Path | None = None
    quantum: str | None = None
    hooks: list[tuple[int, str]] = field(default_factory=list)
    connections: dict[str, str] = field(default_factory=dict)  # peripheral -> terminal name
    replay: Replay | None = None


PERIPHERAL_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*[A-Za-z_][\w.]*\s*@", re.M)


class Monitor:
    def __init__(self) -> None:
        self.variables: dict[str, str] = {}
        self.machine: Machine | None = None
        self.terminals: dict[str, Terminal] = {}
        self.using_sysbus = False

    @property
    def prompt(self) -> str:
        return f"({self.machine.name}) " if self.machine else "(monitor) "

    # -- one line
    def execute(self, line: str, out: list[str], origin: Path | None = None) -> None:
        """Run one command line, appending what it prints to `out`; MonitorError if it fails."""
        text = line.strip()
        if not text:
            return
        assignment = re.match(r"^\$([A-Za-z_][A-Za-z0-9_]*)\s*(\?)?=\s*(.*)$", text)
        if assignment:
            name, weak, value = assignment.groups()
            if not (weak and name in self.variables):
                self.variables[name] = self.substitute(value.strip(), origin)
            return
        tokens = tokenize(self.substitute(text, origin))
        if tokens:
            self.dispatch(tokens, out)

    def substitute(self, text: str, origin: Path | None) -> str:
        """$name outside strings replaced by its value ($ORIGIN: the including script's folder)."""
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "ORIGIN" and origin is not None and name not in self.variables:
                return str(origin)
            if name not in self.variables:
                raise MonitorError(f"No such variable: ${name}")
            return self.variables[name]

        return "".join(piece if quoted else VARIABLE.sub(value, piece) for quoted, piece in split_quoted(text))

    def include(self, path: Path, out: list[str]) -> None:
        if not path.is_file():
            raise MonitorError(f"File does not exist: {path}")
        for raw in path.read_text(errors="replace").splitlines():
            stripped = raw.strip()
            if not stripped or stripped.startswith(("#", ":")):
                continue
            self.execute(stripped, out, origin=path.parent)

    # -- commands
    def dispatch(self, tokens: list[Token], out: list[str]) -> None:
        head = tokens[0].text
        args = tokens[1:]
        if head in ("include", "i"):
            self.include(self.path_argument(args, 0, head), out)
        elif head == "mach":
            self.cmd_mach(args)
        elif head == "using":
            if [a.text for a in args] != ["sysbus"]:
                raise MonitorError(f"No such command or device: {' '.join(a.text for a in args)}")
            self.using_sysbus = True
        elif head == "machine" and self.machine is not None:
            self.cmd_machine(self.machine, args)
        elif head == "emulation":
            self.cmd_emulation(args)
        elif head == "connector" and self.machine is not None:
            self.cmd_connector(self.machine, args)
        elif head == "start":
            self.cmd_start(out)
        elif head == "pause":
            if self.machine is not None and self.machine.replay is not None:
                self.machine.replay.pause()
        elif head == "Clear":
            self.clear()
        elif head in ("quit", "q"):
            raise Quit()
        elif head == "version":
            out.append(VERSION_LINES[0])
        else:
            device = self.device(head)
            if device is None:
                raise MonitorError(f"No such command or device: {head}")
            assert self.machine is not None
            self.cmd_device(self.machine, device, args)

    def path_argument(self, args: list[Token], index: int, command: str) -> Path:
        if len(args) <= index or args[index].kind != "path":
            raise MonitorError(f"{command}: expected a path argument (@path)")
        path = Path(args[index].text)
        return path if path.is_absolute() else HERE / path  # Renode resolves against its own folder

    def device(self, name: str) -> str | None:
        """The peripheral `name` refers to in the current machine ("sysbus" for the bus itself)."""
        if self.machine is None:
            return None
        if name == "sysbus":
            return "sysbus"
        if name.startswith("sysbus."):
            name = name[len("sysbus."):]
        elif not self.using_sysbus:
            return None
        return name if name in self.machine.peripherals else None

    def cmd_mach(self, args: list[Token]) -> None:
        if not args or args[0].text != "create":
            raise MonitorError(f"No such command or device: mach {' '.join(a.text for a in args[:1])}".rstrip())
        name = args[1].text if len(args) > 1 else "machine-0"
        if self.machine is not None and self.machine.name == name:
            raise MonitorError(f"Machine with name {name} already exists")
        if self.machine is not None:
            self.stop_machine()
        self.machine = Machine(name)
        log(f"machine {name} created")

    def cmd_machine(self, machine: Machine, args: list[Token]) -> None:
        method = args[0].text if args else ""
        if method == "LoadPlatformDescription":
            path = self.path_argument(args, 1, method)
            if not path.is_file():
                raise MonitorError(f"Could not find file '{path}'")
            machine.peripherals |= set(PERIPHERAL_LINE.findall(path.read_text(errors="replace")))
            log(f"platform {path}: {', '.join(sorted(machine.peripherals))}")
        elif method == "LoadPlatformDescriptionFromString" and len(args) > 1:
            machine.peripherals |= set(PERIPHERAL_LINE.findall(args[1].text))
        else:
            raise MonitorError(f"No such command or device: machine {method}".rstrip())

    def cmd_emulation(self, args: list[Token]) -> None:
        method = args[0].text if args else ""
        if method == "SetGlobalQuantum" and len(args) == 2:
            try:
                float(args[1].text)
            except ValueError:
                raise MonitorError(f"Could not parse the time interval: {args[1].text}") from None
            if self.machine is not None:
                self.machine.quantum = args[1].text
        elif method == "SetAdvanceImmediately" and len(args) == 2:
            pass
        elif method == "CreateServerSocketTerminal" and len(args) >= 2:
            self.create_terminal(args[1:])
        else:
            raise MonitorError(f"No such command or device: emulation {method}".rstrip())

    def create_terminal(self, args: list[Token]) -> None:
        try:
            port = int(args[0].text, 0)
        except ValueError:
            raise MonitorError(f"Could not convert '{args[0].text}' to a port number") from None
        name = args[1].text
        if len(args) > 2 and args[2].text not in ("true", "false"):
            raise MonitorError(f"Could not convert '{args[2].text}' to a boolean")
        if len(args) > 2 and args[2].text == "true":
            log("terminal with telnet negotiation asked for: the stand-in sends raw bytes only", "WARNING")
        if name in self.terminals:
            raise MonitorError(f"An external with the name {name} already exists")
        try:
            self.terminals[name] = Terminal(name, port)
        except OSError as e:
            raise MonitorError("Address already in use" if e.errno == errno.EADDRINUSE else str(e)) from None
        log(f"terminal {name} listening on port {port}")

    def cmd_connector(self, machine: Machine, args: list[Token]) -> None:
        if len(args) != 3 or args[0].text != "Connect":
            raise MonitorError("No such command or device: connector")
        device, terminal = args[1].text, args[2].text
        peripheral = self.device(device)
        if peripheral is None:
            raise MonitorError(f"No such command or device: {device}")
        if terminal not in self.terminals:
            raise MonitorError(f"No such command or device: {terminal}")
        machine.connections[peripheral] = terminal

    def cmd_device(self, machine: Machine, device: str, args: list[Token]) -> None:
        method = args[0].text if args else ""
        if device == "sysbus" and method == "LoadELF":
            path = self.path_argument(args, 1, method)
            if not path.is_file():
                raise MonitorError(f"File does not exist: {path}")
            with open(path, "rb") as f:
                magic = f.read(4)
            if magic != ELF_MAGIC or os.environ.get("RENODE_STANDIN_REFUSE_ELF"):
                raise MonitorError("Error while loading ELF: not an ELF file")
            machine.elf = path
            log(f"loaded {path}")
        elif device == "cpu" and method == "AddHook" and len(args) == 3:
            try:
                address = int(args[1].text, 0)
            except ValueError:
                raise MonitorError(f"Could not convert '{args[1].text}' to an address") from None
            machine.hooks.append((address, args[2].text))
            log(f"hook at {address:#010x}: {args[2].text}")
        else:
            raise MonitorError(f"No such command or device: {device} {method}".rstrip())

    def cmd_start(self, out: list[str]) -> None:
        out.append("Starting emulation...")
        machine = self.machine
        if machine is None:
            return
        if machine.replay is None:
            terminal_name = machine.connections.get("usart1")
            terminal = self.terminals.get(terminal_name) if terminal_name else None
            if machine.elf is None:
                log("no ELF loaded: the CPU has nothing to run", "WARNING")
                lines: list[bytes] = []
            else:
                lines = read_transcript()
            if terminal is None:
                log("usart1 is connected to no terminal: its output goes nowhere", "WARNING")
            machine.replay = Replay(terminal, lines)
        machine.replay.resume()

    # -- ending
    def stop_machine(self) -> None:
        if self.machine is not None and self.machine.replay is not None:
            self.machine.replay.pause()

    def clear(self) -> None:
        self.stop_machine()
        for terminal in self.terminals.values():
            terminal.close()
        self.terminals.clear()
        self.machine = None
        self.variables.clear()
        self.using_sysbus = False
        log("emulation cleared")

    def close(self) -> None:
        self.stop_machine()
        for terminal in self.terminals.values():
            terminal.close()


def record_command(line: str) -> None:
    name = os.environ.get("RENODE_STANDIN_LOG")
    if name:
        with open(name, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def run_command(monitor: Monitor, line: str) -> list[str]:
    """One command as the Monitor runs it: its output lines, the error text among them."""
    record_command(line)
    out: list[str] = []
    try:
        monitor.execute(line, out)
    except MonitorError as e:
        log(f"command failed: {line}: {e}", "ERROR")
        out.append(str(e))
    return out


def quit_now(monitor: Monitor, code: int = 0) -> None:
    monitor.close()
    log("quitting")
    sys.stdout.flush()
    os._exit(code)


def serve_client(monitor: Monitor, conn: socket.socket) -> None:
    conn.sendall(TELNET_OPENING + monitor.prompt.encode())
    discard = DISCARDED_BYTES
    buffer = b""
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            return
        if discard:
            dropped = chunk[:discard]
            chunk = chunk[discard:]
            discard -= len(dropped)
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            line = raw.decode("utf-8", "replace").rstrip("\r")
            reply = [line]
            try:
                reply += run_command(monitor, line)
            except Quit:
                reply.append("Renode is quitting")
                conn.sendall("".join(f"{r}\r\n" for r in reply).encode())
                conn.close()
                quit_now(monitor)
            conn.sendall(("".join(f"{r}\r\n" for r in reply) + monitor.prompt).encode())


def serve_monitor(monitor: Monitor, listener: socket.socket) -> None:
    while True:
        conn, peer = listener.accept()
        log(f"Monitor: client {peer[0]}:{peer[1]} connected")
        try:
            serve_client(monitor, conn)
        except OSError as e:
            log(f"Monitor: connection lost: {e}", "WARNING")
        finally:
            conn.close()
        log("Monitor: client disconnected")


def serve_console(monitor: Monitor) -> None:
    """--console without -P: the Monitor on standard input and output; end-of-file quits."""
    sys.stdout.write(monitor.prompt)
    sys.stdout.flush()
    for raw in sys.stdin:
        try:
            lines = run_command(monitor, raw.rstrip("\r\n"))
        except Quit:
            print("Renode is quitting", flush=True)
            quit_now(monitor)
        sys.stdout.write("".join(f"{r}\n" for r in lines) + monitor.prompt)
        sys.stdout.flush()
    quit_now(monitor)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="renode_standin.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--version", action="store_true")
    p.add_argument("--disable-xwt", "--disable-gui", action="store_true", dest="headless")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--hide-log", action="store_true")
    p.add_argument("--hide-monitor", action="store_true")
    p.add_argument("--console", action="store_true")
    p.add_argument("-P", "--port", type=int)
    p.add_argument("--pid-file")
    p.add_argument("-e", "--execute", action="append", default=[])
    p.add_argument("script", nargs="?")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    global HIDE_LOG
    # Whatever started us may have ignored these; Renode ends on both.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    args = parse_arguments(argv)
    if args.version:
        print("\n".join(VERSION_LINES), flush=True)
        return 0
    HIDE_LOG = args.hide_log
    if args.pid_file:
        Path(args.pid_file).write_text(f"{os.getpid()}\n")
    pids = os.environ.get("RENODE_STANDIN_PIDS")
    if pids:
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
    log(f"{VERSION_LINES[0]}; pid {os.getpid()}")
    listener = None
    if args.port is not None and not args.console:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("0.0.0.0", args.port))
        except OSError as e:
            print("Address already in use" if e.errno == errno.EADDRINUSE else f"Cannot listen: {e}", flush=True)
            return 1
        listener.listen(1)
        log(f"Monitor available on port {args.port}")
    monitor = Monitor()
    commands = ([f"include @{Path(args.script).resolve()}"] if args.script else []) + args.execute
    for command in commands:
        try:
            for line in run_command(monitor, command):
                print(line, flush=True)
        except Quit:
            print("Renode is quitting", flush=True)
            quit_now(monitor)
    if listener is not None:
        serve_monitor(monitor, listener)
    elif args.console:
        serve_console(monitor)
    else:
        while True:
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

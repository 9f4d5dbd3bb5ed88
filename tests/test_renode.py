"""The Renode backend (harness.emu.renode).

Renode is not installed on most machines that run these tests, so the backend is run against a
stand-in, tests/fakes/renode_standin.py: a small program that speaks Renode's Monitor protocol and
serves its raw UART socket as measured on Renode 1.15.1 (facts in the README, "Renode"), checks the files a board
script names, and on `start` replays a transcript. The transcript is a real kws_cnn run on QEMU,
rewritten as Renode prints it (`counter=dwt` in the @boot record, re-checksummed), so a run
through the stand-in must verify with QEMU's logits; directives in the transcript make the
"Renode" crash, hang or send garbage. The stand-in says it is not Renode (`--version`), and the
first tests hold it to the protocol facts, so the backend is tested against those facts and
nothing looser.

Tests marked `renode` run the real Renode where a `renode` program is on PATH; they are skipped,
saying how to get it, elsewhere.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.errors import EnvironmentProblem
from harness.protocol.records import format_record, parse_line
from harness.zoo import ZOO

HERE = Path(__file__).parent
STANDIN = HERE / "fakes" / "renode_standin.py"
VERSION_LINE = "Renode stand-in (cortexm-harness tests): NOT Renode"
INSTALL_PAGE = "https://renode.io"
TELNET_OPENING = bytes.fromhex("fffd00fffb01fffb03fffc22")
#: The one line of a harness error (as in tests/test_bad_input.py).
ERROR_LINE = re.compile(r"^harness: (?:\w+ error\b|FAILED, |stopped\b)")
SUBPROCESS_SECONDS = 300.0
#: Wall-clock limit given to each run: the stand-in answers in well under a second.
RUN_TIMEOUT = "30"
NOT_INSTALLED = ("Renode is not installed: get it from https://github.com/renode/renode/releases "
                 "(1.15.x runs on Mono: apt-get install mono-runtime ...)")


# ------------------------------------------------------------------------------ transcripts


@dataclass(frozen=True)
class QemuRun:
    """kws_cnn on QEMU: what Renode would print for the same ELF, and the logits."""

    renode_uart: bytes
    logits: list[list[int]]

    def lines(self) -> list[bytes]:
        return self.renode_uart.splitlines(keepends=True)

    def upto(self, kind: str, count: int = 1) -> bytes:
        """The transcript up to and including the `count`-th record of `kind`."""
        kept, seen = [], 0
        for line in self.lines():
            kept.append(line)
            if line.startswith(f"@{kind} ".encode()):
                seen += 1
                if seen == count:
                    return b"".join(kept)
        raise AssertionError(f"the transcript has fewer than {count} @{kind} records")


def as_renode_prints_it(uart: bytes) -> bytes:
    """QEMU's transcript with Renode's counter: `counter=dwt` in @boot, its checksum recomputed."""
    out = []
    for raw in uart.splitlines(keepends=True):
        record = parse_line(raw.decode("ascii"))
        if record is not None and record.kind == "boot":
            assert record.fields["counter"] == "icount", record.line
            fields = dict(record.fields, counter="dwt")
            raw = (format_record("boot", **fields) + "\n").encode("ascii")
        out.append(raw)
    return b"".join(out)


@pytest.fixture(scope="module")
def qemu_run() -> QemuRun:
    from harness.session import build, emulate

    _, target, firmware = build("kws_cnn")
    emulated = emulate(firmware, target, "qemu")
    assert emulated.ended is None and emulated.run.status == "ok"
    uart = (emulated.evidence / "uart.log").read_bytes()
    logits = [emulated.run.logits[s] for s in sorted(emulated.run.logits)]
    return QemuRun(as_renode_prints_it(uart), logits)


# ------------------------------------------------------------------------ running the harness


@dataclass
class StandIn:
    """Where one test's stand-ins read their transcript and record what they were told."""

    folder: Path

    @property
    def uart(self) -> Path:
        return self.folder / "uart.txt"

    @property
    def commands(self) -> Path:
        return self.folder / "monitor-commands.txt"

    @property
    def pids_file(self) -> Path:
        return self.folder / "pids.txt"

    def env(self, transcript: bytes | None = None, **changes: str | None) -> dict[str, str]:
        if transcript is not None:
            self.uart.write_bytes(transcript)
        env = dict(os.environ)
        env.pop("PYTHONUNBUFFERED", None)
        env.update(RENODE=str(STANDIN), RENODE_STANDIN_UART=str(self.uart),
                   RENODE_STANDIN_LOG=str(self.commands), RENODE_STANDIN_PIDS=str(self.pids_file))
        for key, value in changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def pids(self) -> list[int]:
        return [int(x) for x in self.pids_file.read_text().split()] if self.pids_file.exists() else []

    def received(self) -> list[str]:
        return self.commands.read_text().splitlines() if self.commands.exists() else []

    def assert_none_left(self) -> None:
        """Every stand-in this test started has ended (a harness must not leave its Renode behind)."""
        deadline = time.monotonic() + 10
        left = [pid for pid in self.pids() if alive(pid)]
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = [pid for pid in left if alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"stand-in process(es) {left} outlived the harness"


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    s = StandIn(tmp_path)
    yield s
    s.assert_none_left()


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2] != "Z"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def shown(self) -> str:
        return f"exit {self.code}\n--- stderr\n{self.err}\n--- stdout (end)\n{self.out[-2000:]}"


def harness(argv: list[str], env: dict[str, str], cwd: Path) -> Result:
    done = subprocess.run([sys.executable, "-m", "harness.cli", *argv], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=SUBPROCESS_SECONDS)
    return Result(done.returncode, done.stdout, done.stderr)


def error_line(result: Result, code: int) -> str:
    """The exit code is `code`, nothing on stderr is a traceback or not the harness's own, and
    there is exactly one error line: returned."""
    shown = result.shown()
    assert result.code == code, shown
    assert "Traceback" not in result.err + result.out, shown
    assert "Exception ignored" not in result.err, shown
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert all(line.startswith("harness: ") for line in lines), shown
    errors = [line for line in lines if ERROR_LINE.match(line)]
    assert len(errors) == 1, shown
    return errors[0]


def run_kws(standin: StandIn, env: dict[str, str], *extra: str) -> tuple[Result, dict[str, object] | None]:
    report = standin.folder / "r.json"
    result = harness(["run", "kws_cnn", "--emulator", "renode", "--timeout", RUN_TIMEOUT, "--json", str(report),
                      *extra], env, standin.folder)
    return result, json.loads(report.read_text()) if report.exists() else None


def in_order(received: list[str], *wanted: str) -> list[int]:
    """Where each wanted command (a regular expression) first appears after the one before it."""
    found, start = [], 0
    for pattern in wanted:
        index = next((i for i in range(start, len(received)) if re.match(pattern, received[i])), None)
        assert index is not None, f"no command matching {pattern!r} after line {start} of {received}"
        found.append(index)
        start = index + 1
    return found


# --------------------------------------------------------------- the stand-in keeps to the facts


def free_port() -> int:
    """A port below the ephemeral range (a client retrying connect() there can reach itself)."""
    for port in random.sample(range(20000, 32000), 200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")


class MonitorClient:
    """A bare client of Renode's Monitor, as RENODE.md describes the protocol."""

    PROMPT = re.compile(rb"\(([^()\r\n]+)\) $")

    def __init__(self, port: int):
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline, "the Monitor never listened"
                time.sleep(0.05)
        self.opening = self._read(lambda data: len(data) >= 12 and self.PROMPT.search(data) is not None)
        self.sock.sendall(b"x" * 9)  # Renode drops the first 9 bytes a client sends

    def _read(self, done: Callable[[bytes], bool]) -> bytes:
        data = b""
        while not done(data):
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data

    def command(self, line: str) -> tuple[list[str], str]:
        """(output lines after the echo, the prompt)."""
        self.sock.sendall(line.encode() + b"\r\n")
        data = self._read(lambda d: self.PROMPT.search(d) is not None or d.endswith(b"Renode is quitting\r\n"))
        text = data.decode()
        lines = text.split("\r\n")
        assert lines[0] == line, text  # the echo
        return lines[1:-1], lines[-1]


def start_standin(tmp_path: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(STANDIN), "--disable-xwt", "--plain", "-P", str(port)], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=open(tmp_path / "standin.out", "wb"),
                            stderr=subprocess.STDOUT, env=env)


def test_standin_says_it_is_not_renode() -> None:
    for flag in ("--version", "-v"):
        done = subprocess.run([str(STANDIN), flag], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0
        assert done.stdout == f"{VERSION_LINE}\n  build: replays a UART transcript\n"


def test_standin_speaks_the_monitor_protocol(tmp_path: Path) -> None:
    port, uart_port = free_port(), free_port()
    proc = start_standin(tmp_path, port)
    try:
        monitor = MonitorClient(port)
        assert monitor.opening == TELNET_OPENING + b"(monitor) "
        assert monitor.command("version") == ([VERSION_LINE], "(monitor) ")
        assert monitor.command("sysbus LoadELF @/nope.elf") == (["No such command or device: sysbus"], "(monitor) ")
        assert monitor.command("include @/nope.resc") == (["File does not exist: /nope.resc"], "(monitor) ")
        assert monitor.command('mach create "dut"') == ([], "(dut) ")
        (tmp_path / "board.repl").write_text("usart1: UART.STM32_UART @ sysbus 0x40011000\n")
        assert monitor.command(f"machine LoadPlatformDescription @{tmp_path}/board.repl") == ([], "(dut) ")
        assert monitor.command("machine LoadPlatformDescription @/nope.repl")[0] == ["Could not find file '/nope.repl'"]
        (tmp_path / "text.elf").write_text("not an ELF\n")
        refused = monitor.command(f"sysbus LoadELF @{tmp_path}/text.elf")
        assert refused == (["Error while loading ELF: not an ELF file"], "(dut) ")
        assert monitor.command(f'emulation CreateServerSocketTerminal {uart_port} "a" false') == ([], "(dut) ")
        assert monitor.command(f'emulation CreateServerSocketTerminal {uart_port} "b" false')[0] == [
            "Address already in use"]
        assert monitor.command("connector Connect sysbus.usart1 nope")[0] == ["No such command or device: nope"]
        assert monitor.command("Clear") == ([], "(monitor) ")
        assert monitor.command("frobnicate now")[0] == ["No such command or device: frobnicate"]
        assert monitor.command("quit")[0] == ["Renode is quitting"]
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_standin_reports_a_taken_monitor_port(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen(1)
        done = subprocess.run([str(STANDIN), "--disable-xwt", "--plain", "-P", str(holder.getsockname()[1])],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Address already in use" in done.stdout


def test_standin_keeps_uart_bytes_until_a_client_connects_and_closes_on_clear(tmp_path: Path) -> None:
    port, uart_port = free_port(), free_port()
    transcript = b"@boot hello\n#!sleep 0.01\n\x00\xffany bytes\n"
    (tmp_path / "uart.txt").write_bytes(transcript)
    (tmp_path / "board.repl").write_text("cpu: CPU.CortexM @ sysbus\nusart1: UART.STM32_UART @ sysbus 0x40011000\n")
    (tmp_path / "fw.elf").write_bytes(b"\x7fELF" + bytes(60))
    (tmp_path / "board.resc").write_text(
        ':name: test\n# a comment\n$name?="dut"\nmach create $name\nusing sysbus\n'
        "machine LoadPlatformDescription $platform\nsysbus LoadELF $bin\n"
        'emulation CreateServerSocketTerminal $uart_port "uart" false\nconnector Connect usart1 uart\n')
    env = dict(os.environ, RENODE_STANDIN_UART=str(tmp_path / "uart.txt"), RENODE_STANDIN_LOG=str(tmp_path / "log"))
    proc = start_standin(tmp_path, port, env)
    try:
        monitor = MonitorClient(port)
        for line in (f"$bin=@{tmp_path}/fw.elf", f"$platform=@{tmp_path}/board.repl", f"$uart_port={uart_port}"):
            assert monitor.command(line) == ([], "(monitor) ")
        assert monitor.command(f"include @{tmp_path}/board.resc") == ([], "(dut) ")
        assert monitor.command('cpu AddHook 0x8000250 "self.DebugLog(\'x\')"') == ([], "(dut) ")
        assert monitor.command("start") == (["Starting emulation..."], "(dut) ")
        time.sleep(0.3)  # the "firmware" has sent everything before anyone reads
        with socket.create_connection(("127.0.0.1", uart_port), timeout=30) as uart:
            received = b""
            while len(received) < len(transcript) - len(b"#!sleep 0.01\n"):
                received += uart.recv(4096)
            assert received == b"@boot hello\n\x00\xffany bytes\n"
            assert monitor.command("pause") == ([], "(dut) ")
            assert monitor.command("Clear") == ([], "(monitor) ")
            assert uart.recv(4096) == b""  # Clear closes the terminal: its client sees end-of-file
        assert (tmp_path / "log").read_text().splitlines()[-3:] == ["start", "pause", "Clear"]
        assert monitor.command("quit")[0] == ["Renode is quitting"]
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ----------------------------------------------------------------- the backend on the stand-in


@pytest.mark.emulator
def test_run_verifies_with_the_dwt_counter_and_qemus_logits(qemu_run: QemuRun, standin: StandIn) -> None:
    result, report = run_kws(standin, standin.env(qemu_run.renode_uart))
    assert result.code == 0, result.shown()
    assert "Traceback" not in result.err, result.shown()
    assert report is not None
    assert report["emulator"] == "renode" and report["counter"] == "dwt"
    assert report["logits"] == qemu_run.logits
    assert VERSION_LINE in str(report["emulator_version"])  # a report never passes the stand-in off as Renode
    received = standin.received()
    in_order(received, r"Clear$", r"include @/", r"sysbus\.cpu AddHook 0x[0-9a-f]+ \"", r"start$", r"pause$")
    assert len(standin.pids()) == 1


@pytest.mark.emulator
def test_two_runs_in_one_process_share_one_renode(qemu_run: QemuRun, standin: StandIn,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.emu import make_emulator, renode
    from harness.reference import compute_reference
    from harness.session import build
    from harness.verify import verify_run

    for key, value in standin.env(qemu_run.renode_uart).items():
        monkeypatch.setenv(key, value)
    model, target, firmware = build("kws_cnn")
    reference = compute_reference(model)
    renode.stop_all()  # a Renode pooled by an earlier test in this worker has another environment
    try:
        for _ in range(2):
            with make_emulator("renode", firmware.elf, target, float(RUN_TIMEOUT)) as emu:
                run = emu.run_to_completion()
            assert run.boot is not None and run.boot.counter == "dwt"
            verdict = verify_run(model, run, reference, None, firmware.build_id, firmware.elf)
            assert verdict.match, verdict.problems
            assert [run.logits[s] for s in sorted(run.logits)] == qemu_run.logits
        assert len(standin.pids()) == 1 and alive(standin.pids()[0])
        assert standin.received().count("Clear") == 2 and standin.received().count("start") == 2
    finally:
        renode.stop_all()


@pytest.mark.emulator
def test_a_renode_that_crashes_mid_run_is_the_emulators_failure(qemu_run: QemuRun, standin: StandIn) -> None:
    # the pause: the crash comes once the run is under way, not while `start` is being answered
    transcript = qemu_run.upto("layer", 2) + b"#!sleep 0.5\n#!crash\n"
    result, report = run_kws(standin, standin.env(transcript))
    line = error_line(result, 4)
    assert line.startswith("harness: emulator error") and "Renode" in line, result.shown()
    assert len(standin.pids()) == 1 and not alive(standin.pids()[0])
    assert report is not None and report["outcome"] == "emulator"
    evidence = Path(report["evidence"]["dir"])  # type: ignore[index]
    assert "Fatal error: stand-in crash" in (evidence / "renode.log").read_text()  # Renode's last words are kept


@pytest.mark.emulator
def test_a_renode_that_crashes_as_it_starts_is_the_emulators_failure(qemu_run: QemuRun, standin: StandIn) -> None:
    """The crash races the Monitor's answer to `start`: either way it is Renode's failure."""
    result, _ = run_kws(standin, standin.env(b"#!crash\n"))
    line = error_line(result, 4)
    assert line.startswith("harness: emulator error") and "Renode" in line, result.shown()
    assert len(standin.pids()) == 1 and not alive(standin.pids()[0])


@pytest.mark.emulator
def test_renode_closing_the_uart_mid_run_is_the_emulators_failure(qemu_run: QemuRun, standin: StandIn) -> None:
    result, _ = run_kws(standin, standin.env(qemu_run.upto("layer", 2) + b"#!eof\n#!hang\n"))
    line = error_line(result, 4)
    assert line.startswith("harness: emulator error") and "Renode" in line, result.shown()


@pytest.mark.emulator
def test_a_hang_is_the_firmwares_with_the_last_uart_lines_kept(qemu_run: QemuRun, standin: StandIn) -> None:
    transcript = qemu_run.upto("model") + b"#!hang\n"
    result, report = run_kws(standin, standin.env(transcript), "--timeout", "3")
    line = error_line(result, 1)
    assert "hang" in line, result.shown()
    assert report is not None and report["outcome"] == "hang"
    uart_log = Path(report["evidence"]["uart_log"])  # type: ignore[index]
    model_line = qemu_run.upto("model").splitlines()[-1]
    assert uart_log.read_bytes().splitlines()[-1] == model_line


@pytest.mark.emulator
def test_garbage_on_renodes_uart_is_a_protocol_failure(qemu_run: QemuRun, standin: StandIn) -> None:
    noise = random.Random(5).randbytes(20000).replace(b"#", b"%")  # no line may read as a directive
    result, _ = run_kws(standin, standin.env(qemu_run.upto("boot") + noise))
    line = error_line(result, 5)
    assert line.startswith("harness: protocol error"), result.shown()


@pytest.mark.emulator
def test_a_fault_record_is_the_firmwares_fault(qemu_run: QemuRun, standin: StandIn) -> None:
    fault = format_record("fault", exception=6, pc="0x08000250", lr="0x08000301", xpsr="0x01000000",
                          cfsr="0x00010000", hfsr="0x00000000", mmfar="0x00000000", bfar="0x00000000",
                          exc_return="0xfffffff9")
    done = format_record("done", status="fault", stack_used=400, stack_size=16384)
    result, _ = run_kws(standin, standin.env(qemu_run.upto("model") + f"{fault}\n{done}\n".encode()))
    line = error_line(result, 1)
    assert "fault" in line and "UsageFault" in line, result.shown()


@pytest.mark.emulator
def test_an_elf_renode_refuses_is_an_environment_problem_in_renodes_words(
        qemu_run: QemuRun, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """Called directly with a file that is not an ELF; the same Renode then runs a good one."""
    from harness.emu import make_emulator, renode
    from harness.session import build

    for key, value in standin.env(qemu_run.renode_uart).items():
        monkeypatch.setenv(key, value)
    _, target, firmware = build("kws_cnn")
    not_elf = standin.folder / "firmware.elf"
    not_elf.write_text("this is not an ELF\n")
    renode.stop_all()
    try:
        with pytest.raises(EnvironmentProblem, match="Error while loading ELF: not an ELF file") as info:
            with make_emulator("renode", not_elf, target, float(RUN_TIMEOUT)) as emu:
                emu.run_to_completion()
        assert info.value.exit_code == 3 and info.value.kind == "environment"
        with make_emulator("renode", firmware.elf, target, float(RUN_TIMEOUT)) as emu:
            assert emu.run_to_completion().status == "ok"
        assert len(standin.pids()) == 1
    finally:
        renode.stop_all()


@pytest.mark.emulator
def test_a_refused_script_is_exit_3_with_renodes_message(qemu_run: QemuRun, standin: StandIn) -> None:
    result, _ = run_kws(standin, standin.env(qemu_run.renode_uart, RENODE_STANDIN_REFUSE_ELF="1"))
    line = error_line(result, 3)
    assert line.startswith("harness: environment error") and "Error while loading ELF: not an ELF file" in line


def path_without_renode() -> str:
    """PATH less every folder that holds a `renode`."""
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, "renode")))


@pytest.mark.emulator
@pytest.mark.parametrize("how", ["RENODE-missing", "no-renode-on-PATH", "--renode-missing"])
def test_no_renode_is_exit_3_with_the_install_hint(how: str, standin: StandIn) -> None:
    missing = str(standin.folder / "no" / "renode")
    env = standin.env(RENODE=missing if how == "RENODE-missing" else None, PATH=path_without_renode())
    extra = ["--renode", missing] if how == "--renode-missing" else []
    result, _ = run_kws(standin, env, *extra)
    line = error_line(result, 3)
    assert line.startswith("harness: environment error") and INSTALL_PAGE in line, result.shown()
    if how != "no-renode-on-PATH":
        assert missing in line, result.shown()
    assert not standin.pids()


@pytest.mark.emulator
def test_parallel_runs_each_get_their_own_renode_and_ports(qemu_run: QemuRun, standin: StandIn) -> None:
    """Four harness processes at once, the Renode named by --renode: no port is shared."""
    env = standin.env(qemu_run.renode_uart, RENODE=None)
    procs = []
    for i in range(4):
        folder = standin.folder / f"run{i}"
        folder.mkdir()
        argv = [sys.executable, "-m", "harness.cli", "run", "kws_cnn", "--emulator", "renode", "--renode",
                str(STANDIN), "--timeout", RUN_TIMEOUT, "--json", str(folder / "r.json")]
        procs.append(subprocess.Popen(argv, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=SUBPROCESS_SECONDS)
        results.append(Result(proc.returncode, out, err))
    for i, result in enumerate(results):
        assert result.code == 0, result.shown()
        report = json.loads((standin.folder / f"run{i}" / "r.json").read_text())
        assert report["counter"] == "dwt" and report["logits"] == qemu_run.logits
    assert len(set(standin.pids())) == 4


def default_sigint() -> None:
    """In the child: a SIGINT ignored by whatever started the tests must not be inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.emulator
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -9)],
                         ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_no_renode_outlives_a_stopped_harness(sig: signal.Signals, code: int, qemu_run: QemuRun,
                                              standin: StandIn) -> None:
    """Stopped mid-run (the firmware hung): the harness's exit code and one 'stopped' line, and its
    Renode ends with it, by `quit` when the harness unwinds and by the parent-death signal on SIGKILL."""
    env = standin.env(qemu_run.upto("model") + b"#!hang\n")
    argv = [sys.executable, "-m", "harness.cli", "run", "kws_cnn", "--emulator", "renode", "--timeout", "600"]
    proc = subprocess.Popen(argv, env=env, cwd=standin.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_sigint)
    try:
        deadline = time.monotonic() + SUBPROCESS_SECONDS
        while "start" not in standin.received() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.3)  # the harness is waiting for records that will not come
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = Result(proc.returncode, out, err)
    if sig == signal.SIGKILL:
        assert result.code == code, result.shown()
    else:
        assert "stopped by" in error_line(result, code)
    assert len(standin.pids()) == 1
    standin.assert_none_left()


def rewrite(uart: bytes, kind: str, change: Callable[[dict[str, str]], dict[str, str]], nth: int = 1) -> bytes:
    """The transcript with the `nth` record of `kind` changed by `change`, its checksum recomputed."""
    out, seen = [], 0
    for raw in uart.splitlines(keepends=True):
        record = parse_line(raw.decode("ascii"))
        if record is not None and record.kind == kind:
            seen += 1
            if seen == nth:
                raw = (format_record(kind, **change(dict(record.fields))) + "\n").encode("ascii")
        out.append(raw)
    assert seen >= nth, f"fewer than {nth} @{kind} records"
    return b"".join(out)


@pytest.mark.emulator
def test_renode_counts_are_labelled_instructions_with_the_note_that_says_why(qemu_run: QemuRun,
                                                                            standin: StandIn) -> None:
    result, report = run_kws(standin, standin.env(qemu_run.renode_uart))
    assert result.code == 0, result.shown()
    assert report is not None and report["counter"] == "dwt" and report["unit"] == "instructions"
    assert "one count per executed instruction" in str(report["count_note"])
    layers = report["layers"]
    assert isinstance(layers, list) and all("instructions" in l and "cycles" not in l for l in layers)
    assert "total_instructions" in report and "total_cycles" not in report
    assert "MACs/instr" in result.out and "counter: dwt (instructions;" in result.out


@pytest.mark.emulator
def test_a_hook_that_did_not_fire_is_the_emulators_failure_not_coarse_counts(qemu_run: QemuRun,
                                                                            standin: StandIn) -> None:
    """Back-to-back reads 0 apart: the counts would be virtual time at the quantum, not exact."""
    transcript = rewrite(qemu_run.renode_uart, "boot", lambda f: dict(f, read_overhead="0"))
    result, report = run_kws(standin, standin.env(transcript))
    line = error_line(result, 4)
    assert "did not fire" in line, result.shown()
    assert report is not None and report["outcome"] == "emulator"


def cross(standin: StandIn, env: dict[str, str], *extra: str) -> tuple[Result, dict[str, object] | None]:
    report = standin.folder / "cross.json"
    result = harness(["cross", "kws_cnn", "--timeout", RUN_TIMEOUT, "--json", str(report), *extra], env,
                     standin.folder)
    return result, json.loads(report.read_text()) if report.exists() else None


@pytest.mark.emulator
def test_cross_agrees_when_renode_reports_what_qemu_does(qemu_run: QemuRun, standin: StandIn) -> None:
    result, report = cross(standin, standin.env(qemu_run.renode_uart))
    assert result.code == 0, result.shown()
    assert report is not None and report["agree"] is True and report["exit_code"] == 0
    runs = report["emulators"]
    assert isinstance(runs, list) and [r["emulator"] for r in runs] == ["qemu", "renode"]
    assert [r["counter"] for r in runs] == ["icount", "dwt"] and all(r["unit"] == "instructions" for r in runs)
    layers = report["layers"]
    assert isinstance(layers, list) and len(layers) == 6 and all(l["difference"] == 0 for l in layers)
    assert "AGREE" in result.out


@pytest.mark.emulator
@pytest.mark.parametrize("extra, agree", [(10, True), (1000, False)])
def test_cross_bounds_the_difference_of_counts(extra: int, agree: bool, qemu_run: QemuRun, standin: StandIn) -> None:
    """conv1 counts about 155 k instructions with the dsp kernels: the bound is 1 + 100 ppm of that, 17."""
    def more(fields: dict[str, str]) -> dict[str, str]:
        return dict(fields, cycles=str(int(fields["cycles"]) + extra))

    transcript = rewrite(qemu_run.renode_uart, "layer", more)  # sample 0, layer 0: the largest count of conv1
    transcript = rewrite(transcript, "layer", more, nth=7)  # sample 1, layer 0
    result, report = cross(standin, standin.env(transcript))
    assert report is not None
    conv1 = report["layers"][0]  # type: ignore[index]
    assert conv1["difference"] == extra and conv1["bound"] == 1 + (conv1["counts"][0] * 100 + 999_999) // 1_000_000
    if agree:
        assert result.code == 0, result.shown()
    else:
        assert result.code == 4 and report["outcome"] == "disagree", result.shown()
        assert "layer 0 'conv1'" in result.out and "DISAGREE" in result.out


@pytest.mark.emulator
def test_cross_fails_as_a_disagreement_when_only_one_emulator_verifies(qemu_run: QemuRun, standin: StandIn) -> None:
    def other_logit(fields: dict[str, str]) -> dict[str, str]:
        values = fields["v"].split(",")
        values[0] = str(int(values[0]) ^ 1)
        return dict(fields, v=",".join(values))

    result, report = cross(standin, standin.env(rewrite(qemu_run.renode_uart, "logits", other_logit)))
    assert result.code == 4, result.shown()
    assert report is not None and report["outcome"] == "disagree"
    assert "verified on qemu but not on renode" in result.out


@pytest.mark.emulator
def test_run_with_two_emulators_is_the_cross_check(qemu_run: QemuRun, standin: StandIn) -> None:
    result = harness(["run", "kws_cnn", "--emulator", "qemu,renode", "--timeout", RUN_TIMEOUT],
                     standin.env(qemu_run.renode_uart), standin.folder)
    assert result.code == 0 and "AGREE" in result.out, result.shown()


@pytest.mark.emulator
def test_bench_on_renode_states_what_it_counts_and_its_wall_time(qemu_run: QemuRun, standin: StandIn) -> None:
    path = standin.folder / "bench.json"
    result = harness(["bench", "kws_cnn", "--emulator", "renode", "--timeout", RUN_TIMEOUT, "--json", str(path)],
                     standin.env(qemu_run.renode_uart), standin.folder)
    assert result.code == 0, result.shown()
    data = json.loads(path.read_text())
    model = data["models"][0]
    assert model["counter"] == "dwt" and model["unit"] == "instructions" and "total_instructions" in model
    assert len(model["wall_seconds"]) == 2 and "one count per executed instruction" in data["provenance"]["count_note"]
    assert "emulation wall time" in result.out and "on renode" in result.out


def test_doctor_shows_the_stand_ins_own_version_line(standin: StandIn) -> None:
    result = harness(["doctor"], standin.env(), standin.folder)
    assert result.code in (0, 3), result.shown()
    assert "Traceback" not in result.err + result.out, result.shown()
    rows = [line for line in result.out.splitlines() if re.match(r"^\S+\s+renode\s", line)]
    assert len(rows) == 1 and VERSION_LINE in rows[0], result.shown()


# -------------------------------------------------------------------------------- real Renode


def real_renode() -> str | None:
    """A `renode` on PATH that says it is Renode (`Renode v1.15.1...`, or `Renode, version ...`)."""
    program = shutil.which("renode", path=os.environ.get("PATH"))
    if program is None:
        return None
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (done.stdout or done.stderr).strip().splitlines()[:1]
    return program if first and re.match(r"^Renode,? v(?:ersion )?\d", first[0]) else None


@pytest.fixture(scope="module")
def renode_program() -> str:
    program = real_renode()
    if program is None:
        pytest.skip(NOT_INSTALLED)
    return program


@pytest.mark.emulator
@pytest.mark.renode
def test_real_renode_runs_kws_cnn_with_the_dwt_counter_and_qemus_logits(renode_program: str, qemu_run: QemuRun,
                                                                        tmp_path: Path) -> None:
    env = dict(os.environ, RENODE=renode_program)
    report_path = tmp_path / "r.json"
    result = harness(["run", "kws_cnn", "--emulator", "renode", "--json", str(report_path)], env, tmp_path)
    assert result.code == 0, result.shown()
    report = json.loads(report_path.read_text())
    assert report["counter"] == "dwt" and report["logits"] == qemu_run.logits
    assert str(report["emulator_version"]).startswith("Renode")
    assert "NOT Renode" not in str(report["emulator_version"])


@pytest.mark.emulator
@pytest.mark.renode
def test_real_renode_serves_two_runs_in_one_process(renode_program: str, qemu_run: QemuRun,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.emu import make_emulator, renode
    from harness.session import build

    monkeypatch.setenv("RENODE", renode_program)
    _, target, firmware = build("kws_cnn")
    renode.stop_all()
    try:
        for _ in range(2):
            with make_emulator("renode", firmware.elf, target, 120.0) as emu:
                run = emu.run_to_completion()
            assert run.status == "ok" and run.boot is not None and run.boot.counter == "dwt"
            assert [run.logits[s] for s in sorted(run.logits)] == qemu_run.logits
    finally:
        renode.stop_all()


@pytest.mark.emulator
@pytest.mark.renode
@pytest.mark.parametrize("model", list(ZOO))
def test_real_renode_agrees_with_qemu_on_every_zoo_model(model: str, renode_program: str, tmp_path: Path) -> None:
    env = dict(os.environ, RENODE=renode_program)
    result = harness(["cross", model, "--json", str(tmp_path / "cross.json")], env, tmp_path)
    assert result.code == 0, result.shown()

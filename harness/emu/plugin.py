"""Instruction counts from a QEMU TCG plugin (harness/emu/plugin/hk_count.c), for boards whose
firmware has no counter of its own that counts instructions (target rows with qemu_counter="plugin").

The plugin is compiled with the host's gcc into build/qemu-plugin/, once per source hash. Before
first use it is loaded into `qemu-system-arm -M none` once, so a QEMU built without plugin support,
or one that refuses the plugin's API version, is one clear EnvironmentProblem in QEMU's own words.
While the guest runs, the plugin writes the instruction count at each entry of the firmware's
counter read; `PluginCounter` turns those into the counts of the @boot and @layer records (see
docs/qemu-plugin.md). The QEMU backend (harness.emu.qemu) loads it.
"""
from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.errors import EmulatorError, EnvironmentProblem
from harness.files import build_root, temp_dir
from harness.protocol import Record

PLUGIN_SOURCE_DIR = Path(__file__).resolve().parent / "plugin"
PLUGIN_CFLAGS = ("-O2", "-std=c11", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror")
#: How long QEMU may take to load the plugin and quit in the probe.
PROBE_SECONDS = 30.0


class PluginUnavailable(EnvironmentProblem):
    """The counting plugin cannot be built or the installed QEMU will not load it."""


@dataclass(frozen=True)
class PluginCounts:
    """What the plugin counted in one run: at each entry of the marker function, how many
    instructions had executed before its first instruction; the same at the halt function's entry
    (None before the guest reached it); and, once QEMU has exited, every guest instruction it
    executed (None before), the halt not counted."""

    total: int | None
    marks: tuple[int, ...]
    blocks: tuple[tuple[int, int, int], ...] = ()  # with profile=on: (address, instructions, runs) per block
    halt: int | None = None


def _sources() -> list[Path]:
    return sorted(PLUGIN_SOURCE_DIR.glob("*.[ch]"))


@cache
def build_plugin() -> Path:
    """hk_count-<hash>.so, built with the host gcc unless a build of the same sources and flags is
    there; concurrent builders wait on a lock and the library appears whole (renamed into place)."""
    cc = shutil.which("gcc")
    if cc is None:
        raise PluginUnavailable("gcc (the host C compiler) is not on PATH; the QEMU counting plugin needs it",
                                "install it (apt-get install gcc)")
    h = hashlib.sha256(repr(PLUGIN_CFLAGS).encode())
    for path in _sources():
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    out_dir = build_root() / "qemu-plugin"
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / f"hk_count-{h.hexdigest()[:16]}.so"
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not lib.exists():
            tmp = lib.with_suffix(".tmp")
            cmd = [cc, *PLUGIN_CFLAGS, "-I", str(PLUGIN_SOURCE_DIR), str(PLUGIN_SOURCE_DIR / "hk_count.c"),
                   "-o", str(tmp)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise PluginUnavailable(f"building the QEMU counting plugin failed: {_first_line(done.stderr)}",
                                        f"run: {' '.join(cmd)}")
            tmp.rename(lib)
    return lib


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no message"])[0][:300]


def plugin_option(lib: Path, out: Path, marker: int | None = None, halt: int | None = None,
                  profile: bool = False) -> str:
    """The value of QEMU's -plugin option (commas in paths doubled, as QEMU's option syntax wants)."""
    def escape(value: object) -> str:
        return str(value).replace(",", ",,")

    option = f"file={escape(lib)},out={escape(out)}"
    option += f",marker={marker:#x}" if marker is not None else ""
    option += f",halt={halt:#x}" if halt is not None else ""
    return option + (",profile=on" if profile else "")


def parse_counts(text: str) -> PluginCounts:
    """The plugin's result: one count per marker entry, `halt N` at the halt's entry, then (with
    profile=on) a `block ADDR INSNS RUNS` line per translated block, then `total N` once QEMU has
    exited. Any other line (a write cut short, a profile the plugin could not complete) is refused."""
    marks: list[int] = []
    blocks: list[tuple[int, int, int]] = []
    totals: dict[str, int] = {}
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("block "):
            fields = line.split()
            try:
                address, insns, runs = int(fields[1], 16), int(fields[2]), int(fields[3])
            except (IndexError, ValueError):
                raise ValueError(f"unexpected line {line[:60]!r}") from None
            blocks.append((address, insns, runs))
            continue
        head, _, number = line.rpartition(" ")
        if head not in ("", "halt", "total") or not number.isdigit() or head in totals:
            raise ValueError(f"unexpected line {line[:60]!r}")
        if head:
            totals[head] = int(number)
        else:
            marks.append(int(number))
    return PluginCounts(totals.get("total"), tuple(marks), tuple(blocks), totals.get("halt"))


def read_counts(path: Path) -> PluginCounts:
    """The plugin's result file, after QEMU has exited."""
    try:
        counts = parse_counts(path.read_text())
    except FileNotFoundError:
        raise EmulatorError(f"the QEMU counting plugin wrote no result ({path} is missing)",
                            "see the run's qemu.log") from None
    except ValueError as e:
        raise EmulatorError(f"the QEMU counting plugin's result {path} is corrupt: {e}", "see the file") from None
    if counts.total is None:
        raise EmulatorError(f"the QEMU counting plugin's result {path} has no total: QEMU did not exit cleanly",
                            "see the run's qemu.log")
    if counts.halt is not None and counts.total != counts.halt:
        raise EmulatorError(f"the guest ran {counts.total - counts.halt} instructions after its halt "
                            f"({path}): something woke it", "see the run's uart.log and qemu.log")
    return counts


def wait_for_halt(path: Path) -> None:
    """Wait, at most MARK_WAIT_SECONDS, until the plugin has seen the guest enter its halt: the last
    instructions after its final UART byte may still be running when the harness reads that byte."""
    deadline = time.monotonic() + MARK_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if any(line.startswith("halt ") for line in path.read_text().split("\n")):
                return
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise EmulatorError(f"the QEMU counting plugin never saw the firmware halt after its @done record ({path})",
                        "see the file and the run's qemu.log")


@cache
def require_plugin(qemu: str) -> Path:
    """The built plugin, once proven loadable by the QEMU program `qemu` (probe_plugin)."""
    lib = build_plugin()
    probe_plugin(lib, qemu)
    return lib


def probe_plugin(lib: Path, qemu: str) -> None:
    """Load `lib` into `qemu -M none`, told to quit on its monitor; the plugin must install and write
    its (zero) result at exit. Raises PluginUnavailable with QEMU's words otherwise."""
    name = Path(qemu).name
    with temp_dir("qemu-plugin-probe") as folder:
        out = folder / "counts.txt"
        cmd = [qemu, "-M", "none", "-nodefaults", "-display", "none", "-monitor", "stdio",
               "-plugin", plugin_option(lib, out)]
        try:
            done = subprocess.run(cmd, input="quit\n", capture_output=True, text=True, timeout=PROBE_SECONDS,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise PluginUnavailable(f"{name} with the counting plugin did not quit within {PROBE_SECONDS:g} s",
                                    f"run: {' '.join(cmd)}") from None
        if done.returncode != 0 or not out.is_file():
            raise PluginUnavailable(
                f"{name} refuses the counting plugin: {_first_line(done.stderr or done.stdout)}",
                "a QEMU with TCG plugin support (API version 1, e.g. Debian's QEMU 7.2) is needed")
        counts = read_counts(out)
    if counts.total != 0 or counts.marks:
        raise PluginUnavailable(f"the counting plugin counted {counts.total} instructions on a machine without a CPU",
                                "rebuild the plugin (remove build/qemu-plugin)")


#: The firmware's counter reads before its first layer (runtime/src/counter.c and main.c): two
#: around 64 NOPs and two around 128 (the start-up proof), then the @boot record's two.
PROOF_READS = 4
BOOT_READS = 2
#: How long a record may wait for its marks to appear in the plugin's file. They are written before
#: the record is sent (hk_count.c), so waiting at all means the plugin is not doing its job.
MARK_WAIT_SECONDS = 5.0


class PluginCounter:
    """Puts the plugin's counts into the firmware's records as they arrive. The firmware of a board
    without an instruction counter reports `counter=none` and zero counts; the plugin has recorded
    the instruction count at each of its counter reads. So the @boot record's counter becomes
    `plugin`, proven by the start-up reads (the span around 128 NOPs must be exactly 64 longer than
    the one around 64), with the read-to-read overhead of its two reads; and the k-th @layer record
    gets the instructions between the two reads that bracket the k-th layer run."""

    def __init__(self, path: Path):
        self.path = path
        self._marks: list[int] = []
        self._pending = ""
        self._offset = 0
        self._layers = 0

    def _mark(self, index: int, what: str) -> int:
        deadline = time.monotonic() + MARK_WAIT_SECONDS
        while len(self._marks) <= index:
            self._read_more()
            if len(self._marks) > index:
                break
            if time.monotonic() > deadline:
                raise EmulatorError(
                    f"the QEMU counting plugin recorded {len(self._marks)} counter reads, but {what} needs "
                    f"read {index + 1}", f"see {self.path} and the run's qemu.log")
            time.sleep(0.01)
        return self._marks[index]

    def _read_more(self) -> None:
        try:
            with open(self.path) as f:
                f.seek(self._offset)
                chunk = f.read()
                self._offset = f.tell()
        except FileNotFoundError:
            return
        lines = (self._pending + chunk).split("\n")
        self._pending = lines.pop()
        for line in lines:
            if line.startswith(("total ", "block ", "halt ")):
                continue
            if not line.isdigit():
                raise EmulatorError(f"the QEMU counting plugin wrote {line[:60]!r} to {self.path}",
                                    "see the file and the run's qemu.log")
            self._marks.append(int(line))

    def span(self, first: int, what: str) -> int:
        """Instructions from the entry of read `first` to the entry of the read after it."""
        return self._mark(first + 1, what) - self._mark(first, what)

    def amend(self, rec: Record) -> Record:
        if rec.kind == "boot":
            if rec.str("counter") != "none":
                raise EmulatorError(
                    f"the firmware reads a counter of its own ({rec.str('counter')}) on a board that QEMU's "
                    "plugin counts: its reads would touch a device and the counts would not be exact",
                    "give the board's platform code no timer (hk_platform_timer_start returns 0)")
            short, long = self.span(0, "the start-up proof"), self.span(2, "the start-up proof")
            if long - short != 64:
                raise EmulatorError(
                    f"the QEMU counting plugin failed its start-up proof: 64 more NOPs counted as "
                    f"{long - short} more instructions ({short} and {long})", f"see {self.path}")
            overhead = self.span(PROOF_READS, "the @boot record")
            return Record(rec.kind, {**rec.fields, "counter": "plugin", "read_overhead": str(overhead)}, rec.line)
        if rec.kind == "layer":
            first = PROOF_READS + BOOT_READS + 2 * self._layers
            self._layers += 1
            count = self.span(first, f"@layer record {self._layers}")
            return Record(rec.kind, {**rec.fields, "cycles": str(count)}, rec.line)
        return rec

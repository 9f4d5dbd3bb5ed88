"""Instruction counts from a QEMU TCG plugin (harness/emu/plugin/hk_count.c), for boards whose
firmware has no counter of its own that counts instructions.

The plugin is compiled with the host's gcc into build/qemu-plugin/, once per source hash. Before
first use it is loaded into `qemu-system-arm -M none` once, so a QEMU built without plugin support,
or one that refuses the plugin's API version, is one clear EnvironmentProblem in QEMU's own words.
`count_instructions` runs an ELF to its @done record under QEMU with the plugin and returns the
total and the count at each entry of a marker function (see docs/qemu-plugin.md).

This module uses harness.files, not harness.build: emu and build are independent layers.
"""
from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.defaults import DEFAULT_TIMEOUT
from harness.emu.qemu import QEMU, QemuBackend, qemu_binary
from harness.errors import EmulatorError, EnvironmentProblem
from harness.files import build_root, temp_dir
from harness.protocol import FirmwareRun
from harness.targets import Target

PLUGIN_SOURCE_DIR = Path(__file__).resolve().parent / "plugin"
PLUGIN_CFLAGS = ("-O2", "-std=c11", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror")
#: How long QEMU may take to load the plugin and quit in the probe.
PROBE_SECONDS = 30.0


class PluginUnavailable(EnvironmentProblem):
    """The counting plugin cannot be built or the installed QEMU will not load it."""


@dataclass(frozen=True)
class PluginCounts:
    """What the plugin counted in one run: every guest instruction QEMU executed until it exited,
    and, at each entry of the marker function, how many had executed before its first instruction."""

    total: int
    marks: tuple[int, ...]


@dataclass(frozen=True)
class PluginRun:
    firmware: FirmwareRun  # the records the firmware sent
    counts: PluginCounts
    run_dir: Path  # the run's evidence: uart.log, qemu.log, command.txt, counts.txt


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


def plugin_option(lib: Path, out: Path, marker: int | None = None) -> str:
    """The value of QEMU's -plugin option (commas in paths doubled, as QEMU's option syntax wants)."""
    def escape(value: object) -> str:
        return str(value).replace(",", ",,")

    option = f"file={escape(lib)},out={escape(out)}"
    return option + (f",marker={marker:#x}" if marker is not None else "")


def read_counts(path: Path) -> PluginCounts:
    """The plugin's result file: the total, then one count per marker entry."""
    try:
        numbers = [int(line) for line in path.read_text().split()]
    except FileNotFoundError:
        raise EmulatorError(f"the QEMU counting plugin wrote no result ({path} is missing)",
                            "see the run's qemu.log") from None
    except ValueError:
        raise EmulatorError(f"the QEMU counting plugin's result {path} is not a list of numbers",
                            "see the file; the plugin may have run out of memory") from None
    if not numbers:
        raise EmulatorError(f"the QEMU counting plugin's result {path} is empty", "see the run's qemu.log")
    return PluginCounts(numbers[0], tuple(numbers[1:]))


@cache
def require_plugin() -> Path:
    """The built plugin, once proven loadable by the installed QEMU (probe_plugin)."""
    lib = build_plugin()
    probe_plugin(lib)
    return lib


def probe_plugin(lib: Path) -> None:
    """Load `lib` into `qemu-system-arm -M none`, told to quit on its monitor; the plugin must install
    and write its (zero) result at exit. Raises PluginUnavailable with QEMU's words otherwise."""
    qemu = qemu_binary()
    with temp_dir("qemu-plugin-probe") as folder:
        out = folder / "counts.txt"
        cmd = [qemu, "-M", "none", "-nodefaults", "-display", "none", "-monitor", "stdio",
               "-plugin", plugin_option(lib, out)]
        try:
            done = subprocess.run(cmd, input="quit\n", capture_output=True, text=True, timeout=PROBE_SECONDS,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise PluginUnavailable(f"{QEMU} with the counting plugin did not quit within {PROBE_SECONDS:g} s",
                                    f"run: {' '.join(cmd)}") from None
        if done.returncode != 0 or not out.is_file():
            raise PluginUnavailable(
                f"{QEMU} refuses the counting plugin: {_first_line(done.stderr or done.stdout)}",
                "a QEMU with TCG plugin support (API version 1, e.g. Debian's QEMU 7.2) is needed")
        counts = read_counts(out)
    if counts.total != 0 or counts.marks:
        raise PluginUnavailable(f"the counting plugin counted {counts.total} instructions on a machine without a CPU",
                                "rebuild the plugin (remove build/qemu-plugin)")


class PluginQemu(QemuBackend):
    """QEMU with the counting plugin loaded. With `icount` (the default) QEMU runs as the qemu
    backend does, -icount shift=0: the run is deterministic, and each device access in the middle of
    a translation block counts the rest of that block twice. Without it every count is exact, but the
    board's timer runs on the host's clock, so firmware that prints timer values takes
    run-dependent paths outside the timed spans (see docs/qemu-plugin.md)."""

    name = "qemu-plugin"

    def __init__(self, elf: Path, target: Target, timeout: float, marker: int | None, run_dir: Path | None = None,
                 icount: bool = True):
        super().__init__(elf, target, timeout, run_dir)
        self.marker = marker
        self.icount = icount
        self.library = require_plugin()

    @property
    def counts_path(self) -> Path:
        return self.run_dir / "counts.txt"

    def command(self, port: int) -> list[str]:
        cmd = super().command(port)
        if not self.icount:
            at = cmd.index("-icount")
            del cmd[at : at + 2]
        return [*cmd, "-plugin", plugin_option(self.library, self.counts_path, self.marker)]


def count_instructions(elf: Path, target: Target, marker: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                       run_dir: Path | None = None, icount: bool = True) -> PluginRun:
    """Run `elf` on `target`'s QEMU machine until its @done record, then stop QEMU (which writes the
    plugin's result at exit) and return the counts. `marker` is a function's address (Thumb bit
    ignored), e.g. elfinfo.function_address(elf, "hk_counter_read"); `icount` as PluginQemu."""
    emu = PluginQemu(elf, target, timeout, marker, run_dir, icount)
    with emu:
        run = emu.run_to_completion()
        folder = emu.run_dir
    return PluginRun(run, read_counts(folder / "counts.txt"), folder)

"""Bad input, a bad environment, a closed pipe and signals, each given to the `harness` command as a
user would give it: `python -m harness.cli` in a subprocess.

Every case must end with its documented exit code (harness.errors), never print a traceback, and,
when it fails, say so in ONE line on stderr that names the cause. Input that can be checked before
any work must be refused before the emulator runs: a bad output path found after a long run wastes
the run and looks like a failure of the firmware.

Builds share the project's cache (build/, or HARNESS_BUILD_DIR as the tests were started with), so
no image is built twice; a case that needs its own build folder sets HARNESS_BUILD_DIR itself. Each
case runs in its own temporary folder.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from harness.files import PACKAGE_DIR

GOLDEN_XOR = PACKAGE_DIR / "golden" / "xor_mlp" / "stm32f405.txt"
#: The one line of a harness error (harness.cli.describe, Parser.error, the closed-pipe notice).
ERROR_LINE = re.compile(r"^harness: (?:\w+ error\b|FAILED, |stopped\b)")
#: Progress lines that mean the harness went on to build or emulate.
WORK_STARTED = ("harness: running", "harness: building", "building and running")
SUBPROCESS_SECONDS = 600.0

Env = dict[str, str | None]  # variable -> value, None to unset it
Setup = Callable[[Path], Env]  # prepares files under the case's temporary folder, returns env changes
Mode = Literal["plain", "closed", "head"]


# ------------------------------------------------------------------------------- running it


@dataclass
class Result:
    code: int
    out: str
    err: str


def harness_env(changes: Env) -> dict[str, str]:
    """The environment for one harness process. PYTHONUNBUFFERED is dropped: users' stdout is
    block-buffered, which is what makes a closed pipe show up only when the buffer is written."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def harness(argv: list[str], env: dict[str, str], cwd: Path, mode: Mode = "plain") -> Result:
    """Run `harness ARGV`. mode "plain" captures everything; "closed" closes the reader's end of
    stdout before the harness writes a byte; "head" reads one line and then closes it (`| head -1`)."""
    cmd = [sys.executable, "-m", "harness.cli", *argv]
    if mode == "plain":
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=SUBPROCESS_SECONDS)
        return Result(done.returncode, done.stdout, done.stderr)
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out = b""
    if mode == "head":
        out = proc.stdout.readline()
        assert out, "the harness printed nothing, so the pipe case tests nothing"
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    return Result(proc.wait(timeout=SUBPROCESS_SECONDS), out.decode(), err.decode())


def assert_one_line_verdict(result: Result, code: tuple[int, ...], fragment: str) -> None:
    """The exit code is one of `code`; no traceback; a failure is one stderr line naming its cause;
    every stderr line is the harness's own (a multi-line message would leave lines without it)."""
    shown = f"exit {result.code}\n--- stderr\n{result.err}\n--- stdout (end)\n{result.out[-2000:]}"
    assert result.code in code, shown
    assert "Traceback" not in result.err + result.out, shown
    assert "Exception ignored" not in result.err, shown
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert all(line.startswith("harness: ") for line in lines), shown
    errors = [line for line in lines if ERROR_LINE.match(line)]
    if result.code == 0:
        assert not errors, shown
        assert fragment in result.err + result.out, shown
    else:
        assert len(errors) == 1, shown
        assert fragment in errors[0], shown


# ------------------------------------------------------------------------------------ setups


def env_only(changes: Env) -> Setup:
    return lambda tmp: changes


def build_dir_is_a_file(tmp: Path) -> Env:
    (tmp / "file").write_text("not a folder\n")
    return {"HARNESS_BUILD_DIR": str(tmp / "file")}


def build_dir_under_a_file(tmp: Path) -> Env:
    (tmp / "file").write_text("not a folder\n")
    return {"HARNESS_BUILD_DIR": str(tmp / "file" / "build")}


def golden_dir_is_a_file(tmp: Path) -> Env:
    (tmp / "file").write_text("not a folder\n")
    return {"HARNESS_GOLDEN_DIR": str(tmp / "file")}


def golden_copy(tmp: Path) -> Path:
    """A private copy of xor_mlp's golden file; HARNESS_GOLDEN_DIR must point at tmp/golden."""
    path = tmp / "golden" / "xor_mlp" / "stm32f405.txt"
    path.parent.mkdir(parents=True)
    shutil.copyfile(GOLDEN_XOR, path)
    return path


def golden_bytes(data: bytes) -> Setup:
    def setup(tmp: Path) -> Env:
        golden_copy(tmp).write_bytes(data)
        return {"HARNESS_GOLDEN_DIR": str(tmp / "golden")}
    return setup


def golden_lines(edit: Callable[[list[str]], list[str]]) -> Setup:
    """The real golden file with its lines edited."""
    def setup(tmp: Path) -> Env:
        path = golden_copy(tmp)
        path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
        return {"HARNESS_GOLDEN_DIR": str(tmp / "golden")}
    return setup


def widen_sample_1(lines: list[str]) -> list[str]:
    return [line + " 5" if line.startswith("1:") else line for line in lines]


def drop_sample(n: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: [line for line in lines if not line.startswith(f"{n}:")]


def golden_file_is_a_directory(tmp: Path) -> Env:
    (tmp / "golden" / "xor_mlp" / "stm32f405.txt").mkdir(parents=True)
    return {"HARNESS_GOLDEN_DIR": str(tmp / "golden")}


def golden_model_folder_is_a_file(tmp: Path) -> Env:
    (tmp / "golden").mkdir()
    (tmp / "golden" / "xor_mlp").write_text("not a folder\n")
    return {"HARNESS_GOLDEN_DIR": str(tmp / "golden")}


def binary_baseline(tmp: Path) -> Env:
    (tmp / "baseline").mkdir()
    (tmp / "baseline" / "stm32f405.json").write_bytes(b"\xff\x00\xfe{")
    return {}


def a_file(tmp: Path) -> Env:
    (tmp / "file").write_text("not a folder\n")
    return {}


def tools_only(*names: str) -> Setup:
    """PATH holding only `names` (and the cross toolchain's tools when the compiler is asked for),
    as links: a machine where the rest is not installed."""
    def setup(tmp: Path) -> Env:
        wanted = list(names)
        if "arm-none-eabi-gcc" in names:
            gcc = shutil.which("arm-none-eabi-gcc")
            assert gcc is not None, "the cross compiler is not installed: run `make bootstrap`"
            wanted += [p.name for p in Path(gcc).parent.glob("arm-none-eabi-*")]
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        for name in dict.fromkeys(wanted):
            found = shutil.which(name)
            if found is None:
                assert name in ("make", "ninja"), f"{name} is not installed: run `make bootstrap`"
                continue  # CMake needs one of the two build tools, not both
            (bin_dir / name).symlink_to(found)
        return {"PATH": str(bin_dir)}
    return setup


def corrupt_cached_elf(tmp: Path) -> Env:
    """Build xor_mlp in a private build folder, then overwrite the cached ELF with garbage."""
    env: Env = {"HARNESS_BUILD_DIR": str(tmp / "build")}
    first = harness(["run", "xor_mlp"], harness_env(env), tmp)
    assert first.code == 0, first.err
    elves = list((tmp / "build" / "stm32f405").glob("xor_mlp-*/firmware.elf"))
    assert len(elves) == 1, elves
    elves[0].write_bytes(b"\xde\xad\xbe\xef" * 64)
    return env


# ----------------------------------------------------------------------------- after-checks

After = Callable[[Path, dict[str, str]], None]


def elf_rebuilt(tmp: Path, env: dict[str, str]) -> None:
    (elf,) = (tmp / "build" / "stm32f405").glob("xor_mlp-*/firmware.elf")
    assert elf.read_bytes()[:4] == b"\x7fELF"


def built_under_relative_dir(tmp: Path, env: dict[str, str]) -> None:
    assert list((tmp / "rel" / "build" / "stm32f405").glob("xor_mlp-*/firmware.elf"))


def golden_repaired(tmp: Path, env: dict[str, str]) -> None:
    assert (tmp / "golden" / "xor_mlp" / "stm32f405.txt").read_text() == GOLDEN_XOR.read_text()
    again = harness(["run", "xor_mlp"], env, tmp)
    assert again.code == 0, again.err


# ------------------------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]  # "{tmp}" stands for the case's temporary folder
    code: int | tuple[int, ...]
    fragment: str  # in the error line (or, on success, anywhere in the output); "{tmp}" as in argv
    setup: Setup | None = None
    mode: Mode = "plain"  # see harness()
    before_work: bool = False  # refused before anything is built or run
    after: After | None = None


CASES = [
    # -- output paths: refused before the model is built or run
    Case("json-into-proc", ("run", "xor_mlp", "--json", "/proc/x"), 2, "/proc/x", before_work=True),
    Case("json-is-a-directory", ("run", "xor_mlp", "--json", "{tmp}"), 2, "cannot write {tmp}: it is a directory",
         before_work=True),
    Case("json-empty-path", ("run", "xor_mlp", "--json="), 2, "output path is empty", before_work=True),
    Case("json-under-a-file", ("run", "xor_mlp", "--json", "{tmp}/file/out.json"), 2, "Not a directory",
         setup=a_file, before_work=True),
    Case("bench-csv-into-proc", ("bench", "--csv", "/proc/x", "xor_mlp"), 2, "/proc/x", before_work=True),
    Case("bench-plot-unknown-format", ("bench", "xor_mlp", "--plot", "{tmp}/cycles.foo"), 2, "not an image format",
         before_work=True),
    Case("bench-update-baseline-into-proc", ("bench", "xor_mlp", "--update-baseline", "/proc/x"), 2,
         "cannot write /proc/x/stm32f405.dsp.json", before_work=True),  # the target's own kernels, dsp
    Case("bench-baseline-binary", ("bench", "xor_mlp", "--kernels", "ref", "--baseline", "{tmp}/baseline"), 2,
         "not a text file", setup=binary_baseline, before_work=True),
    Case("sqnr-plot-into-proc", ("sqnr", "xor_mlp", "--plot", "/proc/x.png"), 2, "/proc/x.png"),
    Case("sqnr-plot-unknown-format", ("sqnr", "xor_mlp", "--plot", "{tmp}/sqnr.xyz"), 2, "'.xyz' is not an image"),
    Case("sqnr-json-disk-full", ("sqnr", "xor_mlp", "--json", "/dev/full"), 2, "No space left on device"),
    # -- options
    Case("timeout-zero", ("run", "xor_mlp", "--timeout", "0"), 2, "--timeout"),
    Case("timeout-negative", ("run", "xor_mlp", "--timeout", "-5"), 2, "--timeout"),
    Case("timeout-nan", ("run", "xor_mlp", "--timeout", "nan"), 2, "--timeout"),
    Case("timeout-inf", ("run", "xor_mlp", "--timeout", "inf"), 2, "--timeout"),
    Case("timeout-not-a-number", ("run", "xor_mlp", "--timeout", "abc"), 2, "--timeout"),
    Case("cases-negative", ("fuzz", "--cases", "-1"), 2, "--cases"),
    Case("cases-zero", ("fuzz", "--cases", "0"), 2, "--cases"),
    Case("tolerance-negative", ("bench", "xor_mlp", "--tolerance", "-3"), 2, "--tolerance"),
    Case("seed-negative", ("fuzz", "--seed", "-1"), 2, "--seed"),
    Case("unknown-model", ("run", "nope"), 2, "unknown model 'nope'"),
    Case("unknown-emulator", ("run", "xor_mlp", "--emulator", "nope"), 2, "--emulator"),
    Case("unknown-target", ("run", "xor_mlp", "--target", "nope"), 2, "--target"),
    Case("unknown-fuzz-op", ("fuzz", "--op", "nope"), 2, "--op"),
    Case("bench-no-models", ("bench",), 2, "name the models"),
    Case("bench-models-and-all", ("bench", "--all", "xor_mlp"), 2, "not both"),
    Case("replay-not-json", ("fuzz", "--replay", "not json"), 2, "not a fuzz configuration"),
    Case("replay-a-list", ("fuzz", "--replay", "[]"), 2, "not a fuzz configuration"),
    Case("replay-incomplete", ("fuzz", "--replay", '{"op": "dense"}'), 2, "not a fuzz configuration"),
    # -- build folder
    Case("build-dir-is-a-file", ("run", "xor_mlp"), 3, "HARNESS_BUILD_DIR", setup=build_dir_is_a_file),
    Case("build-dir-empty", ("run", "xor_mlp"), 3, "HARNESS_BUILD_DIR is set but empty",
         setup=env_only({"HARNESS_BUILD_DIR": ""})),
    Case("build-dir-under-a-file", ("run", "xor_mlp"), 3, "cannot create", setup=build_dir_under_a_file),
    # /proc/self: a folder nobody, root included, can create a file in
    Case("build-dir-unwritable", ("run", "xor_mlp"), 3, "cannot write in /proc/self",
         setup=env_only({"HARNESS_BUILD_DIR": "/proc/self"})),
    Case("build-dir-relative", ("run", "xor_mlp"), 0, "VERIFIED",
         setup=env_only({"HARNESS_BUILD_DIR": "rel/build"}), after=built_under_relative_dir),
    Case("cached-elf-corrupt", ("run", "xor_mlp"), 0, "not the one that was built", setup=corrupt_cached_elf,
         after=elf_rebuilt),
    # -- golden files and folder
    Case("golden-binary", ("run", "xor_mlp"), 2, "not ASCII", setup=golden_bytes(b"\xff\x00\xfe\x01")),
    Case("golden-empty", ("run", "xor_mlp"), 2, "holds no samples", setup=golden_bytes(b"")),
    Case("golden-row-too-wide", ("run", "xor_mlp"), 2, "the model has 4 of 1", setup=golden_lines(widen_sample_1)),
    Case("golden-last-sample-missing", ("run", "xor_mlp"), 2, "has 3 sample(s)", setup=golden_lines(drop_sample(3))),
    Case("golden-middle-sample-missing", ("run", "xor_mlp"), 2, "samples must be numbered",
         setup=golden_lines(drop_sample(1))),
    Case("golden-sample-twice", ("run", "xor_mlp"), 2, "appears twice",
         setup=golden_lines(lambda lines: lines + ["0: -97"])),
    Case("golden-value-not-int8", ("run", "xor_mlp"), 2, "outside int8",
         setup=golden_lines(lambda lines: [("2: 300" if line.startswith("2:") else line) for line in lines])),
    Case("golden-file-is-a-directory", ("run", "xor_mlp"), 2, "Is a directory", setup=golden_file_is_a_directory),
    Case("golden-dir-is-a-file", ("run", "xor_mlp"), 3, "HARNESS_GOLDEN_DIR", setup=golden_dir_is_a_file),
    Case("golden-dir-empty", ("run", "xor_mlp"), 3, "HARNESS_GOLDEN_DIR is set but empty",
         setup=env_only({"HARNESS_GOLDEN_DIR": ""})),
    Case("golden-repairs-malformed", ("golden", "xor_mlp"), 0, "malformed and will be rewritten",
         setup=golden_bytes(b"\xff\x00\xfe\x01"), after=golden_repaired),
    Case("golden-repairs-wrong-width", ("golden", "xor_mlp"), 0, "1 value(s) changed: sample 1 position 1",
         setup=golden_lines(widen_sample_1), after=golden_repaired),
    Case("golden-repairs-missing-sample", ("golden", "xor_mlp"), 0, "1 value(s) changed: sample 3 position 0",
         setup=golden_lines(drop_sample(3)), after=golden_repaired),
    Case("golden-into-a-directory", ("golden", "xor_mlp"), 2, "it is a directory", setup=golden_file_is_a_directory,
         before_work=True),
    Case("golden-into-unwritable-dir", ("golden", "xor_mlp"), 2, "cannot write /proc/self/xor_mlp",
         setup=env_only({"HARNESS_GOLDEN_DIR": "/proc/self"}), before_work=True),
    Case("golden-model-folder-is-a-file", ("golden", "xor_mlp"), 2, "Not a directory",
         setup=golden_model_folder_is_a_file, before_work=True),
    # -- tools
    Case("no-tools-on-path", ("run", "xor_mlp"), 3, "not found on PATH", setup=env_only({"PATH": "/nonexistent"})),
    Case("no-cross-compiler", ("run", "xor_mlp"), 3, "arm-none-eabi-gcc not found on PATH",
         setup=tools_only("cmake", "make", "ninja")),
    Case("no-qemu", ("run", "xor_mlp"), 3, "qemu-system-arm not found on PATH",
         setup=tools_only("cmake", "make", "ninja", "arm-none-eabi-gcc")),
    # -- whoever reads stdout goes away
    Case("list-json-reader-gone", ("list", "--json"), 141, "output pipe was closed", mode="closed"),
    Case("help-reader-gone", ("--help",), 141, "output pipe was closed", mode="closed"),
    Case("run-reader-gone", ("run", "xor_mlp"), 141, "output pipe was closed", mode="closed"),
    # `list --json | head -1`: the whole listing (under 2 kB) is one write into the 64 kB pipe buffer,
    # done before head reads its line, so no write ever fails and 0 is right; 141 would be too
    Case("list-json-head-1", ("list", "--json"), (0, 141), "", mode="head"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    changes = case.setup(tmp_path) if case.setup else {}
    env = harness_env(changes)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in case.argv]
    result = harness(argv, env, tmp_path, case.mode)
    codes = case.code if isinstance(case.code, tuple) else (case.code,)
    assert_one_line_verdict(result, codes, case.fragment.replace("{tmp}", str(tmp_path)))
    if case.before_work:
        assert not any(step in result.err for step in WORK_STARTED), result.err
    if case.after is not None:
        case.after(tmp_path, env)


# ---------------------------------------------------------------------------------- signals


def qemu_children(pid: int) -> list[int]:
    """The QEMU processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue  # it ended while we looked (a glob of /proc would raise here: it stats as it goes)
        name = text[text.index("(") + 1:text.rindex(")")]
        parent = int(text[text.rindex(")") + 2:].split()[1])
        if parent == pid and name.startswith("qemu-system"):
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2] != "Z"


def default_sigint() -> None:
    """In the child: a SIGINT ignored by whatever started the tests (a background job) must not
    be inherited, or the harness could not be interrupted at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


RUN_VWW = ("run", "vww_mobilenetv1", "--timeout", "600")
#: fuzz builds its images in a scratch folder under build/tmp, which a signal must not leave behind
FUZZ_DENSE = ("fuzz", "--op", "dense", "--cases", "200", "--seed", "1", "--timeout", "600")


@pytest.mark.parametrize("argv, progress, sig, code, fragment", [
    (RUN_VWW, "harness: running", signal.SIGTERM, 143, "stopped by SIGTERM"),
    (RUN_VWW, "harness: running", signal.SIGINT, 130, "stopped by SIGINT"),
    (FUZZ_DENSE, "harness: generating", signal.SIGTERM, 143, "stopped by SIGTERM"),
], ids=["run-sigterm", "run-sigint", "fuzz-sigterm"])
def test_signal_during_a_run(argv: tuple[str, ...], progress: str, sig: signal.Signals, code: int, fragment: str,
                             tmp_path: Path) -> None:
    """A signal while the emulator runs: the harness's exit code, one 'stopped' line, no QEMU left
    and nothing left under build/tmp. A private build folder, so that build/tmp is this run's."""
    build = tmp_path / "build"
    env = harness_env({"HARNESS_BUILD_DIR": str(build)})
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *argv], env=env, cwd=tmp_path,
                                stdout=out, stderr=err, preexec_fn=default_sigint)
    qemu: list[int] = []
    try:
        deadline = time.monotonic() + SUBPROCESS_SECONDS
        while not qemu and proc.poll() is None and time.monotonic() < deadline:
            qemu = qemu_children(proc.pid)
            if not qemu:
                time.sleep(0.005)
        assert len(qemu) == 1, f"no emulator seen (exit {proc.poll()}): {err_path.read_text()}"
        # The model runs for a fraction of a second: freeze the emulator so that the run is surely
        # in progress when the signal lands, and let it go once the harness has had the signal.
        os.kill(qemu[0], signal.SIGSTOP)
        assert progress in err_path.read_text()
        proc.send_signal(sig)
        time.sleep(0.2)
        try:
            os.kill(qemu[0], signal.SIGCONT)
        except ProcessLookupError:
            pass
        result = Result(proc.wait(timeout=60), out_path.read_text(), err_path.read_text())
        survivors = [pid for pid in qemu if alive(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in qemu:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert_one_line_verdict(result, (code,), fragment)
    assert not survivors, f"QEMU {survivors} outlived the harness"
    leftovers = list((build / "tmp").iterdir()) if (build / "tmp").exists() else []
    assert not leftovers, leftovers

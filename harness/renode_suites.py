"""The files of renode_scripts/: for every target with a Renode board, its platform description
(.repl) and board script (.resc) from harness.emu.renode_scripts, and a Robot suite (.robot) for
Renode's own runner, renode-test, with one test per zoo model. `harness renode-scripts` writes them.

The suites use only Renode's keywords (renode-test imports renode-keywords.robot), so they run without
the harness installed; the ELFs they load are put in build/renode/TARGET/ by
`harness renode-scripts --build`.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.emu.renode_scripts import FAST_QUANTUM, board_resc, platform_repl, renode_board
from harness.errors import EnvironmentProblem, InputError
from harness.files import PROJECT_ROOT, build_root, in_checkout, write_atomic
from harness.targets import TARGETS, Target
from harness.verify.golden import golden_path, read_golden
from harness.zoo import ZOO

#: Where the files live in a checkout, and are committed.
SCRIPTS_DIR_NAME = "renode_scripts"
#: The Terminal Tester's timeout in seconds of *virtual* time. With the 1 µs quantum of the .resc a
#: wait that fails took 274 s of real time at timeout=8 (Renode 1.15.1), so it is kept small; the
#: largest zoo model runs all its samples in about 4 s of virtual time at 100 MIPS.
UART_TIMEOUT = 5
#: Cells of a Robot row: separated by four spaces (two or more is a separator).
SEP = "    "
#: A name that can stand in a regex and a Robot cell as it is.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")


def renode_targets() -> list[Target]:
    """The targets Renode can run: those with a Renode board."""
    return [t for t in TARGETS.values() if t.renode is not None]


def default_scripts_dir() -> Path:
    """renode_scripts/ in the checkout; an installed harness has no such folder and must be told one."""
    if not in_checkout():
        raise InputError("this harness runs from an installed package, which has no renode_scripts/ folder",
                         "give the folder to write to with --out DIR")
    return PROJECT_ROOT / SCRIPTS_DIR_NAME


def elf_dir(target: Target) -> Path:
    """Where `--build` puts the target's ELFs: build/renode/TARGET in the build root. The suites look
    in ${CURDIR}/../build/renode/TARGET, which is this folder when the build root is the checkout's."""
    return build_root() / "renode" / target.name


def _plain(name: str, what: str) -> str:
    if not _PLAIN_NAME.fullmatch(name):
        raise InputError(f"{what} '{name}' cannot name a Renode test: use letters, digits and '_' only")
    return name


def _row(*cells: str) -> str:
    return SEP + SEP.join(cells)


def _assign(variable: str, value: str) -> str:
    """A Monitor variable set through Execute Command. Robot would read `$bin=...` as a named argument:
    `\\=` is its escape for a literal `=`."""
    return _row("Execute Command", f"${variable}\\={value}")


def _wait(regex: str) -> str:
    """A wait for a UART line. Robot reads an argument with `=` as a named one, and drops a `\\`
    before an ordinary letter, so the regexes use `.` for `=` and `[ ]` for a space at the end."""
    if "=" in regex or "\\" in regex:
        raise ValueError(f"a Renode suite regex with '=' or '\\': {regex}")
    return _row("Wait For Line On Uart", regex, "treatAsRegex=true")


def _model_test(target: Target, model: str) -> list[str]:
    board = renode_board(target)
    golden = read_golden(golden_path(model, target.name))
    checks = "the golden logits of sample 0" if golden else "its logits unchecked (no golden file)"
    lines = [
        model,
        _row("[Documentation]", f"{model} on {target.name}: boots with the DWT counting, names the model, "
                                f"prints {checks} and ends with status ok."),
        _assign("bin", f"@${{ELF_DIR}}/{model}.elf"),
        _assign("platform", f"@${{CURDIR}}/{target.name}.repl"),
        _assign("uart_port", str(board.terminal_port)),
        _assign("quantum", f'"{FAST_QUANTUM}"'),
        _row("Execute Script", f"${{CURDIR}}/{target.name}.resc"),
        _row("Create Terminal Tester", f"sysbus.{board.uart}", f"timeout={UART_TIMEOUT}"),
        _row("Register Failing Uart String", "@fault"),
        _row("Start Emulation"),
        _wait("^@boot .*counter.dwt[ ]"),
        _wait(f"^@model name.{model}[ ]"),
    ]
    if golden:
        lines.append(_wait("^@logits sample.0 v." + ",".join(str(v) for v in golden[0]) + "[ ]"))
    else:
        lines.append(_row(f"# no {golden_path(model, target.name).name} for {model}: sample 0's logits "
                          "are not checked"))
    lines.append(_wait("^@done status.ok[ ]"))
    return lines


def robot_suite(target: Target) -> str:
    """A renode-test suite for `target`: one test per zoo model, each loading build/renode/TARGET/MODEL.elf
    through the target's .resc and reading the firmware's records on the UART."""
    name = _plain(target.name, "target")
    lines = [
        f"# Renode's own tests of the cortexm-harness zoo on {name}: written by `harness renode-scripts`",
        "# from harness/targets.py, harness/zoo and harness/golden; do not edit.",
        f"# Run from the checkout: `harness renode-scripts --build` (puts each ELF in build/renode/{name}/),",
        f"# then `renode-test renode_scripts/{name}.robot`; ELFs elsewhere: --variable ELF_DIR:/abs/dir.",
        f"# UART waits time out after {UART_TIMEOUT} s of virtual time, which can take minutes of real time:",
        "# give renode-test a --test-timeout for a wall-clock limit.",
        "",
        "*** Settings ***",
        f"Documentation{SEP}Each zoo model's firmware on Renode's {target.description}: the records the",
        f"...{SEP}harness reads, checked against the golden logits. Renode's keywords only.",
        f"Suite Setup{SEP}Setup",
        f"Suite Teardown{SEP}Teardown",
        f"Test Setup{SEP}Reset Emulation",
        f"Test Teardown{SEP}Test Teardown",
        "",
        "*** Variables ***",
        f"${{ELF_DIR}}{SEP}${{CURDIR}}/../build/renode/{name}",
        "",
        "*** Test Cases ***",
    ]
    for model in ZOO:
        lines += _model_test(target, _plain(model, "model"))
        lines.append("")
    return "\n".join(lines)


def script_files(target: Target) -> dict[str, str]:
    """The files of one target, by file name."""
    return {
        f"{target.name}.repl": platform_repl(target),
        f"{target.name}.resc": board_resc(target),
        f"{target.name}.robot": robot_suite(target),
    }


@dataclass(frozen=True)
class Written:
    path: Path
    changed: bool  # False: the file already held this text and was left alone


def write_scripts(out: Path) -> list[Written]:
    """Write every Renode target's files into `out`, each atomically and only when its text changes."""
    results = []
    for target in renode_targets():
        for name, text in script_files(target).items():
            path = out / name
            try:
                unchanged = path.is_file() and path.read_text(encoding="utf-8") == text
            except (OSError, UnicodeDecodeError):
                unchanged = False  # unreadable: replace it
            if not unchanged:
                write_atomic(path, text)
            results.append(Written(path, not unchanged))
    return results


def install_elf(elf: Path, target: Target, model: str) -> Path:
    """Copy a built ELF to elf_dir(target)/MODEL.elf, where the suites load it; replaced atomically, so a
    renode-test that is running never reads half a file."""
    folder = elf_dir(target)
    dest = folder / f"{model}.elf"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        try:
            shutil.copyfile(elf, tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as e:
        raise EnvironmentProblem(f"cannot copy {elf} to {dest}: {e.strerror or e}",
                                 "check that the build folder is writable") from None
    return dest

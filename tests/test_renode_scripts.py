"""The Renode files of renode_scripts/ (platform, board script, renode-test suite) and the command that
writes them. Renode is not needed: the files are checked as text, and the suites by Robot's own parser."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli import main
from harness.emu.renode_scripts import board_resc, platform_repl
from harness.files import PROJECT_ROOT
from harness.protocol.records import format_record, parse_line
from harness.renode_suites import SCRIPTS_DIR_NAME, UART_TIMEOUT, renode_targets, robot_suite, script_files
from harness.session import build, emulate
from harness.targets import Target
from harness.verify.golden import golden_path, read_golden
from harness.zoo import ZOO

TARGETS = renode_targets()
IDS = [t.name for t in TARGETS]


def test_some_target_has_a_renode_board() -> None:
    assert "stm32f405" in IDS


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_committed_files_are_what_the_generator_writes(target: Target) -> None:
    folder = PROJECT_ROOT / SCRIPTS_DIR_NAME
    for name, text in script_files(target).items():
        path = folder / name
        assert path.is_file() and path.read_text() == text, \
            f"{SCRIPTS_DIR_NAME}/ is stale: run `harness renode-scripts` ({name} differs)"


def _block(repl: str, name: str) -> str:
    """The lines of one peripheral of a platform description: its header and its indented lines."""
    match = re.search(rf"^{name}: .*\n(?:[ \t]+.*\n?)*", repl, re.M)
    assert match, f"no '{name}:' in the platform description"
    return match.group(0)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_platform_describes_what_the_firmware_uses_without_a_download(target: Target) -> None:
    repl = platform_repl(target)
    board = target.renode
    assert board is not None
    assert "ApplySVD" not in repl and "http" not in repl
    cpu = _block(repl, "cpu")
    assert cpu.startswith("cpu: CPU.CortexM @ sysbus")
    assert f'cpuType: "{board.cpu_type}"' in cpu and board.cpu_type == "cortex-m4"
    assert re.search(r"^\s+nvic: nvic$", cpu, re.M)
    assert _block(repl, "nvic").startswith("nvic: IRQControllers.NVIC @ sysbus 0xE000E000")
    for name, region in (("flash", target.flash), ("sram", target.ram)):
        block = _block(repl, name)
        assert block.startswith(f"{name}: Memory.MappedMemory @ sysbus {region.origin:#010x}"), block
        assert int(re.search(r"size: (0x[0-9a-fA-F]+)", block).group(1), 16) == region.size  # type: ignore[union-attr]
    uart = _block(repl, board.uart)
    assert uart.startswith(f"{board.uart}: {board.uart_model} @ sysbus <{board.uart_address:#010x},"), uart
    assert f"-> nvic@{board.uart_irq}" in uart
    dwt = _block(repl, "dwt")
    assert int(dwt.split("@ sysbus")[1].split()[0], 16) == 0xE0001000
    assert f"frequency: {board.mips * 1_000_000}" in dwt


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_board_script_loads_the_elf_and_puts_the_uart_on_a_raw_socket(target: Target) -> None:
    resc = board_resc(target)
    board = target.renode
    assert board is not None
    lines = [line for line in resc.splitlines() if line and not line.startswith(("#", ":"))]
    assert "sysbus LoadELF $bin" in lines
    assert "machine LoadPlatformDescription $platform" in lines
    assert "emulation SetGlobalQuantum $quantum" in lines
    assert 'emulation CreateServerSocketTerminal $uart_port "uart" false' in lines
    assert f"connector Connect sysbus.{board.uart} uart" in lines
    for variable in ("bin", "platform", "uart_port", "quantum", "name"):  # overridable: `?=`
        assert any(line.startswith(f"${variable}?=") for line in lines), variable
    # Renode reads @$ORIGIN/... as a literal path; a bare $ORIGIN/... is expanded
    assert not any("@$ORIGIN" in line for line in lines)


def _cases(text: str) -> dict[str, list[str]]:
    """Test name -> its rows, from the *** Test Cases *** section."""
    cases: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.split("*** Test Cases ***", 1)[1].splitlines():
        if line and not line[0].isspace():
            current = cases.setdefault(line.strip(), [])
        elif line.strip():
            current.append(line.strip())
    return cases


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_suite_has_one_test_per_zoo_model_with_robot_safe_regexes(target: Target) -> None:
    board = target.renode
    assert board is not None
    text = robot_suite(target)
    cases = _cases(text)
    assert list(cases) == list(ZOO)
    waits = [row for rows in cases.values() for row in rows if row.startswith("Wait For Line On Uart")]
    assert waits
    for row in waits:
        cells = re.split(r" {2,}|\t", row)
        assert cells[2:] == ["treatAsRegex=true"], row
        assert "=" not in cells[1] and "\\" not in cells[1], row  # Robot: `=` names an argument, `\` escapes
    for model, rows in cases.items():
        assert f"Execute Command    $bin\\=@${{ELF_DIR}}/{model}.elf" in rows
        assert f"Execute Command    $platform\\=@${{CURDIR}}/{target.name}.repl" in rows
        assert f"Execute Command    $uart_port\\={board.terminal_port}" in rows
        assert f"Execute Script    ${{CURDIR}}/{target.name}.resc" in rows
        assert f"Create Terminal Tester    sysbus.{board.uart}    timeout={UART_TIMEOUT}" in rows
        assert "Register Failing Uart String    @fault" in rows
        assert rows.index("Start Emulation") < rows.index(next(r for r in rows if r.startswith("Wait")))
        golden = read_golden(golden_path(model, target.name))
        if golden:
            logits = ",".join(str(v) for v in golden[0])
            assert f"Wait For Line On Uart    ^@logits sample.0 v.{logits}[ ]    treatAsRegex=true" in rows
        assert rows[-1] == "Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true"
    for setting in ("Suite Setup    Setup", "Suite Teardown    Teardown", "Test Setup    Reset Emulation",
                    "Test Teardown    Test Teardown", f"${{ELF_DIR}}    ${{CURDIR}}/../build/renode/{target.name}"):
        assert f"\n{setting}\n" in text
    assert f"renode-test renode_scripts/{target.name}.robot" in text and "harness renode-scripts --build" in text


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_suite_parses_with_robots_own_parser(target: Target, tmp_path: Path) -> None:
    from robot.api import TestSuiteBuilder, get_model
    from robot.api.parsing import ModelVisitor

    path = tmp_path / f"{target.name}.robot"
    path.write_text(robot_suite(target))
    errors: list[str] = []

    class Errors(ModelVisitor):  # type: ignore[misc]
        def generic_visit(self, node: object) -> None:
            errors.extend(getattr(node, "errors", ()) or ())
            super().generic_visit(node)

    Errors().visit(get_model(path))
    assert errors == []
    suite = TestSuiteBuilder().build(str(path))
    assert [t.name for t in suite.tests] == list(ZOO)
    assert suite.setup.name == "Setup" and suite.teardown.name == "Teardown"
    kws_cnn = suite.tests[list(ZOO).index("kws_cnn")]
    assert kws_cnn.setup.name == "Reset Emulation" and kws_cnn.teardown.name == "Test Teardown"
    waits = [step.args for step in kws_cnn.body if step.name == "Wait For Line On Uart"]
    assert waits[0] == ("^@boot .*counter.dwt[ ]", "treatAsRegex=true")  # Robot left the regexes whole


def test_command_writes_the_files_then_leaves_them_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scripts"
    assert main(["renode-scripts", "--out", str(out)]) == 0
    first = capsys.readouterr().out.splitlines()
    names = [f"{t.name}.{ext}" for t in TARGETS for ext in ("repl", "resc", "robot")]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert first == [f"{out / name}: written" for name in names]
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["renode-scripts", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{out / name}: unchanged" for name in names]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    (out / names[0]).write_text("edited by hand\n")
    assert main(["renode-scripts", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{out / names[0]}: written"
    assert (out / names[0]).read_text() == script_files(TARGETS[0])[names[0]]


def test_command_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["renode-scripts", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "--out DIR" in out and "--build" in out and "renode-test" in out


def test_outside_a_checkout_out_is_required(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("harness.renode_suites.in_checkout", lambda: False)
    assert main(["renode-scripts"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and "Traceback" not in lines[0], lines


# Dry runs of the committed suite, with Renode's keywords faked by tests/renode_fake/FakeRenode.py: what
# Robot hands each keyword, and whether the waits match a real transcript. Robot reads `name=value` as a
# named argument when the keyword takes that name or **kwargs (Renode's Remote library may), so the
# suite's `$bin\=@...` must reach Execute Command as one positional `$bin=@...`.

FAKE_RENODE = Path(__file__).parent / "renode_fake"
SCRIPTS = PROJECT_ROOT / SCRIPTS_DIR_NAME
SUITE = SCRIPTS / "stm32f405.robot"

#: What renode-test does with a suite (Renode's tests/robot_tests_provider.py): build it, add its
#: renode-keywords.robot as a Resource import, run the tests asked for. The resource here is the fake's.
_RENODE_TEST = """
import sys
from robot.running import TestSuiteBuilder

suite_path, keywords, outdir, test, dryrun = sys.argv[1:6]
suite = TestSuiteBuilder().build(suite_path)
suite.resource.imports.create(type="Resource", name=keywords)
if test != "*":
    suite.configure(include_tests=[test])
result = suite.run(outputdir=outdir, output="output.xml", console="verbose", dryrun=dryrun == "dryrun")
sys.exit(min(result.return_code, 250))
"""


@dataclass
class DryRun:
    returncode: int
    calls: list[dict]  # FakeRenode's log: keyword, args, kwargs, returned or failed
    console: str

    def of(self, keyword: str) -> list[dict]:
        return [c for c in self.calls if c["keyword"] == keyword]

    def shown(self) -> str:
        return f"robot exited {self.returncode}\n{self.console}\n" + "\n".join(json.dumps(c) for c in self.calls)


def _dry_run(tmp_path: Path, transcript: str, suite: Path = SUITE, test: str = "kws_cnn",
             dryrun: bool = False) -> DryRun:
    uart, log = tmp_path / "uart.txt", tmp_path / "renode-calls.jsonl"
    uart.write_text(transcript)
    env = {**os.environ, "FAKE_RENODE_UART": str(uart), "FAKE_RENODE_LOG": str(log)}
    out = tmp_path / "robot"
    proc = subprocess.run([sys.executable, "-c", _RENODE_TEST, str(suite), str(FAKE_RENODE / "renode-keywords.robot"),
                           str(out), test, "dryrun" if dryrun else "run"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return DryRun(proc.returncode, calls, proc.stdout + proc.stderr)


def _with_dwt(transcript: str) -> str:
    """The transcript as Renode's firmware would write it: the boot record says the DWT counted."""
    lines = []
    for line in transcript.splitlines():
        record = parse_line(line)
        if record is not None and record.fields.get("counter") == "icount":
            line = format_record(record.kind, **{**record.fields, "counter": "dwt"})
            assert parse_line(line) is not None
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def kws_cnn_uart() -> str:
    """The UART transcript of kws_cnn run on QEMU, as QEMU's firmware wrote it (`counter=icount`)."""
    _model, target, firmware = build("kws_cnn")
    emulated = emulate(firmware, target, "qemu")
    assert emulated.ended is None, emulated.ended
    return (emulated.evidence / "uart.log").read_text()


def _suite_waits(model: str) -> list[str]:
    return [row.split("    ")[1] for row in _cases(SUITE.read_text())[model] if row.startswith("Wait For Line")]


@pytest.mark.emulator
def test_dry_run_passes_renodes_keywords_their_arguments_as_meant(kws_cnn_uart: str, tmp_path: Path) -> None:
    run = _dry_run(tmp_path, _with_dwt(kws_cnn_uart))
    assert run.returncode == 0, run.shown()
    assert not [c for c in run.calls if "failed" in c], run.shown()
    assert [c["keyword"] for c in run.calls] == [
        "Setup", "Reset Emulation", *["Execute Command"] * 4, "Execute Script", "Create Terminal Tester",
        "Register Failing Uart String", "Start Emulation", *["Wait For Line On Uart"] * 4, "Test Teardown",
        "Teardown"], run.shown()
    # `$name\=value` arrives as one positional Monitor command with a plain `=`, no named argument
    elf_dir = f"{SCRIPTS}/../build/renode/stm32f405"
    commands = run.of("Execute Command")
    assert [c["args"] for c in commands] == [[f"$bin=@{elf_dir}/kws_cnn.elf"], [f"$platform=@{SCRIPTS}/stm32f405.repl"],
                                             ["$uart_port=45678"], ['$quantum="0.0001"']], run.shown()
    assert all(c["kwargs"] == {} for c in commands)
    assert os.path.normpath(f"{elf_dir}/kws_cnn.elf") == str(PROJECT_ROOT / "build/renode/stm32f405/kws_cnn.elf")
    assert (SCRIPTS / "stm32f405.repl").is_file()
    (script,) = run.of("Execute Script")
    assert script["args"] == [f"{SCRIPTS}/stm32f405.resc"] and script["kwargs"] == {}
    assert Path(script["args"][0]).is_file()
    (tester,) = run.of("Create Terminal Tester")
    assert tester["args"] == ["sysbus.usart1"] and tester["kwargs"] == {"timeout": str(UART_TIMEOUT)}
    (failing,) = run.of("Register Failing Uart String")
    assert failing["args"] == ["@fault"] and failing["kwargs"] == {}
    # every wait: the suite's regex, as a regex, matched in order boot, model, logits of sample 0, done
    waits = run.of("Wait For Line On Uart")
    assert [w["args"] for w in waits] == [[p] for p in _suite_waits("kws_cnn")]
    assert all(w["kwargs"] == {"treatAsRegex": "true"} for w in waits), run.shown()
    matched = [w["returned"]["line"] for w in waits]
    assert [parse_line(line).kind for line in matched] == ["boot", "model", "logits", "done"]  # type: ignore[union-attr]
    assert all(re.search(w["args"][0], w["returned"]["line"]) for w in waits)
    assert "counter=dwt" in matched[0] and "status=ok" in matched[3]


@pytest.mark.emulator
def test_dry_run_fails_on_the_transcript_qemu_wrote(kws_cnn_uart: str, tmp_path: Path) -> None:
    """QEMU's firmware counts instructions (`counter=icount`): the suite expects the DWT, and fails."""
    run = _dry_run(tmp_path, kws_cnn_uart)
    assert run.returncode != 0, run.shown()
    (wait,) = run.of("Wait For Line On Uart")  # the first wait fails the test; no later one runs
    assert wait["args"] == ["^@boot .*counter.dwt[ ]"]
    assert "no line on the UART matches" in wait["failed"], run.shown()
    assert [c["keyword"] for c in run.calls][-2:] == ["Test Teardown", "Teardown"]


def test_dry_run_registers_fault_as_failing(tmp_path: Path) -> None:
    boot = format_record("boot", proto=1, board="stm32f405", core="cortex-m4", counter="dwt", read_overhead=6)
    model = format_record("model", name="kws_cnn", build="0123456789abcdef", layers=6, samples=8, input=400,
                          output=10, weights=688, arena=3240)
    fault = format_record("fault", exception=6, pc="0x08000250", lr="0x08000301", xpsr="0x01000000",
                          cfsr="0x00010000", hfsr="0x00000000", mmfar="0x00000000", bfar="0x00000000",
                          exc_return="0xfffffff9")
    done = format_record("done", status="fault", stack_used=400, stack_size=16384)
    run = _dry_run(tmp_path, f"{boot}\n{model}\n{fault}\n{done}\n")
    (failing,) = run.of("Register Failing Uart String")
    assert failing["args"] == ["@fault"] and failing["kwargs"] == {}, run.shown()
    starts = [c["keyword"] for c in run.calls].index("Start Emulation")
    assert [c["keyword"] for c in run.calls].index("Register Failing Uart String") < starts
    # the fake, like Renode's Terminal Tester, fails the wait that reads past the failing string
    assert run.returncode != 0, run.shown()
    assert "'@fault'" in run.of("Wait For Line On Uart")[-1]["failed"], run.shown()


def test_without_the_escape_robot_reads_a_monitor_assignment_as_a_named_argument(tmp_path: Path) -> None:
    """The trap the `\\=` escape avoids: `$bin=@...` is a named argument `$bin` to a keyword with
    **kwargs, and Execute Command is left without its command."""
    text = SUITE.read_text()
    assert "$bin\\=@" in text
    unescaped = tmp_path / "unescaped.robot"
    unescaped.write_text(text.replace("\\=", "="))
    run = _dry_run(tmp_path, "", suite=unescaped)
    assert run.returncode != 0
    assert run.of("Execute Command") == [], run.shown()
    assert "Execute Command' expected 1 to 2 non-named arguments, got 0" in run.console, run.shown()


def test_every_test_of_the_suite_fits_renodes_keyword_signatures(tmp_path: Path) -> None:
    """Robot's dry run of the whole suite against the fake's signatures: every keyword exists and takes
    the arguments it is given."""
    run = _dry_run(tmp_path, "", test="*", dryrun=True)
    assert run.returncode == 0, run.shown()
    assert f"{len(ZOO)} tests, {len(ZOO)} passed, 0 failed" in run.console, run.shown()

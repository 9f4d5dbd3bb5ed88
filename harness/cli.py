"""The `harness` command. Its exit status says who failed: see EXIT_STATUS below and
harness.errors.KINDS."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar

from harness import __version__
from harness.build import KernelVariant, kernel_variant, kernel_variants, variant_for
from harness.defaults import DEFAULT_EMULATOR, DEFAULT_TARGET, DEFAULT_TIMEOUT
from harness.emu.backends import BACKENDS
from harness.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_ENVIRONMENT,
    EXIT_FIRMWARE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_VERIFIED,
    KINDS,
    HarnessError,
    InputError,
    Interrupted,
    VerificationFailed,
)
from harness.files import check_plot_path, check_readable_text, check_replaceable, check_writable, write_output
from harness.fuzz.cases import GENERATORS
from harness.reference import compute_reference
from harness.report import render_run
from harness.session import Inputs, build, emulate, judge, run_model
from harness.targets import TARGETS
from harness.verify.golden import GoldenError, format_golden, golden_path, read_golden, write_golden
from harness.zoo import ZOO

T = TypeVar("T", int, float)
EXIT_STATUS = (
    "exit status: 0 verified; 1 the firmware failed (differs, fault, kernel error, hang, stack, records, float, "
    "build); 2 bad input (arguments, model, golden file, output path); 3 environment (missing tool, unusable "
    "directory); 4 emulator crashed or would not start, or two emulators disagree; 5 UART output not a record "
    "stream; 6 the model failed (float parity, degenerate); 130 SIGINT; 141 output pipe closed; 143 SIGTERM"
)


def _progress(msg: str) -> None:
    print(f"harness: {msg}", file=sys.stderr, flush=True)


def _progress_of(variant: KernelVariant) -> Callable[[str], None]:
    """Progress lines that name the kernel variant they are about (a run of several)."""
    return lambda msg: _progress(f"kernels {variant.name}: {msg}")


def _write_json(path: str, data: object) -> None:
    write_output(path, json.dumps(data, indent=2) + "\n")
    _progress(f"wrote {path}")


def _check_outputs(*paths: str | None, plots: tuple[str | None, ...] = ()) -> None:
    """Refuse an unusable output path before any work, so that it is never taken for a failure.
    An empty path (`--json=`) is refused too: it would otherwise be skipped without a word."""
    for path in paths:
        if path is not None:
            check_writable(path)
    for plot in plots:
        if plot is not None:
            check_plot_path(plot)


# ------------------------------------------------------------------------------------ doctor


def _tool_version(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "found"


APT = "apt-get install --no-install-recommends"
PIP_TEST = "pip install -e '.[test]' (or make bootstrap)"

#: Python packages: (module, package, what needs it, install line, required).
PYTHON_PACKAGES = (
    ("numpy", "numpy", "everything", "pip install numpy", True),
    ("serial", "pyserial", "reading the UART", "pip install pyserial", True),
    ("elftools", "pyelftools", "footprints, fault symbols, the no-float scan", "pip install pyelftools", True),
    ("tflite", "tflite", "importing .tflite files", "pip install tflite", True),
    ("ai_edge_litert", "ai-edge-litert", ".tflite files: the TFLite interpreter as a reference", PIP_TEST, False),
    ("matplotlib", "matplotlib", "bench --plot and sqnr --plot", "pip install matplotlib", False),
    ("pytest", "pytest", "make test", PIP_TEST, False),
    ("xdist", "pytest-xdist", "make test (parallel)", PIP_TEST, False),
    ("hypothesis", "hypothesis", "make test (host differential tests)", PIP_TEST, False),
    ("robot", "robotframework", "make test (Robot suites)", PIP_TEST, False),
    ("torch", "torch", "xor_mlp's retraining path only", "pip install torch", False),
)
#: Programs: (command, what needs it, Debian package, required).
PROGRAMS = (
    ("arm-none-eabi-gcc", "building firmware", "gcc-arm-none-eabi", True),
    ("arm-none-eabi-objdump", "the no-float scan", "binutils-arm-none-eabi", True),
    ("cmake", "building firmware", "cmake", True),
    ("qemu-system-arm", "running firmware", "qemu-system-arm", True),
    ("gcc", "QEMU's counting plugin, host builds of the kernels (tests)", "gcc", True),
)


def _newlib(target_flags: tuple[str, ...]) -> str | None:
    """newlib's C library for the target's multilib, as the cross compiler finds it."""
    if shutil.which("arm-none-eabi-gcc") is None:
        return None
    out = subprocess.run(["arm-none-eabi-gcc", *target_flags, "-print-file-name=libc.a"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return out if os.path.isabs(out) else None


def _renode_row() -> tuple[str, bool, str, bool]:
    """Renode is optional: its version and path, or how to get it."""
    from harness.emu.renode import INSTALL_HINT, renode_program, renode_version

    try:
        program = renode_program()
        return ("renode", True, f"{renode_version(program)} ({program})", False)
    except HarnessError as e:
        return ("renode", False, f"not installed (optional, for --emulator renode): {e.message}; {INSTALL_HINT}",
                False)


def _plugin_row() -> tuple[str, bool, str, bool]:
    """QEMU's counting plugin: built with the host gcc and loaded into the installed QEMU once."""
    from harness.emu.plugin import require_plugin
    from harness.emu.qemu import qemu_binary

    counted = ", ".join(t.name for t in TARGETS.values() if t.qemu_counter == "plugin")
    what = f"QEMU counting plugin (counts for {counted})"
    try:
        return (what, True, f"builds and loads ({require_plugin(qemu_binary())})", True)
    except HarnessError as e:
        return (what, False, str(e), True)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check every tool and package the harness and its tests use; say what is missing and the line
    that installs it."""
    rows: list[tuple[str, bool, str, bool]] = []  # (what, ok, detail, required)
    for module, package, needs, install, required in PYTHON_PACKAGES:
        try:
            mod = importlib.import_module(module)
            rows.append((package, True, str(getattr(mod, "__version__", "installed")), required))
        except ImportError:
            rows.append((package, False, f"missing (for {needs}): {install}", required))
    for cmd, needs, package, required in PROGRAMS:
        version = _tool_version([cmd, "--version"])
        rows.append((cmd, version is not None, version or f"missing (for {needs}): {APT} {package}", required))
    for target in TARGETS.values():
        lib = _newlib(target.cpu_flags)
        rows.append((f"newlib for {target.core} ({target.name})", lib is not None,
                     lib or f"missing (for building firmware): {APT} libnewlib-arm-none-eabi", True))
    if shutil.which("qemu-system-arm"):
        machines = subprocess.run(["qemu-system-arm", "-M", "help"], capture_output=True, text=True).stdout
        for target in TARGETS.values():
            if target.qemu_machine:
                ok = re.search(rf"^{re.escape(target.qemu_machine)}\s", machines, re.M) is not None
                rows.append((f"QEMU machine {target.qemu_machine} ({target.name})", ok,
                             "available" if ok else "this QEMU lacks it: install QEMU 7.2 or newer", True))
        rows.append(_plugin_row())
    rows.append(_renode_row())
    width = max(len(r[0]) for r in rows)
    for what, ok, detail, required in rows:
        mark = "ok  " if ok else ("MISSING" if required else "absent ")
        print(f"{mark:8}{what.ljust(width)}  {detail}")
    missing = [r[0] for r in rows if r[3] and not r[1]]
    if missing:
        print(f"\n{len(missing)} required item(s) missing: {', '.join(missing)}. `make bootstrap` installs them.")
        return EXIT_ENVIRONMENT
    print("\nall required tools are present")
    return EXIT_VERIFIED


# -------------------------------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace) -> int:
    """The models of the zoo and the targets."""
    if args.json:
        print(json.dumps({
            "models": [{"name": e.name, "description": e.description} for e in ZOO.values()],
            "targets": [{"name": t.name, "core": t.core, "qemu_machine": t.qemu_machine,
                         "renode_cpu": t.renode.cpu_type if t.renode else None, "kernels": t.kernels,
                         "description": t.description} for t in TARGETS.values()],
        }, indent=2))
        return EXIT_VERIFIED
    width = max(len(n) for n in ZOO)
    print("models:")
    for e in ZOO.values():
        print(f"  {e.name.ljust(width)}  {e.description}")
    print("targets:")
    width = max(len(n) for n in TARGETS)
    for t in TARGETS.values():
        renode = f"; Renode {t.renode.cpu_type}" if t.renode else ""
        print(f"  {t.name.ljust(width)}  {t.description}; QEMU machine {t.qemu_machine}{renode}; "
              f"kernels {t.kernels} by default")
    return EXIT_VERIFIED


# --------------------------------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace) -> int:
    """Build, emulate and verify one model; exit 0 only when every logit matches."""
    if args.target == "all" or "," in args.target:
        args.targets = args.target
        return cmd_matrix(args)
    if "," in args.emulator:
        args.emulators = args.emulator
        return cmd_cross(args)
    _check_outputs(args.json)
    report = run_model(args.model, args.target, args.emulator, args.timeout, log=_progress, inputs=_inputs(args),
                       kernels=args.kernels)
    print(render_run(report))
    if args.json:
        _write_json(args.json, report.to_json())
    if not report.verdict.match:
        raise VerificationFailed(report.verdict.problems, report.evidence)
    return EXIT_VERIFIED


# ------------------------------------------------------------------------------------ matrix


def cmd_matrix(args: argparse.Namespace) -> int:
    """Build and verify one model on many targets in parallel; one row per target."""
    from harness.matrix import matrix_exit_code, matrix_targets, run_matrix
    from harness.report.matrix import render_matrix

    _check_outputs(args.json)
    targets = matrix_targets(args.targets)
    _progress(f"{args.model} on {len(targets)} targets, {args.jobs or os.cpu_count() or 1} at a time")
    rows = run_matrix(args.model, targets, args.emulator, args.timeout, args.jobs, _inputs(args), args.kernels,
                      log=_progress)
    print(render_matrix(args.model, rows))
    if args.json:
        _write_json(args.json, {"model": args.model, "targets": [r.to_json() for r in rows]})
    return matrix_exit_code(rows)


# ----------------------------------------------------------------------------------- profile


def cmd_profile(args: argparse.Namespace) -> int:
    """Where one run's instructions go, function by function."""
    from harness.profile import profile_model
    from harness.report.profile import render_profile

    _check_outputs(args.json)
    profile = profile_model(args.model, args.target, args.kernels, args.timeout, log=_progress)
    print(render_profile(profile, args.top))
    if args.json:
        _write_json(args.json, profile.to_json())
    return EXIT_VERIFIED


# ------------------------------------------------------------------------------------- cross


def cmd_cross(args: argparse.Namespace) -> int:
    """Run one ELF on several emulators; exit 0 only when each verifies and they agree."""
    from harness.cross import cross_check, parse_emulators
    from harness.report.cross import render_cross

    emulators = parse_emulators(args.emulators)
    _check_outputs(args.json)
    report = cross_check(args.model, emulators, args.target, args.timeout, log=_progress, kernels=args.kernels)
    print(render_cross(report))
    if args.json:
        _write_json(args.json, report.to_json())
    return report.exit_code


# ------------------------------------------------------------------------------------ golden


def _changed_positions(old: list[list[int]], new: list[list[int]]) -> list[tuple[int, int]]:
    """(sample, position) of each value that differs, over both shapes: a value that only one side
    has (a golden file of the wrong width) is a change too."""
    def at(rows: list[list[int]], s: int, p: int) -> int | None:
        return rows[s][p] if s < len(rows) and p < len(rows[s]) else None

    return [(s, p) for s in range(max(len(old), len(new)))
            for p in range(max(len(rows[s]) if s < len(rows) else 0 for rows in (old, new)))
            if at(old, s, p) != at(new, s, p)]


def cmd_golden(args: argparse.Namespace) -> int:
    """Write the golden file from the Python reference, after the firmware has matched it."""
    path = golden_path(args.model, args.target)
    check_replaceable(path)  # a golden file that cannot be written is refused before the run, not after
    try:
        old = read_golden(path)
    except GoldenError as e:
        _progress(f"the golden file is malformed and will be rewritten: {e.message}")
        old = None
    model, target, firmware = build(args.model, args.target, log=_progress, inputs=_inputs(args),
                                    kernels=args.kernels)
    reference = compute_reference(model)
    _progress(f"running {args.model} on {args.emulator} to confirm the firmware matches the reference")
    emulated = emulate(firmware, target, args.emulator, args.timeout)
    verdict = judge(model, firmware, emulated, reference)
    if not verdict.match:
        _progress(f"not writing {path}: the run did not verify against the Python reference")
        raise VerificationFailed(verdict.problems, emulated.evidence)
    if old == reference.logits:
        print(f"{path}: unchanged ({len(reference.logits)} samples)")
        return EXIT_VERIFIED
    logits = reference.logits
    write_golden(path, format_golden(args.model, args.target, logits))
    if old is None:
        print(f"{path}: written ({len(logits)} samples x {len(logits[0])} logits)")
    else:
        changed = _changed_positions(old, logits)
        shown = ", ".join(f"sample {s} position {p}" for s, p in changed[:10])
        more = f" and {len(changed) - 10} more" if len(changed) > 10 else ""
        print(f"{path}: updated; {len(changed)} value(s) changed: {shown}{more}")
    return EXIT_VERIFIED


# ------------------------------------------------------------------------------------- bench


def cmd_bench(args: argparse.Namespace) -> int:
    """Per-layer counts (in the counter's unit) with footprint and provenance; optional baseline gate.
    With several kernel variants each is measured, reported and gated (by its own baseline), then
    they are compared model by model."""
    from harness.bench.baseline import Comparison, baseline_path, compare, write_baseline
    from harness.bench.kernels_compared import compare_variants, run_variants
    from harness.report import bench as render
    from harness.report.plots import plot_bench, plot_variants
    from harness.targets import get_target

    if args.suite:
        return _bench_suite(args)
    if args.all and args.models:
        raise InputError("give model names or --all, not both")
    names = list(ZOO) if args.all else args.models
    if not names:
        raise InputError("name the models to benchmark, or use --all")
    from harness.zoo import UnknownModel, load

    known: list[str] = []
    unknown: list[str] = []
    for name in names:  # a model file is loaded now, for its name; its errors are its own one line
        try:
            known.append(name if name in ZOO else load(name).name)
        except UnknownModel:
            unknown.append(name)
    if unknown:
        raise InputError(f"unknown model(s) {', '.join(unknown)}",
                         f"choose from: {', '.join(ZOO)}; or give the path of a model file (*.py)")
    names = known
    target = get_target(args.target)
    variants = args.kernels or (variant_for(target, None),)
    several = len(variants) > 1
    if several and args.html:
        raise InputError(f"--html shows one kernel variant; --kernels names {len(variants)}",
                         "write the comparison with --md or --json, or one --html per variant")
    _check_outputs(args.csv, args.json, args.md, args.html, plots=(args.plot,))

    def baseline_of(directory: str, variant: KernelVariant) -> Path:
        return baseline_path(Path(directory) if directory else None, target.name, variant)

    for directory in (args.baseline, args.update_baseline):
        for variant in variants if directory is not None else ():
            check_readable_text(baseline_of(directory, variant))  # refused before the bench, not after
    if args.baseline is not None:
        for variant in variants:
            _check_baseline(baseline_of(args.baseline, variant), variant, target.name)
    if args.update_baseline is not None:
        for variant in variants:
            check_replaceable(baseline_of(args.update_baseline, variant))
            _check_baseline(baseline_of(args.update_baseline, variant), variant, target.name, new=True)
    reports = run_variants(names, target, variants, args.emulator, args.timeout, log=_progress,
                           skip_unfit=args.all)
    for variant, report in zip(variants, reports):
        if several:
            print(f"== kernels {variant.name} ==")
        print(render.render_text(report), end="")
        if several:
            print()
    rows = compare_variants(reports) if several else []
    if several:
        print(render.render_comparison(rows), end="")
    comparisons: list[Comparison | None] = [None] * len(reports)
    if args.baseline is not None:
        comparisons = [compare(report, baseline_of(args.baseline, variant), args.tolerance)
                       for variant, report in zip(variants, reports)]
        for comparison in comparisons:
            assert comparison is not None
            print()
            print("\n".join(comparison.lines()))
    if args.update_baseline is not None:
        print()
        for variant, report in zip(variants, reports):
            path = baseline_of(args.update_baseline, variant)
            print(f"baseline {path}: recorded {', '.join(write_baseline(report, path))}")
    outputs: tuple[tuple[str | None, Callable[[], str]], ...]
    if several:
        outputs = ((args.csv, lambda: render.to_csv_variants(reports)),
                   (args.md, lambda: render.render_variants_markdown(reports, comparisons, rows)))
    else:
        outputs = ((args.csv, lambda: render.to_csv(reports[0])),
                   (args.md, lambda: render.render_markdown(reports[0], comparisons[0])),
                   (args.html, lambda: render.render_html(reports[0], comparisons[0])))
    for output, text in outputs:
        if output:
            write_output(output, text())
            _progress(f"wrote {output}")
    if args.json:
        _write_json(args.json, render.variants_json(reports, comparisons, rows) if several
                    else render.to_json(reports[0], comparisons[0]))
    if args.plot:
        if several:
            plot_variants(rows, target.name, args.emulator, Path(args.plot))
        else:
            plot_bench(reports[0], Path(args.plot))
        _progress(f"wrote {args.plot}")
    failed = [c.kernels for c in comparisons if c is not None and not c.ok]
    if several and failed:
        print(f"\nbaseline gate FAILED for kernels {', '.join(failed)}")
    return EXIT_FIRMWARE if failed else EXIT_VERIFIED


def _check_baseline(path: Path, variant: KernelVariant, target: str, new: bool = False) -> None:
    """Refuse, before the bench, a baseline the gate (or, `new`, an update) could not use: not a
    baseline, one of other kernels, or (for the gate) none at `path`."""
    from harness.bench.baseline import BaselineError, check_kernels, read_baseline

    data = read_baseline(path)
    if data is None and new:
        return
    if data is None:
        how = "" if variant.is_ref else f" --kernels {variant.option}"
        raise BaselineError(f"no baseline of counts at {path}",
                            f"create it with `harness bench --all{how} --update-baseline`")
    check_kernels(data, path, variant.name, target)


#: Options of `bench` that `--suite` cannot take: (attribute, how it is shown, its value when not given).
SUITE_EXCLUDES: tuple[tuple[str, str, object], ...] = (
    ("models", "MODEL names", []), ("all", "--all", False), ("baseline", "--baseline", None),
    ("update_baseline", "--update-baseline", None), ("tolerance", "--tolerance", None), ("csv", "--csv", None),
    ("html", "--html", None),
)


def _bench_suite(args: argparse.Namespace) -> int:
    """`bench --suite kernels`: the single-layer shapes of harness.bench.kernel_suite beside CMSIS-NN,
    with each kernel variant asked for."""
    from harness.bench.kernel_suite import run_kernel_suite
    from harness.report import kernel_suite as render
    from harness.report.plots import plot_kernel_suite
    from harness.targets import get_target

    given = [shown for attr, shown, unset in SUITE_EXCLUDES if getattr(args, attr) != unset]
    if given:
        raise InputError(f"--suite {args.suite} runs its own shapes; it cannot be combined with {', '.join(given)}",
                         "benchmark the suite and models in two commands; the suite writes --json, --md and --plot")
    _check_outputs(args.json, args.md, plots=(args.plot,))
    target = get_target(args.target)
    variants = args.kernels or (variant_for(target, None),)
    suites = [run_kernel_suite(target, args.emulator, args.timeout, kernels=variant,
                               log=_progress if len(variants) == 1 else _progress_of(variant))
              for variant in variants]
    print(render.render_text(suites), end="")
    if args.md:
        write_output(args.md, render.render_markdown(suites))
        _progress(f"wrote {args.md}")
    if args.json:
        _write_json(args.json, render.to_json(suites))
    if args.plot:
        plot_kernel_suite(suites, Path(args.plot))
        _progress(f"wrote {args.plot}")
    return EXIT_VERIFIED


# -------------------------------------------------------------------------------------- sqnr


def cmd_sqnr(args: argparse.Namespace) -> int:
    """Per-layer SQNR between the float and the int8 reference (host only)."""
    from harness.report.plots import plot_sqnr
    from harness.report.sqnr import render_sqnr, sqnr_json
    from harness.verify.sqnr import layer_sqnr
    from harness.zoo import load

    _check_outputs(args.json, plots=(args.plot,))
    model = load(args.model)
    rows = layer_sqnr(model)
    samples = len(model.reference_inputs)
    print(render_sqnr(model.name, rows, samples))
    if args.json:
        _write_json(args.json, sqnr_json(model.name, rows, samples))
    if args.plot:
        plot_sqnr(model.name, rows, Path(args.plot), samples)
        _progress(f"wrote {args.plot}")
    return EXIT_VERIFIED


# -------------------------------------------------------------------------------------- fuzz


def cmd_fuzz(args: argparse.Namespace) -> int:
    """Random single-layer cases on the emulator against the integer reference."""
    from harness.fuzz import replay, run_fuzz
    from harness.report.fuzz import fuzz_json, render_fuzz, render_replay
    from harness.targets import get_target

    target = get_target(args.target)
    kernels = variant_for(target, args.kernels)
    _check_outputs(args.json)
    if args.replay:
        result = replay(args.replay, target, args.emulator, args.timeout, kernels=kernels)
        print(render_replay(result))
        return EXIT_VERIFIED if result.ok else EXIT_FIRMWARE
    ops = args.op or list(GENERATORS)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little") % 100_000
    print(f"fuzz: {len(ops)} op(s) x {args.cases} cases, seed {seed}, on {target.name} ({args.emulator}), "
          f"kernels {kernels.name if kernels.is_ref or kernels.shipped else kernels.directory}")
    report = run_fuzz(ops, args.cases, seed, target, args.emulator, args.timeout, log=_progress,
                      kernels=kernels)
    print(render_fuzz(report))
    if args.json:
        _write_json(args.json, fuzz_json(report, seed, target.name, args.cases))
    return EXIT_VERIFIED if report.failed == 0 else EXIT_FIRMWARE


# ----------------------------------------------------------------------------- renode-scripts


def cmd_renode_scripts(args: argparse.Namespace) -> int:
    """Write the Renode files of every target Renode can run: TARGET.repl (platform description, no
    download), TARGET.resc (board script) and TARGET.robot (a renode-test suite, one test per zoo model)."""
    from harness.renode_suites import default_scripts_dir, elf_dir, install_elf, renode_targets, write_scripts

    out = Path(args.out) if args.out else default_scripts_dir()
    for written in write_scripts(out):
        print(f"{written.path}: {'written' if written.changed else 'unchanged'}")
    if not args.build:
        return EXIT_VERIFIED
    for target in renode_targets():
        for model in ZOO:
            _progress(f"building {model} for {target.name}")
            _, _, firmware = build(model, target.name, log=_progress)
            print(f"{install_elf(firmware.elf, target, model)}: copied from {firmware.elf}")
        expected = out.absolute().parent / "build" / "renode" / target.name
        if os.path.realpath(expected) != os.path.realpath(elf_dir(target)):
            _progress(f"the suites look for ELFs in {expected}: run renode-test with "
                      f"--variable ELF_DIR:{elf_dir(target)}")
    return EXIT_VERIFIED


# -------------------------------------------------------------------------------------- main


def _option_type(convert: Callable[[str], T], noun: str, accept: Callable[[T], bool], rule: str) -> Callable[[str], T]:
    """An argparse type that converts, then refuses values outside the option's range."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    return parse


positive_seconds = _option_type(float, "a number of seconds", lambda v: 0 < v < float("inf"),
                                "a positive, finite number of seconds")
positive_int = _option_type(int, "a whole number", lambda v: v >= 1, "at least 1")
non_negative_int = _option_type(int, "a whole number", lambda v: v >= 0, "0 or more")
percent = _option_type(float, "a percentage", lambda v: 0 <= v < float("inf"), "0 or more percent")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that says where to look, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"harness: input error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(EXIT_INPUT)


def _add_model_argument(p: argparse.ArgumentParser) -> None:
    """MODEL: a zoo name or the path of a model file; `load` judges which, and says what is wrong."""
    from harness.zoo import load

    def model_name(text: str) -> str:
        """The name the harness knows MODEL by. A model file is loaded here, while parsing, because
        its name (its graph's) is what names its golden file; a zoo model is built when used."""
        return text if text in ZOO else load(text).name

    p.add_argument("model", type=model_name, metavar="MODEL",
                   help=f"a zoo model ({', '.join(ZOO)}); the path of an int8 TFLite file (*.tflite), imported "
                        "and checked against the TFLite interpreter; or the path of a Python file (*.py) whose "
                        "build() returns a harness.model.Model (docs/adding-a-model.md)")


class _GoldenDir(argparse.Action):
    """--golden-dir DIR: where golden files are read and written (as HARNESS_GOLDEN_DIR=DIR)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        os.environ["HARNESS_GOLDEN_DIR"] = str(values)
        setattr(namespace, self.dest, values)


def _add_model_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inputs", metavar="FILE", help="test inputs to run instead of the model's own: .npy (int8 "
                   "as they are, or float32 quantized with the model's input scale and zero point) or raw .bin "
                   "(see --inputs-dtype); whole samples of the model's input shape")
    p.add_argument("--inputs-dtype", choices=("float32", "int8"), default="float32",
                   help="the values of a raw .bin --inputs file (default float32, little-endian)")
    p.add_argument("--golden-dir", action=_GoldenDir, metavar="DIR",
                   help="read and write golden files under DIR/MODEL/TARGET.txt instead of harness/golden "
                        "(also: HARNESS_GOLDEN_DIR)")


def _inputs(args: argparse.Namespace) -> Inputs | None:
    if not getattr(args, "inputs", None):
        return None
    path = Path(args.inputs)
    if not path.is_file():
        raise InputError(f"--inputs {args.inputs}: no such file")
    return Inputs(path, args.inputs_dtype)


class _RenodePath(argparse.Action):
    """--renode PATH: the Renode program for this command and everything it starts (as RENODE=PATH)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        os.environ["RENODE"] = str(values)
        setattr(namespace, self.dest, values)


def emulator_names(text: str) -> str:
    """One emulator, or several separated by commas, each a row of BACKENDS."""
    for name in text.split(","):
        if name.strip() not in BACKENDS:
            raise argparse.ArgumentTypeError(f"unknown emulator '{name.strip()}' (choose from "
                                             f"{', '.join(sorted(BACKENDS))}, or two of them as A,B)")
    return text


def target_names(text: str) -> str:
    """`all`, one target, or several separated by commas, each a row of TARGETS."""
    if text != "all":
        for name in text.split(","):
            if name.strip() not in TARGETS:
                raise argparse.ArgumentTypeError(f"unknown target '{name.strip()}' (choose from "
                                                 f"{', '.join(sorted(TARGETS))}, several as A,B, or all)")
    return text


def _add_target_options(p: argparse.ArgumentParser, several: bool = False, emulator: bool = True,
                        kernels: bool = True, matrix: bool = False) -> None:
    """--target (several: a list or `all`; matrix: --targets, default all), --emulator, --renode,
    --timeout and --kernels."""
    if matrix:
        p.add_argument("--targets", default="all", type=target_names, metavar="all|TARGET[,TARGET]",
                       help=f"the targets (default all: {', '.join(TARGETS)})")
    elif several:
        p.add_argument("--target", default=DEFAULT_TARGET, type=target_names, metavar="TARGET[,TARGET]|all",
                       help=f"board to build for and emulate (default {DEFAULT_TARGET}): one of "
                            f"{', '.join(sorted(TARGETS))}; several separated by commas, or `all`, run the "
                            "model on each in parallel and print one table (as `harness matrix`)")
    else:
        p.add_argument("--target", default=DEFAULT_TARGET, choices=sorted(TARGETS),
                       help=f"board to build for and emulate (default {DEFAULT_TARGET})")
    if several and not matrix:
        p.add_argument("--emulator", default=DEFAULT_EMULATOR, metavar="NAME[,NAME]", type=emulator_names,
                       help=f"emulator backend: {', '.join(sorted(BACKENDS))} (default {DEFAULT_EMULATOR}); two "
                            "names, e.g. qemu,renode, run the same ELF on both and check they agree "
                            "(as `harness cross`)")
    elif emulator:
        p.add_argument("--emulator", default=DEFAULT_EMULATOR, choices=sorted(BACKENDS),
                       help=f"emulator backend (default {DEFAULT_EMULATOR})")
    p.add_argument("--renode", action=_RenodePath, metavar="PATH",
                   help="the Renode program to run for --emulator renode (default: $RENODE, else `renode` on PATH)")
    p.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"wall-clock limit for one emulator run; past it the firmware is called hung "
                        f"(default {DEFAULT_TIMEOUT:g})")
    if kernels:
        _add_kernels_option(p)


def _add_jobs_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="with several targets: how many run at once (default: one per CPU core)")


KERNELS_HELP = ("the kernels to build with: ref, the project's portable C kernels; dsp, its kernels for the "
                "Cortex-M4/M7 DSP extension; mve, its Helium kernels for the Cortex-M55; or DIR, a folder of C "
                "files defining some of the hk_* functions of hk_nn.h, each function it does not define being "
                "ref's (docs/adding-a-kernel.md). Default: the target's own (`harness list`): dsp on a core with "
                "the DSP extension (Cortex-M4, M7, M33), mve on the Cortex-M55, ref on the Cortex-M0 and M3")


def _add_kernels_option(p: argparse.ArgumentParser) -> None:
    """--kernels ref|dsp|mve|DIR: the kernel variant the firmware is built with (harness.build.variants)."""
    p.add_argument("--kernels", type=kernel_variant, default=None, metavar="ref|dsp|mve|DIR",
                   help=KERNELS_HELP)


def _add_kernels_list_option(p: argparse.ArgumentParser) -> None:
    """--kernels ref|dsp|mve|DIR[,...]: `bench` measures each variant of the list (harness.bench.kernels_compared)."""
    p.add_argument("--kernels", type=kernel_variants, default=None, metavar="ref|dsp|mve|DIR[,...]",
                   help=f"{KERNELS_HELP}. Several, separated by commas (ref,dsp or ref,dsp,DIR, each once), are "
                        "each measured in the one run and then compared model by model (total, ratio to the "
                        "first, flash and RAM); each is gated by, and recorded in, its own baseline")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="harness",
        description="Prove an int8 network compiled for Cortex-M computes exactly what the Python "
                    "reference computes, and measure each layer, on emulated Cortex-M0 to M55 boards (QEMU, Renode).",
        epilog=EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=f"cortexm-harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)

    p = sub.add_parser("doctor", help="check the toolchain, emulators and packages",
                       description=cmd_doctor.__doc__)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("list", help="list models and targets", description=cmd_list.__doc__)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "run", help="build, emulate and verify a model",
        description="Build MODEL for the target (cached by input hash), run it on the emulator, and "
                    "compare its int8 logits byte for byte with the Python integer reference and "
                    "harness/golden/MODEL/TARGET.txt. Prints the per-layer table of counts, labelled with "
                    "their counter and unit. Exit 0 only if all match.",
    )
    _add_model_argument(p)
    _add_target_options(p, several=True)
    _add_model_inputs(p)
    p.add_argument("--json", metavar="PATH", help="also write the full result as JSON to PATH")
    _add_jobs_option(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "matrix", help="build and verify a model on every target (the Cortex-M matrix)",
        description="Build MODEL for each target and verify it there, several at once, as `harness run` does "
                    "for one. Prints one table: target, core, kernels, verdict, instructions per inference, "
                    "flash, RAM and peak stack. A target too small for the model is a row `does not fit (RAM by "
                    "N bytes)`, not a failure. Each target is judged by its own golden file "
                    "(harness/golden/MODEL/TARGET.txt).",
        epilog="exit status: 0 every target the model fits verified; 1 a target failed (or the model fits "
               "none); otherwise the code of the most telling problem (see `harness --help`)",
    )
    _add_model_argument(p)
    _add_target_options(p, matrix=True)
    _add_jobs_option(p)
    _add_model_inputs(p)
    p.add_argument("--json", metavar="PATH", help="also write the table as JSON to PATH")
    p.set_defaults(func=cmd_matrix)

    p = sub.add_parser(
        "profile", help="instructions per function of one run (QEMU's counting plugin)",
        description="Build MODEL and run it once under QEMU with the project's counting plugin profiling: "
                    "every instruction executed from reset until the firmware halts after its @done record is "
                    "put down to the function that holds it. Prints the functions with the most instructions, "
                    "their share, and how often each was entered. Instructions, not cycles; not a verdict "
                    "(`harness run` judges).",
    )
    _add_model_argument(p)
    _add_target_options(p, emulator=False)
    p.add_argument("--top", type=int, default=20, metavar="N", help="how many functions to list (default 20)")
    p.add_argument("--json", metavar="PATH", help="also write every function's count as JSON to PATH")
    p.set_defaults(func=cmd_profile)

    p = sub.add_parser(
        "cross", help="run one ELF on two emulators and check they agree",
        description="Build MODEL once and run the very same ELF on each emulator. Each run must verify on its "
                    "own (as `harness run`); then the emulators must report the same records (every layer's "
                    "output CRC and every logit) and per-layer counts within a bound: the coarser granularity "
                    "of the two counters plus 100 ppm of the larger count. Both count instructions: QEMU's "
                    "icount exactly, Renode's DWT at one count per instruction.",
        epilog="exit status: 0 agree; 1 the firmware failed on every emulator; 3 an emulator is not installed; "
               "4 the emulators disagree (or one crashed); 2 bad input",
    )
    _add_model_argument(p)
    _add_target_options(p, emulator=False)
    p.add_argument("--emulators", default="qemu,renode", metavar="A,B",
                   help="the emulators to compare (default qemu,renode)")
    p.add_argument("--json", metavar="PATH", help="also write the comparison as JSON to PATH")
    p.set_defaults(func=cmd_cross)

    p = sub.add_parser(
        "golden", help="write or refresh a model's golden file",
        description="Run MODEL on the emulator and, if its logits equal the Python integer reference, "
                    "write them to harness/golden/MODEL/TARGET.txt atomically. The only way a golden file changes.",
    )
    _add_model_argument(p)
    _add_target_options(p)
    _add_model_inputs(p)
    p.set_defaults(func=cmd_golden)

    p = sub.add_parser(
        "bench", help="per-layer counts (instructions under QEMU), footprint and baseline gate",
        description="Build and run each model twice on the emulator and report per-layer counts (model, "
                    "layer, op, output shape, MACs, count, MACs per count, share of the model), totals, "
                    "weight/arena/flash/RAM bytes and the provenance of every figure (counter and unit, "
                    "emulator and version, compiler and flags, kernel variant). A count is in the unit of "
                    "the firmware's counter: instructions under QEMU (icount), cycles on silicon (dwt), "
                    "timer ticks (timer). Deterministic counters must repeat exactly. With --baseline, fail "
                    "when any layer's count grows past its baseline. With --suite kernels, run the kernel "
                    "benchmark suite instead of models: single-layer int8 shapes (conv, depthwise, pointwise, "
                    "dense, add, max pool, global average pool), each verified bit-exact and counted the same "
                    "way, beside the count CMSIS-NN takes for the same shape on the same counter (a stored "
                    "reference figure). With --kernels ref,dsp (a list of variants), every variant is measured "
                    "and reported, then compared: per model each variant's total, its ratio to the first "
                    "variant's, flash and RAM, and for the MLPerf Tiny reference models the published "
                    "figure on silicon (cycles, not comparable 1:1 with instructions); the suite gets a "
                    "column group per variant.",
        epilog="exit status: 0 ok, 1 a layer regressed with any of the variants (or the firmware misbehaved), "
               "2 bad input",
    )
    p.add_argument("models", nargs="*", metavar="MODEL", help=f"models to benchmark: {', '.join(ZOO)}")
    p.add_argument("--all", action="store_true", help="every model of the zoo")
    p.add_argument("--suite", choices=("kernels",), help="kernels: the kernel benchmark suite, one row per "
                   "single-layer shape (id, layer, MACs, CMSIS-NN's figure, and per variant the count per call, "
                   "MACs per count and the ratio to CMSIS-NN); --json writes a list of {id, kernels, "
                   "instructions, macs, cmsis_nn}, one per shape and variant, --md a Markdown table, --plot the "
                   "ratios. Takes no MODEL, --all, --baseline, --update-baseline, --tolerance, --csv or --html")
    _add_target_options(p, kernels=False)
    _add_kernels_list_option(p)
    p.add_argument("--csv", metavar="PATH", help="one row per layer: model, layer_index, layer, op, output_shape, "
                   "macs, count, unit, counter, macs_per_count, share, weight_bytes, activation_bytes (after a "
                   "first column, kernels, when --kernels names several)")
    p.add_argument("--json", metavar="PATH", help="everything, with provenance and the baseline comparison; each "
                   "count also under its unit's key (instructions, cycles or timer_ticks). With several "
                   "variants: {variants: [each one's report], comparison: [a row per model]}")
    p.add_argument("--md", metavar="PATH", help="Markdown tables (and the comparison of several variants)")
    p.add_argument("--html", metavar="PATH", help="an HTML page (one variant only)")
    p.add_argument("--plot", metavar="PNG", help="per-layer counts, in the counter's unit, and footprint "
                   "(weights vs activations); with several variants, each model's total per variant")
    p.add_argument("--baseline", nargs="?", const="", metavar="DIR",
                   help="compare each variant with its own baseline, DIR/TARGET.json for ref and "
                   "DIR/TARGET.VARIANT.json for another (default DIR harness/golden/cycles), and fail when a "
                   "layer's count grows")
    p.add_argument("--update-baseline", nargs="?", const="", metavar="DIR",
                   help="record each variant's counts, with their counter and unit, in its own baseline, "
                   "DIR/TARGET.json for ref and DIR/TARGET.VARIANT.json for another (default DIR "
                   "harness/golden/cycles)")
    p.add_argument("--tolerance", type=percent, metavar="PCT",
                   help="allowed growth per layer in percent (default: 0 for icount, 5 for counters with granularity)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "sqnr", help="per-layer SQNR of a model, float vs int8 (host only)",
        description="For each layer, 10 log10(sum f^2 / sum (f - q)^2) between the float reference's "
                    "output f and the int8 reference's output q (dequantized), over the model's "
                    "calibration samples: where int8 loses precision. No emulator is needed.",
    )
    _add_model_argument(p)
    p.add_argument("--json", metavar="PATH", help='write {"model", "layers": [{"name", "op", "sqnr_db"}]}')
    p.add_argument("--plot", metavar="PNG", help="write a bar chart of the per-layer SQNR")
    p.set_defaults(func=cmd_sqnr)

    p = sub.add_parser(
        "fuzz", help="random single-layer cases on the emulator vs the integer reference",
        description="Generate random configurations of each op (edge-biased: -128 inputs, zero points "
                    "at -128/127, multipliers near 2^31 and tiny, every shift, int32-limit biases, 1x1 "
                    "images), run them on the emulator in batches (many cases per image and per emulator "
                    "start) and compare every output bit for bit with the Python integer reference. "
                    "Each failure is shrunk to the smallest configuration that still fails and printed "
                    "as a command that reruns it. Exit 0 iff every case passes.",
    )
    p.add_argument("--op", action="append", choices=sorted(GENERATORS), metavar="OP",
                   help="op to fuzz (repeatable; default: every op): " + ", ".join(sorted(GENERATORS)))
    p.add_argument("--cases", type=positive_int, default=100, metavar="N", help="cases per op (default 100)")
    p.add_argument("--seed", type=non_negative_int, metavar="S", help="random seed (default: a fresh one, printed)")
    p.add_argument("--replay", metavar="JSON", help="run exactly this case (as printed for a failure) and "
                   "show every value that differs")
    p.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    _add_target_options(p)
    p.set_defaults(func=cmd_fuzz)

    p = sub.add_parser(
        "renode-scripts", help="write the Renode platform, board script and renode-test suite of each target",
        description="For every target Renode can run, write DIR/TARGET.repl (a platform description that "
                    "needs no network), DIR/TARGET.resc (the board: set $bin, $platform, $uart_port, $quantum "
                    "before including it) and DIR/TARGET.robot (a suite for Renode's renode-test, one test per "
                    "zoo model, checking the boot record, the model, sample 0's golden logits and @done). A file "
                    "is rewritten only when its text changes. Renode itself is not needed to write them.",
        epilog="then: renode-test renode_scripts/TARGET.robot (Renode from https://renode.io; "
               "--variable ELF_DIR:DIR for ELFs elsewhere)",
    )
    p.add_argument("--out", metavar="DIR", help="folder to write to (default: renode_scripts/ in the checkout; "
                   "required when the harness is installed from a wheel)")
    p.add_argument("--build", action="store_true", help="also build every zoo model for each such target and "
                   "copy its ELF to BUILD/renode/TARGET/MODEL.elf (BUILD: $HARNESS_BUILD_DIR or build/), "
                   "where the suites load it")
    p.set_defaults(func=cmd_renode_scripts)
    return parser


def describe(e: HarnessError) -> str:
    """One line: who failed, what, and the next step."""
    kind = KINDS[e.kind]
    who = {"firmware": "FAILED, the firmware", "model": "FAILED, the model"}.get(kind.party, f"{kind.party} error")
    if kind.party == "user":
        line = f"harness: {e.message}"  # stopped by a signal: nobody failed
    else:
        line = f"harness: {who}{f' ({e.kind})' if e.kind != kind.party else ''}: {e.message}"
    if e.next_step:
        line += f"; next: {e.next_step}"
    if e.evidence is not None:
        line += f"; evidence: {e.evidence / 'uart.log'}"
    return line


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every context manager stops its emulator on the way out."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def _command(argv: list[str] | None) -> int:
    """Parse and run one command; a HarnessError or a signal becomes its one line and exit code."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except KeyboardInterrupt as stop:
        e: HarnessError = (Interrupted("SIGTERM", EXIT_TERMINATED) if isinstance(stop, Terminated)
                           else Interrupted("SIGINT", EXIT_INTERRUPTED))
    except HarnessError as err:
        e = err
    print(describe(e), file=sys.stderr)
    return e.exit_code


def main(argv: list[str] | None = None) -> int:
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        try:
            return _command(argv)
        finally:
            # Buffered output is written here, inside the handler below, not at interpreter exit,
            # where a closed pipe would be a stray "Exception ignored" and exit status 120. This
            # covers --help too, which exits by SystemExit.
            sys.stdout.flush()
    except BrokenPipeError:
        # whoever read our output (`| head`) has stopped: say so where it can still be seen
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("harness: stopped: the output pipe was closed before everything was written", file=sys.stderr)
        return EXIT_BROKEN_PIPE
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

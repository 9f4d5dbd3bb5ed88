"""The QEMU counting plugin (harness/emu/plugin): it builds and loads, its counts repeat, the
instructions it counts between two entries of hk_counter_read are the firmware's own per-layer
icount figures, layer by layer and sample by sample, and a board it counts for gets exactly the
counts the icount board gets for the same code."""
from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.build import Firmware, ToolchainMissing, build_firmware, kernel_variant
from harness.emu import make_emulator, plugin
from harness.emu.plugin import (
    BOOT_READS,
    PROOF_READS,
    PluginCounter,
    PluginUnavailable,
    build_plugin,
    parse_counts,
    plugin_option,
    probe_plugin,
    read_counts,
    require_plugin,
)
from harness.emu.qemu import PluginRun, count_instructions, qemu_binary
from harness.errors import EmulatorError
from harness.protocol import FirmwareRun, format_record, parse_line
from harness.targets import get_target
from harness.zoo import load

TARGET = get_target("stm32f405")
#: Under -icount, hk_counter_read's timer load is a device access in the middle of its block, so
#: QEMU abandons the block there and the instruction after the load (`bx lr`) is counted again.
#: Each span from one counter read to the next holds one such read.
ICOUNT_EXTRA_PER_READ = 1


def needs_plugin() -> None:
    if shutil.which("gcc") is None:
        pytest.skip("gcc (the host C compiler) is not installed: the plugin is built with it")
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is not installed: run `make bootstrap`")
    try:
        require_plugin(qemu_binary())
    except PluginUnavailable as e:
        pytest.skip(str(e))


def plugin_run(firmware: Firmware, icount: bool = True) -> PluginRun:
    return count_instructions(firmware.elf, TARGET, icount=icount)


def span_counts(run: PluginRun, layers: int, samples: int) -> list[list[int]]:
    """Instructions from the counter read before each layer to the one after it, by layer and
    sample, as FirmwareRun.counts_by_layer orders them. The marks are: the four reads of the
    counter's start-up proof, the two of the boot record's read_overhead, then a start and an end
    read per layer per sample."""
    marks = run.counts.marks
    first = PROOF_READS + BOOT_READS
    assert len(marks) == first + 2 * layers * samples
    spans = [[0] * samples for _ in range(layers)]
    for s in range(samples):
        for layer in range(layers):
            at = first + 2 * (s * layers + layer)
            spans[layer][s] = marks[at + 1] - marks[at]
    return spans


def firmware_counts(firmware: Firmware) -> FirmwareRun:
    with make_emulator("qemu", firmware.elf, TARGET) as emu:
        run = emu.run_to_completion()
    assert run.status == "ok" and run.boot is not None and run.boot.counter == "icount"
    return run


def test_option_escapes_commas_and_result_file_is_read(tmp_path: Path) -> None:
    assert plugin_option(Path("/a,b/p.so"), Path("/o,ut"), 0x8000251, 0x8000300) == \
        "file=/a,,b/p.so,out=/o,,ut,marker=0x8000251,halt=0x8000300"
    (tmp_path / "ok").write_text("3\n7\nhalt 10\ntotal 10\n")
    counts = read_counts(tmp_path / "ok")
    assert counts.total == 10 and counts.halt == 10 and counts.marks == (3, 7)
    assert parse_counts("3\n7\n") == plugin.PluginCounts(None, (3, 7))  # QEMU still running
    (tmp_path / "woke").write_text("3\nhalt 10\ntotal 12\n")
    with pytest.raises(EmulatorError, match="ran 2 instructions after its halt"):
        read_counts(tmp_path / "woke")
    with pytest.raises(ValueError, match="unexpected line 'halt 11'"):
        parse_counts("halt 10\nhalt 11\n")
    (tmp_path / "bad").write_text("3\nout of memory\n")
    with pytest.raises(EmulatorError, match="corrupt"):
        read_counts(tmp_path / "bad")
    (tmp_path / "cut").write_text("3\n7\n")
    with pytest.raises(EmulatorError, match="no total"):
        read_counts(tmp_path / "cut")
    with pytest.raises(EmulatorError, match="wrote no result"):
        read_counts(tmp_path / "missing")


def test_waiting_for_the_halt_ends_in_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The halt line ends the wait; a run whose firmware never halts is an emulator problem, named."""
    counts = tmp_path / "counts.txt"
    counts.write_text("3\n7\nhalt 10\n")
    plugin.wait_for_halt(counts)
    monkeypatch.setattr(plugin, "MARK_WAIT_SECONDS", 0.05)
    counts.write_text("3\n7\n")
    with pytest.raises(EmulatorError, match="never saw the firmware halt"):
        plugin.wait_for_halt(counts)
    with pytest.raises(EmulatorError, match="never saw the firmware halt"):
        plugin.wait_for_halt(tmp_path / "missing")


def test_missing_gcc_is_one_clear_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin.shutil, "which", lambda name: None)
    build_plugin.cache_clear()
    try:
        with pytest.raises(PluginUnavailable, match="gcc .* is not on PATH"):
            build_plugin()
    finally:
        build_plugin.cache_clear()


@pytest.mark.emulator
def test_a_plugin_qemu_refuses_is_reported_in_qemus_words(tmp_path: Path) -> None:
    """A shared object that is no plugin: QEMU's own complaint is the message."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc (the host C compiler) is not installed")
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is not installed: run `make bootstrap`")
    (tmp_path / "not_a_plugin.c").write_text("int hk_nothing(void) { return 0; }\n")
    lib = tmp_path / "not_a_plugin.so"
    subprocess.run(["gcc", "-shared", "-fPIC", str(tmp_path / "not_a_plugin.c"), "-o", str(lib)], check=True)
    with pytest.raises(PluginUnavailable, match="refuses the counting plugin: .*Could not load plugin") as caught:
        probe_plugin(lib, "qemu-system-arm")
    print(f"\n{caught.value}")


@pytest.mark.emulator
def test_counts_repeat_exactly(firmware_builder: Callable[[str], Firmware]) -> None:
    needs_plugin()
    firmware = firmware_builder("kws_cnn")
    first, second = plugin_run(firmware), plugin_run(firmware)
    assert first.firmware.status == "ok"
    assert first.counts.total > 0
    # The total ends where the firmware halts, not where the harness happened to stop QEMU.
    assert first.counts.halt == first.counts.total
    assert first.counts == second.counts
    print(f"\nkws_cnn under the plugin: {first.counts.total} instructions, {len(first.counts.marks)} marker entries")


@pytest.mark.emulator
@pytest.mark.parametrize("name", ["kws_cnn", "xor_mlp"])
def test_spans_between_counter_reads_are_the_firmwares_icount_figures(
        name: str, firmware_builder: Callable[[str], Firmware]) -> None:
    needs_plugin()
    firmware = firmware_builder(name)
    reference = firmware_counts(firmware)
    cycles = reference.counts_by_layer()
    layers, samples = len(cycles), len(cycles[0])
    assert reference.boot is not None

    # Under -icount, as the firmware's own figures were taken: one extra instruction per span.
    icount = plugin_run(firmware)
    assert icount.firmware.counts_by_layer() == cycles
    marks = icount.counts.marks
    assert marks[5] - marks[4] == reference.boot.read_overhead + ICOUNT_EXTRA_PER_READ
    assert span_counts(icount, layers, samples) == [[c + ICOUNT_EXTRA_PER_READ for c in per] for per in cycles]

    # Without -icount no block is abandoned: the spans are the firmware's figures exactly. (The
    # firmware's counter then reads a timer on the host's clock, so only the spans are compared.)
    exact = plugin_run(firmware, icount=False)
    assert exact.firmware.status == "ok"
    assert exact.counts.marks[5] - exact.counts.marks[4] == reference.boot.read_overhead
    assert span_counts(exact, layers, samples) == cycles


@pytest.mark.emulator
def test_run_time_cost_is_reported(firmware_builder: Callable[[str], Firmware]) -> None:
    """Wall time of ic_resnet8 with and without the plugin, printed (-s shows it), never asserted."""
    needs_plugin()
    firmware = firmware_builder("ic_resnet8")
    start = time.monotonic()
    plain = firmware_counts(firmware)
    plain_seconds = time.monotonic() - start
    start = time.monotonic()
    counted = plugin_run(firmware)
    plugin_seconds = time.monotonic() - start
    assert counted.firmware.counts_by_layer() == plain.counts_by_layer()
    print(f"\nic_resnet8: QEMU {plain_seconds:.2f} s, with the counting plugin {plugin_seconds:.2f} s "
          f"({plugin_seconds / plain_seconds:.2f}x), {counted.counts.total} instructions")


# -- the plugin as the counter of boards without one (target rows with qemu_counter="plugin")

def _record(kind: str, **fields: object) -> object:
    rec = parse_line(format_record(kind, **fields))
    assert rec is not None
    return rec


def _boot() -> object:
    return _record("boot", proto=1, board="b", core="c", counter="none", read_overhead=0)


def test_the_counter_puts_spans_into_boot_and_layer_records(tmp_path: Path) -> None:
    """Marks: 64-NOP span 80, 128-NOP span 144 (64 more: proven), boot reads 5 apart, then layers."""
    (tmp_path / "counts.txt").write_text("100\n180\n200\n344\n400\n405\n1000\n1700\n2000\n2033\n")
    counter = PluginCounter(tmp_path / "counts.txt")
    boot = counter.amend(_boot())
    assert (boot.str("counter"), boot.int("read_overhead")) == ("plugin", 5)
    first = counter.amend(_record("layer", sample=0, index=0, cycles=0, out_crc="0x1"))
    second = counter.amend(_record("layer", sample=0, index=1, cycles=0, out_crc="0x2"))
    assert (first.int("cycles"), second.int("cycles")) == (700, 33)
    assert first.line.startswith("@layer") and "cycles=0" in first.line  # the firmware's line is kept as sent
    logits = _record("logits", sample=0, v="1,2")
    assert counter.amend(logits) is logits


def test_a_failed_start_up_proof_or_missing_marks_is_the_emulators_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "off").write_text("100\n180\n200\n345\n400\n405\n")
    with pytest.raises(EmulatorError, match="start-up proof: 64 more NOPs counted as 65"):
        PluginCounter(tmp_path / "off").amend(_boot())
    monkeypatch.setattr(plugin, "MARK_WAIT_SECONDS", 0.05)
    (tmp_path / "short").write_text("100\n180\n200\n344\n400\n405\n1000\n")
    counter = PluginCounter(tmp_path / "short")
    counter.amend(_boot())
    with pytest.raises(EmulatorError, match="recorded 7 counter reads, but @layer record 1 needs read 8"):
        counter.amend(_record("layer", sample=0, index=0, cycles=0, out_crc="0x1"))
    ticking = _record("boot", proto=1, board="b", core="c", counter="icount", read_overhead=6)
    with pytest.raises(EmulatorError, match="reads a counter of its own"):
        PluginCounter(tmp_path / "short").amend(ticking)


@pytest.mark.emulator
@pytest.mark.parametrize("kernels", ["ref", "dsp"])
@pytest.mark.parametrize("name", ["kws_cnn", "ic_resnet8"])
def test_a_plugin_board_counts_what_the_icount_board_counts(name: str, kernels: str) -> None:
    """Two boards with the same core and flags (STM32F405 and MPS2 AN386, Cortex-M4F) run the same
    kernel code; one is counted by the firmware's icount timer, the other by the plugin. Every layer
    of every sample must get the same count: the two mechanisms prove each other."""
    needs_plugin()
    counts = {}
    for target in ("stm32f405", "mps2-an386"):
        try:
            firmware = build_firmware(load(name), get_target(target), kernels=kernel_variant(kernels))
        except ToolchainMissing as e:
            pytest.skip(str(e))
        with make_emulator("qemu", firmware.elf, get_target(target)) as emu:
            run = emu.run_to_completion()
        assert run.status == "ok" and run.boot is not None
        counts[run.boot.counter] = run.counts_by_layer()
    assert set(counts) == {"icount", "plugin"}
    assert counts["plugin"] == counts["icount"]
    print(f"\n{name} ({kernels}): {sum(max(c) for c in counts['icount']):,} instructions on both boards")

"""The QEMU counting plugin (harness/emu/plugin): it builds and loads, its counts repeat, and the
instructions it counts between two entries of hk_counter_read are the firmware's own per-layer
icount figures, layer by layer and sample by sample."""
from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.build import Firmware
from harness.build.elfinfo import function_address
from harness.emu import make_emulator, plugin
from harness.emu.plugin import (
    PluginRun,
    PluginUnavailable,
    build_plugin,
    count_instructions,
    plugin_option,
    probe_plugin,
    read_counts,
    require_plugin,
)
from harness.errors import EmulatorError
from harness.protocol import FirmwareRun
from harness.targets import get_target

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
        require_plugin()
    except PluginUnavailable as e:
        pytest.skip(str(e))


def plugin_run(firmware: Firmware, icount: bool = True) -> PluginRun:
    marker = function_address(firmware.elf, "hk_counter_read")
    assert marker is not None
    return count_instructions(firmware.elf, TARGET, marker, icount=icount)


def span_counts(run: PluginRun, layers: int, samples: int) -> list[list[int]]:
    """Instructions from the counter read before each layer to the one after it, by layer and
    sample, as FirmwareRun.counts_by_layer orders them. The marks are: the two reads of the boot
    record's read_overhead, then a start and an end read per layer per sample."""
    marks = run.counts.marks
    assert len(marks) == 2 + 2 * layers * samples
    spans = [[0] * samples for _ in range(layers)]
    for s in range(samples):
        for layer in range(layers):
            at = 2 + 2 * (s * layers + layer)
            spans[layer][s] = marks[at + 1] - marks[at]
    return spans


def firmware_counts(firmware: Firmware) -> FirmwareRun:
    with make_emulator("qemu", firmware.elf, TARGET) as emu:
        run = emu.run_to_completion()
    assert run.status == "ok" and run.boot is not None and run.boot.counter == "icount"
    return run


def test_option_escapes_commas_and_result_file_is_read(tmp_path: Path) -> None:
    assert plugin_option(Path("/a,b/p.so"), Path("/o,ut"), 0x8000251) == "file=/a,,b/p.so,out=/o,,ut,marker=0x8000251"
    (tmp_path / "ok").write_text("10\n3\n7\n")
    counts = read_counts(tmp_path / "ok")
    assert counts.total == 10 and counts.marks == (3, 7)
    (tmp_path / "bad").write_text("10\nout of memory\n")
    with pytest.raises(EmulatorError, match="not a list of numbers"):
        read_counts(tmp_path / "bad")
    with pytest.raises(EmulatorError, match="wrote no result"):
        read_counts(tmp_path / "missing")


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
        probe_plugin(lib)
    print(f"\n{caught.value}")


@pytest.mark.emulator
def test_counts_repeat_exactly(firmware_builder: Callable[[str], Firmware]) -> None:
    needs_plugin()
    firmware = firmware_builder("kws_cnn")
    first, second = plugin_run(firmware), plugin_run(firmware)
    assert first.firmware.status == "ok"
    assert first.counts.total > 0
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
    assert marks[1] - marks[0] == reference.boot.read_overhead + ICOUNT_EXTRA_PER_READ
    assert span_counts(icount, layers, samples) == [[c + ICOUNT_EXTRA_PER_READ for c in per] for per in cycles]

    # Without -icount no block is abandoned: the spans are the firmware's figures exactly. (The
    # firmware's counter then reads a timer on the host's clock, so only the spans are compared.)
    exact = plugin_run(firmware, icount=False)
    assert exact.firmware.status == "ok"
    assert exact.counts.marks[1] - exact.counts.marks[0] == reference.boot.read_overhead
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

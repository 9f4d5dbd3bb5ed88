"""The UART record protocol and the emulator-independent reading logic (with a scripted fake)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.errors import EmulatorError, FirmwareFault, FirmwareHang, UsageError
from harness.protocol import (
    FirmwareRun,
    ProtocolError,
    crc32_hex,
    format_record,
    parse_line,
)
from harness.protocol.stream import RecordStream
from harness.targets import get_target


def test_record_round_trip_and_crc() -> None:
    line = format_record("logits", sample=2, v="1,-2,3")
    assert line == f"@logits sample=2 v=1,-2,3 *{crc32_hex('logits sample=2 v=1,-2,3')}"
    rec = parse_line(line + "\r\n")
    assert rec is not None and rec.kind == "logits"
    assert rec.int("sample") == 2 and rec.ints("v") == [1, -2, 3]


def test_crc_is_zlib_crc32_as_the_firmware_computes_it() -> None:
    # a record captured from the firmware
    assert parse_line("@logits sample=1 v=98 *66fe4d21") is not None


def test_corrupt_records_are_errors_and_other_lines_are_not_records() -> None:
    assert parse_line("QEMU says hello") is None
    assert parse_line("") is None
    with pytest.raises(ProtocolError, match="CRC mismatch"):
        parse_line("@logits sample=1 v=99 *66fe4d21")
    with pytest.raises(ProtocolError, match="malformed record"):
        parse_line("@logits sample=1 v=98")
    with pytest.raises(ProtocolError, match="malformed record"):
        parse_line("@@@@ *00000000")


def test_missing_and_bad_fields_name_the_record() -> None:
    rec = parse_line(format_record("layer", sample=0, cycles="x"))
    assert rec is not None
    with pytest.raises(ProtocolError, match="lacks 'index'"):
        rec.int("index")
    with pytest.raises(ProtocolError, match="non-integer 'cycles'"):
        rec.int("cycles")


def lines(*records: str) -> list[str]:
    return [r + "\n" for r in records]


BOOT = format_record("boot", proto=1, board="stm32f405", core="cortex-m4", counter="icount", read_overhead=6)
MODEL = format_record("model", name="m", build="abc", layers=2, samples=1, input=2, output=3, weights=10, arena=8)
DONE = format_record("done", status="ok", stack_used=100, stack_size=1024)


def test_firmware_run_assembles_records() -> None:
    run = FirmwareRun()
    for line in (
        BOOT,
        MODEL,
        format_record("layer", sample=0, index=1, cycles=7, out_crc="0x0000000a"),
        format_record("layer", sample=0, index=0, cycles=5, out_crc="0xdeadbeef"),
        format_record("logits", sample=0, v="1,2,3"),
        DONE,
    ):
        rec = parse_line(line)
        assert rec is not None
        run.feed(rec)
    assert run.done and run.status == "ok" and run.stack_used == 100
    assert run.boot is not None and run.boot.counter == "icount"
    assert run.counts_by_layer() == [[5], [7]]
    assert run.output_crcs() == {(0, 0): 0xDEADBEEF, (0, 1): 10}
    assert run.logits == {0: [1, 2, 3]}


def test_protocol_version_mismatch_is_explained() -> None:
    rec = parse_line(format_record("boot", proto=2, board="b", core="c", counter="dwt", read_overhead=0))
    assert rec is not None
    with pytest.raises(ProtocolError, match="protocol v2, this harness reads v1"):
        FirmwareRun().feed(rec)


class ScriptedSource:
    """Plays back chunks of UART output; then either idles (a hang) or ends (a crash)."""

    name = "scripted"

    def __init__(self, chunks: list[str | bytes], then: str = "hang"):
        self.chunks = [c.encode("latin-1") if isinstance(c, str) else c for c in chunks]
        self.then = then

    def read(self, timeout: float) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        if self.then == "crash":
            raise EmulatorError("scripted emulator exited with status 1")
        time.sleep(timeout)
        return b""


def stream(
    chunks: list[str | bytes], then: str = "hang", timeout: float = 600.0, transcript: Path | None = None
) -> RecordStream:
    return RecordStream(ScriptedSource(chunks, then), timeout, transcript)


def test_run_to_completion_reads_split_lines_and_skips_noise(tmp_path: Path) -> None:
    text = (
        "".join(lines(BOOT, MODEL)) + "some banner\n" + "".join(lines(format_record("logits", sample=0, v="4"), DONE))
    )
    chunks = [text[i : i + 7] for i in range(0, len(text), 7)]
    records = stream(chunks, transcript=tmp_path / "uart.log")
    run = records.run_to_completion()
    records.close()
    assert run.status == "ok" and run.logits == {0: [4]}
    assert records.noise_lines == ["some banner"]
    assert (tmp_path / "uart.log").read_text() == text  # every byte kept, noise included


def test_records_read_by_expect_stay_in_the_run() -> None:
    """The README's pytest example: expect(boot), then run_to_completion() sees the boot record."""
    records = stream(lines(BOOT, MODEL, format_record("logits", sample=0, v="4"), DONE))
    assert records.expect("model").str("name") == "m"
    run = records.run_to_completion()
    assert run.boot is not None and run.model is not None and run.logits == {0: [4]} and run.done
    assert [r.kind for r in records.records] == ["boot", "model", "logits", "done"]


def test_expect_walks_forward_through_what_was_already_read() -> None:
    records = stream(lines(BOOT, MODEL, DONE))
    records.run_to_completion()
    records._cursor = 0  # a reader that started before run_to_completion read everything
    assert records.expect("boot").kind == "boot" and records.expect("done").kind == "done"


def test_hang_times_out_with_the_last_record() -> None:
    records = stream(lines(BOOT), then="hang", timeout=0.3)
    with pytest.raises(FirmwareHang, match=r"no @done record within 0.3 s.*last record: @boot"):
        records.run_to_completion()


def test_crash_is_reported_and_the_partial_run_is_kept() -> None:
    records = stream(lines(BOOT, MODEL), then="crash")
    with pytest.raises(EmulatorError, match="exited with status 1"):
        records.run_to_completion()
    assert records.run.model is not None and records.run.model.name == "m" and not records.run.done


def test_garbage_output_is_an_error_not_a_hang() -> None:
    records = stream(["\x00\xff garbage line " * 40 + "\n"] * 20, then="hang")
    with pytest.raises(ProtocolError, match="not a record stream"):
        records.run_to_completion()


def test_endless_output_without_a_newline_is_garbage_not_a_hang() -> None:
    records = stream(lines(BOOT) + ["x" * 1000] * 70, then="hang")
    with pytest.raises(ProtocolError, match="a line of over 65536 bytes"):
        records.run_to_completion()


@pytest.mark.parametrize("size", [7, 100, 4097, 70_000])
def test_a_long_line_is_judged_the_same_however_it_is_chunked(size: int) -> None:
    """A 6 KB record after a short one passes, and a 70 KB line fails, whether the bytes arrive whole or
    in pieces: the verdict never depends on how the UART's bytes were chunked (their timing)."""
    long = format_record("logits", sample=0, v=",".join(["-128"] * 1300))
    text = "".join(lines(BOOT, MODEL, long, DONE))
    run = stream([text[i : i + size] for i in range(0, len(text), size)]).run_to_completion()
    assert run.status == "ok" and run.logits == {0: [-128] * 1300}
    garbage = "".join(lines(BOOT, MODEL)) + "y" * 70_000 + "\n" + "".join(lines(DONE))
    with pytest.raises(ProtocolError, match="a line of over 65536 bytes"):
        stream([garbage[i : i + size] for i in range(0, len(garbage), size)]).run_to_completion()


def test_a_non_ascii_byte_in_a_record_is_a_protocol_error() -> None:
    corrupt = lines(BOOT)[0].replace("board=", "board=\xe9").encode("latin-1")
    with pytest.raises(ProtocolError, match="not ASCII"):
        stream([corrupt]).run_to_completion()


def test_reading_before_start_is_a_named_error() -> None:
    from harness.emu import make_emulator

    emu = make_emulator("qemu", Path("/dev/null"), get_target("stm32f405"))
    with pytest.raises(UsageError, match="before start"):
        emu.expect("boot")


FAULT = format_record(
    "fault",
    exception=3,
    pc="0x08000123",
    lr="0x08000045",
    xpsr="0x01000000",
    cfsr="0x00000400",
    hfsr="0x40000000",
    mmfar="0x00000000",
    bfar="0x00000000",
    exc_return="0xfffffff9",
)


# The fail-fast tests give the emulator a 600 s timeout: finishing inside a minute shows the fault
# ended the wait, without racing a tight wall-clock bound on a loaded machine.


def test_fault_fails_fast_in_expect() -> None:
    records = stream(lines(BOOT, FAULT), then="hang")
    start = time.monotonic()
    with pytest.raises(FirmwareFault, match="HardFault at pc=0x08000123"):
        records.expect("logits")
    assert time.monotonic() - start < 60


def test_fault_ends_the_run_without_waiting_for_the_timeout() -> None:
    records = stream(lines(BOOT, FAULT), then="hang")
    start = time.monotonic()
    run = records.run_to_completion()
    assert run.fault is not None and run.fault.pc == 0x08000123 and run.fault.cfsr == 0x400
    assert time.monotonic() - start < 60

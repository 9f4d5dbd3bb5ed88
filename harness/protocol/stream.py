"""Records from any byte source: an emulator's UART socket, a serial port, a test's script.

The stream keeps every record it has read, in order, and feeds each one into a single
FirmwareRun. `expect` walks forward through that history, reading more only when it runs out,
so whatever one caller consumed is still there for `run_to_completion` and the verdict. Every
byte that arrives is appended to the transcript file as it arrives: the evidence of the run.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from harness.errors import FirmwareFault, FirmwareHang, HarnessError, ProtocolError
from harness.protocol import FirmwareRun, Record, describe_fault, parse_line

#: Output that is not records (noise lines) tolerated before the stream is declared garbage.
MAX_NOISE_BYTES = 4096
#: The longest line (record or not) before the stream is declared garbage. It is judged on the line,
#: whether it has arrived whole or in part, never on how the bytes were chunked on the way, so the
#: verdict cannot depend on timing. A fuzz image's last case prints its whole output on one line.
MAX_LINE_BYTES = 65536
#: After a @fault, how long to wait for the firmware's closing @done.
FAULT_GRACE_SECONDS = 2.0
#: The longest single wait on the source, so that a deadline is never overshot by much.
POLL_SECONDS = 0.2


class ByteSource(Protocol):
    """What supplies a stream: `read` returns the bytes that arrived within `timeout` (b'' if
    none) and raises a HarnessError naming the cause once the source has ended for good."""

    name: str

    def read(self, timeout: float) -> bytes: ...


class RecordStream:
    def __init__(self, source: ByteSource, timeout: float, transcript: Path | None = None,
                 amend: Callable[[Record], Record] | None = None):
        """`amend` sees each record before the run does: an emulator that counts for the firmware
        puts its counts in (the transcript keeps the bytes the firmware sent)."""
        self.source = source
        self.amend = amend
        self.timeout = timeout
        self.run = FirmwareRun()
        self.records: list[Record] = []
        self.noise_lines: list[str] = []
        self.transcript_path = transcript
        self._transcript: BinaryIO | None = open(transcript, "ab") if transcript else None
        self._buffer = b""
        self._noise = 0
        self._cursor = 0  # the next record `read_record` hands out

    def close(self) -> None:
        if self._transcript is not None:
            self._transcript.close()
            self._transcript = None

    # -- reading
    def _pull(self, deadline: float, waiting_for: str) -> None:
        """Read one chunk into the buffer, or raise FirmwareHang when the deadline has passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            last = self.records[-1].line if self.records else "none"
            pending = (
                f"; {len(self._buffer)} bytes without an end of line: {self._buffer[:80]!r}" if self._buffer else ""
            )
            raise FirmwareHang(
                f"{self.source.name}: no {waiting_for} within {self.timeout:g} s: the firmware hung "
                f"(last record: {last}{pending})",
                "look at the UART transcript and, for a fault that went unreported, the emulator log",
            )
        chunk = self.source.read(min(remaining, POLL_SECONDS))
        if chunk:
            if self._transcript is not None:
                self._transcript.write(chunk)
                self._transcript.flush()
            self._buffer += chunk
            tail = self._buffer[self._buffer.rfind(b"\n") + 1 :]
            if len(tail) > MAX_LINE_BYTES:
                self._too_long(tail)

    def _too_long(self, line: bytes) -> None:
        raise ProtocolError(
            f"{self.source.name}: a line of over {MAX_LINE_BYTES} bytes: the output is not a record stream "
            f"(starts {line[:60]!r})"
        )

    def _next_new_record(self, deadline: float, waiting_for: str) -> Record:
        """Read until the next record line, keep it and feed it into the run."""
        while True:
            while b"\n" not in self._buffer:
                self._pull(deadline, waiting_for)
            raw, self._buffer = self._buffer.split(b"\n", 1)
            if len(raw) > MAX_LINE_BYTES:
                self._too_long(raw)
            line = raw.decode("latin-1")
            rec = parse_line(line)
            if rec is not None:
                if self.amend is not None:
                    rec = self.amend(rec)
                self.run.feed(rec)
                self.records.append(rec)
                return rec
            if line.strip():
                self.noise_lines.append(line)
                self._noise += len(raw) + 1
                if self._noise > MAX_NOISE_BYTES:
                    raise ProtocolError(
                        f"{self.source.name}: over {MAX_NOISE_BYTES} bytes of output that is not a record "
                        f"stream; first line: {self.noise_lines[0][:120]!r}"
                    )

    def read_record(self, timeout: float | None = None, waiting_for: str = "record") -> Record:
        """The next record this reader has not yet been handed (from history, else from the source)."""
        if self._cursor < len(self.records):
            rec = self.records[self._cursor]
        else:
            deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
            rec = self._next_new_record(deadline, waiting_for)
        self._cursor += 1
        return rec

    def expect(self, kind: str, timeout: float | None = None) -> Record:
        """Read until a record of `kind`; a @fault on the way raises FirmwareFault at once."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            rec = self.read_record(max(deadline - time.monotonic(), 0.0), waiting_for=f"@{kind} record")
            if rec.kind == kind:
                return rec
            if rec.kind == "fault" and self.run.fault is not None:
                raise FirmwareFault(f"firmware fault: {describe_fault(self.run.fault)}")

    def run_to_completion(self, timeout: float | None = None) -> FirmwareRun:
        """Read until @done and return the run: every record since the start, including those that
        `expect` handed out. After a @fault, waits briefly for @done, then returns what there is.
        A hang, a crash or garbage raises, and `run` keeps what arrived before it."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.run.done:
            if self.run.fault is not None:
                deadline = min(deadline, time.monotonic() + FAULT_GRACE_SECONDS)
            try:
                self._next_new_record(deadline, "@done record")
            except HarnessError:
                if self.run.fault is not None:
                    break
                raise
        self._cursor = len(self.records)
        return self.run

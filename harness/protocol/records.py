"""The UART record protocol: one record per line, parsed and assembled into a FirmwareRun.

A record is one line: ``@kind key=value ... *crc``, the CRC32 (zlib's) of the text between ``@``
and `` *`` as 8 hex digits. Lines that do not start with ``@`` are not records (a human may read
them; the parser keeps them as noise). A line that starts with ``@`` but is malformed or fails its
CRC is an error: the stream is corrupt.
"""
from __future__ import annotations

import builtins
import re
import zlib
from dataclasses import dataclass, field

from harness.errors import ProtocolError

__all__ = ["ProtocolError"]

PROTOCOL_VERSION = 1

_RECORD = re.compile(r"^@(?P<payload>[a-z_]+(?: [a-z_]+=[^ ]*)*) \*(?P<crc>[0-9a-f]{8})$")


@dataclass(frozen=True)
class Record:
    kind: str
    fields: dict[str, str]
    line: str

    def int(self, key: str) -> int:
        try:
            return int(self.fields[key], 0)
        except KeyError:
            raise ProtocolError(f"@{self.kind} record lacks '{key}': {self.line}") from None
        except ValueError:
            raise ProtocolError(f"@{self.kind} record has a non-integer '{key}': {self.line}") from None

    def str(self, key: str) -> str:
        try:
            return self.fields[key]
        except KeyError:
            raise ProtocolError(f"@{self.kind} record lacks '{key}': {self.line}") from None

    def ints(self, key: builtins.str) -> list[builtins.int]:
        text = self.str(key)
        try:
            return [int(v) for v in text.split(",")] if text else []
        except ValueError:
            raise ProtocolError(f"@{self.kind} record has a malformed list '{key}': {self.line}") from None


def crc32_hex(payload: str) -> str:
    return f"{zlib.crc32(payload.encode('ascii')) & 0xFFFFFFFF:08x}"


def format_record(kind: str, **fields: object) -> str:
    """A record line as the firmware writes it (used by tests and the fuzz driver)."""
    payload = " ".join([kind] + [f"{k}={v}" for k, v in fields.items()])
    return f"@{payload} *{crc32_hex(payload)}"


def parse_line(line: str) -> Record | None:
    """The record on `line`, None if the line is not a record; ProtocolError if it is corrupt."""
    line = line.rstrip("\r\n")
    if not line.startswith("@"):
        return None
    if not line.isascii():
        raise ProtocolError(f"a record with a byte that is not ASCII (a corrupt or lost byte): {line!r}")
    m = _RECORD.match(line)
    if m is None:
        raise ProtocolError(f"malformed record: {line!r}")
    payload = m.group("payload")
    if crc32_hex(payload) != m.group("crc"):
        raise ProtocolError(f"CRC mismatch (expected {crc32_hex(payload)}): {line!r}")
    kind, *pairs = payload.split(" ")
    return Record(kind, dict(p.split("=", 1) for p in pairs), line)


@dataclass(frozen=True)
class BootInfo:
    board: str
    core: str
    counter: str  # dwt | icount | timer | none
    read_overhead: int


@dataclass(frozen=True)
class ModelInfo:
    name: str
    build: str
    layers: int
    samples: int
    input_size: int
    output_size: int
    weight_bytes: int
    arena_bytes: int


@dataclass(frozen=True)
class LayerCount:
    """One @layer record. Its `count` arrives in the record's `cycles=` field (protocol v1), whatever
    the counter counts: the @boot record's counter says which unit it is."""

    sample: int
    index: int
    count: int
    out_crc: int  # CRC32 of the bytes the layer wrote


@dataclass(frozen=True)
class FaultInfo:
    exception: int
    pc: int
    lr: int
    xpsr: int
    cfsr: int
    hfsr: int
    mmfar: int
    bfar: int


FAULT_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault"}


def describe_fault(fault: FaultInfo, function: str | None = None) -> str:
    """A @fault record for people: the exception by name, where, and the fault status registers."""
    where = f" in {function}()" if function else ""
    return (
        f"{FAULT_NAMES.get(fault.exception, f'exception {fault.exception}')} at pc={fault.pc:#010x}{where}, "
        f"lr={fault.lr:#010x}, cfsr={fault.cfsr:#010x}, hfsr={fault.hfsr:#010x}, "
        f"mmfar={fault.mmfar:#010x}, bfar={fault.bfar:#010x}"
    )


@dataclass(frozen=True)
class LayerError:
    """An @error record. Before anything is timed the runner checks each layer's kernel arguments
    (hk_<kernel>_check): a refused layer has `check`, the id of the failing check, and no sample.
    While running, a kernel that returns a status other than HK_OK has the sample and no check."""

    layer: int
    status: int  # hk_status
    sample: int | None = None
    check: int | None = None

    def describe(self, name: str) -> str:
        """One line for people: which layer, what was refused or returned, and what it means."""
        meaning = KERNEL_STATUS.get(self.status, "unknown status")
        if self.check is not None:
            check, why = CHECKS.get(self.check, (f"#{self.check}", "unknown check"))
            return (f"layer {self.layer} '{name}' refused by its kernel's check '{check}' ({why}; "
                    f"status {self.status}, {meaning}) before any layer ran")
        return (f"kernel of layer {self.layer} '{name}' returned status {self.status} ({meaning}) "
                f"on sample {self.sample}")


@dataclass
class FirmwareRun:
    """Everything one firmware run reported, assembled from its records."""

    boot: BootInfo | None = None
    model: ModelInfo | None = None
    layers: list[LayerCount] = field(default_factory=list)
    logits: dict[int, list[int]] = field(default_factory=dict)
    status: str | None = None  # from @done: ok | error | fault
    stack_used: int | None = None
    stack_size: int | None = None
    fault: FaultInfo | None = None
    error: LayerError | None = None
    transcript: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # records that arrived more than once

    @property
    def done(self) -> bool:
        return self.status is not None

    def counts_by_layer(self) -> list[list[int]]:
        """cycles[layer][sample], in sample order."""
        n = self.model.layers if self.model else 1 + max((l.index for l in self.layers), default=-1)
        table: list[list[int]] = [[] for _ in range(n)]
        for rec in sorted(self.layers, key=lambda r: (r.index, r.sample)):
            table[rec.index].append(rec.count)
        return table

    def output_crcs(self) -> dict[tuple[int, int], int]:
        """CRC32 of each layer's output, keyed by (sample, layer index)."""
        return {(r.sample, r.index): r.out_crc for r in self.layers}

    def feed(self, rec: Record) -> None:
        """Add one record to the run."""
        self.transcript.append(rec.line)
        kind = rec.kind
        if self._repeats(rec):
            self.repeated.append(rec.line)
        if kind == "boot":
            if rec.int("proto") != PROTOCOL_VERSION:
                raise ProtocolError(
                    f"firmware speaks record protocol v{rec.int('proto')}, this harness reads v{PROTOCOL_VERSION}"
                )
            self.boot = BootInfo(rec.str("board"), rec.str("core"), rec.str("counter"), rec.int("read_overhead"))
        elif kind == "model":
            self.model = ModelInfo(
                rec.str("name"), rec.str("build"), rec.int("layers"), rec.int("samples"),
                rec.int("input"), rec.int("output"), rec.int("weights"), rec.int("arena"),
            )
        elif kind == "layer":
            self.layers.append(LayerCount(rec.int("sample"), rec.int("index"), rec.int("cycles"), rec.int("out_crc")))
        elif kind == "logits":
            self.logits[rec.int("sample")] = rec.ints("v")
        elif kind == "error":
            self.error = LayerError(rec.int("layer"), rec.int("status"),
                                    rec.int("sample") if "sample" in rec.fields else None,
                                    rec.int("check") if "check" in rec.fields else None)
        elif kind == "fault":
            registers = ("exception", "pc", "lr", "xpsr", "cfsr", "hfsr", "mmfar", "bfar")
            self.fault = FaultInfo(*(rec.int(k) for k in registers))
        elif kind == "done":
            self.status = rec.str("status")
            self.stack_used = rec.int("stack_used")
            self.stack_size = rec.int("stack_size")
        # Records of kinds this harness does not know are kept in the transcript only.

    def _repeats(self, rec: Record) -> bool:
        """Whether `rec` says again what an earlier record said (a firmware that loops or restarts)."""
        if rec.kind in ("boot", "model", "done", "fault", "error"):
            return any(line.startswith(f"@{rec.kind} ") for line in self.transcript[:-1])
        if rec.kind == "layer":
            key = (rec.int("sample"), rec.int("index"))
            return any((r.sample, r.index) == key for r in self.layers)
        if rec.kind == "logits":
            return rec.int("sample") in self.logits
        return False


#: Kernel status codes of harness/firmware/kernels/include/hk_nn_types.h, for error messages.
KERNEL_STATUS = {
    1: "a required pointer is NULL",
    2: "a dimension is not positive or the shapes do not agree",
    3: "a zero point, multiplier, shift or activation bound is out of range",
    4: "the scratch buffer is missing or too small",
    5: "the model has no layer with that index",
}

#: Check ids (hk_check_id in hk_nn_types.h, HK_CHECK_<NAME>): the name and what failed.
CHECKS = {
    1: ("pointer", "a required pointer is NULL"),
    2: ("dims", "a dimension or element count is not positive"),
    3: ("offset", "a zero-point offset is out of range"),
    4: ("activation", "an activation bound is outside int8, or min > max"),
    5: ("quant_count", "the requantizer count is neither 1 nor the channel count"),
    6: ("rounding", "the requantizer rounding is neither double nor single"),
    7: ("requantizer", "a negative multiplier or a shift outside [-31, 30]"),
    8: ("window", "a kernel, stride or dilation below 1, a bad padding, or a window larger than the padded input"),
    9: ("output_shape", "the output shape is not what the input and window give"),
    10: ("channels", "channel counts that disagree"),
    11: ("limit", "a size beyond the kernel's limit"),
    12: ("parameter", "an op's own parameter is out of range"),
    13: ("scratch", "the scratch context is missing or smaller than the kernel's *_get_buffer_size"),
}

"""The UART record protocol: one record per line, parsed and assembled into a FirmwareRun.

The code is in harness.protocol.records; this file only re-exports it."""
from harness.protocol.records import (
    CHECKS,
    FAULT_NAMES,
    KERNEL_STATUS,
    PROTOCOL_VERSION,
    BootInfo,
    FaultInfo,
    FirmwareRun,
    LayerCount,
    LayerError,
    ModelInfo,
    ProtocolError,
    Record,
    crc32_hex,
    describe_fault,
    format_record,
    parse_line,
)

__all__ = [
    "BootInfo", "CHECKS", "FAULT_NAMES", "FaultInfo", "FirmwareRun", "KERNEL_STATUS", "LayerCount", "LayerError",
    "ModelInfo", "PROTOCOL_VERSION", "ProtocolError", "Record", "crc32_hex", "describe_fault", "format_record",
    "parse_line",
]

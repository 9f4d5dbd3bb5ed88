"""Emulator backends: start a process that runs an ELF and supply its UART bytes. Records are read
by harness.protocol.stream; a backend knows nothing of models.

The code is in harness.emu.base; this file only re-exports it."""
from harness.emu.base import (
    Emulator,
    EmulatorNotFound,
    make_emulator,
)

__all__ = ["Emulator", "EmulatorNotFound", "make_emulator"]

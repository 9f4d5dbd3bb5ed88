"""The emulator backends by name: adding one is adding a row."""
from __future__ import annotations

from harness.emu import Emulator
from harness.emu.qemu import QemuBackend
from harness.emu.renode import RenodeBackend

BACKENDS: dict[str, type[Emulator]] = {
    "qemu": QemuBackend,
    "renode": RenodeBackend,
}

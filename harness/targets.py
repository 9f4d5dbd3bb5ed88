"""Targets are data: one row per board, read by the build, the emulators and the reports."""
from __future__ import annotations

from dataclasses import dataclass

from harness.errors import InputError


@dataclass(frozen=True)
class Region:
    origin: int
    size: int


@dataclass(frozen=True)
class Target:
    name: str
    board: str
    core: str
    cpu_flags: tuple[str, ...]
    platform: str  # harness/firmware/platform/<platform>
    flash: Region
    ram: Region
    ccm: Region | None
    stack_bytes: int
    qemu_machine: str | None
    description: str


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            name="stm32f405",
            board="stm32f405",
            core="cortex-m4",
            cpu_flags=("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
            platform="stm32f405",
            flash=Region(0x08000000, 1024 * 1024),
            ram=Region(0x20000000, 128 * 1024),
            ccm=Region(0x10000000, 64 * 1024),
            stack_bytes=16 * 1024,
            qemu_machine="netduinoplus2",
            description="STM32F405 (Cortex-M4F, 1 MiB flash, 128 KiB SRAM + 64 KiB CCM)",
        ),
    )
}


class UnknownTarget(InputError, KeyError):
    def __str__(self) -> str:
        return f"unknown target '{self.args[0]}'; available: {', '.join(TARGETS)}"


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise UnknownTarget(name)
    return TARGETS[name]

"""Targets are data: one row per board, read by the build, the emulators and the reports."""
from __future__ import annotations

from dataclasses import dataclass

from harness.errors import InputError


@dataclass(frozen=True)
class Region:
    origin: int
    size: int


@dataclass(frozen=True)
class RenodeBoard:
    """What Renode needs to emulate a target without its stock platform file (which downloads an SVD
    from the internet): the CPU, the console UART and the speed that makes its DWT count instructions."""

    cpu_type: str  # Renode's CPU.CortexM cpuType
    uart: str  # the console UART's peripheral name (the firmware's USART)
    uart_address: int
    uart_irq: int  # its NVIC line
    uart_model: str = "UART.STM32_UART"
    mips: int = 100  # cpu PerformanceInMips: virtual time per instruction
    systick_hz: int = 72_000_000
    terminal_port: int = 45678  # the .resc's default UART socket port (the harness picks its own)


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
    renode: RenodeBoard | None
    description: str
    kernels: str = "ref"  # the kernel variant built when none is asked for: dsp where the core has the DSP extension


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
            renode=RenodeBoard(cpu_type="cortex-m4", uart="usart1", uart_address=0x40011000, uart_irq=37),
            description="STM32F405 (Cortex-M4F, 1 MiB flash, 128 KiB SRAM + 64 KiB CCM)",
            kernels="dsp",
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

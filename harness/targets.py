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
    arch: str  # the architecture the core implements (harness/build/isascan.py checks the ELF against it)
    cpu_flags: tuple[str, ...]
    platform: str  # harness/firmware/platform/<platform>
    flash: Region
    ram: Region
    ccm: Region | None
    stack_bytes: int
    qemu_machine: str | None
    renode: RenodeBoard | None
    description: str
    kernels: str = "ref"  # the kernel variant built when none is asked for: dsp where the core has the DSP
    # extension, mve where it has Helium
    platform_defines: tuple[str, ...] = ()  # what the board's platform code needs, e.g. its UART address
    #: How QEMU's counts are exact: `icount`, the board timer that ticks once per instruction under
    #: -icount shift=0 (the STM32 models' timers run at 1 GHz), which the firmware proves and reads;
    #: or `plugin`, QEMU's TCG plugin counting instructions between the firmware's counter reads, for
    #: boards whose timers tick at the board clock (harness/emu/plugin.py).
    qemu_counter: str = "icount"
    mve: bool = False  # the core has the M-profile Vector Extension (Helium): integer vector code is not float


#: The hard-float ABI with each core's FPU, so that the images match what a team ships; the FPU is
#: never enabled (runtime/src/startup.c) and no FP instruction is in the image (the no-float scan).
M4_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
KIB = 1024
MIB = 1024 * 1024

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            name="stm32f405", board="stm32f405", core="cortex-m4", arch="armv7e-m", cpu_flags=M4_FLAGS,
            platform="stm32", flash=Region(0x08000000, 1 * MIB), ram=Region(0x20000000, 128 * KIB),
            ccm=Region(0x10000000, 64 * KIB), stack_bytes=16 * KIB, qemu_machine="netduinoplus2",
            renode=RenodeBoard(cpu_type="cortex-m4", uart="usart1", uart_address=0x40011000, uart_irq=37),
            description="STM32F405 (Cortex-M4F, 1 MiB flash, 128 KiB SRAM + 64 KiB CCM)",
            kernels="dsp",
        ),
        Target(
            name="stm32f205", board="stm32f205", core="cortex-m3", arch="armv7-m",
            cpu_flags=("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
            platform="stm32", flash=Region(0x08000000, 1 * MIB), ram=Region(0x20000000, 128 * KIB),
            ccm=None, stack_bytes=16 * KIB, qemu_machine="netduino2", renode=None,
            description="STM32F205 (Cortex-M3, 1 MiB flash, 128 KiB SRAM; QEMU's netduino2)",
        ),
        Target(
            name="mps2-an386", board="mps2-an386", core="cortex-m4", arch="armv7e-m", cpu_flags=M4_FLAGS,
            platform="cmsdk", platform_defines=("HK_UART_BASE=0x40004000u",),
            flash=Region(0x00000000, 4 * MIB), ram=Region(0x20000000, 4 * MIB), ccm=None, stack_bytes=16 * KIB,
            qemu_machine="mps2-an386", renode=None, qemu_counter="plugin", kernels="dsp",
            description="Arm MPS2+ AN386 (Cortex-M4F, 4 MiB code SSRAM, 4 MiB data SSRAM)",
        ),
        Target(
            name="mps2-an500", board="mps2-an500", core="cortex-m7", arch="armv7e-m",
            cpu_flags=("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
            platform="cmsdk", platform_defines=("HK_UART_BASE=0x40004000u",),
            flash=Region(0x00000000, 4 * MIB), ram=Region(0x20000000, 4 * MIB), ccm=None, stack_bytes=16 * KIB,
            qemu_machine="mps2-an500", renode=None, qemu_counter="plugin", kernels="dsp",
            description="Arm MPS2+ AN500 (Cortex-M7 with double-precision FPU, 4 MiB code SSRAM, 4 MiB data SSRAM)",
        ),
        Target(
            name="mps2-an505", board="mps2-an505", core="cortex-m33", arch="armv8-m.main",
            cpu_flags=("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
            platform="cmsdk", platform_defines=("HK_UART_BASE=0x50200000u",),
            flash=Region(0x10000000, 4 * MIB), ram=Region(0x38000000, 4 * MIB), ccm=None, stack_bytes=16 * KIB,
            qemu_machine="mps2-an505", renode=None, qemu_counter="plugin", kernels="dsp",
            description="Arm MPS2+ AN505 (Cortex-M33 with DSP and FPU, Armv8-M with TrustZone, run in the "
                        "Secure state; 4 MiB code SSRAM, 4 MiB data SSRAM)",
        ),
        Target(
            name="mps3-an547", board="mps3-an547", core="cortex-m55", arch="armv8.1-m.main",
            cpu_flags=("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
            platform="cmsdk", platform_defines=("HK_UART_BASE=0x59303000u",),
            flash=Region(0x10000000, 512 * KIB), ram=Region(0x30000000, 512 * KIB), ccm=None,
            stack_bytes=16 * KIB, qemu_machine="mps3-an547", renode=None, qemu_counter="plugin", kernels="mve",
            mve=True,
            description="Arm MPS3 AN547 (Cortex-M55 with Helium, Armv8.1-M, run in the Secure state; "
                        "512 KiB ITCM for code, 512 KiB DTCM for data)",
        ),
        Target(
            name="microbit", board="microbit", core="cortex-m0", arch="armv6-m",
            cpu_flags=("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
            platform="nrf51", platform_defines=("HK_UART_BASE=0x40002000u",),
            flash=Region(0x00000000, 256 * KIB), ram=Region(0x20000000, 16 * KIB), ccm=None, stack_bytes=2 * KIB,
            qemu_machine="microbit", renode=None, qemu_counter="plugin",
            description="BBC micro:bit, Nordic nRF51822 (Cortex-M0, 256 KiB flash, 16 KiB RAM)",
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

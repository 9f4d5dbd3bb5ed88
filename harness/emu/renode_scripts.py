"""The Renode scripts of a target, written from its row in harness.targets: a platform description
(.repl) that needs no download, and a .resc that builds the board, loads `$bin` and puts the console
UART on a raw TCP socket. The Renode backend runs the very same .resc; `harness renode-scripts`
writes them into renode_scripts/ for renode-test and for people.
"""
from __future__ import annotations

from harness.errors import InputError
from harness.targets import RenodeBoard, Target

#: Renode's DWT model: CYCCNT counts virtual time at this frequency. At `mips` instructions per
#: microsecond of virtual time, a frequency of mips MHz makes one count one instruction.
DWT_ADDRESS = 0xE0001000
#: Renode's default quantum, 100 µs: fast. The DWT then moves every 10,000 instructions, which the
#: firmware's start-up probe waits for; the backend makes each count exact with a hook (emu.renode),
#: and the renode-test suites check records, not counts.
FAST_QUANTUM = "0.0001"
#: The quantum the .resc sets unless told otherwise: the DWT moves only at quantum boundaries, so
#: 1 µs at 100 MIPS gives counts to the nearest 100 instructions (measured on Renode 1.15.1).
SCRIPT_QUANTUM = "0.000001"


def renode_board(target: Target) -> RenodeBoard:
    if target.renode is None:
        raise InputError(f"target '{target.name}' has no Renode board", "choose a target with one (harness list)")
    return target.renode


def platform_repl(target: Target) -> str:
    """A platform description with only what the firmware touches, and a DWT that counts
    instructions. Peripherals not described read as 0, which the firmware's start-up tolerates."""
    board = renode_board(target)
    memories = [("flash", target.flash), ("sram", target.ram)] + ([("ccm", target.ccm)] if target.ccm else [])
    lines = [
        f"// {target.description}: the parts cortexm-harness firmware uses.",
        "// Written by `harness renode-scripts` from harness/targets.py; do not edit.",
        "// Renode's stock stm32f4.repl downloads an SVD file at load; this one needs no network.",
        "",
        "nvic: IRQControllers.NVIC @ sysbus 0xE000E000",
        "    priorityMask: 0xF0",
        f"    systickFrequency: {board.systick_hz}",
        "    IRQ -> cpu@0",
        "",
        "cpu: CPU.CortexM @ sysbus",
        f'    cpuType: "{board.cpu_type}"',
        "    nvic: nvic",
        f"    PerformanceInMips: {board.mips}",
        "",
    ]
    for name, region in memories:
        lines += [f"{name}: Memory.MappedMemory @ sysbus {region.origin:#010x}", f"    size: {region.size:#x}", ""]
    lines += [
        f"{board.uart}: {board.uart_model} @ sysbus <{board.uart_address:#010x}, +0x100>",
        f"    -> nvic@{board.uart_irq}",
        "",
        f"// CYCCNT advances with virtual time: at {board.mips} MIPS and {board.mips} MHz, one count per instruction.",
        f"dwt: Miscellaneous.DWT @ sysbus {DWT_ADDRESS:#010x}",
        f"    frequency: {board.mips * 1_000_000}",
        "",
    ]
    return "\n".join(lines)


def board_resc(target: Target) -> str:
    """The board as a Renode script. Variables (set them before `include`): $bin, the ELF; $platform,
    the .repl; $uart_port, the TCP port of the raw UART socket; $quantum, the time quantum."""
    board = renode_board(target)
    return "\n".join([
        f":name: {target.name} (cortexm-harness)",
        f":description: {target.description}, running a cortexm-harness ELF; {board.uart} on a raw TCP socket",
        "",
        "# Written by `harness renode-scripts` from harness/targets.py; do not edit.",
        "# Set the variables before `include @this.resc` (e.g. -e '$bin=@/abs/model.elf'); paths given",
        "# as @path must be absolute: Renode resolves relative ones against its own folder. The defaults",
        "# use $ORIGIN, this script's folder while it runs (written bare: `@$ORIGIN` is not expanded).",
        f"$name?=\"{target.name}\"",
        f"$bin?=$ORIGIN/../build/renode/{target.name}/kws_cnn.elf",
        f"$platform?=$ORIGIN/{target.name}.repl",
        f"$uart_port?={board.terminal_port}",
        "# The DWT moves only at quantum boundaries: 1 us at "
        f"{board.mips} MIPS counts to the nearest {board.mips} instructions.",
        f"$quantum?=\"{SCRIPT_QUANTUM}\"",
        "",
        "mach create $name",
        "machine LoadPlatformDescription $platform",
        "emulation SetGlobalQuantum $quantum",
        "sysbus LoadELF $bin",
        "# false: no telnet negotiation, the socket carries the UART's bytes as they are",
        'emulation CreateServerSocketTerminal $uart_port "uart" false',
        f"connector Connect sysbus.{board.uart} uart",
        "",
    ])

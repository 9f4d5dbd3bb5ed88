"""Where the firmware's watched functions are in an ELF: its counter read, which both emulators
watch (Renode to set the DWT at each read, QEMU's counting plugin to count from one read to the
next), and its final halt, where the plugin stops counting.

Read here with pyelftools rather than through harness.build: the emulator layer does not depend on
the build layer."""
from __future__ import annotations

from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

#: The runtime's counter read (runtime/src/counter.c), never inlined.
COUNTER_SYMBOL = "hk_counter_read"
#: Where the runtime stops for good after its @done record (runtime/src/main.c), never inlined.
HALT_SYMBOL = "hk_halt"


def function_address(elf: Path, name: str) -> int | None:
    """Where the function `name` starts in `elf` (the Thumb bit cleared), if the ELF says. A file
    that is not an ELF has none: the emulator then refuses it, in its own words."""
    try:
        with open(elf, "rb") as f:
            symbols = ELFFile(f).get_section_by_name(".symtab")
            if not isinstance(symbols, SymbolTableSection):
                return None
            found = symbols.get_symbol_by_name(name)
            return int(found[0]["st_value"]) & ~1 if found else None
    except (ELFError, OSError):
        return None

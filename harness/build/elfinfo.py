"""What an ELF occupies on the target, read with pyelftools."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.targets import Region, Target


@dataclass(frozen=True)
class Footprint:
    flash_bytes: int  # code, constants and the load image of initialised data
    ram_bytes: int  # data, bss and the reserved stack
    stack_bytes: int  # reserved stack (part of ram_bytes)


def _inside(addr: int, region: Region | None) -> bool:
    return region is not None and region.origin <= addr < region.origin + region.size


def footprint(elf: Path, target: Target) -> Footprint:
    flash = ram = stack = 0
    with open(elf, "rb") as f:
        for section in ELFFile(f).iter_sections():
            if not section["sh_flags"] & SH_FLAGS.SHF_ALLOC or section["sh_size"] == 0:
                continue
            addr, size = section["sh_addr"], section["sh_size"]
            if _inside(addr, target.flash):
                flash += size
            elif _inside(addr, target.ram) or _inside(addr, target.ccm):
                ram += size
                if section["sh_type"] == "SHT_PROGBITS":
                    flash += size  # initial values are copied from flash at reset
                if section.name == ".stack":
                    stack += size
    return Footprint(flash, ram, stack)


def function_at(elf: Path, address: int) -> str | None:
    """Name of the function containing `address` (Thumb bit ignored), for fault reports."""
    address &= ~1
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            return None
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC":
                continue
            start = sym["st_value"] & ~1
            if start <= address < start + max(sym["st_size"], 1):
                return sym.name
    return None


def function_ranges(elf: Path) -> list[tuple[int, int, str]]:
    """(start, end, name) of every function with a size, by start address (Thumb bit cleared); of
    several names at one address, the global one first, then the first in the table."""
    found: dict[int, tuple[bool, int, str]] = {}
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            return []
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC" or not sym["st_size"] or not sym.name:
                continue
            start = sym["st_value"] & ~1
            local = sym["st_info"]["bind"] == "STB_LOCAL"
            if start not in found or (found[start][0] and not local):
                found[start] = (local, start + sym["st_size"], sym.name)
    return sorted((start, end, name) for start, (_, end, name) in found.items())


def function_bindings(elf: Path, names: Iterable[str]) -> dict[str, str]:
    """The binding (STB_GLOBAL, STB_WEAK) of each of `names` the image defines as a function; the
    others (not linked in, or removed as unused) are absent."""
    wanted = set(names)
    found: dict[str, str] = {}
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            return found
        for sym in symtab.iter_symbols():
            if sym.name in wanted and sym["st_info"]["type"] == "STT_FUNC" and sym["st_shndx"] != "SHN_UNDEF":
                found[sym.name] = sym["st_info"]["bind"]
    return found


def function_address(elf: Path, name: str) -> int | None:
    """The address of the function `name` (its first instruction: the Thumb bit cleared), or None
    when the image does not define it."""
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            return None
        for sym in symtab.get_symbol_by_name(name) or []:
            if sym["st_info"]["type"] == "STT_FUNC" and sym["st_shndx"] != "SHN_UNDEF":
                return int(sym["st_value"]) & ~1
    return None

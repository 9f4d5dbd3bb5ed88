"""The no-float proof: no floating-point instruction and no soft-float helper call in any function the
firmware can reach from its entry points.

The project forbids floating point at runtime in the inference path. The FPU is left disabled, so a
stray FP instruction would fault, but only on the path a test happens to execute; this scan checks
the whole static call graph of the linked ELF instead. Reachability follows direct branches only
(`bl`, `blx label`, tail calls); calls through function pointers are not followed.
"""
from __future__ import annotations

import bisect
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.build import BuildError, require_tool


@dataclass(frozen=True)
class FloatUse:
    function: str  # function containing it
    address: int
    what: str  # e.g. "vmul.f32 s0, s0, s1" or "call to __aeabi_dmul (soft-float helper)"


@dataclass(frozen=True)
class FloatScan:
    elf: Path
    roots: tuple[str, ...]  # functions the reachability starts from
    reachable: tuple[str, ...]  # functions reachable from the roots (sorted)
    uses: tuple[FloatUse, ...]  # floating-point uses inside reachable functions

    @property
    def ok(self) -> bool:
        """True when no reachable function uses floating point."""
        return not self.uses

    def summary(self) -> str:
        """One line for a report or an assertion message."""
        if self.ok:
            return (
                f"no-float scan: OK, {len(self.reachable)} functions reachable from "
                f"{', '.join(self.roots)}, no FP instruction or soft-float helper"
            )
        shown = "; ".join(f"{u.function} at {u.address:#010x}: {u.what}" for u in self.uses[:5])
        more = f"; ... ({len(self.uses) - 5} more)" if len(self.uses) > 5 else ""
        return f"no-float scan: FAILED, {len(self.uses)} floating-point uses: {shown}{more}"


@dataclass(frozen=True)
class _Function:
    names: tuple[str, ...]  # aliases at the same address, global names first
    start: int
    size: int

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class _Insn:
    address: int
    mnemonic: str
    operands: str


_COND = r"(?:eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?"
# Direct branches: calls (bl, blx label), tail calls and local jumps (b, b<cond>, cbz, cbnz).
_BRANCH = re.compile(rf"^(?:bl|blx|b|cbn?z){_COND}(?:\.[nw])?$")
_TARGET = re.compile(r"([0-9a-f]+) <[^>]*>$")
# VFP/FPU: on Cortex-M every "v" mnemonic is an FPU instruction (its integer SIMD ops are sadd8,
# smlad, ...); fldmx/fstmx are the pre-UAL names; cp10/cp11 are the FPU's coprocessor numbers.
_FPU = re.compile(r"^(?:v|fldm|fstm)")
# With the M-profile Vector Extension (Helium) "v" mnemonics are also integer vector instructions,
# and GCC loads vector constants into d registers. There an instruction is floating point when it
# names a floating-point type (vadd.f32, vcvt.s32.f32, vmaxnm.f16) or a single-precision register.
_FLOAT_TYPE = re.compile(r"\.b?f\d+\b")
_S_REGISTER = re.compile(r"\bs\d{1,2}\b")
_COPROC = re.compile(rf"^(?:mcrr?|mrrc|mrc|ldc|stc|cdp)2?l?{_COND}(?:\.[nw])?$")
_FP_COPROC_OPERAND = re.compile(r"^p1[01]\b")
_FLOAT_MODE = r"(?:[sdtxhb]f|[sdtx]c)"  # GCC machine modes: float (sf, df, ...) and complex (sc, dc, ...)
_FLOAT_HELPER = re.compile(
    r"^__(?:"
    r"aeabi_(?:[fd]|c[fd]r?cmp|u?[il]2[fd]|h2f|d2h)"  # RTABI: __aeabi_fadd, __aeabi_d2iz, __aeabi_i2f...
    rf"|[a-z]+{_FLOAT_MODE}\d"  # libgcc: __addsf3, __eqdf2, __extendsfdf2, __mulsc3...
    rf"|float[a-z]*{_FLOAT_MODE}|fix[a-z]*{_FLOAT_MODE}[a-z]*"  # __floatsisf, __fixunsdfsi...
    r"|gnu_[fdh]2[fh]"  # half precision: __gnu_f2h_ieee, __gnu_h2f_alternative
    r")"
)
_LINE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)[ \t]*(.*)$")


def _is_float_helper(name: str) -> bool:
    """A soft-float routine of the ARM run-time ABI or libgcc (integer helpers such as
    __aeabi_uldivmod are not)."""
    return _FLOAT_HELPER.match(name) is not None


def _functions(elf: Path) -> dict[int, _Function]:
    """STT_FUNC symbols by start address (Thumb bit cleared), aliases merged."""
    found: dict[int, list[tuple[bool, str, int]]] = {}
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            raise ValueError(f"{elf} has no symbol table (stripped?): cannot find its functions")
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] == "STT_FUNC" and sym.name:
                local = sym["st_info"]["bind"] == "STB_LOCAL"
                found.setdefault(sym["st_value"] & ~1, []).append((local, sym.name, sym["st_size"]))
    return {
        start: _Function(tuple(n for _, n, _ in sorted(syms)), start, max(s for _, _, s in syms))
        for start, syms in found.items()
    }


class _Locator:
    """Which function an address is in: the one whose symbol's range holds it."""

    def __init__(self, functions: dict[int, _Function]):
        self.functions = functions
        self.starts = sorted(functions)

    def end(self, fn: _Function) -> int:
        """Where the function ends: its symbol's size, or the next function for a symbol without one."""
        if fn.size:
            return fn.start + fn.size
        i = bisect.bisect_right(self.starts, fn.start)
        return self.starts[i] if i < len(self.starts) else fn.start + 1

    def containing(self, address: int) -> _Function | None:
        i = bisect.bisect_right(self.starts, address) - 1
        fn = self.functions[self.starts[i]] if i >= 0 else None
        return fn if fn is not None and address < self.end(fn) else None


def _disassemble(elf: Path, *options: str) -> str:
    """`arm-none-eabi-objdump -d --no-show-raw-insn [options] elf`, the executable sections' text."""
    objdump = require_tool("arm-none-eabi-objdump")
    cmd = [objdump, "-d", "--no-show-raw-insn", *options, str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"arm-none-eabi-objdump could not disassemble {elf}: {proc.stderr.strip()}")
    return proc.stdout


def _parse_objdump(text: str) -> list[_Insn]:
    """The instruction lines of `objdump -d --no-show-raw-insn`, by address (labels are not needed: a
    function's instructions are the ones inside its symbol's address range)."""
    insns = []
    for line in text.splitlines():
        if m := _LINE.match(line):
            operands = re.split(r"\t[@;]", m.group(3), maxsplit=1)[0].replace("\t", " ").strip()
            insns.append(_Insn(int(m.group(1), 16), m.group(2), operands))
    return sorted(insns, key=lambda i: i.address)


def _is_fp_instruction(insn: _Insn, vector_integer: bool) -> bool:
    if _COPROC.match(insn.mnemonic) and _FP_COPROC_OPERAND.match(insn.operands):
        return True
    if not _FPU.match(insn.mnemonic):
        return False
    if not vector_integer:
        return True
    return bool(_FLOAT_TYPE.search(insn.mnemonic) or _S_REGISTER.search(insn.operands))


def _scan(
    elf: Path, functions: dict[int, _Function], code: list[_Insn], roots: tuple[str, ...],
    vector_integer: bool = False,
) -> FloatScan:
    """Walk the direct call graph from the roots, collecting FP instructions and soft-float calls."""
    by_name = {name: fn for fn in functions.values() for name in fn.names}
    located = _Locator(functions)
    end, containing = located.end, located.containing
    addresses = [i.address for i in code]

    missing = [r for r in roots if r not in by_name]
    if missing:
        raise ValueError(f"root function {', '.join(missing)} not found in {elf}")
    todo = [by_name[r] for r in roots]
    reachable = {fn.start: fn for fn in todo}
    uses: list[FloatUse] = []
    while todo:
        fn = todo.pop()
        for insn in code[bisect.bisect_left(addresses, fn.start) : bisect.bisect_left(addresses, end(fn))]:
            if _is_fp_instruction(insn, vector_integer):
                uses.append(FloatUse(fn.name, insn.address, f"{insn.mnemonic} {insn.operands}".strip()))
                continue
            target = _TARGET.search(insn.operands) if _BRANCH.match(insn.mnemonic) else None
            callee = containing(int(target.group(1), 16)) if target else None
            if callee is None or callee is fn:
                continue
            helper = next((n for n in callee.names if _is_float_helper(n)), None)
            if helper is not None:
                uses.append(FloatUse(fn.name, insn.address, f"call to {helper} (soft-float helper)"))
            if callee.start not in reachable:
                reachable[callee.start] = callee
                if helper is None:  # a helper is reported at its call, not walked into
                    todo.append(callee)
    return FloatScan(
        elf=elf,
        roots=roots,
        reachable=tuple(sorted(fn.name for fn in reachable.values())),
        uses=tuple(sorted(uses, key=lambda u: u.address)),
    )


#: The firmware's entry points: reset (which calls main) and the fault handler (vector table only).
FIRMWARE_ROOTS = ("hk_reset_handler", "hk_fault_handler")


def scan_elf(elf: Path, roots: tuple[str, ...] = FIRMWARE_ROOTS, vector_integer: bool = False) -> FloatScan:
    """Prove (or refute) that no function reachable from `roots` in the ELF uses floating point.
    `vector_integer`: the core has MVE, whose integer vector instructions are allowed."""
    return _scan(Path(elf), _functions(elf), _parse_objdump(_disassemble(elf)), tuple(roots), vector_integer)

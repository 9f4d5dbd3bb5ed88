"""The instruction-set proof: the linked image holds no instruction its target's architecture lacks.

The same sources are built for Armv6-M (Cortex-M0) up to Armv8.1-M (Cortex-M55). A kernel compiled
with the wrong `-mcpu`, a hand-written `.arch` directive, or a library from the wrong multilib puts an
instruction into the image that the core does not have; it faults (UsageFault or HardFault) only on
the path that executes it, and an emulator configured for a bigger core may run it without a word.
This scan checks the ELF itself.

How, and why this way:

* Decoding. `arm-none-eabi-objdump -d -m armv8.1-m.main` decodes every M-profile instruction,
  including the Armv8.1-M ones (MVE, low-overhead branches, CSEL...). Asking objdump to decode for
  the *target's* architecture proves nothing: binutils 2.40 given `-m armv6-m` still prints SDIV,
  SMLAD, CBZ, IT, SG, TT... as valid (its Thumb-2 tables are not gated per M-profile architecture),
  and its default follows the ELF's build attributes, which the linker merges (one Armv7E-M object
  makes an M0 image claim Armv7E-M). So the scan decodes with the widest architecture and takes the
  architecture to check against from the caller (the Target), never from the ELF.
* Classifying. Per architecture, by rule tables written from the Arm Architecture Reference
  Manuals and cross-checked against GNU as (tests/test_isascan.py assembles each table entry with
  `.arch <arch>` and expects exactly the entries the table refuses to be rejected):
    - armv6-m, an allow-list: every 16-bit Thumb instruction except CBZ, CBNZ and IT (the only
      16-bit encodings Armv7-M added), plus the six 32-bit ones Armv6-M has (BL, MRS, MSR, DMB,
      DSB, ISB); MRS/MSR only on Armv6-M's special registers. The encoding size comes from the
      image's bytes (a first halfword 0b11101/0b11110/0b11111... is 32-bit), not from objdump's
      text, so a 32-bit ADD.W or LDR.W cannot pass for its 16-bit namesake.
    - the others, deny-lists by the extension that brings the instruction: the DSP extension
      (Armv7E-M: SMLAD, SXTB16, QADD16, SEL, PKHBT, SMMLA, SSAT16...; SMULL, SMLAL, UMULL, UMLAL,
      SSAT, USAT, SDIV, UDIV are base Armv7-M; and MSR APSR_g), floating point (none of the Armv7-M
      cores has an FPU; the FP extension is allowed from Armv7E-M on, at the architecture's widest,
      double precision included: which FPU a core has is the no-float scan's and the compiler's
      flags' business),
      Armv8-M Mainline (SG, TT*, BXNS/BLXNS, LDA*/STL*, VLLDM/VLSTM, the stack-limit and _NS
      special registers), Armv8.1-M Mainline (low-overhead branches WLS/DLS/LE/LETP/WLSTP/DLSTP/
      LCTP and branch future BF*, CSEL/CSINC/CSINV/CSNEG/CSET/CSETM/CINC/CINV/CNEG, CLRM/VSCCLRM,
      PACBTI, MVE vector instructions (any V* instruction on a Q register, VPT/VPST/VCTP/VPNOT)
      and MVE's scalar long shifts (ASRL, LSLL, UQRSHLL...), FP16 arithmetic, FPCXT/VPR/P0
      accesses).
    - on every architecture, an encoding objdump cannot decode even for Armv8.1-M is refused.
  The tables are stricter than GNU as in one place: as encodes MRS/MSR on any special register,
  where the Arm ARM makes one the architecture lacks UNPREDICTABLE; the scan refuses it.
* Data in code. Literal pools, jump tables and the read-only data the linker script places in
  .text are marked by the ELF's mapping symbols ($d data, $t Thumb code), which the assembler emits
  and the linker keeps. Only bytes in $t regions are instructions; objdump's `.word`/`.short`/
  hex-dump lines in $d regions are skipped, so a constant that happens to look like SDIV is never
  counted. An executable section without any mapping symbol is scanned as code (fail closed).
  objdump runs with -D (restricted by -j to the executable sections): plain -d prints the bytes under
  an STT_OBJECT symbol as a hex dump even inside a $t region, which would hide instructions there.
  As a second guard every byte of a code region must be covered by a decoded instruction (objdump
  only skips runs of zero bytes, which are MOVS r0, r0); a gap is refused.
* Coverage. The WHOLE of every executable section is scanned, not only what is reachable from the
  entry points as in the no-float scan: the question here is whether the image is built for the
  core, and code reached through the vector table or a function pointer (which a direct-branch
  walk does not follow) faults just the same. Dead code for the wrong core is a build error too.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.build.floatscan import _disassemble, _functions, _Insn, _Locator, _parse_objdump
from harness.errors import InputError

#: The architectures the scan knows, oldest first; each one contains everything before it (Armv8-M
#: Mainline with its DSP and FP extensions, as the Cortex-M33 has them).
ARCHITECTURES: tuple[str, ...] = ("armv6-m", "armv7-m", "armv7e-m", "armv8-m.main", "armv8.1-m.main")
_RANK = {arch: i for i, arch in enumerate(ARCHITECTURES)}


class UnknownArchitecture(InputError):
    """The instruction-set scan was asked about an architecture it has no rules for."""

    def __init__(self, arch: str):
        super().__init__(
            f"unknown architecture '{arch}' for the instruction-set scan",
            f"use one of {', '.join(ARCHITECTURES)} (a Target's arch)",
        )
        self.arch = arch


@dataclass(frozen=True)
class IsaUse:
    function: str  # function containing it (or section+offset when no function symbol covers it)
    address: int
    what: str  # e.g. "sdiv r0, r0, r1 (not in armv6-m)"


@dataclass(frozen=True)
class IsaScan:
    elf: Path
    arch: str  # the architecture checked against (the target's, not the ELF's attributes)
    instructions: int  # instructions decoded in the executable sections' code regions
    uses: tuple[IsaUse, ...]  # instructions the architecture lacks, by address

    @property
    def ok(self) -> bool:
        """True when every instruction in the image is in the architecture."""
        return not self.uses

    def summary(self) -> str:
        """One line for a report or an assertion message."""
        if self.ok:
            return f"instruction-set scan: OK, {self.instructions:,} instructions, all in {self.arch}"
        shown = "; ".join(f"{u.function} at {u.address:#010x}: {u.what}" for u in self.uses[:5])
        more = f"; ... ({len(self.uses) - 5} more)" if len(self.uses) > 5 else ""
        return f"instruction-set scan: FAILED, {len(self.uses)} instructions not in {self.arch}: {shown}{more}"


# -- the rules -----------------------------------------------------------------------------------
_CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")

#: Armv6-M: the 16-bit Thumb instructions (all of Thumb-1 but CBZ/CBNZ/IT, which Armv7-M added)...
_V6M_16 = frozenset(
    "adc adcs add adds adr and ands asr asrs b bic bics bkpt blx bx cmn cmp cpsid cpsie eor eors "
    "ldm ldmia ldmfd ldr ldrb ldrh ldrsb ldrsh lsl lsls lsr lsrs mov movs mul muls mvn mvns neg negs nop "
    "orr orrs pop push rev rev16 revsh ror rors rsb rsbs sbc sbcs sev stm stmia stmea str strb strh sub "
    "subs svc sxtb sxth tst udf uxtb uxth wfe wfi yield".split()
)
#: ... and its only 32-bit ones.
_V6M_32 = frozenset("bl mrs msr dmb dsb isb".split())
#: The special registers MRS/MSR can name on Armv6-M (Armv7-M adds BASEPRI and FAULTMASK); objdump
#: prints APSR as CPSR, APSR_nzcvq as CPSR_f and XPSR as PSR.
_V6M_SYSREGS = frozenset("apsr cpsr iapsr eapsr xpsr psr ipsr epsr iepsr msp psp primask control".split())
#: Writing APSR.GE (APSR_g, APSR_nzcvqg; objdump's CPSR_s, CPSR_fs) needs the DSP extension.
_DSP_SYSREGS = re.compile(r"^(?:cpsr_f?s|\w*apsr_(?:nzcvq)?g)$")

#: The DSP extension (Armv7E-M; optional in Armv8-M Mainline, which the Cortex-M33 here has).
_DSP = frozenset(
    [f"{p}{op}" for p in ("s", "q", "sh", "u", "uq", "uh") for op in ("add16", "asx", "sax", "sub16", "add8", "sub8")]
    + "qadd qsub qdadd qdsub sel usad8 usada8 pkhbt pkhtb ssat16 usat16 umaal "
    "sxtab sxtah sxtab16 sxtb16 uxtab uxtah uxtab16 uxtb16 "
    "smlabb smlabt smlatb smlatt smlad smladx smlawb smlawt smlsd smlsdx smmla smmlar smmls smmlsr "
    "smlalbb smlalbt smlaltb smlaltt smlald smlaldx smlsld smlsldx "
    "smulbb smulbt smultb smultt smulwb smulwt smuad smuadx smusd smusdx smmul smmulr".split()
)
#: Armv8-M Mainline over Armv7E-M: the Security Extension and load-acquire/store-release.
_V8M = frozenset(
    "sg tt ttt tta ttat bxns blxns lda ldab ldah ldaex ldaexb ldaexh stl stlb stlh stlex stlexb stlexh "
    "vlldm vlstm".split()
)
_V8M_SYSREGS = re.compile(r"\b(?:msplim|psplim|\w+_ns)\b")
#: Armv8.1-M Mainline over Armv8-M: low-overhead loops and branch future, conditional select, CLRM,
#: pointer authentication...
_V81M = frozenset(
    "wls dls le letp wlstp dlstp lctp bf bfx bfl bflx bfcsel "
    "csel csinc csinv csneg cset csetm cinc cinv cneg clrm vscclrm pac pacbti pacg aut autg bti bxaut".split()
)
#: ... and MVE's scalar (long) shifts, which work on general-purpose registers.
_MVE_SHIFTS = frozenset(
    "asrl lsll lsrl sqrshr sqrshrl sqshl sqshll srshr srshrl uqrshl uqrshll uqshl uqshll urshr urshrl".split()
)
_MVE_ONLY = re.compile(r"^(?:vpst|vpt|vctp|vpnot)")  # vector predication: MVE without a Q register
_Q_REGISTER = re.compile(r"\bq\d{1,2}\b")
_V81M_SYSREGS = re.compile(r"\b(?:fpcxt_ns|fpcxt_s|fpcxtns|fpcxts|vpr|p0|fpscr_nzcvqc)\b")
_FP_COPROC = re.compile(rf"^(?:mcrr?|mrrc|mrc|ldc|stc|cdp)2?l?(?:{'|'.join(_CONDITIONS)})?$")


def _base(mnemonic: str) -> str:
    """The mnemonic without its width qualifier (.n/.w) or data type (.s8, .f32...)."""
    return mnemonic.lower().split(".", 1)[0]


def _unconditional(base: str, known: frozenset[str]) -> str:
    """`base` without the condition objdump appends inside an IT block (smladeq -> smlad), when that
    gives a known mnemonic; otherwise `base` itself (teq stays teq)."""
    if base in known:
        return base
    for cond in _CONDITIONS:
        if base.endswith(cond) and base[: -len(cond)] in known:
            return base[: -len(cond)]
    return base


def _sysreg(insn: _Insn) -> str:
    """The special register an MRS/MSR names, lower case (an MSR's _nzcvq field mask, which Armv6-M
    has, folded into the register: CPSR_f and APSR_nzcvq are APSR)."""
    parts = [p.strip() for p in insn.operands.lower().split(",")]
    reg = (parts[-1] if _base(insn.mnemonic).startswith("mrs") else parts[0]) if parts else ""
    return "cpsr" if reg == "cpsr_f" else re.sub(r"_nzcvq$", "", reg)


def _needs(insn: _Insn) -> tuple[int, str]:
    """The oldest architecture (rank) with the instruction and the extension that brought it; rank 1
    (Armv7-M) for any other decoded instruction."""
    base = _base(insn.mnemonic)
    operands = insn.operands.lower()
    fp = base.startswith("v") or base in ("fldmx", "fstmx") or (
        _FP_COPROC.match(base) is not None and re.match(r"p1[01]\b", operands) is not None
    )
    if fp:
        if _Q_REGISTER.search(operands) or _MVE_ONLY.match(base):
            return _RANK["armv8.1-m.main"], "MVE, Armv8.1-M"
        if _V81M_SYSREGS.search(operands) or base in _V81M:
            return _RANK["armv8.1-m.main"], "Armv8.1-M"
        if ".f16" in insn.mnemonic.lower() and not base.startswith("vcvt"):
            return _RANK["armv8.1-m.main"], "half-precision arithmetic, Armv8.1-M"
        if base in _V8M:
            return _RANK["armv8-m.main"], "Armv8-M Mainline"
        return _RANK["armv7e-m"], "floating point: no Armv7-M core has an FPU"
    if _unconditional(base, _MVE_SHIFTS) in _MVE_SHIFTS:
        return _RANK["armv8.1-m.main"], "MVE scalar shift, Armv8.1-M"
    if _unconditional(base, _V81M) in _V81M:
        return _RANK["armv8.1-m.main"], "Armv8.1-M"
    if _unconditional(base, _V8M) in _V8M:
        return _RANK["armv8-m.main"], "Armv8-M Mainline"
    if base.startswith(("mrs", "msr")) and _V8M_SYSREGS.search(_sysreg(insn)):
        return _RANK["armv8-m.main"], "Armv8-M special register"
    if _unconditional(base, _DSP) in _DSP or (base.startswith("msr") and _DSP_SYSREGS.match(_sysreg(insn))):
        return _RANK["armv7e-m"], "DSP extension, Armv7E-M"
    return _RANK["armv7-m"], "Armv7-M"


_MNEMONIC = re.compile(r"^[a-z][a-z0-9]*(?:\.[a-z0-9]+)*$")


def _undecoded(insn: _Insn) -> bool:
    """objdump could not decode it (even for Armv8.1-M), or printed data where code should be."""
    operands = insn.operands.lower()
    return not _MNEMONIC.match(insn.mnemonic.lower()) or "<undefined>" in operands or "illegal" in operands


def _lacks(insn: _Insn, size: int, arch: str) -> str | None:
    """Why `arch` lacks the instruction, or None when it has it."""
    if _undecoded(insn):
        return "not a valid instruction in any M-profile architecture"
    if arch == "armv6-m":
        base = _base(insn.mnemonic)
        if size == 4:
            if base not in _V6M_32:
                return "a 32-bit Thumb-2 encoding"
        elif not (base in _V6M_16 or (base[:1] == "b" and base[1:] in _CONDITIONS)):
            if base in ("cbz", "cbnz") or base.startswith("it"):
                return "a 16-bit encoding Armv7-M added"
            if _unconditional(base, _V6M_16) in _V6M_16:
                return "conditional execution in an IT block, Armv7-M"
            return ""
        if base in ("mrs", "msr") and _sysreg(insn) not in _V6M_SYSREGS:
            return f"special register {_sysreg(insn)} is not in Armv6-M"
        return None
    rank, what = _needs(insn)
    return what if rank > _RANK[arch] else None


# -- the image -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _CodeMap:
    """The executable sections' bytes and their mapping symbols ($t code, $d data)."""

    sections: tuple[tuple[str, int, bytes], ...]  # name, address, contents
    marks: dict[str, tuple[list[int], list[str]]]  # section -> (sorted addresses, kinds 't'/'d'/'a')

    def section(self, address: int) -> tuple[str, int, bytes] | None:
        for name, start, data in self.sections:
            if start <= address < start + len(data):
                return name, start, data
        return None

    def is_code(self, name: str, address: int) -> bool:
        addresses, kinds = self.marks.get(name, ([], []))
        i = bisect.bisect_right(addresses, address) - 1
        return i < 0 or kinds[i] != "d"  # before any mapping symbol: scanned as code (fail closed)


def _code_map(elf: Path) -> _CodeMap:
    sections: list[tuple[str, int, bytes]] = []
    marks: dict[str, list[tuple[int, str]]] = {}
    with open(elf, "rb") as f:
        image = ELFFile(f)
        by_index = {}
        for index, sec in enumerate(image.iter_sections()):
            if sec["sh_flags"] & SH_FLAGS.SHF_EXECINSTR and sec["sh_type"] == "SHT_PROGBITS":
                sections.append((sec.name, sec["sh_addr"], sec.data()))
                by_index[index] = sec.name
        symtab = image.get_section_by_name(".symtab")
        if isinstance(symtab, SymbolTableSection):
            for sym in symtab.iter_symbols():
                m = re.match(r"^\$([atd])(?:\.|$)", sym.name)
                shndx = sym["st_shndx"]
                if m and isinstance(shndx, int) and shndx in by_index:
                    marks.setdefault(by_index[shndx], []).append((sym["st_value"] & ~1, m.group(1)))
    return _CodeMap(
        tuple(sections),
        {name: ([a for a, _ in sorted(ms)], [k for _, k in sorted(ms)]) for name, ms in marks.items()},
    )


def _size(data: bytes, offset: int) -> int:
    """2 or 4: a Thumb instruction whose first halfword starts 0b11101, 0b11110 or 0b11111 is 32-bit."""
    if offset + 2 > len(data):
        return 2
    first = int.from_bytes(data[offset : offset + 2], "little")
    return 4 if first >> 11 in (0b11101, 0b11110, 0b11111) else 2


def scan_isa(elf: Path, arch: str) -> IsaScan:
    """Prove (or refute) that every instruction in the ELF's executable sections is in `arch` (one of
    ARCHITECTURES: take it from the Target, not from the ELF's merged build attributes)."""
    if arch not in _RANK:
        raise UnknownArchitecture(arch)
    elf = Path(elf)
    code_map = _code_map(elf)
    located = _Locator(_functions(elf))
    count = 0
    uses = []

    def use(address: int, section: str, offset: int, what: str) -> None:
        fn = located.containing(address)
        uses.append(IsaUse(fn.name if fn is not None else f"{section}+{offset:#x}", address, what))

    expected: int | None = None  # where the next instruction starts, after a code line
    sections = [option for name, _, _ in code_map.sections for option in ("-j", name)]
    listing = _disassemble(elf, "-D", *sections, "-m", "armv8.1-m.main") if sections else ""
    for insn in _parse_objdump(listing):
        where = code_map.section(insn.address)
        if where is None:
            expected = None
            continue
        name, start, data = where
        if not code_map.is_code(name, insn.address):
            expected = None
            continue  # a literal pool, jump table or constant: data in code
        offset = insn.address - start
        if expected is not None and expected != insn.address and code_map.section(expected) == where:
            # Every byte of code is decoded: objdump only skips runs of zeros (MOVS r0, r0).
            gap = data[expected - start : offset]
            if expected > insn.address or any(gap):
                use(expected, name, expected - start, f"bytes {expected:#x}..{insn.address:#x} not decoded as "
                    f"instructions (not in {arch}: not a valid instruction stream)")
        count += 1
        size = _size(data, offset)
        expected = insn.address + size
        reason = _lacks(insn, size, arch)
        if reason is not None:
            text = f"{insn.mnemonic} {insn.operands}".strip()
            use(insn.address, name, offset, f"{text} (not in {arch}{': ' + reason if reason else ''})")
    return IsaScan(elf=elf, arch=arch, instructions=count, uses=tuple(sorted(uses, key=lambda u: u.address)))

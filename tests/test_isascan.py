"""The instruction-set proof: every target's image holds only instructions its core's architecture has,
and the scan really refuses an instruction from a bigger architecture slipped into a small one (while
a literal pool that happens to look like one is left alone)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from harness.build import ToolchainMissing, build_firmware
from harness.build.floatscan import _disassemble, _parse_objdump
from harness.build.isascan import _RANK, ARCHITECTURES, IsaScan, IsaUse, UnknownArchitecture, _lacks, _size, scan_isa
from harness.errors import InputError
from harness.targets import TARGETS, get_target
from harness.zoo import load

needs_toolchain = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("arm-none-eabi-objdump") is None,
    reason="arm-none-eabi-gcc/objdump not on PATH: run `make bootstrap`",
)

M0 = ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft")
M3 = ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft")
M4 = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_target_kws_cnn_image_is_in_its_architecture(name: str) -> None:
    target = get_target(name)
    try:
        elf = build_firmware(load("kws_cnn"), target).elf
    except ToolchainMissing as e:
        pytest.skip(f"no cross toolchain: {e}")
    scan = scan_isa(elf, target.arch)
    assert scan.ok, scan.summary()
    assert scan.arch == target.arch and scan.instructions > 1000
    assert scan.summary() == f"instruction-set scan: OK, {scan.instructions:,} instructions, all in {target.arch}"


def _image(tmp_path: Path, cpu: tuple[str, ...], asm: str, name: str = "victim") -> Path:
    """A tiny -nostdlib image for `cpu` whose function `name` runs the inline assembly `asm`."""
    source = tmp_path / f"{name}.c"
    source.write_text(
        f"int {name}(int a, int b) {{\n"
        f'    __asm volatile(".syntax unified\\n{asm}" : "+r"(a) : "r"(b) : "r0", "r1", "r2", "lr", "memory");\n'
        "    return a;\n"
        "}\n"
        f"void _start(void) {{ {name}(1, 2); for (;;) {{}} }}\n"
    )
    elf = tmp_path / f"{name}.elf"
    cmd = ["arm-none-eabi-gcc", *cpu, "-O1", "-nostdlib", "-Wl,-e,_start", "-Wl,--no-warn-rwx-segments",
           "-o", str(elf), str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return elf


def _refused(scan: IsaScan, mnemonic: str) -> list[IsaUse]:
    return [u for u in scan.uses if u.what.split(" ", 1)[0] == mnemonic]


@needs_toolchain
def test_sdiv_on_m0_is_refused_naming_instruction_and_function(tmp_path: Path) -> None:
    elf = _image(tmp_path, M0, r".arch armv7-m\n\tsdiv r0, r0, r1\n\t.arch armv6-m")
    scan = scan_isa(elf, "armv6-m")
    assert not scan.ok
    assert [(u.function, u.what) for u in scan.uses] == [
        ("victim", "sdiv r0, r0, r1 (not in armv6-m: a 32-bit Thumb-2 encoding)")
    ]
    assert re.fullmatch(
        r"instruction-set scan: FAILED, 1 instructions not in armv6-m: victim at 0x[0-9a-f]{8}: sdiv r0, r0, r1 "
        r"\(not in armv6-m: a 32-bit Thumb-2 encoding\)",
        scan.summary(),
    ), scan.summary()
    assert scan_isa(elf, "armv7-m").ok  # the same image is fine for a Cortex-M3


@needs_toolchain
def test_raw_encodings_and_code_under_an_object_symbol_are_decoded(tmp_path: Path) -> None:
    # No .arch: the bytes of SDIV put in with .inst.w, under an STT_OBJECT symbol (which plain
    # `objdump -d` would print as a hex dump, not as instructions).
    asm = r"\t.type blob, %%object\nblob:\n\t.inst.w 0xfb90f0f1\n\t.size blob, 4\n\tnop"
    scan = scan_isa(_image(tmp_path, M0, asm), "armv6-m")
    assert [(u.function, u.what) for u in scan.uses] == [
        ("victim", "sdiv r0, r0, r1 (not in armv6-m: a 32-bit Thumb-2 encoding)")
    ], scan.summary()


@needs_toolchain
def test_cbz_it_and_wide_encodings_on_m0_are_refused(tmp_path: Path) -> None:
    asm = r".arch armv7-m\n\tcbz r0, 1f\n\tit eq\n\tmoveq r0, r1\n\tadd.w r0, r0, r1\n1:\n\t.arch armv6-m"
    scan = scan_isa(_image(tmp_path, M0, asm), "armv6-m")
    assert {u.function for u in scan.uses} == {"victim"}
    assert [u.what.split(" ", 1)[0] for u in scan.uses] == ["cbz", "it", "moveq", "add.w"], scan.summary()
    assert "a 16-bit encoding Armv7-M added" in _refused(scan, "cbz")[0].what
    assert "a 32-bit Thumb-2 encoding" in _refused(scan, "add.w")[0].what
    assert "conditional execution in an IT block" in _refused(scan, "moveq")[0].what


@needs_toolchain
def test_a_v7m_special_register_on_m0_is_refused(tmp_path: Path) -> None:
    scan = scan_isa(_image(tmp_path, M0, r".arch armv7-m\n\tmrs r0, BASEPRI\n\t.arch armv6-m"), "armv6-m")
    assert [u.what for u in scan.uses] == [
        "mrs r0, BASEPRI (not in armv6-m: special register basepri is not in Armv6-M)"
    ]


@needs_toolchain
def test_a_literal_pool_word_that_decodes_as_sdiv_does_not_count(tmp_path: Path) -> None:
    # 0xf0f1fb90 in memory is the halfwords fb90 f0f1: `sdiv r0, r0, r1`, were it code.
    asm = r"ldr r0, =0xf0f1fb90\n\tb 2f\n\t.ltorg\n2:"
    elf = _image(tmp_path, M0, asm)
    listing = _disassemble(elf, "-m", "armv8.1-m.main")
    assert re.search(r"\.word\t0xf0f1fb90", listing), listing
    scan = scan_isa(elf, "armv6-m")
    assert scan.ok, scan.summary()
    counted = [i for i in _parse_objdump(listing) if not i.mnemonic.startswith(".")]
    assert scan.instructions == len(counted)


@needs_toolchain
def test_smlad_on_m3_is_refused_but_smull_and_sdiv_are_base_v7m(tmp_path: Path) -> None:
    asm = (r".arch armv7e-m\n\tsmlad r0, r0, r1, r0\n\tsxtb16 r1, r1\n\t"
           r"smull r0, r1, r0, r1\n\tsdiv r0, r0, r1\n\tusat r0, #7, r0\n\t.arch armv7-m")
    elf = _image(tmp_path, M3, asm)
    scan = scan_isa(elf, "armv7-m")
    assert [(u.function, u.what) for u in scan.uses] == [
        ("victim", "smlad r0, r0, r1, r0 (not in armv7-m: DSP extension, Armv7E-M)"),
        ("victim", "sxtb16 r1, r1 (not in armv7-m: DSP extension, Armv7E-M)"),
    ], scan.summary()
    assert scan_isa(elf, "armv7e-m").ok


@needs_toolchain
def test_mve_lob_csel_and_v8m_on_m4_are_refused(tmp_path: Path) -> None:
    asm = (r".arch armv8.1-m.main\n\t.arch_extension mve\n\tdls lr, r0\n\tvldrb.u8 q0, [r1]\n\t"
           r"vmladav.s8 r0, q0, q0\n\tcsel r0, r1, r2, eq\n\tlda r0, [r1]\n\t.arch armv7e-m")
    elf = _image(tmp_path, M4, asm)
    scan = scan_isa(elf, "armv7e-m")
    assert {u.function for u in scan.uses} == {"victim"}
    assert [u.what.split(" ", 1)[0] for u in scan.uses] == ["dls", "vldrb.u8", "vmlav.s8", "csel", "lda"]
    assert "MVE, Armv8.1-M" in _refused(scan, "vldrb.u8")[0].what
    assert "Armv8-M Mainline" in _refused(scan, "lda")[0].what
    v8m = scan_isa(elf, "armv8-m.main")
    assert [u.what.split(" ", 1)[0] for u in v8m.uses] == ["dls", "vldrb.u8", "vmlav.s8", "csel"]
    assert scan_isa(elf, "armv8.1-m.main").ok


def test_unknown_architecture_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown architecture 'armv9-a'") as caught:
        scan_isa(tmp_path / "nothing.elf", "armv9-a")
    assert isinstance(caught.value, UnknownArchitecture) and caught.value.kind == "input"
    assert "use one of armv6-m, armv7-m, armv7e-m, armv8-m.main, armv8.1-m.main" in str(caught.value)
    assert set(t.arch for t in TARGETS.values()) <= set(ARCHITECTURES)


#: One instruction a line, assembled by GNU as for each architecture: the tables must refuse exactly
#: the lines the assembler rejects (FP is given to the assembler from armv7e-m on, MVE to armv8.1-m).
ORACLE = """\
adds r0, r1, #1
add.w r0, r1, r2
movw r0, #1234
mul r0, r1, r0
mla r0, r1, r2, r3
smull r0, r1, r2, r3
umlal r0, r1, r2, r3
sdiv r0, r1, r2
ssat r0, #7, r1
usat r0, #7, r1
clz r0, r1
rbit r0, r1
ubfx r0, r1, #2, #3
tbb [r0, r1]
ldrex r0, [r1]
cbnz r0, .+4
mrs r0, PRIMASK
msr BASEPRI, r0
msr APSR_nzcvq, r0
mrs r0, XPSR
msr APSR_g, r0
dmb sy
sxtb r0, r1
uxth r0, r1
rev r0, r1
qadd r0, r1, r2
qsub8 r0, r1, r2
uhadd16 r0, r1, r2
shsax r0, r1, r2
sel r0, r1, r2
pkhtb r0, r1, r2, asr #3
smlabt r0, r1, r2, r3
smlaldx r0, r1, r2, r3
smmlsr r0, r1, r2, r3
smusd r0, r1, r2
umaal r0, r1, r2, r3
uxtab16 r0, r1, r2
ssat16 r0, #7, r1
usada8 r0, r1, r2, r3
vadd.f32 s0, s1, s2
vldr d0, [r0]
vmov r0, s1
sg
tt r0, r1
ttat r0, r1
stlexh r0, r1, [r2]
ldab r0, [r1]
bxns lr
msr MSPLIM, r0
wls lr, r0, .+8
le lr, .-4
csinc r0, r1, r2, ne
cneg r0, r1, mi
lsll r0, r1, #3
uqrshl r0, r1
vctp.16 r0
vaddv.s8 r0, q1
vmlav.s16 r0, q0, q1
vpst
"""
_ORACLE_SETUP = {
    "armv6-m": ".arch armv6-m",
    "armv7-m": ".arch armv7-m",
    "armv7e-m": ".arch armv7e-m\n.fpu fpv5-d16",
    "armv8-m.main": ".arch armv8-m.main\n.arch_extension dsp\n.fpu fpv5-d16",
    "armv8.1-m.main": ".arch armv8.1-m.main\n.arch_extension dsp\n.arch_extension mve\n.fpu fpv5-d16",
}


@needs_toolchain
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_tables_agree_with_the_assembler(tmp_path: Path, arch: str) -> None:
    lines = ORACLE.splitlines()
    header = ".syntax unified\n.thumb\n"

    def assemble(setup: str, name: str) -> tuple[Path, set[int]]:
        src = tmp_path / f"{name}.s"
        src.write_text(header + setup + "\n" + ORACLE)
        obj = tmp_path / f"{name}.o"
        cmd = ["arm-none-eabi-as", "-o", str(obj), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        offset = len((header + setup).splitlines()) + 1
        return obj, {int(n) - offset for n in re.findall(rf"{re.escape(str(src))}:(\d+): Error", proc.stderr)}

    obj, failed = assemble(_ORACLE_SETUP["armv8.1-m.main"], "all")
    assert not failed, f"the widest architecture must take every line, not {failed}"
    listing = _disassemble(obj, "-m", "armv8.1-m.main")
    code = [i for i in _parse_objdump(listing) if not i.mnemonic.startswith(".")]
    assert len(code) == len(lines), listing
    with open(obj, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text").data()
    refused = {i for i, insn in enumerate(code) if _lacks(insn, _size(text, insn.address), arch) is not None}
    _, rejected = assemble(_ORACLE_SETUP[arch], arch)
    # The one place the scan is stricter than the assembler: GNU as encodes MRS/MSR on any special
    # register number, while the Arm ARM makes a register the architecture lacks UNPREDICTABLE.
    lenient = {"msr MSPLIM, r0"} | ({"msr BASEPRI, r0"} if arch == "armv6-m" else set())
    lenient = lenient if _RANK[arch] < _RANK["armv8-m.main"] else set()
    assert {lines[i] for i in refused} == {lines[i] for i in rejected} | lenient

"""The no-float proof: every zoo firmware is free of floating point on every path from main, and the
scan really catches a float (FPU instruction) or a double (soft-float helper call) slipped into a kernel."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.build import FIRMWARE_DIR, build_firmware
from harness.build.floatscan import (
    FloatScan,
    FloatUse,
    _Function,
    _is_float_helper,
    _parse_objdump,
    _scan,
    scan_elf,
)
from harness.targets import get_target
from harness.zoo import ZOO, load

needs_toolchain = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("arm-none-eabi-objdump") is None,
    reason="arm-none-eabi-gcc/objdump not on PATH: run `make bootstrap`",
)

RELU_LOOP = "        output[i] = hk_clamp_s8(input[i], activation->min, activation->max);\n"


def _firmware_with_relu_through(tmp_path: Path, ctype: str) -> Path:
    """xor_mlp's firmware, built from a copy of the tree whose ReLU kernel goes through `ctype`."""
    tree = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, tree)
    relu = tree / "kernels" / "src" / "hk_relu_s8.c"
    source = relu.read_text()
    assert RELU_LOOP in source, "hk_relu_s8.c changed: update RELU_LOOP"
    half, two = ("0.5f", "2.0f") if ctype == "float" else ("0.5", "2.0")
    mutated = (
        f"        volatile {ctype} f = ({ctype})input[i] * {half};\n"
        f"        output[i] = hk_clamp_s8((int32_t)(f * {two}), activation->min, activation->max);\n"
    )
    relu.write_text(source.replace(RELU_LOOP, mutated))
    return build_firmware(load("xor_mlp"), get_target("stm32f405"), firmware_dir=tree).elf


@needs_toolchain
@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_firmware_has_no_floating_point(name: str) -> None:
    scan = scan_elf(build_firmware(load(name), get_target("stm32f405")).elf)
    assert scan.ok, scan.summary()
    assert scan.summary().startswith("no-float scan: OK, ")
    assert {"main", "hk_model_run_layer"} <= set(scan.reachable)
    assert list(scan.reachable) == sorted(scan.reachable)
    if name == "kws_cnn":
        assert "hk_conv2d_s8" in scan.reachable
    if name == "xor_mlp":
        assert "hk_relu_s8" in scan.reachable


@needs_toolchain
def test_single_precision_in_a_kernel_is_an_fpu_instruction_and_fails(tmp_path: Path) -> None:
    scan = scan_elf(_firmware_with_relu_through(tmp_path, "float"))
    assert not scan.ok
    fpu = [u for u in scan.uses if u.function == "hk_relu_s8" and u.what.startswith("v")]
    assert fpu, scan.summary()
    assert any(u.what.startswith("vcvt") for u in fpu), scan.summary()
    assert scan.summary().startswith(f"no-float scan: FAILED, {len(scan.uses)} floating-point uses: hk_relu_s8 at 0x")


@needs_toolchain
def test_double_in_a_kernel_is_a_soft_float_call_and_fails(tmp_path: Path) -> None:
    scan = scan_elf(_firmware_with_relu_through(tmp_path, "double"))
    assert not scan.ok
    calls = [u for u in scan.uses if u.function == "hk_relu_s8" and u.what.endswith("(soft-float helper)")]
    assert calls, scan.summary()
    # x * 0.5 is __aeabi_dmul; libgcc gives most helpers two names (f * 2.0 became __adddf3 = __aeabi_dadd).
    assert "call to __aeabi_dmul (soft-float helper)" in {u.what for u in calls}, scan.summary()
    # The helpers are reachable, but are reported at their calls only: nothing is attributed to them.
    assert any(name.startswith("__aeabi_d") for name in scan.reachable)
    assert all(u.function == "hk_relu_s8" for u in scan.uses), scan.summary()


@needs_toolchain
def test_a_missing_root_is_named() -> None:
    elf = build_firmware(load("xor_mlp"), get_target("stm32f405")).elf
    with pytest.raises(ValueError, match="no_such_entry"):
        scan_elf(elf, roots=("main", "no_such_entry"))


@pytest.mark.parametrize(
    "name",
    "__aeabi_fadd __aeabi_dmul __aeabi_f2iz __aeabi_i2f __aeabi_ui2d __aeabi_d2f __aeabi_fcmplt __aeabi_dcmpeq "
    "__aeabi_cdcmple __aeabi_l2f __aeabi_ul2d __aeabi_h2f __addsf3 __divdf3 __floatsisf __floatunsidf __fixsfsi "
    "__fixunsdfdi __extendsfdf2 __truncdfsf2 __eqsf2 __ltdf2 __gedf2 __unordsf2 __mulsc3 __gnu_f2h_ieee".split(),
)
def test_soft_float_helpers_are_recognised(name: str) -> None:
    assert _is_float_helper(name)


@pytest.mark.parametrize(
    "name",
    "__aeabi_idiv __aeabi_uidiv __aeabi_uidivmod __aeabi_ldivmod __aeabi_uldivmod __aeabi_llsl __aeabi_llsr "
    "__aeabi_lasr __aeabi_lcmp __aeabi_lmul __aeabi_memcpy __aeabi_memclr4 __divsi3 __udivdi3 __umoddi3 "
    "__muldi3 __ashldi3 __clzsi2 __ctzdi2 __popcountsi2 __bswapsi2 __udivmoddi4 __gnu_thumb1_case_uqi "
    "memcpy main hk_relu_s8".split(),
)
def test_integer_helpers_and_ordinary_functions_are_not_float(name: str) -> None:
    assert not _is_float_helper(name)


SYNTHETIC = """
firmware.elf:     file format elf32-littlearm


Disassembly of section .text:

08000100 <main>:
 8000100:\tpush\t{r3, lr}
 8000102:\tbl\t8000120 <kernel>
 8000106:\tbl\t8000140 <__aeabi_uldivmod>
 800010a:\tbeq.n\t8000110 <main+0x10>
 800010c:\tldr\tr3, [pc, #4]\t@ (8000160 <unreached>)
 800010e:\tblx\tr3
 8000110:\tb.w\t8000150 <tail>

08000120 <kernel>:
 8000120:\tvmul.f32\ts0, s0, s1
 8000124:\tbl\t8000130 <__aeabi_dmul>

08000128 <kernel_label_not_a_function>:
 8000128:\tmcr\tp10, 7, r0, cr1, cr0, {0}
 800012c:\tbx\tlr
 800012e:\t.short\t0x0000

08000130 <__aeabi_dmul>:
 8000130:\tvadd.f32\ts0, s0, s1

08000140 <__aeabi_uldivmod>:
 8000140:\tbx\tlr
 8000142:\tvs..rodata.after.the.function

08000150 <tail>:
 8000150:\tbl\t8000130 <__aeabi_dmul>
 8000154:\tb.n\t8000152 <tail+0x2>
 8000156:\t.word\t0x00000000

08000158 <table>:
 8000158:\tv...error...laye

08000160 <unreached>:
 8000160:\tvdiv.f32\ts0, s0, s1
"""


def _synthetic_scan(roots: tuple[str, ...] = ("main",)) -> FloatScan:
    functions = {
        start: _Function((name,), start, size)
        for name, start, size in [
            ("main", 0x8000100, 0x14), ("kernel", 0x8000120, 0x10), ("__aeabi_dmul", 0x8000130, 4),
            ("__aeabi_uldivmod", 0x8000140, 2), ("tail", 0x8000150, 8), ("unreached", 0x8000160, 4),
        ]
    }
    return _scan(Path("firmware.elf"), functions, _parse_objdump(SYNTHETIC), roots)


def test_objdump_parse_keeps_instruction_lines_only() -> None:
    code = _parse_objdump(SYNTHETIC)
    assert [i.address for i in code] == sorted(i.address for i in code)
    assert len(code) == 20  # no header, section or label line
    kernel = [i for i in code if 0x8000120 <= i.address < 0x8000130]
    assert [i.mnemonic for i in kernel] == ["vmul.f32", "bl", "mcr", "bx", ".short"]
    assert code[4].operands == "r3, [pc, #4]"  # the objdump comment is dropped
    assert code[0].operands == "{r3, lr}"


def test_call_graph_fpu_instructions_and_helper_calls_on_synthetic_disassembly() -> None:
    scan = _synthetic_scan()
    # Tail call (b.w) followed; integer helper walked, float helper reachable but not walked into;
    # calls through a register and a data label (never a function) are not followed; a function's
    # instructions are those in its symbol's range, whatever labels objdump prints inside or after it.
    assert scan.reachable == ("__aeabi_dmul", "__aeabi_uldivmod", "kernel", "main", "tail")
    assert scan.uses == (
        FloatUse("kernel", 0x8000120, "vmul.f32 s0, s0, s1"),
        FloatUse("kernel", 0x8000124, "call to __aeabi_dmul (soft-float helper)"),
        FloatUse("kernel", 0x8000128, "mcr p10, 7, r0, cr1, cr0, {0}"),
        FloatUse("tail", 0x8000150, "call to __aeabi_dmul (soft-float helper)"),
    )
    assert scan.summary() == (
        "no-float scan: FAILED, 4 floating-point uses: kernel at 0x08000120: vmul.f32 s0, s0, s1; "
        "kernel at 0x08000124: call to __aeabi_dmul (soft-float helper); "
        "kernel at 0x08000128: mcr p10, 7, r0, cr1, cr0, {0}; "
        "tail at 0x08000150: call to __aeabi_dmul (soft-float helper)"
    )


def test_clean_synthetic_root_and_missing_root() -> None:
    clean = _synthetic_scan(("__aeabi_uldivmod",))
    assert clean.ok and clean.reachable == ("__aeabi_uldivmod",)
    assert clean.summary() == (
        "no-float scan: OK, 1 functions reachable from __aeabi_uldivmod, no FP instruction or soft-float helper"
    )
    with pytest.raises(ValueError, match="not_there"):
        _synthetic_scan(("main", "not_there"))

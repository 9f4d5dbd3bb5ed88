"""What every kernel variant the project ships (harness/build/variants.py: SHIPPED) must hold, each
compiled for the core it is the default of: its files define no global symbol but functions of the
kernel API and no data; and the code generator's mirrors of *_get_buffer_size
(harness/codegen/scratch.py) equal the C, for ref and for every shipped variant."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.build import FIRMWARE_DIR
from harness.build.host import Dims
from harness.build.variants import SHIPPED, kernel_api
from harness.codegen.scratch import ARG_KINDS, SCRATCH
from harness.targets import TARGETS

KERNELS = FIRMWARE_DIR / "kernels"
#: Each shipped variant with the flags of the first target that builds it by default.
FLAGS = {name: next(t.cpu_flags for t in TARGETS.values() if t.kernels == name) for name in SHIPPED}
FILES = [(name, p.name) for name, folder in SHIPPED.items() for p in sorted(folder.glob("*.c"))]


def test_every_shipped_variant_is_some_targets_default() -> None:
    assert set(FLAGS) == set(SHIPPED) == {"dsp", "mve"}


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="the Arm toolchain is not installed")
@pytest.mark.parametrize("variant, source", FILES, ids=[f"{v}-{s}" for v, s in FILES])
def test_each_file_defines_only_api_functions_and_no_data(variant: str, source: str, tmp_path: Path) -> None:
    """Compiled with the firmware's flags for its core, a variant's file defines no global symbol but
    functions of the kernel API (its helpers are static) and no data: nothing that could clash with
    ref's or keep state."""
    obj = tmp_path / "kernel.o"
    folder = SHIPPED[variant]
    subprocess.run(["arm-none-eabi-gcc", *FLAGS[variant], "-O2", "-std=c11", "-ffreestanding", "-fwrapv",
                    "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra", "-Werror", "-DHK_WEAK=",
                    f"-I{folder}", f"-I{KERNELS / 'include'}", f"-I{KERNELS / 'src'}", "-c", str(folder / source),
                    "-o", str(obj)], check=True)
    nm = subprocess.run(["arm-none-eabi-nm", "-g", "--defined-only", str(obj)], capture_output=True, text=True,
                        check=True)
    defined = {line.split()[-1] for line in nm.stdout.splitlines()}
    assert defined and defined <= set(kernel_api(FIRMWARE_DIR)), defined
    size = subprocess.run(["arm-none-eabi-size", str(obj)], capture_output=True, text=True, check=True)
    _, data, bss = (int(v) for v in size.stdout.splitlines()[1].split()[:3])
    assert data == 0 and bss == 0


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the host C compiler gcc is not installed")
@pytest.mark.parametrize("variant", ["ref", *sorted(SHIPPED)])
def test_the_scratch_mirrors_equal_the_c_get_buffer_size(variant: str, tmp_path: Path) -> None:
    """The code generator reserves each kernel's scratch from its variant's mirrors: every
    get_buffer_size (plain C, the same formula with and without the core's extension, compiled for the
    host: the ref kernels, with the variant's files over them) against its Python mirror, on random
    shapes."""
    folders = [SHIPPED[variant]] if variant in SHIPPED else []
    lib = tmp_path / f"lib{variant}.so"
    sources = sorted((KERNELS / "src").glob("*.c")) + [p for f in folders for p in sorted(f.glob("*.c"))]
    subprocess.run(["gcc", "-std=c11", "-O1", "-fwrapv", "-fPIC", "-shared", f"-I{KERNELS / 'include'}",
                    f"-I{KERNELS / 'src'}", *(f"-I{f}" for f in folders), *map(str, sources), "-o", str(lib)],
                   check=True)
    c = ctypes.CDLL(str(lib))
    rng = np.random.default_rng(13)
    for kernel, kinds in ARG_KINDS.items():
        fn = getattr(c, f"{kernel}_get_buffer_size")
        fn.restype = ctypes.c_int32
        for _ in range(300):
            values: list[object] = []
            c_args: list[object] = []
            for kind in kinds:
                if kind == "dims":
                    h, w, ch = (int(v) for v in rng.integers(1, 257, size=3))
                    values.append((h, w, ch))
                    c_args.append(ctypes.byref(Dims(h, w, ch)))
                else:
                    n = int(rng.integers(1, 1 << 16))
                    values.append(n)
                    c_args.append(ctypes.c_int32(n))
            assert SCRATCH[variant][kernel](*values) == fn(*c_args), f"{variant} {kernel}{tuple(values)}"

"""Kernel variants: `--kernels ref|dsp|mve|DIR`.

`ref` is the project's portable kernels (harness/firmware/kernels/src), `dsp` the project's
Cortex-M4/M7 kernels for the DSP extension (harness/firmware/kernels/dsp) and `mve` its Cortex-M55
kernels for Helium, the M-profile Vector Extension (harness/firmware/kernels/mve), each itself a
variant folder built the way a user's is. A variant is a folder of C files
that define some of the kernel API, the public `hk_*` functions of kernels/include/hk_nn.h (and the
inner routine of hk_support.h), with the same parameter structs. The ref definitions are weak
(kernels/src/hk_weak.h) and the variant's are strong, so the linker takes each function the variant
defines from it and every other from ref. The linked image keeps the binding of each symbol, which
is how `kernel_sources` tells, after the link, which function came from where.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.build.elfinfo import function_bindings
from harness.errors import InputError
from harness.files import PACKAGE_DIR
from harness.targets import Target

REF = "ref"
DSP = "dsp"
MVE = "mve"
#: The variant folders the project ships, by name (ref is the kernels themselves, not a folder).
SHIPPED: dict[str, Path] = {DSP: PACKAGE_DIR / "firmware" / "kernels" / "dsp",
                            MVE: PACKAGE_DIR / "firmware" / "kernels" / "mve"}
#: The headers whose functions a variant may define (relative to the firmware directory).
API_HEADERS = ("kernels/include/hk_nn.h", "kernels/include/hk_support.h")
HOW = "give ref, dsp, mve, or a folder of C files that define hk_* functions of hk_nn.h (docs/adding-a-kernel.md)"


@dataclass(frozen=True)
class KernelVariant:
    """`ref`, or a folder of C files whose functions replace ref's (`directory`, absolute).
    `shipped` marks the project's own (`dsp`): their scratch sizes are mirrored for the code
    generator (harness.codegen.scratch); a user's folder is sized as ref."""

    name: str
    directory: Path | None = None
    shipped: bool = False

    @property
    def option(self) -> str:
        """How `--kernels` names this variant on a command line (a command that reproduces a run)."""
        return self.name if self.directory is None or self.shipped else shlex.quote(str(self.directory))

    @property
    def scratch_table(self) -> str:
        """The name of the code generator's get_buffer_size mirrors for this variant."""
        return self.name if self.shipped or self.is_ref else REF

    @property
    def is_ref(self) -> bool:
        return self.directory is None

    def sources(self) -> list[Path]:
        """The C files compiled into the image: the folder's *.c (not its subfolders)."""
        return [] if self.directory is None else sorted(self.directory.glob("*.c"))

    def files(self) -> list[Path]:
        """Every file under the folder (sources, headers), for the build's cache key."""
        if self.directory is None:
            return []
        return sorted(p for p in self.directory.rglob("*") if p.is_file())


REF_KERNELS = KernelVariant(REF)


def kernel_variant(spec: str | KernelVariant | None) -> KernelVariant:
    """The variant `spec` names: `ref` (or nothing) for the project's portable kernels, `dsp` for
    its DSP-extension kernels, else a folder that exists and holds at least one .c file; anything
    else is an input error. A folder that is itself called `ref` or `dsp` is named by a path (./dsp)."""
    if isinstance(spec, KernelVariant):
        return spec
    if spec is None or spec == REF:
        return REF_KERNELS
    if spec in SHIPPED:
        return KernelVariant(spec, SHIPPED[spec], shipped=True)
    path = Path(spec).expanduser()
    if not path.is_dir():
        raise InputError(f"kernel variant '{spec}': {'not a folder' if path.exists() else 'no such folder'}", HOW)
    directory = path.resolve()
    if not any(directory.glob("*.c")):
        raise InputError(f"kernel variant '{spec}': the folder holds no .c file", HOW)
    shipped = next((name for name, folder in SHIPPED.items() if folder.resolve() == directory), None)
    if shipped is not None:
        return KernelVariant(shipped, directory, shipped=True)
    return KernelVariant(str(path) if directory.name in (REF, *SHIPPED) else directory.name, directory)


def kernel_variants(spec: str) -> tuple[KernelVariant, ...]:
    """The variants a comma-separated `spec` names (`ref,dsp`, `ref,dsp,DIR`), in its order, each
    judged by `kernel_variant`. An empty item, or two items of one name (a report's columns and a
    variant's baseline file go by its name), is an input error. A folder whose path holds a comma is
    taken whole when it exists."""
    if "," in spec and Path(spec).expanduser().is_dir():
        return (kernel_variant(spec),)
    items = [item.strip() for item in spec.split(",")]
    if not all(items):
        raise InputError(f"--kernels '{spec}': an empty item", "list variants separated by commas, e.g. ref,dsp")
    variants = tuple(kernel_variant(item) for item in items)
    names = [v.name for v in variants]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputError(f"--kernels '{spec}': {', '.join(twice)} named more than once",
                         "name each variant once (a folder called like another variant: name one by its path)")
    return variants


def variant_for(target: Target, spec: str | KernelVariant | None) -> KernelVariant:
    """The variant `spec` names, or the target's own (`Target.kernels`: dsp on a core with the DSP
    extension) when it names none."""
    return kernel_variant(target.kernels if spec is None else spec)


@cache
def kernel_api(firmware_dir: Path) -> tuple[str, ...]:
    """The functions a variant may replace: those the API headers declare, but the checks (the
    hk_*_check functions and hk_check_status), which are the contract."""
    names: list[str] = []
    for header in API_HEADERS:
        text = (firmware_dir / header).read_text()
        names += re.findall(r"^(?:hk_status|int32_t|void)\s+(hk_\w+)\s*\(", text, re.M)
    return tuple(name for name in names if not name.startswith("hk_check_"))


def kernel_sources(elf: Path, variant: KernelVariant, firmware_dir: Path) -> dict[str, str]:
    """For each API function linked into the image: `ref` when it kept ref's weak definition, else
    the variant's name (a strong, GLOBAL symbol). Functions the image does not contain are absent."""
    bindings = function_bindings(elf, kernel_api(firmware_dir))
    return {name: REF if binding == "STB_WEAK" or variant.is_ref else variant.name
            for name, binding in sorted(bindings.items())}


def describe(variant: KernelVariant, sources: dict[str, str], shown_dir: str | None = None) -> str:
    """`ref`, or `DIR (hk_relu_s8, ...; the rest ref)`: what a report's header says of the kernels."""
    if variant.is_ref:
        return REF
    # a kernel's *_get_buffer_size goes with it: naming the kernels says it all
    own = [name for name, source in sources.items() if source != REF and not name.endswith("_get_buffer_size")]
    where = shown_dir or str(variant.directory)
    if not own:
        return f"{where} (none of its functions is in this image: all ref)"
    if len(own) == len(sources):
        return f"{where} ({', '.join(own)}: every kernel of this image)"
    return f"{where} ({', '.join(own)}; the rest ref)"

"""Compile a model for a target into an ELF with CMake and arm-none-eabi-gcc, cached by the hash
of everything that goes into the image (generated code, firmware sources, kernel variant, flags,
compiler)."""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from harness.build.elfinfo import Footprint, footprint
from harness.build.variants import REF_KERNELS, KernelVariant, kernel_sources, variant_for
from harness.codegen import generate
from harness.errors import BuildError, EnvironmentProblem, HarnessError
from harness.files import PACKAGE_DIR, PROJECT_ROOT, build_root, new_temp_dir, remove
from harness.model import Model
from harness.targets import Target

#: The C sources, CMake files and linker scripts: package data, found through the package so that an
#: installed wheel builds as a checkout does.
FIRMWARE_DIR = PACKAGE_DIR / "firmware"
TOOLCHAIN_FILE = FIRMWARE_DIR / "cmake" / "arm-none-eabi.cmake"
OPT_FLAGS = ("-O2",)

INSTALL_HINT = "run `make bootstrap` (or: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi cmake)"


__all__ = ["BuildError", "FIRMWARE_DIR", "PROJECT_ROOT", "build_root"]


class ToolchainMissing(EnvironmentProblem):
    """The cross compiler or CMake is not installed."""


class ModelTooLarge(HarnessError):
    """The image does not fit the target's memory: the model is too big for the board. A verdict on
    the model and board (exit 1), not a fault of the harness's input."""

    kind = "fit"


@dataclass(frozen=True)
class Firmware:
    elf: Path
    build_id: str
    model: str
    target: str
    cached: bool
    footprint: Footprint
    weight_bytes: int
    arena_bytes: int
    compiler: str
    flags: tuple[str, ...]
    variant: str = "ref"  # the kernel variant it was built with: ref, or the folder's name
    variant_dir: Path | None = None  # the variant's folder (None for ref)
    kernel_sources: dict[str, str] = field(default_factory=dict, hash=False)  # function -> ref or variant
    kernels_option: str = "ref"  # how --kernels names the variant (KernelVariant.option)
    layer_functions: tuple[str | None, ...] = ()  # each layer's kernel function (None: no kernel)

    def layer_variant(self, index: int) -> str:
        """The variant whose code ran layer `index` ("" for a layer that calls no kernel)."""
        function = self.layer_functions[index] if index < len(self.layer_functions) else None
        return "" if function is None else self.kernel_sources.get(function, "ref")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainMissing(f"{name} not found on PATH", INSTALL_HINT)
    return path


@cache
def compiler_version() -> str:
    gcc = require_tool("arm-none-eabi-gcc")
    out = subprocess.run([gcc, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].strip() if out else "arm-none-eabi-gcc (unknown version)"


def _source_files(firmware_dir: Path) -> list[Path]:
    if not (firmware_dir / "CMakeLists.txt").exists():
        raise EnvironmentProblem(f"firmware sources not found at {firmware_dir}",
                                 "reinstall the package: its firmware sources are missing")
    files = [p for p in firmware_dir.rglob("*") if p.is_file()]
    return sorted(files)


def memory_script(target: Target) -> str:
    """memory.ld for the target: its regions and stack size, from the target table."""
    lines = ["/* Generated from harness/targets.py. */", "MEMORY", "{"]
    lines.append(f"    FLASH (rx) : ORIGIN = {target.flash.origin:#x}, LENGTH = {target.flash.size}")
    lines.append(f"    RAM (rwx) : ORIGIN = {target.ram.origin:#x}, LENGTH = {target.ram.size}")
    if target.ccm is not None:
        lines.append(f"    CCM (rw) : ORIGIN = {target.ccm.origin:#x}, LENGTH = {target.ccm.size}")
    lines += ["}", f"__stack_size = {target.stack_bytes};", ""]
    return "\n".join(lines)


def _build_key(source: str, memory: str, target: Target, firmware_dir: Path, kernels: KernelVariant) -> str:
    h = hashlib.sha256()
    for part in (source, memory, repr(target), compiler_version(), repr(OPT_FLAGS), kernels.name):
        h.update(part.encode())
        h.update(b"\0")
    for path in _source_files(firmware_dir):
        h.update(str(path.relative_to(path.anchor)).encode())
        h.update(path.read_bytes())
    for path in kernels.files():  # a variant's every file, by its place in the folder: an edit rebuilds
        assert kernels.directory is not None
        h.update(b"variant\0" + str(path.relative_to(kernels.directory)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


#: The lines of a failed build that say why: the compiler's errors, and the linker's, which do not all
#: say "error" (a symbol defined twice, or not at all).
LINK_OR_COMPILE_ERROR = r"error|multiple definition|undefined reference"


def _run(cmd: list[str], cwd: Path, what: str) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        overflow = re.findall(r"region [`']?(\w+)'? overflowed by (\d+) bytes", out)
        if overflow:
            parts = ", ".join(f"{region} by {int(n)} bytes" for region, n in overflow)
            raise ModelTooLarge(parts)
        errors = ([line for line in out.splitlines() if re.search(LINK_OR_COMPILE_ERROR, line, re.I)]
                  or out.splitlines()[-15:])
        raise BuildError(f"{what} failed: " + " | ".join(line.strip() for line in errors[:15]),
                         f"the full output is in {cwd}")
    return out


@dataclass(frozen=True)
class Image:
    elf: Path
    build_id: str
    cached: bool


def _configure(cmake_dir: Path, gen_dir: Path, target: Target, firmware_dir: Path,
               model_flags: tuple[str, ...], kernels: KernelVariant) -> None:
    _run(
        [
            require_tool("cmake"),
            "-S",
            str(firmware_dir),
            "-B",
            str(cmake_dir),
            f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}",
            f"-DHK_PLATFORM={target.platform}",
            f"-DHK_BOARD={target.board}",
            f"-DHK_CORE={target.core}",
            f"-DHK_CPU_FLAGS={';'.join(target.cpu_flags)}",
            f"-DHK_PLATFORM_DEFINES={';'.join(target.platform_defines)}",
            f"-DHK_OPT_FLAGS={';'.join(OPT_FLAGS)}",
            f"-DHK_MODEL_DIR={gen_dir}",
            f"-DHK_MODEL_OPT_FLAGS={';'.join(model_flags)}",
            f"-DHK_KERNELS_DIR={kernels.directory or ''}",
        ],
        cmake_dir.parent,
        "CMake configure",
    )


def _write_model(gen_dir: Path, source: str, key: str, memory: str) -> None:
    """model.c carries its own build id (the hash of its inputs), so that changing the model
    recompiles model.c alone."""
    gen_dir.mkdir(parents=True, exist_ok=True)
    (gen_dir / "model.c").write_text(f'#define HK_BUILD_ID "{key}"\n' + source)
    memory_path = gen_dir / "memory.ld"
    if not memory_path.exists() or memory_path.read_text() != memory:
        memory_path.write_text(memory)


def _compile(cmake_dir: Path) -> None:
    _run(
        [require_tool("cmake"), "--build", str(cmake_dir), "-j", str(os.cpu_count() or 1)], cmake_dir.parent, "compile"
    )


def _configure_and_compile(cmake_dir: Path, gen_dir: Path, target: Target, firmware_dir: Path,
                           model_flags: tuple[str, ...], kernels: KernelVariant, configure: bool = True) -> None:
    """Configure (unless told it is done) and compile; a failure that involves the kernel variant's
    files says so and names them."""
    try:
        if configure:
            _configure(cmake_dir, gen_dir, target, firmware_dir, model_flags, kernels)
        _compile(cmake_dir)
    except BuildError as e:
        if kernels.is_ref:
            raise
        named = [p.name for p in kernels.sources() if str(p) in e.message]
        if not named and str(kernels.directory) not in e.message and "hk_variant" not in e.message:
            raise
        files = f"{', '.join(named)} of " if named else ""
        raise BuildError(f"kernel variant {kernels.name}: {files}{kernels.directory} does not build: {e.message}",
                         e.next_step) from None


def build_image(
    name: str,
    source: str,
    target: Target,
    log: Callable[[str], None] | None = None,
    firmware_dir: Path = FIRMWARE_DIR,
    model_flags: tuple[str, ...] = (),
    kernels: KernelVariant = REF_KERNELS,
) -> Image:
    """Build firmware from a generated (or hand-written) model.c; cached by the hash of all inputs.

    `firmware_dir` lets tests build a mutated copy of the firmware tree; `model_flags` are added to
    the compile of model.c alone; `kernels` is the kernel variant linked over the ref kernels.
    """
    say = log or (lambda msg: None)
    require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    memory = memory_script(target)
    key = _build_key(source + repr(model_flags), memory, target, firmware_dir, kernels)
    out_dir = build_root() / target.name / f"{name}-{key}"
    elf = out_dir / "firmware.elf"
    stamp = out_dir / "complete"
    out_dir.mkdir(parents=True, exist_ok=True)
    cached = True
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _intact(elf, stamp):
            if stamp.exists():
                say(
                    f"the cached image {elf} is not the one that was built (its hash differs or was not "
                    "recorded): rebuilding it"
                )
                stamp.unlink()
            cached = False
            say(f"building {name} for {target.name} in {out_dir}")
            _write_model(out_dir / "gen", source, key, memory)
            _configure_and_compile(out_dir / "cmake", out_dir / "gen", target, firmware_dir, model_flags, kernels)
            shutil.copyfile(out_dir / "cmake" / "firmware.elf", elf)
            stamp.write_text(f"{key} {_sha256(elf)}\n")
    return Image(elf, key, cached)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _intact(elf: Path, stamp: Path) -> bool:
    """The cache entry is complete and the ELF is byte for byte the one that was built."""
    try:
        recorded = stamp.read_text().split()
        return len(recorded) == 2 and elf.is_file() and _sha256(elf) == recorded[1]
    except OSError:
        return False


class ScratchBuilder:
    """Builds one image after another in a single build directory: configured once, then each new
    model.c is all that recompiles. For the fuzzer, whose images are used once; the directory is
    removed on close. Not cached and not shared between processes."""

    def __init__(self, target: Target, model_flags: tuple[str, ...] = (), firmware_dir: Path = FIRMWARE_DIR,
                 kernels: KernelVariant | None = None):
        require_tool("cmake")
        require_tool("arm-none-eabi-gcc")
        self.target, self.model_flags, self.firmware_dir = target, model_flags, firmware_dir
        self.kernels = variant_for(target, kernels)
        self._owned = new_temp_dir(f"scratch-{target.name}")
        self.dir = self._owned.path
        self.memory = memory_script(target)
        self.configured = False

    def build(self, source: str) -> Image:
        key = _build_key(source + repr(self.model_flags), self.memory, self.target, self.firmware_dir, self.kernels)
        _write_model(self.dir / "gen", source, key, self.memory)
        _configure_and_compile(self.dir / "cmake", self.dir / "gen", self.target, self.firmware_dir, self.model_flags,
                               self.kernels, configure=not self.configured)
        self.configured = True
        return Image(self.dir / "cmake" / "firmware.elf", key, False)

    def close(self) -> None:
        remove(self._owned)

    def __enter__(self) -> ScratchBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_firmware(
    model: Model, target: Target, log: Callable[[str], None] | None = None, firmware_dir: Path = FIRMWARE_DIR,
    kernels: KernelVariant | None = None,
) -> Firmware:
    """The ELF for (model, target) with the kernel variant `kernels` (the target's own when None),
    from the cache when its inputs are unchanged."""
    kernels = variant_for(target, kernels)
    gen = generate(model, kernels.scratch_table)
    try:
        image = build_image(model.name, gen.source, target, log, firmware_dir, kernels=kernels)
    except ModelTooLarge as e:
        raise ModelTooLarge(
            f"{model.name} does not fit {target.name} ({e.message}): arena {gen.arena.size} B and a "
            f"{target.stack_bytes} B stack in {target.ram.size} B of RAM; {gen.weight_bytes} B of weights in "
            f"{target.flash.size} B of flash", "choose a target with more memory, or a smaller model"
        ) from None
    return Firmware(
        elf=image.elf,
        build_id=image.build_id,
        model=model.name,
        target=target.name,
        cached=image.cached,
        footprint=footprint(image.elf, target),
        weight_bytes=gen.weight_bytes,
        arena_bytes=gen.arena.size,
        compiler=compiler_version(),
        flags=tuple(target.cpu_flags) + OPT_FLAGS,
        variant=kernels.name,
        variant_dir=kernels.directory,
        kernels_option=kernels.option,
        kernel_sources=kernel_sources(image.elf, kernels, firmware_dir),
        layer_functions=gen.functions,
    )

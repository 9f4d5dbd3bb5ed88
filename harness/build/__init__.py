"""Compile a model for a target into an ELF with CMake and arm-none-eabi-gcc, cached by the hash
of everything that goes into the image (generated code, firmware sources, flags, compiler)."""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

from harness.build.elfinfo import Footprint, footprint
from harness.codegen import generate
from harness.errors import HarnessError
from harness.targets import Target
from harness.zoo.common import Model

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = PROJECT_ROOT / "firmware"
CMAKE_DIR = PROJECT_ROOT / "cmake"
TOOLCHAIN_FILE = CMAKE_DIR / "arm-none-eabi.cmake"
OPT_FLAGS = ("-O2",)

INSTALL_HINT = "run `make bootstrap` (or: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi cmake)"


class BuildError(HarnessError):
    """The firmware did not build; the message carries the compiler's or linker's own words."""


class ToolchainMissing(BuildError):
    pass


class ModelTooLarge(BuildError):
    """The image does not fit the target's memory."""


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


def build_root() -> Path:
    """Where images are built: $HARNESS_BUILD_DIR, else build/ in the project."""
    return Path(os.environ.get("HARNESS_BUILD_DIR", PROJECT_ROOT / "build"))


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainMissing(f"{name} not found on PATH: {INSTALL_HINT}")
    return path


@lru_cache(maxsize=None)
def compiler_version() -> str:
    gcc = require_tool("arm-none-eabi-gcc")
    out = subprocess.run([gcc, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].strip() if out else "arm-none-eabi-gcc (unknown version)"


def _source_files(firmware_dir: Path) -> list[Path]:
    if not (firmware_dir / "CMakeLists.txt").exists():
        raise BuildError(
            f"firmware sources not found at {firmware_dir}: the harness must run from a checkout "
            "installed with `pip install -e .`"
        )
    files = [p for d in (firmware_dir, CMAKE_DIR) for p in d.rglob("*") if p.is_file()]
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


def _build_key(source: str, memory: str, target: Target, firmware_dir: Path) -> str:
    h = hashlib.sha256()
    for part in (source, memory, repr(target), compiler_version(), repr(OPT_FLAGS)):
        h.update(part.encode())
        h.update(b"\0")
    for path in _source_files(firmware_dir):
        h.update(str(path.relative_to(path.anchor)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _run(cmd: list[str], cwd: Path, what: str) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        overflow = re.findall(r"region [`']?(\w+)'? overflowed by (\d+) bytes", out)
        if overflow:
            parts = ", ".join(f"{region} by {int(n)} bytes" for region, n in overflow)
            raise ModelTooLarge(f"the image does not fit the target: {parts}")
        errors = [l for l in out.splitlines() if "error" in l.lower()] or out.splitlines()[-15:]
        raise BuildError(f"{what} failed:\n  " + "\n  ".join(errors[:15]))
    return out


@dataclass(frozen=True)
class Image:
    elf: Path
    build_id: str
    cached: bool


def build_image(
    name: str,
    source: str,
    target: Target,
    log: Optional[Callable[[str], None]] = None,
    firmware_dir: Path = FIRMWARE_DIR,
) -> Image:
    """Build firmware from a generated (or hand-written) model.c; cached by the hash of all inputs.

    `firmware_dir` lets tests build a mutated copy of the firmware tree.
    """
    say = log or (lambda msg: None)
    cmake = require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    memory = memory_script(target)
    key = _build_key(source, memory, target, firmware_dir)
    out_dir = build_root() / target.name / f"{name}-{key}"
    elf = out_dir / "firmware.elf"
    stamp = out_dir / "complete"
    out_dir.mkdir(parents=True, exist_ok=True)
    cached = True
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            cached = False
            say(f"building {name} for {target.name} in {out_dir}")
            gen_dir = out_dir / "gen"
            gen_dir.mkdir(exist_ok=True)
            (gen_dir / "model.c").write_text(source)
            (gen_dir / "memory.ld").write_text(memory)
            cmake_dir = out_dir / "cmake"
            _run(
                [
                    cmake, "-S", str(firmware_dir), "-B", str(cmake_dir),
                    f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}",
                    f"-DHK_PLATFORM={target.platform}",
                    f"-DHK_BOARD={target.board}",
                    f"-DHK_CORE={target.core}",
                    f"-DHK_CPU_FLAGS={';'.join(target.cpu_flags)}",
                    f"-DHK_OPT_FLAGS={';'.join(OPT_FLAGS)}",
                    f"-DHK_MODEL_DIR={gen_dir}",
                    f"-DHK_BUILD_ID={key}",
                ],
                out_dir,
                "CMake configure",
            )
            _run([cmake, "--build", str(cmake_dir), "-j", str(os.cpu_count() or 1)], out_dir, "compile")
            shutil.copyfile(cmake_dir / "firmware.elf", elf)
            stamp.write_text(key + "\n")
    return Image(elf, key, cached)


def build_firmware(
    model: Model, target: Target, log: Optional[Callable[[str], None]] = None, firmware_dir: Path = FIRMWARE_DIR
) -> Firmware:
    """The ELF for (model, target), from the cache when its inputs are unchanged."""
    gen = generate(model)
    image = build_image(model.name, gen.source, target, log, firmware_dir)
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
    )

"""Compile a model for a target into an ELF with CMake and arm-none-eabi-gcc, cached by the hash
of everything that goes into the image (generated code, firmware sources, kernel variant, flags,
compiler).

The code is in harness.build.firmware; this file only re-exports it."""
from harness.build.firmware import (
    FIRMWARE_DIR,
    INSTALL_HINT,
    OPT_FLAGS,
    PROJECT_ROOT,
    TOOLCHAIN_FILE,
    BuildError,
    Firmware,
    Image,
    ModelTooLarge,
    ScratchBuilder,
    ToolchainMissing,
    build_firmware,
    build_image,
    build_root,
    compiler_version,
    memory_script,
    require_tool,
)
from harness.build.variants import REF, REF_KERNELS, KernelVariant, kernel_variant, kernel_variants, variant_for

__all__ = [
    "BuildError", "FIRMWARE_DIR", "Firmware", "INSTALL_HINT", "Image", "KernelVariant", "ModelTooLarge", "OPT_FLAGS",
    "PROJECT_ROOT", "REF", "REF_KERNELS", "ScratchBuilder", "TOOLCHAIN_FILE", "ToolchainMissing", "build_firmware",
    "build_image", "build_root", "compiler_version", "kernel_variant", "kernel_variants", "memory_script",
    "require_tool", "variant_for",
]

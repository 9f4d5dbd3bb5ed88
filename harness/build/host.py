"""The firmware's kernel sources compiled for the host as a shared library and called through
ctypes, for differential testing against the Python integer reference: same C, host compiler.

Calls go through the same KernelCall descriptions the firmware code generator renders, so the host
calls each kernel exactly as the firmware does. Output buffers are surrounded by guard bytes, so a
kernel that writes outside its output is caught.
"""
from __future__ import annotations

import ctypes
import fcntl
import hashlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.build import FIRMWARE_DIR, REF, BuildError, build_root, require_tool
from harness.codegen.calls import (
    Buffer,
    CArray,
    Context,
    CStruct,
    KernelCall,
    kernel_call,
)
from harness.codegen.scratch import scratch_bytes
from harness.model.constants import LayerConstants
from harness.model.graph import Layer

HOST_CFLAGS = ("-O2", "-std=c11", "-fPIC", "-shared", "-fwrapv", "-Wall", "-Wextra", "-Werror")
GUARD_BYTES = 64
GUARD_VALUE = 0x5A

i32 = ctypes.c_int32
p32 = ctypes.POINTER(ctypes.c_int32)


class Dims(ctypes.Structure):
    _fields_ = [("h", i32), ("w", i32), ("c", i32)]


class HW(ctypes.Structure):
    _fields_ = [("h", i32), ("w", i32)]


class Padding(ctypes.Structure):
    _fields_ = [("top", i32), ("bottom", i32), ("left", i32), ("right", i32)]


class Activation(ctypes.Structure):
    _fields_ = [("min", i32), ("max", i32)]


class Quant(ctypes.Structure):
    _fields_ = [("multiplier", p32), ("shift", p32), ("count", i32), ("rounding", i32)]


class ConvParams(ctypes.Structure):
    _fields_ = [("input_offset", i32), ("output_offset", i32), ("stride", HW), ("dilation", HW),
                ("padding", Padding), ("activation", Activation)]


class FcParams(ctypes.Structure):
    _fields_ = [("input_offset", i32), ("output_offset", i32), ("activation", Activation)]


class PoolParams(ctypes.Structure):
    _fields_ = [("stride", HW), ("padding", Padding), ("activation", Activation)]


class AddParams(ctypes.Structure):
    _fields_ = [(name, i32) for name in (
        "input1_offset", "input1_multiplier", "input1_shift", "input2_offset", "input2_multiplier",
        "input2_shift", "output_offset", "output_multiplier", "output_shift", "left_shift",
    )] + [("activation", Activation)]


class SoftmaxParams(ctypes.Structure):
    _fields_ = [("input_multiplier", i32), ("input_left_shift", i32), ("diff_min", i32)]


class ContextStruct(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("size", i32)]


#: The C structs of hk_nn_types.h, by name.
STRUCTS: dict[str, type[ctypes.Structure]] = {
    "hk_dims": Dims, "hk_hw": HW, "hk_padding": Padding, "hk_activation": Activation, "hk_quant": Quant,
    "hk_conv_params": ConvParams, "hk_fc_params": FcParams, "hk_pool_params": PoolParams,
    "hk_add_params": AddParams, "hk_softmax_params": SoftmaxParams, "hk_context": ContextStruct,
}


@cache
def build_host_library(firmware_dir: Path = FIRMWARE_DIR) -> Path:
    """libhk_kernels.so from harness/firmware/kernels, cached by the hash of its sources and flags.
    `firmware_dir` lets tests build a mutated copy of the kernels."""
    cc = require_tool("gcc")
    sources = sorted((firmware_dir / "kernels" / "src").glob("*.c"))
    include = firmware_dir / "kernels" / "include"
    h = hashlib.sha256(repr(HOST_CFLAGS).encode())
    for path in sources + sorted(include.glob("*.h")):
        h.update(path.name.encode() + path.read_bytes())
    out_dir = build_root() / "host"
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / f"libhk_kernels-{h.hexdigest()[:16]}.so"
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not lib.exists():
            tmp = lib.with_suffix(".tmp")
            cmd = [cc, *HOST_CFLAGS, "-I", str(include), *map(str, sources), "-o", str(tmp)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise BuildError(f"host build of the kernels failed:\n{proc.stderr[-2000:]}")
            tmp.rename(lib)
    return lib


@dataclass(frozen=True)
class HostResult:
    status: int
    output: np.ndarray  # int8, out_shape
    guards_intact: bool


class HostKernels:
    """The C kernels in this process."""

    def __init__(self, library: Path | None = None):
        self.lib = ctypes.CDLL(str(library or build_host_library()))

    def _struct(self, cls: type[ctypes.Structure], fields: tuple[Any, ...], keep: list[Any]) -> ctypes.Structure:
        """A ctypes struct from nested field tuples; arrays it points to are kept alive in `keep`."""
        values: list[Any] = []
        for field, value in zip(cls._fields_, fields):
            ftype = field[1]
            if isinstance(value, CArray):
                arr = np.ascontiguousarray(value.values, dtype=np.int32)
                keep.append(arr)
                values.append(arr.ctypes.data_as(p32))
            elif isinstance(ftype, type) and issubclass(ftype, ctypes.Structure):
                values.append(self._struct(ftype, value, keep))
            else:
                values.append(int(value))
        return cls(*values)

    def call(self, call: KernelCall, inputs: Sequence[np.ndarray], out_size: int,
             check: bool = False) -> tuple[int, np.ndarray, bool]:
        """Run one kernel call, or with `check` its hk_<kernel>_check; returns (status or check id,
        output bytes, whether the guard bytes survived).
        A Context passes as many bytes of scratch as ref's get_buffer_size mirror says, or a NULL
        context for 0, as the firmware does. An argument of None passes a NULL pointer and a ContextStruct passes
        itself (to test the kernels' own checks)."""
        keep: list[Any] = []
        guarded = np.full(out_size + 2 * GUARD_BYTES, GUARD_VALUE, dtype=np.int8)
        out_ptr = guarded[GUARD_BYTES:].ctypes.data_as(ctypes.c_void_p)
        ins = [np.ascontiguousarray(x, dtype=np.int8) for x in inputs]
        args: list[Any] = []
        for arg in call.args:
            if arg is None:
                args.append(ctypes.c_void_p(None))
            elif isinstance(arg, ContextStruct):
                args.append(ctypes.byref(arg))
            elif isinstance(arg, Context):
                size = scratch_bytes(REF, arg)
                if size <= 0:
                    args.append(ctypes.c_void_p(None))
                else:
                    scratch = ctypes.create_string_buffer(size)
                    ctx = ContextStruct(ctypes.cast(scratch, ctypes.c_void_p), size)
                    keep += [scratch, ctx]
                    args.append(ctypes.byref(ctx))
            elif isinstance(arg, Buffer):
                args.append(out_ptr if arg.index is None else ins[arg.index].ctypes.data_as(ctypes.c_void_p))
            elif isinstance(arg, CArray):
                arr = np.ascontiguousarray(arg.values, dtype=np.int8 if arg.ctype == "int8_t" else np.int32)
                keep.append(arr)
                args.append(arr.ctypes.data_as(ctypes.c_void_p))
            elif isinstance(arg, CStruct):
                s = self._struct(STRUCTS[arg.ctype], arg.fields, keep)
                keep.append(s)
                args.append(ctypes.byref(s))
            else:
                args.append(i32(int(arg)))
        fn = getattr(self.lib, f"{call.function}_check" if check else call.function)
        fn.restype = ctypes.c_int
        status = fn(*args)
        before, after = guarded[:GUARD_BYTES], guarded[GUARD_BYTES + out_size :]
        guards = bool(np.all(before == GUARD_VALUE) and np.all(after == GUARD_VALUE))
        return status, guarded[GUARD_BYTES : GUARD_BYTES + out_size].copy(), guards

    def status_of(self, check: int) -> int:
        """hk_check_status: the hk_status a check id stands for."""
        fn = self.lib.hk_check_status
        fn.restype = ctypes.c_int
        return int(fn(ctypes.c_int(check)))

    def run(self, layer: Layer, k: LayerConstants, inputs: Sequence[np.ndarray],
            out_shape: tuple[int, ...]) -> HostResult:
        """One layer on one sample (inputs without the batch axis), through its C kernel after its
        check, as the firmware runs it: a refused call's status is its check's, and it does not run."""
        call = kernel_call(layer, k, [x.shape for x in inputs], out_shape)
        if call is None:
            return HostResult(0, np.asarray(inputs[0], dtype=np.int8).reshape(out_shape), True)
        size = int(np.prod(out_shape))
        check, out, guards = self.call(call, inputs, size, check=True)
        if check != 0:
            return HostResult(self.status_of(check), out.reshape(out_shape), guards)
        status, out, guards = self.call(call, inputs, size)
        return HostResult(status, out.reshape(out_shape), guards)

"""Scratch sizes: Python mirrors of each kernel variant's C `*_get_buffer_size`, one table per
variant, which the code generator needs to place each call's scratch in the arena plan.

A kernel call that takes an hk_context names the kernel whose get_buffer_size sizes it and that
function's arguments (calls.Context); `scratch_bytes(variant, ctx)` answers with the variant's
mirror. A variant folder of the user's own has no mirror here: its calls are sized as ref's, and a
kernel that asks for more is caught by its check before the first timed layer (check `scratch`).
tests/test_host_kernels.py checks the ref table against the C compiled for the host and
tests/test_dsp_kernels.py the dsp table against the C on the emulator.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from harness.codegen.calls import Context

Dims3 = tuple[int, int, int]
SizeFn = Callable[..., int]

#: The kinds of each `<kernel>_get_buffer_size`'s C arguments ("dims": const hk_dims *, "int":
#: int32_t), in order: the signature every variant's function has.
ARG_KINDS: dict[str, tuple[str, ...]] = {
    "hk_conv2d_s8": ("dims", "dims"),
    "hk_depthwise_conv2d_s8": ("dims", "dims"),
    "hk_pointwise_conv2d_s8": ("dims",),
    "hk_fully_connected_s8": ("int",),
    "hk_mean_hw_s8": ("dims",),
    "hk_requantize_s8": ("int",),
}


def _none(*args: object) -> int:
    """The portable kernels need no scratch for any shape."""
    return 0


def dsp_conv2d_buffer_size(input_dims: Dims3, filter_dims: Dims3) -> int:
    """hk_conv2d_s8_get_buffer_size of the dsp variant (kernels/dsp/hk_conv2d_s8.c): two output
    pixels' patches as int16, in groups of four taps, and when C_IN is not a multiple of four as int8
    too, with room for 16 filter rows padded to whole groups (HK_DSP_CV_PAD_ROWS)."""
    kh, kw, c_in = filter_dims
    padded = (kh * kw * c_in + 3) // 4 * 4
    return 4 * padded if c_in % 4 == 0 else (6 + 16) * padded


def dsp_pointwise_conv2d_buffer_size(input_dims: Dims3) -> int:
    """hk_pointwise_conv2d_s8_get_buffer_size of the dsp variant: a pixel pair's inputs, 4 bytes per
    input channel, where the channels are a multiple of four."""
    return 4 * input_dims[2] if input_dims[2] % 4 == 0 else 0


def mve_conv2d_buffer_size(input_dims: Dims3, filter_dims: Dims3) -> int:
    """hk_conv2d_s8_get_buffer_size of the mve variant (kernels/mve/hk_conv2d_s8.c): two output
    pixels' patches as int8, each rounded up to a multiple of 16 bytes."""
    kh, kw, c_in = filter_dims
    return 2 * ((kh * kw * c_in + 15) // 16 * 16)


REF_SIZES: dict[str, SizeFn] = {kernel: _none for kernel in ARG_KINDS}
DSP_SIZES: dict[str, SizeFn] = {**REF_SIZES, "hk_conv2d_s8": dsp_conv2d_buffer_size,
                                "hk_pointwise_conv2d_s8": dsp_pointwise_conv2d_buffer_size}

MVE_SIZES: dict[str, SizeFn] = {**REF_SIZES, "hk_conv2d_s8": mve_conv2d_buffer_size}

#: Each variant the project ships, by name: its get_buffer_size mirrors.
SCRATCH: Mapping[str, Mapping[str, SizeFn]] = {"ref": REF_SIZES, "dsp": DSP_SIZES, "mve": MVE_SIZES}


def scratch_bytes(variant: str, ctx: Context) -> int:
    """The bytes of scratch `ctx`'s kernel asks for under `variant` (ref's for a folder of one's own)."""
    return SCRATCH.get(variant, REF_SIZES)[ctx.kernel](*ctx.args)

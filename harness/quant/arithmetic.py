"""The one int8 arithmetic of docs/arithmetic.md, on the host.

Everything integer here is exact: values are held in int64 numpy arrays (or Python ints) and every
step is the integer operation the C kernels perform on int32, so the Python reference and the firmware
agree bit for bit. Floats appear only in calibration and in forming multipliers, never in inference.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.errors import HarnessError

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT8_MIN = -128
INT8_MAX = 127
#: Shifts a requantizer may carry (TFLite sign: positive is a left shift).
SHIFT_MIN = -31
SHIFT_MAX = 30

IntLike = int | np.ndarray


class QuantError(HarnessError, ValueError):
    """A quantization parameter is outside what the integer arithmetic can represent."""


def round_half_away(x: float | np.ndarray) -> int | np.ndarray:
    """C `lround`: round to nearest, ties away from zero (Python's round() is ties-to-even)."""
    if isinstance(x, np.ndarray):
        # saturate first: values beyond int64 would otherwise cast to garbage
        r = np.sign(x) * np.floor(np.abs(x) + 0.5)
        return np.clip(r, -(2.0**62), 2.0**62).astype(np.int64)
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def f32(x: float) -> float:
    """Round a Python float to the nearest float32, kept as a Python float."""
    return float(np.float32(x))


@dataclass(frozen=True)
class QuantParams:
    """Affine grid of an int8 tensor: real = scale * (q - zero_point). scale is a float32 value."""

    scale: float
    zero_point: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise QuantError(f"scale must be a positive finite number, got {self.scale!r}")
        if not INT8_MIN <= self.zero_point <= INT8_MAX:
            raise QuantError(f"zero point {self.zero_point} is outside int8 [-128, 127]")


def quantize(x: np.ndarray, qp: QuantParams) -> np.ndarray:
    """Float to int8 on the grid qp (the division is done in double from float32 operands)."""
    q = round_half_away(np.asarray(x, dtype=np.float64) / np.float64(qp.scale)) + qp.zero_point
    return np.clip(q, INT8_MIN, INT8_MAX).astype(np.int8)


def dequantize(q: np.ndarray, qp: QuantParams) -> np.ndarray:
    """int8 to float32 real values."""
    return (np.float32(qp.scale) * (np.asarray(q, dtype=np.int32) - qp.zero_point)).astype(np.float32)


def calibrate_asymmetric(fmin: float, fmax: float) -> QuantParams:
    """Activation grid covering [fmin, fmax] widened to include 0 (docs/arithmetic.md: calibration)."""
    fmin = min(float(np.float32(fmin)), 0.0)
    fmax = max(float(np.float32(fmax)), 0.0)
    if fmax == fmin:
        return QuantParams(1.0, INT8_MIN)
    scale = float((np.float32(fmax) - np.float32(fmin)) / np.float32(255.0))
    zp = round_half_away(INT8_MIN - fmin / scale)
    return QuantParams(scale, int(min(max(zp, INT8_MIN), INT8_MAX)))


def symmetric_weight_scales(w: np.ndarray, per_channel: bool, axis: int = 0) -> np.ndarray:
    """float32 weight scales max|w|/127, one, or per output channel along `axis`
    (0 for OHWI conv and [out][in] dense, 2 for [kh][kw][c] depthwise)."""
    w = np.moveaxis(np.asarray(w, dtype=np.float32), axis, 0)
    if per_channel:
        absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    else:
        absmax = np.array([np.abs(w).max()], dtype=np.float32)
    scales = (absmax / np.float32(127.0)).astype(np.float32)
    scales[absmax == 0] = np.float32(1.0)
    return scales


def quantize_weights(w: np.ndarray, scales: np.ndarray, axis: int = 0) -> np.ndarray:
    """Symmetric int8 weights in [-127, 127]; scales are one, or per channel along `axis`."""
    w = np.asarray(w, dtype=np.float64)
    shape = [1] * w.ndim
    shape[axis] = -1
    s = np.asarray(scales, dtype=np.float64).reshape(shape)
    return np.clip(round_half_away(w / s), -127, 127).astype(np.int8)


def quantize_bias(b: np.ndarray, input_scale: float, weight_scales: np.ndarray) -> np.ndarray:
    """int32 bias at scale input_scale * weight_scale[c], rounded half away, clamped to int32."""
    bias_scale = np.float64(input_scale) * np.asarray(weight_scales, dtype=np.float64)
    q = round_half_away(np.asarray(b, dtype=np.float64) / bias_scale)
    return np.clip(q, INT32_MIN, INT32_MAX).astype(np.int32)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(multiplier Q0.31, shift) with real ≈ multiplier * 2^(shift - 31); shift > 0 is a left shift.

    Raises QuantError for a multiplier the int32 requantizer cannot carry (negative, not finite,
    or needing a left shift above 30).
    """
    if not math.isfinite(real) or real < 0:
        raise QuantError(f"real multiplier must be finite and >= 0, got {real!r}")
    if real == 0.0:
        return 0, 0
    m, e = math.frexp(real)
    q = round_half_away(m * (1 << 31))
    if q == 1 << 31:
        q //= 2
        e += 1
    if e < SHIFT_MIN:
        return 0, 0
    if e > SHIFT_MAX:
        raise QuantError(
            f"real multiplier {real:.6g} needs a left shift of {e}, above the maximum {SHIFT_MAX}: "
            "the output scale is too small for the input and weight scales"
        )
    return int(q), int(e)


def _as_i64(x: IntLike) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def _wrap_int32(x: np.ndarray) -> np.ndarray:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _scalar_or_array(result: np.ndarray, *inputs: IntLike) -> IntLike:
    if all(np.ndim(i) == 0 and not isinstance(i, np.ndarray) for i in inputs):
        return int(result)
    return result


def srdhm(a: IntLike, b: IntLike) -> IntLike:
    """Saturating rounding doubling high multiply of two int32 values (gemmlowp / TFLite)."""
    a64, b64 = _as_i64(a), _as_i64(b)
    ab = a64 * b64
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    t = ab + nudge
    # division by 2^31 truncating toward zero
    res = np.where(t >= 0, t >> 31, -((-t) >> 31))
    res = np.where((a64 == INT32_MIN) & (b64 == INT32_MIN), np.int64(INT32_MAX), res)
    return _scalar_or_array(res, a, b)


def rdbpot(x: IntLike, n: IntLike) -> IntLike:
    """Rounding divide by power of two, ties away from zero, for 0 <= n <= 31."""
    x64, n64 = _as_i64(x), _as_i64(n)
    mask = (np.int64(1) << n64) - 1
    rem = x64 & mask
    threshold = (mask >> 1) + (x64 < 0)
    res = (x64 >> n64) + (rem > threshold)
    return _scalar_or_array(res, x, n)


def requantize(acc: IntLike, multiplier: IntLike, shift: IntLike) -> IntLike:
    """Scale an int32 accumulator by multiplier * 2^(shift-31).

    The left shift wraps modulo 2^32 as the int32 arithmetic of TFLite and CMSIS-NN does on the
    target (docs/arithmetic.md pins this); the C kernels compute it with unsigned arithmetic to match.
    """
    acc64, m64, s64 = _as_i64(acc), _as_i64(multiplier), _as_i64(shift)
    left = np.maximum(s64, 0)
    right = np.maximum(-s64, 0)
    shifted = _wrap_int32(acc64 << left)
    res = rdbpot(srdhm(shifted, m64), right)
    return _scalar_or_array(np.asarray(res), acc, multiplier, shift)


def requantize_single(acc: IntLike, multiplier: IntLike, shift: IntLike) -> IntLike:
    """Scale an int32 accumulator by multiplier * 2^(shift-31) with one rounding (TFLite's single
    rounding, which its FULLY_CONNECTED uses; `requantize` is the gemmlowp double rounding).

        total  = 31 - shift                                   (1 .. 62)
        result = (acc * multiplier + 2^(total - 1)) >> total  (64-bit, >> is arithmetic: floor)

    That is the product rounded to nearest with ties toward plus infinity. The accumulator is the
    kernel's int32 (wrapped, as under -fwrapv); with multiplier in [0, 2^31) the sum stays below
    2^63, and a result outside int32 (possible only for large left shifts) wraps modulo 2^32 as
    the C cast to int32_t does (hk_requantize_single).
    """
    acc64, m64, s64 = _as_i64(acc), _as_i64(multiplier), _as_i64(shift)
    total = 31 - s64
    product = _wrap_int32(acc64) * m64
    res = _wrap_int32((product + (np.int64(1) << (total - 1))) >> total)
    return _scalar_or_array(np.asarray(res), acc, multiplier, shift)


def div_round_half_away(n: IntLike, d: IntLike) -> IntLike:
    """Integer n / d (d > 0) rounded half away from zero, as C computes (n ± d/2) / d."""
    n64, d64 = _as_i64(n), _as_i64(d)
    half = d64 // 2
    res = np.where(n64 >= 0, (n64 + half) // d64, -((-n64 + half) // d64))
    return _scalar_or_array(res, n, d)


def activation_bounds(act: str, out: QuantParams) -> tuple[int, int]:
    """(act_min, act_max) in the output's int8 grid for a fused 'none', 'relu' or 'relu6'."""
    if act == "none":
        return INT8_MIN, INT8_MAX
    if act == "relu":
        return out.zero_point, INT8_MAX
    if act == "relu6":
        return out.zero_point, min(INT8_MAX, out.zero_point + int(round_half_away(6.0 / out.scale)))
    raise QuantError(f"unknown activation {act!r} (expected none, relu or relu6)")

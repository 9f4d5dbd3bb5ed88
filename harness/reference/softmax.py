"""TFLite's reference integer softmax (int8 in, int8 out on the 1/256, -128 grid), in exact int64.

It follows the fixed-point algorithm of TFLite's reference kernel and gemmlowp: input differences to
the row maximum are rescaled to Q5.26 by (input_beta_multiplier, input_beta_left_shift); exp of a
negative Q5.26 value is a Taylor polynomial on [-1/4, 0) times a barrel of exp(-2^k) constants; the
Q12.19 sum of exponentials is inverted with three Newton-Raphson steps. Constants are gemmlowp's.
"""
from __future__ import annotations

import numpy as np

from harness.quant import INT32_MAX, INT32_MIN, rdbpot, srdhm

Array = np.ndarray

_EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8) in Q0.31
_ONE_THIRD = 715827883  # 1/3 in Q0.31
_EXP_BARREL = (  # (k, exp(-2^k) in Q0.31) for the bits of the remainder
    (-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
    (2, 39332535), (3, 720401), (4, 242),
)
_DIFF_INTEGER_BITS = 5  # Q5.26 differences
_SUM_INTEGER_BITS = 12  # Q12.19 sum of exponentials
_48_OVER_17 = 1515870810  # Q2.29
_MINUS_32_OVER_17 = -1010580540  # Q2.29


def _sat_shift_left(x: Array, exponent: int) -> Array:
    """gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def _mul(a: Array, b: Array | int) -> Array:
    return np.asarray(srdhm(a, b), dtype=np.int64)


def _exp_quarter_interval(a: Array) -> Array:
    """exp(a) for a Q0.31 value a in [-1/4, 0): Taylor expansion around -1/8."""
    x = a + (1 << 28)
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = np.asarray(rdbpot(x4, 2), dtype=np.int64)
    poly = np.asarray(rdbpot(_mul(x4_over_4 + x3, _ONE_THIRD) + x2, 1), dtype=np.int64)
    return _EXP_MINUS_ONE_EIGHTH + _mul(np.full_like(x, _EXP_MINUS_ONE_EIGHTH), x + poly)


def exp_on_negative_values(a: Array) -> Array:
    """exp(a) in Q0.31 for a <= 0 given in Q5.26."""
    frac_bits = 31 - _DIFF_INTEGER_BITS
    quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter
    result = _exp_quarter_interval(_sat_shift_left(a_mod_quarter_minus_quarter, _DIFF_INTEGER_BITS))
    remainder = a_mod_quarter_minus_quarter - a
    for k, multiplier in _EXP_BARREL:
        result = np.where(remainder & (1 << (frac_bits + k)), _mul(result, multiplier), result)
    return np.where(a == 0, INT32_MAX, result)


def _one_over_one_plus_x(a: Array) -> Array:
    """1 / (1 + a) for a Q0.31 value a in [0, 1), as Q0.31 (Newton-Raphson, three steps)."""
    total = a + INT32_MAX
    half_denominator = (total + 1) // 2  # RoundingHalfSum of non-negative values
    x = _48_OVER_17 + _mul(half_denominator, _MINUS_32_OVER_17)
    for _ in range(3):
        one_minus = (1 << 29) - _mul(half_denominator, x)
        x = x + _sat_shift_left(_mul(x, one_minus), 2)
    return _sat_shift_left(x, 1)


def _clz32(x: Array) -> Array:
    bits = np.zeros_like(x)
    v = x.copy()
    for shift in (16, 8, 4, 2, 1):
        small = v < (1 << (32 - shift))
        bits = np.where(small, bits + shift, bits)
        v = np.where(small, v << shift, v)
    return np.where(x == 0, 32, bits)


def softmax_int8(x: Array, input_multiplier: int, input_left_shift: int, diff_min: int) -> Array:
    """Softmax over the last axis of int8 `x`, bit-exact with TFLite's reference kernel."""
    q = np.asarray(x, dtype=np.int64)
    diff = q - q.max(axis=-1, keepdims=True)
    valid = diff >= diff_min
    shifted = ((diff << input_left_shift) + (1 << 31)) % (1 << 32) - (1 << 31)
    exps = exp_on_negative_values(_mul(shifted, input_multiplier))
    sum_of_exps = np.where(valid, np.asarray(rdbpot(exps, _SUM_INTEGER_BITS), dtype=np.int64), 0).sum(
        axis=-1, keepdims=True
    )
    headroom_plus_one = _clz32(sum_of_exps)
    num_bits_over_unit = _SUM_INTEGER_BITS - headroom_plus_one
    shifted_sum_minus_one = ((sum_of_exps << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    scale = _one_over_one_plus_x(shifted_sum_minus_one)
    unsat = np.asarray(rdbpot(_mul(scale, exps), num_bits_over_unit + 31 - 8), dtype=np.int64)
    out = np.clip(unsat - 128, -128, 127)
    return np.where(valid, out, -128).astype(np.int8)

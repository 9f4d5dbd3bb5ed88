"""Known answers for the int8 arithmetic of INT8_SPEC.md, and a differential check of the
vectorized helpers against a plain scalar transcription of the spec."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.quant import (
    INT32_MAX,
    INT32_MIN,
    QuantError,
    QuantParams,
    activation_bounds,
    calibrate_asymmetric,
    dequantize,
    div_round_half_away,
    f32,
    quantize,
    quantize_bias,
    quantize_multiplier,
    quantize_weights,
    rdbpot,
    requantize,
    round_half_away,
    srdhm,
    symmetric_weight_scales,
)

# ------------------------------------------------------------------ an independent transcription


def spec_srdhm(a: int, b: int) -> int:
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return int(math.trunc((ab + nudge) / (1 << 31))) if abs(ab) < 2**52 else _trunc_div(ab + nudge, 1 << 31)


def _trunc_div(n: int, d: int) -> int:
    q = abs(n) // d
    return q if n >= 0 else -q


def spec_rdbpot(x: int, n: int) -> int:
    mask = (1 << n) - 1
    rem = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> n) + (1 if rem > threshold else 0)


def spec_requantize(acc: int, q: int, shift: int) -> int:
    left = max(shift, 0)
    shifted = (acc << left) & 0xFFFFFFFF
    shifted = shifted - (1 << 32) if shifted >= 1 << 31 else shifted
    return spec_rdbpot(_trunc_div_srdhm(shifted, q), max(-shift, 0))


def _trunc_div_srdhm(a: int, b: int) -> int:
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _trunc_div(ab + nudge, 1 << 31)


# ---------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    "x, expected",
    [(0.5, 1), (-0.5, -1), (1.5, 2), (2.5, 3), (-2.5, -3), (0.49999999, 0), (-0.49999999, 0), (0.0, 0), (7.0, 7)],
)
def test_round_half_away_ties_go_away_from_zero(x: float, expected: int) -> None:
    assert round_half_away(x) == expected
    assert round_half_away(np.array([x])).tolist() == [expected]


def test_round_half_away_differs_from_python_round_on_even_ties() -> None:
    assert round(2.5) == 2 and round_half_away(2.5) == 3


def test_quantize_and_dequantize_on_the_grid() -> None:
    qp = QuantParams(0.5, -3)
    assert quantize(np.array([0.25, -0.25, 0.0, 1000.0, -1000.0]), qp).tolist() == [-2, -4, -3, 127, -128]
    assert dequantize(np.array([-3, -1, 127]), qp).tolist() == [0.0, 1.0, 65.0]


def test_quant_params_reject_out_of_range() -> None:
    with pytest.raises(QuantError, match="zero point 128"):
        QuantParams(0.1, 128)
    with pytest.raises(QuantError, match="positive finite"):
        QuantParams(0.0, 0)
    with pytest.raises(QuantError, match="positive finite"):
        QuantParams(float("nan"), 0)


# ------------------------------------------------------------------------- calibration


def test_calibrate_asymmetric_known_answers() -> None:
    qp = calibrate_asymmetric(-1.0, 1.0)
    assert qp.scale == f32(2.0 / 255.0)
    assert qp.zero_point == -1  # -128 + 127.5 = -0.5 rounds away from zero
    assert calibrate_asymmetric(0.0, 0.0) == QuantParams(1.0, -128)
    # ranges are widened to include zero
    assert calibrate_asymmetric(0.5, 2.0) == QuantParams(f32(2.0 / 255.0), -128)
    assert calibrate_asymmetric(-2.0, -0.5).zero_point == 127


def test_weight_scales_and_quantization() -> None:
    w = np.array([[1.0, -0.5], [0.0, 0.0], [0.25, 0.127]], dtype=np.float32)
    per_tensor = symmetric_weight_scales(w, per_channel=False)
    per_channel = symmetric_weight_scales(w, per_channel=True)
    assert per_tensor.tolist() == [f32(1.0 / 127)]
    assert per_channel.tolist() == [f32(1.0 / 127), 1.0, f32(0.25 / 127)]  # all-zero channel -> 1.0
    q = quantize_weights(w, per_channel)
    assert q[0].tolist() == [127, -64]  # -63.5 rounds away from zero
    assert q[2].tolist() == [127, 65]
    assert q.dtype == np.int8 and int(q.min()) >= -127


def test_quantize_bias_clamps_to_int32() -> None:
    b = quantize_bias(np.array([1.0, -1e30, 1e30]), 0.5, np.array([0.25]))
    assert b.tolist() == [8, INT32_MIN, INT32_MAX]


# ------------------------------------------------------------------------- multipliers


@pytest.mark.parametrize(
    "real, expected",
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (round(0.75 * 2**31), 0)),
        (1 - 2**-40, (1 << 30, 1)),  # rounds up to 2^31: halved, exponent + 1
        (2.0**-40, (0, 0)),  # exponent below -31 -> zero multiplier
        (2.0**-31, (1 << 30, -30)),
        (2.0**29, (1 << 30, 30)),
    ],
)
def test_quantize_multiplier_known_answers(real: float, expected: tuple[int, int]) -> None:
    assert quantize_multiplier(real) == expected


def test_quantize_multiplier_rejects_unrepresentable() -> None:
    with pytest.raises(QuantError, match="left shift of 31"):
        quantize_multiplier(2.0**30)
    with pytest.raises(QuantError):
        quantize_multiplier(-0.5)
    with pytest.raises(QuantError):
        quantize_multiplier(float("inf"))


@given(st.floats(min_value=2.0**-31, max_value=2.0**29, allow_nan=False))
def test_quantize_multiplier_reconstructs_the_real_value(real: float) -> None:
    q, shift = quantize_multiplier(real)
    assert 2**30 <= q < 2**31
    assert abs(q * 2.0 ** (shift - 31) - real) <= real * 2**-31


# ------------------------------------------------------------------ SRDHM, RDBPOT, requantize


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (INT32_MIN, INT32_MIN, INT32_MAX),  # the only overflow saturates
        (INT32_MAX, INT32_MAX, INT32_MAX - 1),
        (INT32_MIN, INT32_MAX, -INT32_MAX),
        (1 << 30, 1 << 30, 1 << 29),
        (5, 1 << 30, 3),  # 2.5 -> 3 (nudge up)
        (-5, 1 << 30, -2),  # -2.5 -> -2 (negative ties go toward zero)
        (-6, 1 << 30, -3),
        (0, INT32_MIN, 0),
    ],
)
def test_srdhm_known_answers(a: int, b: int, expected: int) -> None:
    assert srdhm(a, b) == expected


@pytest.mark.parametrize(
    "x, n, expected",
    [
        (5, 1, 3), (-5, 1, -3), (6, 2, 2), (-6, 2, -2), (-7, 0, -7), (7, 0, 7),
        (3, 1, 2), (-3, 1, -2), (1, 31, 0), (1 << 30, 31, 1), (-(1 << 30), 31, -1),
        (INT32_MAX, 31, 1), (INT32_MIN, 31, -1), (-1, 31, 0), (10, 2, 3), (-10, 2, -3), (9, 2, 2),
    ],
)
def test_rdbpot_known_answers(x: int, n: int, expected: int) -> None:
    assert rdbpot(x, n) == expected


@pytest.mark.parametrize("shift", range(-31, 31))
def test_requantize_every_shift_matches_the_spec(shift: int) -> None:
    rng = np.random.default_rng(shift + 100)
    accs = np.concatenate([rng.integers(INT32_MIN, INT32_MAX, 200, endpoint=True),
                           [0, 1, -1, INT32_MIN, INT32_MAX, 1 << 20, -(1 << 20)]])
    mults = rng.integers(1 << 30, INT32_MAX, len(accs), endpoint=True)
    got = requantize(accs, mults, np.full(len(accs), shift))
    want = [spec_requantize(int(a), int(m), shift) for a, m in zip(accs, mults)]
    assert got.tolist() == want


def test_requantize_known_answers() -> None:
    half = 1 << 30  # multiplier 0.5
    assert requantize(1000, half, 0) == 500
    assert requantize(3, half, 0) == 2  # 1.5 -> 2
    assert requantize(-3, half, 0) == -1  # SRDHM: -1.5 -> -1 (toward zero on negative ties)
    assert requantize(100, half, 2) == 200
    assert requantize(100, half, -1) == 25
    assert requantize(-101, half, -1) == -25  # -50 / 2 = -25 exactly after SRDHM(-101) = -50
    assert requantize(2**30, half, 2) == 0  # 2^30 << 2 wraps to 0 in int32, as the C kernels do
    assert requantize(INT32_MIN, INT32_MIN, 0) == INT32_MAX


@settings(max_examples=2000)
@given(
    st.integers(INT32_MIN, INT32_MAX),
    st.integers(0, INT32_MAX),
    st.integers(-31, 30),
)
def test_requantize_scalar_and_vector_agree_with_the_spec(acc: int, mult: int, shift: int) -> None:
    want = spec_requantize(acc, mult, shift)
    assert requantize(acc, mult, shift) == want
    assert requantize(np.array([acc]), np.array([mult]), np.array([shift])).tolist() == [want]


def test_div_round_half_away() -> None:
    assert div_round_half_away(5, 2) == 3
    assert div_round_half_away(-5, 2) == -3
    assert div_round_half_away(7, 3) == 2
    assert div_round_half_away(-7, 3) == -2
    assert div_round_half_away(np.array([3, -3, 4]), 2).tolist() == [2, -2, 2]


def test_activation_bounds() -> None:
    out = QuantParams(f32(0.05), -10)
    assert activation_bounds("none", out) == (-128, 127)
    assert activation_bounds("relu", out) == (-10, 127)
    assert activation_bounds("relu6", out) == (-10, 110)  # -10 + round(6 / 0.05)
    assert activation_bounds("relu6", QuantParams(f32(0.01), 0)) == (0, 127)
    with pytest.raises(QuantError, match="unknown activation"):
        activation_bounds("gelu", out)

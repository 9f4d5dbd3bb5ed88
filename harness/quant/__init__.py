"""The one int8 arithmetic of docs/arithmetic.md, on the host.

The code is in harness.quant.arithmetic; this file only re-exports it."""
from harness.quant.arithmetic import (
    INT8_MAX,
    INT8_MIN,
    INT32_MAX,
    INT32_MIN,
    SHIFT_MAX,
    SHIFT_MIN,
    IntLike,
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

__all__ = [
    "INT32_MAX", "INT32_MIN", "INT8_MAX", "INT8_MIN", "IntLike", "QuantError", "QuantParams",
    "SHIFT_MAX", "SHIFT_MIN", "activation_bounds", "calibrate_asymmetric", "dequantize",
    "div_round_half_away", "f32", "quantize", "quantize_bias", "quantize_multiplier",
    "quantize_weights", "rdbpot", "requantize", "round_half_away", "srdhm", "symmetric_weight_scales",
]

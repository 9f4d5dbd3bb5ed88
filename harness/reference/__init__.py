"""Integer and float references of every op, batched over samples (axis 0).

The code is in harness.reference.run; this file only re-exports it."""
from harness.reference.run import (
    FLOAT_OPS,
    INT_OPS,
    Array,
    IntOp,
    float_params,
    run_float,
    run_int8,
    run_layer_int8,
)

__all__ = [
    "Array", "FLOAT_OPS", "INT_OPS", "IntOp", "float_params", "run_float", "run_int8", "run_layer_int8",
]

"""Integer and float references of every op, batched over samples (axis 0).

The code is in harness.reference.run and, for what a run is compared with, harness.reference.expected;
this file only re-exports it."""
from harness.reference.expected import Reference, compute_reference, crc32_of
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
    "Array", "FLOAT_OPS", "INT_OPS", "IntOp", "Reference", "compute_reference", "crc32_of", "float_params",
    "run_float", "run_int8", "run_layer_int8",
]

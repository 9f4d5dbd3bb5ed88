"""C code for one quantized model: int8 weights, int32 biases, multipliers and shifts as integer
constants, a static arena plan (no malloc), the layer schedule as one switch, the test inputs, and a
view of each layer's output for the runner's per-layer checksum.

The code is in harness.codegen.model_c; this file only re-exports it."""
from harness.codegen.model_c import (
    ALIGN,
    ArenaPlan,
    GeneratedModel,
    SuiteCase,
    generate,
    generate_suite,
    plan_arena,
)

__all__ = ["ALIGN", "ArenaPlan", "GeneratedModel", "SuiteCase", "generate", "generate_suite", "plan_arena"]

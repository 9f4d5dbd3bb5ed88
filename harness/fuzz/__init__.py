"""`harness fuzz`: random single-layer cases run on the emulator in batches and compared bit for bit
with the integer reference.

The code is in harness.fuzz.runner; this file only re-exports it."""
from harness.fuzz.runner import (
    IMAGE_BUDGET_BYTES,
    IMAGE_MAX_CASES,
    NEUTRAL,
    SHRINK_ROUNDS,
    SIZE_KEYS,
    SUITE_FLAGS,
    EmulatorOracle,
    FuzzFailure,
    FuzzReport,
    HostOracle,
    Log,
    Outcome,
    Replay,
    case_bytes,
    generate_cases,
    op_seed,
    pack,
    replay,
    run_fuzz,
    shrink,
    shrink_candidates,
)

__all__ = [
    "EmulatorOracle", "FuzzFailure", "FuzzReport", "HostOracle", "IMAGE_BUDGET_BYTES",
    "IMAGE_MAX_CASES", "Log", "NEUTRAL", "Outcome", "Replay", "SHRINK_ROUNDS", "SIZE_KEYS",
    "SUITE_FLAGS", "case_bytes", "generate_cases", "op_seed", "pack", "replay", "run_fuzz", "shrink",
    "shrink_candidates",
]

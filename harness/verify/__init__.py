"""Verification: the one judge of a firmware run, used by the command line, pytest and Robot.

The code is in harness.verify.judge; this file only re-exports it."""
from harness.verify.judge import (
    READ_TRANSCRIPT,
    Check,
    Divergence,
    Mismatch,
    Parity,
    Reference,
    Verdict,
    classify,
    compute_reference,
    crc32_of,
    degenerate,
    first_divergence,
    float_parity,
    reference_logits,
    verify_run,
)

__all__ = [
    "Check", "Divergence", "Mismatch", "Parity", "READ_TRANSCRIPT", "Reference", "Verdict", "classify",
    "compute_reference", "crc32_of", "degenerate", "first_divergence", "float_parity",
    "reference_logits", "verify_run",
]

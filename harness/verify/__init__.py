"""Verification: the one judge of a firmware run, used by the command line, pytest and Robot.

The code is in harness.verify.judge; this file only re-exports it."""
from harness.verify.judge import (
    Check,
    Divergence,
    Mismatch,
    Parity,
    Verdict,
    classify,
    degenerate,
    first_divergence,
    float_parity,
    verify_run,
)

__all__ = [
    "Check", "Divergence", "Mismatch", "Parity", "Verdict", "classify",
    "degenerate", "first_divergence", "float_parity",
    "verify_run",
]

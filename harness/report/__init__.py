"""Renders a verified run for people: the per-layer table, memory, parity, checks and verdict.
Every count carries the counter it came from and that counter's unit.

The code is in harness.report.run; this file only re-exports it."""
from harness.report.run import (
    kib,
    render_run,
    shown,
    text_table,
)

__all__ = ["kib", "render_run", "shown", "text_table"]

"""Benchmarks: per-layer counts of zoo models on a target, with footprint and provenance, and the
baseline gate that fails when a layer's count grows. A count is in the unit of the firmware's counter:
instructions under QEMU (icount), cycles on silicon (dwt), ticks of a board timer (timer).

The code is in harness.bench.measure; this file only re-exports it."""
from harness.bench.measure import (
    DETERMINISTIC,
    RUNS,
    BenchLayer,
    BenchReport,
    Log,
    ModelBench,
    NotRepeatable,
    Provenance,
    bench_model,
    run_bench,
)

__all__ = [
    "BenchLayer", "BenchReport", "DETERMINISTIC", "Log", "ModelBench", "NotRepeatable", "Provenance",
    "RUNS", "bench_model", "run_bench",
]

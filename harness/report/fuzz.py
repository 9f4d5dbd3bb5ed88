"""Renders `harness fuzz`: the per-op table and each failure's reproducing command, the replay of
one case value by value, and the JSON of a fuzz run."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from harness.fuzz import FuzzReport, Replay

#: Differing values listed for a replayed case; the count of all of them is given.
SHOWN_DIFFERENCES = 20


def render_fuzz(report: FuzzReport) -> str:
    ops = list(report.per_op)
    width = max(len(op) for op in ops)
    lines = [f"{'op'.ljust(width)}  passed  failed"]
    lines += [f"{op.ljust(width)}  {ok:6d}  {bad:6d}" for op, (ok, bad) in report.per_op.items()]
    for f in report.failures:
        lines += ["", f"FAILED {f.original.op}: {f.reason}",
                  f"  smallest reproducing configuration (of {f.original.config_json()}):", f"  {f.command()}"]
    lines += ["", f"{report.passed} passed, {report.failed} failed ({report.images} images, {report.seconds:.1f} s)"]
    return "\n".join(lines)


def fuzz_json(report: FuzzReport, seed: int, target: str, cases_per_op: int) -> dict[str, Any]:
    return {
        "seed": seed, "target": target, "cases_per_op": cases_per_op, "passed": report.passed,
        "failed": report.failed,
        "per_op": {op: {"passed": ok, "failed": bad} for op, (ok, bad) in report.per_op.items()},
        "failures": [{"op": f.original.op, "reason": f.reason, "original": json.loads(f.original.config_json()),
                      "minimal": json.loads(f.minimal.config_json()), "command": f.command()}
                     for f in report.failures],
        "images": report.images, "seconds": round(report.seconds, 1),
    }


def render_replay(result: Replay) -> str:
    case = result.case
    lines = [f"{case.op}: {case.config_json()}", f"output shape {case.out_shape}"]
    if result.problem:
        return "\n".join(lines + [f"FAILED: {result.problem}"])
    if result.output is None:
        return "\n".join(lines + ["FAILED: the image printed no output for the case"])
    if result.ok:
        return "\n".join(lines + [f"PASSED: all {result.expected.size} values equal the reference"])
    got, want = result.output.ravel(), result.expected.ravel()
    bad = [i for i in range(want.size) if got[i] != want[i]]
    lines.append(f"FAILED: {len(bad)} of {want.size} values differ from the reference")
    for i in bad[:SHOWN_DIFFERENCES]:
        index = tuple(int(v) for v in np.unravel_index(i, case.out_shape))
        lines.append(f"  position {i} (index {index}): firmware {got[i]}, reference {want[i]}")
    return "\n".join(lines)

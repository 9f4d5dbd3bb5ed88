"""Renders a matrix run: one row per target with its core, verdict, count, and memory."""
from __future__ import annotations

from collections.abc import Sequence

from harness.matrix import MatrixRow
from harness.report.run import kib, shown, text_table


def render_matrix(model: str, rows: Sequence[MatrixRow]) -> str:
    headers = ["target", "core", "kernels", "verdict", "count", "unit", "flash", "RAM", "stack"]
    table = []
    for row in rows:
        rep = row.report
        if rep is None:
            table.append([row.target.name, row.target.core, "-", row.verdict, "-", "", "-", "-", "-"])
            continue
        fp = rep.firmware.footprint
        stack = f"{rep.run.stack_used} B" if rep.run.stack_used is not None else "-"
        table.append([row.target.name, row.target.core, rep.firmware.variant, row.verdict, f"{rep.total_count:,}",
                      f"{rep.unit} ({rep.counter})", kib(fp.flash_bytes), kib(fp.ram_bytes), stack])
    verified = sum(r.problem is None for r in rows)
    unfit = sum(not r.fits for r in rows)
    lines = [f"{model} on {len(rows)} targets: {verified} verified"
             + (f", {unfit} too small for it" if unfit else "")
             + (f", {len(rows) - verified - unfit} failed or not judged" if len(rows) - verified - unfit else ""),
             "count: executed instructions per inference (the sum over layers of each layer's largest count "
             "over the test samples); RAM includes the reserved stack, stack is the peak used", ""]
    lines += text_table(headers, table, right={4, 6, 7, 8})
    evidence = [f"  {r.target.name}: {shown(r.report.evidence)}" for r in rows if r.report and r.report.evidence]
    if evidence:
        lines += ["", "evidence (uart.log, the emulator's log, report.json):", *evidence]
    return "\n".join(lines)

"""A cross-emulator check for people: each emulator's verdict, then the per-layer counts side by side."""
from __future__ import annotations

from harness.cross import COUNT_BOUND_PPM, CrossReport
from harness.report.run import text_table


def render_cross(report: CrossReport) -> str:
    names = [r.emulator for r in report.runs]
    out = [f"{report.model} on {report.target}: one ELF ({report.elf.name}, build {report.build_id}) on "
           f"{' and '.join(names)}", ""]
    for r in report.runs:
        verdict = "VERIFIED" if r.verdict.match else "FAILED"
        note = f"; {r.emulated.count_note}" if r.emulated.count_note else ""
        out.append(f"  {r.emulator}: {verdict} under {r.emulated.version}; counter {r.counter} "
                   f"({r.emulated.unit}{note})")
    if report.layers:
        out += ["", f"per-layer counts (largest over the samples); bound: the coarser granularity plus "
                    f"{COUNT_BOUND_PPM} ppm of the larger count", ""]
        rows = [[str(a.index), a.name, *(f"{c:,}" for c in a.counts), f"{a.difference:,}", f"{a.bound:,}",
                 "ok" if a.ok else "BEYOND"] for a in report.layers]
        numeric = set(range(2, 4 + len(names)))
        out += text_table(["#", "layer", *names, "diff", "bound", ""], rows, numeric | {0})
    out.append("")
    if report.ok:
        out.append(f"AGREE: {' and '.join(names)} verified the same records, and every layer's counts are within "
                   "the bound")
    else:
        out += [f"DISAGREE: {p}" if p.kind == "disagree" else f"FAILED ({p.kind}): {p}" for p in report.problems]
    return "\n".join(out)

"""Renders a run's instruction profile: the functions that executed the most instructions."""
from __future__ import annotations

from harness.profile import Profile
from harness.report.run import shown, text_table


def render_profile(profile: Profile, top: int) -> str:
    rows = profile.functions[:top]
    rest = profile.functions[top:]
    lines = [f"{profile.model} on {profile.target.name} ({profile.target.core}), kernels {profile.firmware.variant}: "
             f"{profile.total:,} instructions executed from reset to the halt after the @done record "
             "(QEMU's counting plugin; instructions, not cycles)",
             f"the {len(rows)} functions with the most instructions, of {len(profile.functions)}; entries are "
             "runs of a function's first block (calls, mostly)", ""]
    table = [[f.name, f"{f.instructions:,}", f"{100 * profile.share(f):.1f}%", f"{f.entries:,}"] for f in rows]
    if rest:
        table.append([f"({len(rest)} more)", f"{sum(f.instructions for f in rest):,}",
                      f"{100 * sum(profile.share(f) for f in rest):.1f}%", ""])
    lines += text_table(["function", "instructions", "share", "entries"], table, right={1, 2, 3})
    lines += ["", f"evidence: {shown(profile.evidence)} (counts.txt: the plugin's block counts; uart.log)"]
    return "\n".join(lines)

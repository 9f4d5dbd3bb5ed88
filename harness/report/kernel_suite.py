"""Reports of the kernel benchmark suite: a terminal table, JSON (a list, one object per shape and
variant) and Markdown. Each shape's count sits beside CMSIS-NN's figure for it, which is labelled
with where it comes from: it is a reference, not measured by this run."""
from __future__ import annotations

from typing import Any

from harness.bench.kernel_suite import CMSIS_NN_SOURCE, KernelResult, KernelSuite
from harness.protocol.counters import per_unit
from harness.report import text_table
from harness.report.bench import provenance_line, repeatability_line


def _mpc(r: KernelResult) -> str:
    return f"{r.macs / r.count:.3f}" if r.macs and r.count else "-"


def _table(suite: KernelSuite) -> tuple[list[str], list[list[str]]]:
    unit = suite.unit
    headers = ["id", "layer", unit, "MACs", per_unit(unit), "CMSIS-NN", f"{suite.variant} / CMSIS-NN"]
    rows = [[r.shape.id, r.shape.layer, f"{r.count:,}", f"{r.macs:,}" if r.macs else "-", _mpc(r),
             f"{r.shape.cmsis_nn:,}", f"{r.ratio:.2f}x"] for r in suite.results]
    return headers, rows


def title(suite: KernelSuite) -> str:
    which = "the portable C kernels" if suite.variant == "ref" else "a variant folder; ref where it has none"
    return (f"Kernel suite: {suite.unit} per call of each shape's layer, kernels {suite.variant} ({which}), "
            "beside CMSIS-NN")


def source_line() -> str:
    return f"CMSIS-NN figures (a stored reference, not measured here): {CMSIS_NN_SOURCE}"


def _ratio_line(suite: KernelSuite) -> str:
    ratios = [r.ratio for r in suite.results]
    return (f"{suite.variant} takes {min(ratios):.2f}x to {max(ratios):.2f}x CMSIS-NN's count; "
            f"{per_unit(suite.unit)} is '-' for layers without multiply-accumulates")


def render_text(suite: KernelSuite) -> str:
    out = [title(suite), provenance_line(suite.bench), repeatability_line(suite.bench), source_line(), ""]
    out += text_table(*_table(suite), right={2, 3, 4, 5, 6})
    out += ["", _ratio_line(suite)]
    return "\n".join(out) + "\n"


def to_json(suite: KernelSuite) -> list[dict[str, Any]]:
    """One object per shape and variant: `instructions` is the count (the suite's counters count
    instructions, as CMSIS-NN's figures do)."""
    return [{"id": r.shape.id, "kernels": suite.variant, "instructions": r.count, "macs": r.macs,
             "cmsis_nn": r.shape.cmsis_nn} for r in suite.results]


def render_markdown(suite: KernelSuite) -> str:
    headers, rows = _table(suite)
    out = [f"# {title(suite)}", "", provenance_line(suite.bench), "",
           repeatability_line(suite.bench), "", source_line(), "",
           "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out += ["", _ratio_line(suite), ""]
    return "\n".join(out)

"""Reports of the kernel benchmark suite: a terminal table, JSON (a list, one object per shape and
variant) and Markdown. Each shape's count sits beside CMSIS-NN's figure for it, which is labelled
with where it comes from: it is a reference, not measured by this run. With several kernel variants
the table has, per variant, its count, MACs per count and ratio to CMSIS-NN, one row per shape."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.bench.kernel_suite import KernelResult, KernelSuite
from harness.build import REF
from harness.protocol.counters import per_unit
from harness.report import text_table
from harness.report.bench import provenance_line, repeatability_line

Suites = KernelSuite | Sequence[KernelSuite]


def _all(suites: Suites) -> list[KernelSuite]:
    return [suites] if isinstance(suites, KernelSuite) else list(suites)


def _mpc(r: KernelResult) -> str:
    return f"{r.macs / r.count:.3f}" if r.macs and r.count else "-"


def _table(suites: Suites) -> tuple[list[str], list[list[str]]]:
    """id, layer, MACs, CMSIS-NN, then per variant its count, MACs per count and ratio to CMSIS-NN."""
    runs = _all(suites)
    unit = runs[0].unit
    headers = ["id", "layer", "MACs", "CMSIS-NN"]
    for s in runs:
        headers += [f"{s.variant} {unit}", f"{s.variant} {per_unit(unit)}", f"{s.variant} / CMSIS-NN"]
    rows = []
    for i, first in enumerate(runs[0].results):
        row = [first.shape.id, first.shape.layer, f"{first.macs:,}" if first.macs else "-",
               f"{first.cmsis_nn:,}" if first.cmsis_nn else "-"]
        for s in runs:
            r = s.results[i]
            row += [f"{r.count:,}", _mpc(r), f"{r.ratio:.2f}x" if r.ratio is not None else "-"]
        rows.append(row)
    return headers, rows


def _which(variant: str) -> str:
    if variant == REF:
        return "the portable C kernels"
    if variant == "dsp":
        return "the DSP-extension kernels; ref where they have none"
    return "a variant folder; ref where it has none"


def title(suites: Suites) -> str:
    runs = _all(suites)
    kernels = ", ".join(f"{s.variant} ({_which(s.variant)})" for s in runs)
    return (f"Kernel suite: {runs[0].unit} per call of each shape's layer on {runs[0].core}, kernels {kernels}, "
            "beside CMSIS-NN")


def source_line(suites: Suites) -> str:
    source = _all(suites)[0].cmsis_nn_source
    if source is None:
        return f"CMSIS-NN figures: none stored for {_all(suites)[0].core}"
    return f"CMSIS-NN figures (a stored reference, not measured here): {source}"


def _ratio_line(suite: KernelSuite) -> str:
    ratios = [r.ratio for r in suite.results if r.ratio is not None]
    if not ratios:
        return f"{suite.variant}: no CMSIS-NN figure to compare with on {suite.core}"
    mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    return (f"{suite.variant} takes {min(ratios):.2f}x to {max(ratios):.2f}x CMSIS-NN's count "
            f"(geometric mean {mean:.2f}x, over the {len(ratios)} shapes with a figure)")


def _summary(runs: list[KernelSuite]) -> list[str]:
    return [_ratio_line(s) for s in runs] + [
        f"{per_unit(runs[0].unit)} is '-' for layers without multiply-accumulates"]


def _heading(runs: list[KernelSuite]) -> list[str]:
    """Provenance and repeatability, once per variant when there are several (each names its kernels)."""
    out = []
    for s in runs:
        out.append(provenance_line(s.bench))
        out.append(repeatability_line(s.bench) if len(runs) == 1 else f"{s.variant}: {repeatability_line(s.bench)}")
    return out


def render_text(suites: Suites) -> str:
    runs = _all(suites)
    headers, rows = _table(runs)
    out = [title(runs), *_heading(runs), source_line(runs), ""]
    out += text_table(headers, rows, right=set(range(2, len(headers))))
    out += ["", *_summary(runs)]
    return "\n".join(out) + "\n"


def to_json(suites: Suites) -> list[dict[str, Any]]:
    """One object per shape and variant, a variant's shapes together, in the order of the variants:
    `instructions` is the count (the suite's counters count instructions, as CMSIS-NN's figures do)."""
    return [{"id": r.shape.id, "kernels": s.variant, "instructions": r.count, "macs": r.macs,
             "cmsis_nn": r.cmsis_nn} for s in _all(suites) for r in s.results]


def render_markdown(suites: Suites) -> str:
    runs = _all(suites)
    headers, rows = _table(runs)
    out = [f"# {title(runs)}", ""]
    for line in _heading(runs):
        out += [line, ""]
    out += [source_line(runs), "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out.append("")
    for line in _summary(runs):
        out += [line, ""]
    return "\n".join(out)

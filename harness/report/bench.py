"""Benchmark reports: a terminal table, CSV (one row per layer), JSON, Markdown and HTML. Every
figure travels with its provenance: counter and unit, emulator, compiler, flags, kernel variant."""
from __future__ import annotations

import csv
import html
import io
from dataclasses import asdict
from typing import Any, Optional

from harness.bench import BenchReport, ModelBench
from harness.bench.baseline import Comparison
from harness.report import kib, text_table

CSV_COLUMNS = ("model", "layer_index", "layer", "op", "output_shape", "macs", "cycles", "macs_per_cycle",
               "share", "weight_bytes", "activation_bytes", "counter", "unit")


def provenance_line(report: BenchReport) -> str:
    p = report.provenance
    return (f"target {p.target} ({p.core}) under {p.emulator_version}; {p.compiler} {' '.join(p.flags)}; "
            f"kernels {p.kernel_variant}; harness {p.harness_version} at {p.source}")


def repeatability_line(report: BenchReport) -> str:
    lines = []
    for m in report.models:
        if m.repeatable:
            lines.append(m.model)
    if len(lines) == len(report.models):
        return f"every layer's count repeated exactly over {report.models[0].runs} runs of each model"
    varied = ", ".join(m.model for m in report.models if not m.repeatable)
    return f"counts repeated exactly for {len(lines)} model(s); they varied between runs for {varied}"


def _share(m: ModelBench, cycles: int) -> Optional[float]:
    return cycles / m.total_cycles if m.total_cycles else None


def layer_records(report: BenchReport) -> list[dict[str, Any]]:
    rows = []
    for m in report.models:
        for l in m.layers:
            mpc = l.macs_per_cycle
            share = _share(m, l.cycles)
            rows.append({
                "model": m.model, "layer_index": l.index, "layer": l.name, "op": l.op,
                "output_shape": "x".join(map(str, l.output_shape)), "macs": l.macs, "cycles": l.cycles,
                "macs_per_cycle": round(mpc, 4) if mpc is not None else "",
                "share": round(share, 4) if share is not None else "", "weight_bytes": l.weight_bytes,
                "activation_bytes": l.activation_bytes, "counter": m.counter, "unit": m.unit,
            })
    return rows


def to_csv(report: BenchReport) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(layer_records(report))
    return buf.getvalue()


def model_summary(m: ModelBench) -> dict[str, Any]:
    fp = m.firmware.footprint
    return {
        "model": m.model, "counter": m.counter, "unit": m.unit, "runs": m.runs, "repeatable": m.repeatable,
        "total_cycles": m.total_cycles, "total_macs": m.total_macs,
        "weight_bytes": m.firmware.weight_bytes, "arena_bytes": m.firmware.arena_bytes,
        "flash_bytes": fp.flash_bytes, "ram_bytes": fp.ram_bytes, "stack_reserved_bytes": fp.stack_bytes,
        "stack_used_bytes": m.stack_used,
    }


def to_json(report: BenchReport, comparison: Optional[Comparison] = None) -> dict[str, Any]:
    records = layer_records(report)
    data: dict[str, Any] = {
        "provenance": asdict(report.provenance),
        "repeatability": repeatability_line(report),
        "models": [{**model_summary(m), "layers": [r for r in records if r["model"] == m.model]} for m in report.models],
    }
    if comparison is not None:
        data["baseline"] = {
            "path": str(comparison.path), "tolerance_pct": comparison.tolerance_pct, "ok": comparison.ok,
            "regressions": [asdict(c) for c in comparison.regressions],
            "improvements": [asdict(c) for c in comparison.improvements],
            "missing": comparison.missing, "notes": comparison.notes,
        }
    return data


def _model_table(m: ModelBench) -> tuple[list[str], list[list[str]]]:
    unit = "instructions" if m.counter == "icount" else m.unit
    headers = ["#", "layer", "op", "output", "MACs", unit, f"MACs/{'instr' if m.counter == 'icount' else 'cycle'}",
               "share", "weight B", "activation B"]
    rows = []
    for l in m.layers:
        mpc, share = l.macs_per_cycle, _share(m, l.cycles)
        rows.append([str(l.index), l.name, l.op, "x".join(map(str, l.output_shape)), f"{l.macs:,}", f"{l.cycles:,}",
                     f"{mpc:.3f}" if mpc else "-", f"{100 * share:.1f}%" if share is not None else "-",
                     f"{l.weight_bytes:,}", f"{l.activation_bytes:,}"])
    total_mpc = m.total_macs / m.total_cycles if m.total_cycles else None
    rows.append(["", "total", "", "", f"{m.total_macs:,}", f"{m.total_cycles:,}",
                 f"{total_mpc:.3f}" if total_mpc else "-", "100.0%", f"{sum(l.weight_bytes for l in m.layers):,}", ""])
    return headers, rows


def _memory_line(m: ModelBench) -> str:
    fp = m.firmware.footprint
    return (f"flash {kib(fp.flash_bytes)}, RAM {kib(fp.ram_bytes)} (stack {m.stack_used} B used of "
            f"{fp.stack_bytes} B), weights {m.firmware.weight_bytes:,} B, arena {m.firmware.arena_bytes:,} B")


def render_text(report: BenchReport) -> str:
    out = [provenance_line(report), repeatability_line(report), ""]
    for m in report.models:
        out.append(f"{m.model}: {m.total_cycles:,} {m.unit} ({m.counter}) per inference; {_memory_line(m)}")
        out += text_table(*_model_table(m), right={0, 4, 5, 6, 7, 8, 9})
        out.append("")
    if len(report.models) > 1:
        headers = ["model", report.models[0].unit, "MACs", "flash", "RAM", "weights", "arena"]
        rows = [[m.model, f"{m.total_cycles:,}", f"{m.total_macs:,}", kib(m.firmware.footprint.flash_bytes),
                 kib(m.firmware.footprint.ram_bytes), f"{m.firmware.weight_bytes:,}", f"{m.firmware.arena_bytes:,}"]
                for m in report.models]
        out += text_table(headers, rows, right={1, 2, 3, 4, 5, 6})
    return "\n".join(out).rstrip() + "\n"


def render_markdown(report: BenchReport, comparison: Optional[Comparison] = None) -> str:
    out = ["# Cycle benchmark", "", provenance_line(report), "", repeatability_line(report), ""]
    for m in report.models:
        headers, rows = _model_table(m)
        out += [f"## {m.model}", "", f"{m.total_cycles:,} {m.unit} ({m.counter}); {_memory_line(m)}", "",
                "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        out.append("")
    if comparison is not None:
        out += ["## Baseline", ""] + [f"- {line}" for line in comparison.lines()] + [""]
    return "\n".join(out)


def render_html(report: BenchReport, comparison: Optional[Comparison] = None) -> str:
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Cycle benchmark</title><style>",
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:2px 8px}td:nth-child(n+5){text-align:right}"
             "tr:last-child{font-weight:bold}</style></head><body>",
             "<h1>Cycle benchmark</h1>", f"<p>{e(provenance_line(report))}</p>", f"<p>{e(repeatability_line(report))}</p>"]
    for m in report.models:
        headers, rows = _model_table(m)
        parts.append(f"<h2>{e(m.model)}</h2><p>{e(f'{m.total_cycles:,} {m.unit} ({m.counter}); ' + _memory_line(m))}</p>")
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
        parts.append("</table>")
    if comparison is not None:
        parts.append("<h2>Baseline</h2><ul>" + "".join(f"<li>{e(l)}</li>" for l in comparison.lines()) + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)

"""Benchmark reports: a terminal table, CSV (one row per layer), JSON, Markdown and HTML. Every
figure travels with its provenance: counter and unit, emulator, compiler, flags, kernel variant.

A count is named neutrally (`count`, `total_count`) beside its `counter` and `unit`; JSON repeats it
under the unit's own key (`instructions`, `cycles`, `timer_ticks`), CSV keeps one header for all."""
from __future__ import annotations

import csv
import html
import io
from dataclasses import asdict
from typing import Any

from harness.bench import BenchLayer, BenchReport, ModelBench
from harness.bench.baseline import Comparison
from harness.protocol.counters import per_unit, unit_named
from harness.report import kib, text_table

CSV_COLUMNS = ("model", "layer_index", "layer", "op", "output_shape", "macs", "count", "unit", "counter",
               "macs_per_count", "share", "weight_bytes", "activation_bytes")


def provenance_line(report: BenchReport) -> str:
    p = report.provenance
    return (f"target {p.target} ({p.core}) under {p.emulator_version}; {p.compiler} {' '.join(p.flags)}; "
            f"kernels {p.kernel_variant}; harness {p.harness_version} at {p.source}"
            + (f"; counts: {p.count_note}" if p.count_note else ""))


def repeatability_line(report: BenchReport) -> str:
    lines = []
    for m in report.models:
        if m.repeatable:
            lines.append(m.model)
    if len(lines) == len(report.models):
        return f"every layer's count repeated exactly over {report.models[0].runs} runs of each model"
    varied = ", ".join(m.model for m in report.models if not m.repeatable)
    return f"counts repeated exactly for {len(lines)} model(s); they varied between runs for {varied}"


def measured(report: BenchReport) -> str:
    """What the report's counts are, for titles: `instructions per layer (icount)`."""
    if len(report.counters) == 1:
        return f"{report.models[0].unit} per layer ({report.models[0].counter})"
    return f"counts per layer ({', '.join(sorted(report.counters))})"


def _share(m: ModelBench, count: int) -> float | None:
    return count / m.total_count if m.total_count else None


def layer_record(m: ModelBench, l: BenchLayer) -> dict[str, Any]:
    """One CSV row: the count beside the counter and unit it is in."""
    mpc, share = l.macs_per_count, _share(m, l.count)
    return {
        "model": m.model, "layer_index": l.index, "layer": l.name, "op": l.op,
        "output_shape": "x".join(map(str, l.output_shape)), "macs": l.macs, "count": l.count, "unit": m.unit,
        "counter": m.counter, "macs_per_count": round(mpc, 4) if mpc is not None else "",
        "share": round(share, 4) if share is not None else "", "weight_bytes": l.weight_bytes,
        "activation_bytes": l.activation_bytes,
    }


def to_csv(report: BenchReport) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(layer_record(m, l) for m in report.models for l in m.layers)
    return buf.getvalue()


def model_summary(m: ModelBench) -> dict[str, Any]:
    fp = m.firmware.footprint
    return {
        "model": m.model, "counter": m.counter, "unit": m.unit, "runs": m.runs, "repeatable": m.repeatable,
        "total_count": m.total_count, **unit_named(m.unit, m.total_count, "total_"), "total_macs": m.total_macs,
        "weight_bytes": m.firmware.weight_bytes, "arena_bytes": m.firmware.arena_bytes,
        "flash_bytes": fp.flash_bytes, "ram_bytes": fp.ram_bytes, "stack_reserved_bytes": fp.stack_bytes,
        "stack_used_bytes": m.stack_used,
        "wall_seconds": [round(w, 3) for w in m.wall_seconds],
    }


def to_json(report: BenchReport, comparison: Comparison | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provenance": asdict(report.provenance),
        "repeatability": repeatability_line(report),
        "models": [{**model_summary(m), "layers": [{**layer_record(m, l), **unit_named(m.unit, l.count)}
                                                   for l in m.layers]}
                   for m in report.models],
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
    headers = ["#", "layer", "op", "output", "MACs", m.unit, per_unit(m.unit), "share", "weight B", "activation B"]
    rows = []
    for l in m.layers:
        mpc, share = l.macs_per_count, _share(m, l.count)
        rows.append([str(l.index), l.name, l.op, "x".join(map(str, l.output_shape)), f"{l.macs:,}", f"{l.count:,}",
                     f"{mpc:.3f}" if mpc else "-", f"{100 * share:.1f}%" if share is not None else "-",
                     f"{l.weight_bytes:,}", f"{l.activation_bytes:,}"])
    total_mpc = m.total_macs / m.total_count if m.total_count else None
    rows.append(["", "total", "", "", f"{m.total_macs:,}", f"{m.total_count:,}",
                 f"{total_mpc:.3f}" if total_mpc else "-", "100.0%", f"{sum(l.weight_bytes for l in m.layers):,}", ""])
    return headers, rows


def _memory_line(m: ModelBench) -> str:
    fp = m.firmware.footprint
    return (f"flash {kib(fp.flash_bytes)}, RAM {kib(fp.ram_bytes)} (stack {m.stack_used} B used of "
            f"{fp.stack_bytes} B), weights {m.firmware.weight_bytes:,} B, arena {m.firmware.arena_bytes:,} B")


def render_text(report: BenchReport) -> str:
    out = [provenance_line(report), repeatability_line(report), ""]
    for m in report.models:
        out.append(f"{m.model}: {m.total_count:,} {m.unit} ({m.counter}) per inference; {_memory_line(m)}")
        out += text_table(*_model_table(m), right={0, 4, 5, 6, 7, 8, 9})
        out.append("")
    if len(report.models) > 1:
        out += _summary_table(report)
    out += ["", wall_line(report)]
    return "\n".join(out).rstrip() + "\n"


def wall_line(report: BenchReport) -> str:
    """How long the emulator took, for comparing emulators and machines; not a figure of the firmware."""
    walls = [w for m in report.models for w in m.wall_seconds]
    slowest = max(report.models, key=lambda m: max(m.wall_seconds, default=0))
    return (f"emulation wall time: {sum(walls):.1f} s for {len(walls)} runs on {report.provenance.emulator} "
            f"(start to @done, builds excluded; slowest run {max(walls, default=0):.2f} s, {slowest.model})")


def _summary_table(report: BenchReport) -> list[str]:
    """One row per model. The counts' column is headed by their unit; were the counters mixed, each
    count names its own."""
    single = len(report.counters) == 1
    headers = ["model", report.models[0].unit if single else "count", "MACs", "flash", "RAM", "weights", "arena"]
    rows = [[m.model, f"{m.total_count:,}" if single else f"{m.total_count:,} {m.unit}", f"{m.total_macs:,}",
             kib(m.firmware.footprint.flash_bytes), kib(m.firmware.footprint.ram_bytes),
             f"{m.firmware.weight_bytes:,}", f"{m.firmware.arena_bytes:,}"] for m in report.models]
    return text_table(headers, rows, right={1, 2, 3, 4, 5, 6})


def render_markdown(report: BenchReport, comparison: Comparison | None = None) -> str:
    out = [f"# Benchmark: {measured(report)}", "", provenance_line(report), "", repeatability_line(report), ""]
    for m in report.models:
        headers, rows = _model_table(m)
        out += [f"## {m.model}", "", f"{m.total_count:,} {m.unit} ({m.counter}); {_memory_line(m)}", "",
                "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        out.append("")
    if comparison is not None:
        out += ["## Baseline", ""] + [f"- {line}" for line in comparison.lines()] + [""]
    return "\n".join(out)


def render_html(report: BenchReport, comparison: Comparison | None = None) -> str:
    e = html.escape
    title = e(f"Benchmark: {measured(report)}")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>",
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:2px 8px}td:nth-child(n+5){text-align:right}"
             "tr:last-child{font-weight:bold}</style></head><body>",
             f"<h1>{title}</h1>", f"<p>{e(provenance_line(report))}</p>", f"<p>{e(repeatability_line(report))}</p>"]
    for m in report.models:
        headers, rows = _model_table(m)
        summary = f"{m.total_count:,} {m.unit} ({m.counter}); {_memory_line(m)}"
        parts.append(f"<h2>{e(m.model)}</h2><p>{e(summary)}</p>")
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
        parts.append("</table>")
    if comparison is not None:
        parts.append("<h2>Baseline</h2><ul>" + "".join(f"<li>{e(l)}</li>" for l in comparison.lines()) + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)

"""Benchmark reports: a terminal table, CSV (one row per layer), JSON, Markdown and HTML. Every
figure travels with its provenance: counter and unit, emulator, compiler, flags, kernel variant.
With several kernel variants, each variant's report as for one, then the comparison of the variants
model by model (harness.bench.kernels_compared), with any published figures on silicon labelled as
cycles, apart from the measured counts; CSV adds a `kernels` column, HTML shows one variant only.

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
from harness.bench.kernels_compared import ModelComparison
from harness.bench.published import BOARD, ROUND
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


def to_csv_variants(reports: list[BenchReport]) -> str:
    """Several variants' layers in one CSV: CSV_COLUMNS after a first column, `kernels`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=("kernels", *CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({"kernels": r.provenance.kernel_variant, **layer_record(m, l)}
                     for r in reports for m in r.models for l in m.layers)
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


def baseline_json(comparison: Comparison) -> dict[str, Any]:
    return {
        "path": str(comparison.path), "kernels": comparison.kernels, "tolerance_pct": comparison.tolerance_pct,
        "ok": comparison.ok, "regressions": [asdict(c) for c in comparison.regressions],
        "improvements": [asdict(c) for c in comparison.improvements],
        "missing": comparison.missing, "notes": comparison.notes,
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
        data["baseline"] = baseline_json(comparison)
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
    out += [f"not measured, too large for {report.provenance.target}: {why}" for why in report.unfit]
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


def render_markdown(report: BenchReport, comparison: Comparison | None = None, level: int = 1) -> str:
    """The report as Markdown; below level 1 (a section of several variants' report) its title names
    the kernels."""
    head = "#" * level
    title = (f"Benchmark: {measured(report)}" if level == 1
             else f"Kernels {report.provenance.kernel_variant}: {measured(report)}")
    out = [f"{head} {title}", "", provenance_line(report), "", repeatability_line(report), ""]
    for m in report.models:
        headers, rows = _model_table(m)
        out += [f"{head}# {m.model}", "", f"{m.total_count:,} {m.unit} ({m.counter}); {_memory_line(m)}", "",
                "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        out.append("")
    if comparison is not None:
        out += [f"{head}# Baseline", ""] + [f"- {line}" for line in comparison.lines()] + [""]
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


# ---------------------------------------------------------------------- several kernel variants


def published_note() -> str:
    return (f"published: {ROUND} on silicon ({BOARD}), the latency times the clock: cycles on a board, not "
            "instructions under an emulator, so not comparable 1:1 with the counts measured here")


def _signed_bytes(n: int) -> str:
    return f"{n:+,} B"


def comparison_table(rows: list[ModelComparison]) -> tuple[list[str], list[list[str]]]:
    """Per model: each variant's total, each later variant's ratio to the first, flash and RAM per
    variant with their change from the first's, and the published figure where there is one."""
    names = [t.kernels for t in rows[0].totals]
    units = {r.unit for r in rows}
    unit = units.pop() if len(units) == 1 else ""
    headers = ["model"]
    for i, name in enumerate(names):
        headers.append(f"{name} {unit}".rstrip() if unit else name)
        if i:
            headers.append(f"{name}/{names[0]}")
    for what in ("flash", "RAM"):
        for i, name in enumerate(names):
            headers.append(f"{name} {what}")
            if i:
                headers.append(f"{name} {what} vs {names[0]}")
    with_published = any(r.published for r in rows)
    if with_published:
        headers.append("published, cycles on silicon")
    table = []
    for r in rows:
        cells = [r.model]
        for i, t in enumerate(r.totals):
            cells.append(f"{t.count:,}" if unit else f"{t.count:,} {r.unit}")
            if i:
                ratio = r.ratio(i)
                cells.append(f"{ratio:.2f}x" if ratio is not None else "-")
        for attr, change in (("flash_bytes", r.flash_change), ("ram_bytes", r.ram_change)):
            for i, t in enumerate(r.totals):
                cells.append(kib(getattr(t, attr)))
                if i:
                    cells.append(_signed_bytes(change(i)))
        if with_published:
            first = r.published[0] if r.published else None
            cells.append(f"{first.cycles / 1e6:.3g} M ({first.system})" if first else "-")
        table.append(cells)
    return headers, table


def comparison_title(rows: list[ModelComparison]) -> str:
    names = [t.kernels for t in rows[0].totals]
    measured_as = ", ".join(sorted({f"{r.unit} ({r.counter})" for r in rows}))
    return (f"kernels compared: {', '.join(names)}; {measured_as} per inference, each variant's ratio to "
            f"{names[0]}'s, flash and RAM of each image and their change from {names[0]}'s")


def published_lines(rows: list[ModelComparison]) -> list[str]:
    figures = [(r.model, p) for r in rows for p in r.published]
    if not figures:
        return []
    return [published_note()] + [f"  {model}: {p.source}" for model, p in figures]


def render_comparison(rows: list[ModelComparison]) -> str:
    headers, table = comparison_table(rows)
    out = [comparison_title(rows)]
    out += text_table(headers, table, right=set(range(1, len(headers))))
    out += published_lines(rows)
    return "\n".join(out) + "\n"


def comparison_json(rows: list[ModelComparison]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        variants = []
        for i, t in enumerate(r.totals):
            ratio = r.ratio(i)
            variants.append({
                "kernels": t.kernels, "total_count": t.count, **unit_named(r.unit, t.count, "total_"),
                "ratio_to_first": round(ratio, 4) if ratio is not None else None,
                "flash_bytes": t.flash_bytes, "ram_bytes": t.ram_bytes,
                "flash_change_bytes": r.flash_change(i), "ram_change_bytes": r.ram_change(i),
            })
        out.append({
            "model": r.model, "counter": r.counter, "unit": r.unit, "variants": variants,
            "published": [{"system": p.system, "latency_ms": p.latency_ms, "clock_mhz": p.clock_mhz,
                           "cycles": p.cycles, "unit": "cycles", "on": "silicon", "board": p.board,
                           "source": p.source} for p in r.published],
        })
    return out


def variants_json(reports: list[BenchReport], comparisons: list[Comparison | None],
                  rows: list[ModelComparison]) -> dict[str, Any]:
    """Several variants: each one's report as `to_json` gives it, and the comparison rows."""
    return {"variants": [to_json(r, c) for r, c in zip(reports, comparisons)], "comparison": comparison_json(rows)}


def render_variants_markdown(reports: list[BenchReport], comparisons: list[Comparison | None],
                             rows: list[ModelComparison]) -> str:
    headers, table = comparison_table(rows)
    names = ", ".join(r.provenance.kernel_variant for r in reports)
    out = [f"# Benchmark: kernels {names}", "", "## Kernels compared", "", comparison_title(rows), "",
           "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in table]
    published = published_lines(rows)
    if published:
        out += ["", published[0], ""] + [f"- {line.strip()}" for line in published[1:]]
    out.append("")
    for report, comparison in zip(reports, comparisons):
        out.append(render_markdown(report, comparison, level=2))
    return "\n".join(out)

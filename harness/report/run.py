"""Renders a verified run for people: the per-layer table, memory, parity, checks and verdict.
Every count carries the counter it came from and that counter's unit."""
from __future__ import annotations

from pathlib import Path

from harness.build.variants import REF_KERNELS, KernelVariant, describe
from harness.errors import most_telling
from harness.protocol.counters import per_unit
from harness.results import RunReport


def render_run(rep: RunReport) -> str:
    return "\n".join(_render_lines(rep))


def shown(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def text_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """A plain-text table: columns padded to their widest cell, the `right` ones right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return [fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]


def kernels_line(rep: RunReport) -> str:
    """`ref`, or the variant (`dsp`, or its folder) and the functions of this image it defined."""
    fw = rep.firmware
    variant = REF_KERNELS if fw.variant_dir is None else KernelVariant(fw.variant, fw.variant_dir)
    named = fw.kernels_option if fw.kernels_option == fw.variant else None  # a shipped variant, by name
    return describe(variant, fw.kernel_sources, named or (shown(fw.variant_dir) if fw.variant_dir else None))


def _render_lines(rep: RunReport) -> list[str]:
    v = rep.verdict
    counted = rep.count_note or ("exact, repeatable" if rep.counter in ("icount", "plugin") else rep.unit)
    out = [
        f"{rep.model} on {rep.target.name} ({rep.target.core}) under {rep.emulator_version}",
        f"counter: {rep.counter} ({rep.unit}; {counted}), per layer the largest of {len(v.reference)} samples",
        *([f"model: {rep.source}"] if rep.source else []),
        *([f"inputs: {rep.inputs_note}"] if rep.inputs_note else []),
        f"compared with: {', '.join(rep.references)}, and the golden file",
        f"kernels: {kernels_line(rep)}",
        "",
    ]
    total = rep.total_count
    rows = []
    for r in rep.layers:
        rows.append(
            [
                str(r.index),
                r.name,
                r.op,
                rep.firmware.layer_variant(r.index) or "-",
                "x".join(map(str, r.output_shape)),
                f"{r.macs:,}",
                f"{r.count:,}",
                f"{r.macs / r.count:.3f}" if r.macs and r.count else "-",
                f"{100 * r.count / total:.1f}%" if total else "-",
            ]
        )
    rows.append(
        [
            "",
            "total",
            "",
            "",
            "",
            f"{rep.total_macs:,}",
            f"{total:,}",
            f"{rep.total_macs / total:.3f}" if total else "-",
            "100.0%" if total else "-",
        ]
    )
    headers = ["#", "layer", "op", "kernels", "output", "MACs", rep.unit, per_unit(rep.unit), "share"]
    out += text_table(headers, rows, right={0, 5, 6, 7, 8})
    fp = rep.firmware.footprint
    stack = f"stack {rep.run.stack_used} B used of {fp.stack_bytes} B" if rep.run.stack_used is not None else ""
    out += [
        "",
        f"memory: flash {kib(fp.flash_bytes)} of {kib(rep.target.flash.size)}, RAM {kib(fp.ram_bytes)} of "
        f"{kib(rep.target.ram.size)} ({stack}); "
        f"weights {rep.firmware.weight_bytes} B, arena {rep.firmware.arena_bytes} B",
        *([str(rep.parity)] if rep.parity else []),
        *([rep.float_scan.summary()] if rep.float_scan else []),
        *([rep.isa_scan.summary()] if rep.isa_scan else []),
        f"image: {shown(rep.firmware.elf)} ({'cached' if rep.firmware.cached else 'built'}; {rep.firmware.compiler})",
    ]
    if rep.labels is not None and rep.predictions is not None:
        correct = sum(int(p == l) for p, l in zip(rep.predictions, rep.labels))
        out.append(f"accuracy on the test samples: {correct}/{len(rep.labels)} (predictions {rep.predictions})")
    elif rep.predictions is not None:
        out.append(f"predicted classes of the test samples: {rep.predictions}")
    out.append("")
    out.append(
        "checks: "
        + ", ".join(f"{c.name} {'ok' if c.ok else 'FAILED' if c.ok is False else 'not run'}" for c in v.checks)
    )
    for p in v.problems:
        out.append(f"PROBLEM ({p.party}: {p.kind}): {p}")
    ref_bad = [m for m in v.mismatches if m.against == "reference"]
    gold_bad = [m for m in v.mismatches if m.against == "golden"]
    interp_bad = [m for m in v.mismatches if m.against == "interpreter"]
    if v.divergence is not None:
        out.append(f"DIVERGENCE: {v.divergence}")
    golden = shown(rep.golden_file)
    for label, bad in (("Python reference", ref_bad), (golden, gold_bad), ("TFLite interpreter", interp_bad)):
        for m in bad[:20]:
            out.append(f"MISMATCH vs {label}: {m}")
        if len(bad) > 20:
            out.append(f"... and {len(bad) - 20} more mismatches vs {label}")
    if rep.evidence is not None:
        out.append(
            f"evidence: {shown(rep.evidence / 'uart.log')} (the UART transcript; the emulator's log and "
            "report.json beside it)"
        )
    n = len(v.reference)
    if v.match:
        out.append(
            f"VERIFIED: {n} samples bit-exact, every layer's output equal: firmware = "
            f"{'TFLite interpreter = ' if len(rep.references) > 1 else ''}Python reference = "
            f"golden ({golden}); {len(v.checks)} checks passed"
        )
    else:
        worst = most_telling(v.problems) if v.problems else None
        if worst is None or worst.party == "firmware":
            out.append(
                f"FAILED: the firmware ({worst.kind if worst else 'unverified'}): "
                f"{worst.message if worst else 'not every check passed'}"
            )
        elif worst.party == "model":
            out.append(f"FAILED: the model ({worst.kind}): {worst.message}")
        else:
            out.append(f"NOT JUDGED: {worst.party} problem ({worst.kind}): {worst.message}")
    return out

"""PNG plots (matplotlib, imported only when a plot is asked for)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import EnvironmentProblem
from harness.verify.sqnr import LayerSqnr

if TYPE_CHECKING:
    from harness.bench import BenchReport


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise EnvironmentProblem("plots need matplotlib", "pip install matplotlib (or make bootstrap)") from None
    return plt


def plot_sqnr(model: str, rows: list[LayerSqnr], path: Path, samples: int) -> None:
    """One bar per layer; the lowest highlighted; exact layers drawn at the top of the scale."""
    plt = _pyplot()
    finite = [r.sqnr_db for r in rows if r.sqnr_db is not None and not math.isinf(r.sqnr_db)]
    top = max(finite, default=60.0) + 10.0
    values = [top if r.sqnr_db is not None and math.isinf(r.sqnr_db) else (r.sqnr_db or 0.0) for r in rows]
    lowest = min(finite) if finite else None
    colors = ["tab:red" if v == lowest else "tab:blue" for v in values]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(rows) + 2), 4.2))
    ax.bar(range(len(rows)), values, color=colors)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{r.name}\n{r.op}" for r in rows], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("SQNR (dB), float vs int8")
    title = f"{model}: per-layer SQNR over {samples} samples"
    if lowest is not None:
        title += f" (lowest {lowest:.1f} dB, red)"
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_bench(report: "BenchReport", path: Path) -> None:
    """Per model, two panels as in the seed KWS figure: each layer's count, and each layer's
    footprint split into weight bytes and activation bytes."""
    plt = _pyplot()
    n = len(report.models)
    fig, axes = plt.subplots(n, 2, figsize=(14, 3.4 * n), squeeze=False)
    for row, m in enumerate(report.models):
        names = [l.name for l in m.layers]
        x = range(len(names))
        left, right = axes[row]
        left.bar(x, [l.cycles for l in m.layers], color="tab:green")
        left.set_title(f"{m.model}: {m.total_cycles:,} {m.unit} per inference ({m.counter})", fontsize=9)
        left.set_ylabel(m.unit)
        weights = [l.weight_bytes for l in m.layers]
        acts = [l.activation_bytes for l in m.layers]
        right.bar(x, weights, color="tab:blue", label="weight bytes")
        right.bar(x, acts, bottom=weights, color="tab:orange", label="activation bytes (in + out)")
        right.set_title(f"{m.model}: per-layer footprint", fontsize=9)
        right.set_ylabel("bytes")
        right.legend(fontsize=7)
        for ax in (left, right):
            ax.set_xticks(list(x))
            ax.set_xticklabels(names, rotation=60, ha="right", fontsize=6)
            ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"cycle benchmark on {report.provenance.target} ({report.provenance.emulator})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

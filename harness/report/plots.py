"""PNG plots (matplotlib, imported only when a plot is asked for)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.verify.sqnr import LayerSqnr


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise HarnessError("plots need matplotlib: pip install matplotlib (or make bootstrap)") from None
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

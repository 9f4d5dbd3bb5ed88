"""PNG plots (matplotlib, imported only when a plot is asked for), made to be read at their saved
size: fonts of 10 pt and up at 100 dpi, one horizontal bar per layer so that every layer name reads
level, and a constrained layout so that titles, labels and legends neither overlap nor get cut off."""
from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.bench.published import BOARD, ROUND, X_CUBE_AI
from harness.errors import EnvironmentProblem
from harness.report.bench import measured
from harness.verify.sqnr import LayerSqnr

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from harness.bench import BenchReport, ModelBench
    from harness.bench.kernel_suite import KernelSuite
    from harness.bench.kernels_compared import ModelComparison

DPI = 100
#: Inches per layer bar, and per row of panels for its title, axis label and tick labels.
BAR_INCHES = 0.26
PANEL_INCHES = 1.3
#: Inches above the panels for the figure's title and legend.
HEADER_INCHES = 0.9
STYLE = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 10, "ytick.labelsize": 10,
    "legend.fontsize": 10, "figure.titlesize": 14, "axes.spines.top": False, "axes.spines.right": False,
    "figure.constrained_layout.w_pad": 0.12, "figure.constrained_layout.h_pad": 0.12,  # inches of margin
}
COUNT_COLOR, WEIGHT_COLOR, ACTIVATION_COLOR = "tab:green", "tab:blue", "tab:orange"
#: One color per kernel variant, in the order they were asked for.
VARIANT_COLORS = ("tab:green", "tab:blue", "tab:purple", "tab:brown", "tab:olive", "tab:cyan")
#: The kernel suite's aim: this fraction of CMSIS-NN's count.
AIM = 0.8


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise EnvironmentProblem("plots need matplotlib", "pip install matplotlib (or make bootstrap)") from None
    return plt


@contextmanager
def styled() -> Iterator[Any]:
    """pyplot with the plots' font sizes; ticks are drawn lazily, so saving must happen inside."""
    plt = _pyplot()
    with plt.rc_context(STYLE):
        yield plt


def _save(make: Callable[[Any], Figure], path: Path) -> None:
    with styled() as plt:
        fig = make(plt)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)


def compact(value: float) -> str:
    """1.07M, 74k, 14: a count short enough for a tick or the end of a bar."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}"


def _compact_ticks(ax: Axes) -> None:
    """250k, 1M rather than an offset such as 1e6 that is easy to miss."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))


def _layer_axis(ax: Axes, names: list[str]) -> None:
    """Layers top to bottom in execution order, as in the tables."""
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)


# ------------------------------------------------------------------------------------- sqnr


def sqnr_figure(plt: Any, model: str, rows: list[LayerSqnr], samples: int) -> Figure:
    """One bar per layer, the lowest in red; exact layers reach past the largest finite value."""
    finite = [r.sqnr_db for r in rows if r.sqnr_db is not None and not math.isinf(r.sqnr_db)]
    top = max(finite, default=60.0) + 10.0
    values = [top if r.sqnr_db is not None and math.isinf(r.sqnr_db) else (r.sqnr_db or 0.0) for r in rows]
    lowest = min(finite) if finite else None
    fig, ax = plt.subplots(figsize=(9, len(rows) * BAR_INCHES + PANEL_INCHES + 0.4), layout="constrained")
    bars = ax.barh(range(len(rows)), values, color=["tab:red" if v == lowest else "tab:blue" for v in values])
    ax.bar_label(bars, [_sqnr_label(r) for r in rows], padding=3, fontsize=10)
    _layer_axis(ax, [f"{r.name} ({r.op})" for r in rows])
    ax.set_xlim(0, top * 1.15)
    ax.set_xlabel("SQNR in dB, float vs int8 reference (higher is better)")
    title = f"{model}: per-layer SQNR over {samples} samples"
    if lowest is not None:
        title += f"\nlowest {lowest:.1f} dB, in red"
    ax.set_title(title, loc="left")
    return fig


def _sqnr_label(row: LayerSqnr) -> str:
    if row.sqnr_db is None:
        return "no signal"
    return "exact" if math.isinf(row.sqnr_db) else f"{row.sqnr_db:.1f} dB"


def plot_sqnr(model: str, rows: list[LayerSqnr], path: Path, samples: int) -> None:
    _save(lambda plt: sqnr_figure(plt, model, rows, samples), path)


# ------------------------------------------------------------------------------------ bench


def bench_figure(plt: Any, report: BenchReport) -> Figure:
    """Per model a row of two panels sharing the layer axis: each layer's count, in its counter's
    unit, and each layer's footprint split into weight and activation bytes."""
    sizes = [len(m.layers) for m in report.models]
    height = sum(n * BAR_INCHES + PANEL_INCHES for n in sizes) + HEADER_INCHES
    fig, axes = plt.subplots(len(sizes), 2, figsize=(13, height), layout="constrained", squeeze=False,
                             sharey="row", gridspec_kw={"height_ratios": sizes, "width_ratios": (1, 1)})
    for (left, right), m in zip(axes, report.models):
        _count_panel(left, m)
        _footprint_panel(right, m)
    p = report.provenance
    # the heading is the legend's title: a suptitle and an outside legend would be laid over each other
    fig.legend(*axes[0][1].get_legend_handles_labels(), loc="outside upper center", ncols=2, frameon=False,
               title=f"{measured(report)} and bytes per layer, on {p.target} under {p.emulator}",
               title_fontproperties={"size": STYLE["figure.titlesize"]})
    return fig


def _count_panel(ax: Axes, m: ModelBench) -> None:
    counts = [l.count for l in m.layers]
    bars = ax.barh(range(len(counts)), counts, color=COUNT_COLOR)
    ax.bar_label(bars, [compact(c) for c in counts], padding=3, fontsize=9)
    _layer_axis(ax, [l.name for l in m.layers])
    ax.set_xlim(0, max(counts, default=1) * 1.15 or 1)
    _compact_ticks(ax)
    ax.set_xlabel(f"{m.unit} per layer ({m.counter}, largest over the samples)")
    ax.set_title(f"{m.model}: {m.total_count:,} {m.unit} per inference", loc="left")


def _footprint_panel(ax: Axes, m: ModelBench) -> None:
    y = range(len(m.layers))
    weights = [l.weight_bytes for l in m.layers]
    ax.barh(y, weights, color=WEIGHT_COLOR, label="weight bytes")
    ax.barh(y, [l.activation_bytes for l in m.layers], left=weights, color=ACTIVATION_COLOR,
            label="activation bytes (input + output)")
    ax.tick_params(labelleft=False)
    ax.grid(axis="x", alpha=0.3)
    _compact_ticks(ax)
    ax.set_xlabel("bytes per layer")
    ax.set_title(f"footprint: weights {m.firmware.weight_bytes:,} B, arena {m.firmware.arena_bytes:,} B", loc="left")


def plot_bench(report: BenchReport, path: Path) -> None:
    _save(lambda plt: bench_figure(plt, report), path)


def _offsets(n: int) -> list[float]:
    """Where each of n bars of a group sits around the group's tick: together 0.8 of the spacing."""
    width = 0.8 / n
    return [(j - (n - 1) / 2) * width for j in range(n)]


def _group_height(groups: int, bars: int) -> float:
    return groups * max(bars, 1.5) * BAR_INCHES + PANEL_INCHES + HEADER_INCHES


def variants_figure(plt: Any, rows: list[ModelComparison], target: str, emulator: str) -> Figure:
    """Per model a group of bars, one per kernel variant: its total count (log scale, labelled with
    its ratio to the first variant's), and a marker at the published X-CUBE-AI figure on silicon
    where there is one (in cycles: not the same unit as the bars)."""
    from matplotlib.ticker import NullFormatter

    names = [t.kernels for t in rows[0].totals]
    unit = rows[0].unit
    fig, ax = plt.subplots(figsize=(12, _group_height(len(rows), len(names))), layout="constrained")
    values = [t.count for r in rows for t in r.totals] + [p.cycles for r in rows for p in r.published[:1]]
    low, high = max(min(values, default=1), 1) / 3, max(values, default=1) * 6
    offsets, height = _offsets(len(names)), 0.8 / len(names)
    handles = []
    for j, name in enumerate(names):
        ys = [i + offsets[j] for i in range(len(rows))]
        counts = [r.totals[j].count for r in rows]
        bars = ax.barh(ys, [c - low for c in counts], left=low, height=height,
                       color=VARIANT_COLORS[j % len(VARIANT_COLORS)], label=f"kernels {name}")
        labels = [compact(c) + ("" if j == 0 or r.ratio(j) is None else f" ({r.ratio(j):.2f}x)")
                  for c, r in zip(counts, rows)]
        ax.bar_label(bars, labels, padding=3, fontsize=9)
        handles.append(bars)
    marked = [(i, r.published[0]) for i, r in enumerate(rows) if r.published]
    if marked:
        handles.append(ax.scatter([p.cycles for _, p in marked], [i for i, _ in marked], marker="D", s=60,
                                  color="tab:red", zorder=3,
                                  label=f"published {X_CUBE_AI}, cycles on silicon (not instructions)"))
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    _layer_axis(ax, [r.model for r in rows])
    _compact_ticks(ax)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"{unit} per inference ({rows[0].counter}; log scale); in brackets the ratio to {names[0]}")
    legend_title = f"{unit} per inference per kernel variant, on {target} under {emulator}"
    if marked:
        legend_title += "\n" + textwrap.fill(f"marker: {ROUND} on {BOARD}, latency x clock", 110)
    fig.legend(handles, [h.get_label() for h in handles], loc="outside upper center", ncols=min(len(handles), 3),
               frameon=False, title=legend_title, title_fontproperties={"size": STYLE["axes.titlesize"]})
    return fig


def plot_variants(rows: list[ModelComparison], target: str, emulator: str, path: Path) -> None:
    _save(lambda plt: variants_figure(plt, rows, target, emulator), path)


# ------------------------------------------------------------------------------- kernel suite


def kernel_suite_figure(plt: Any, suites: KernelSuite | Sequence[KernelSuite]) -> Figure:
    """Per shape a group of bars, one per kernel variant: its count over CMSIS-NN's, with lines at 1
    (CMSIS-NN itself) and at the aim, AIM."""
    runs = [suites] if not isinstance(suites, Sequence) else list(suites)
    shapes = [r.shape for r in runs[0].results]
    fig, ax = plt.subplots(figsize=(11, _group_height(len(shapes), len(runs))), layout="constrained")
    offsets, height = _offsets(len(runs)), 0.8 / len(runs)
    top = 1.0
    for j, suite in enumerate(runs):
        found = [r.ratio for r in suite.results]  # None: no CMSIS-NN figure for the shape on this core
        ratios = [v or 0.0 for v in found]
        top = max(top, *ratios)
        bars = ax.barh([i + offsets[j] for i in range(len(shapes))], ratios, height=height,
                       color=VARIANT_COLORS[j % len(VARIANT_COLORS)], label=f"kernels {suite.variant}")
        ax.bar_label(bars, [f"{v:.2f}x" if v is not None else "no figure" for v in found], padding=3, fontsize=9)
    _layer_axis(ax, [f"{s.id}: {s.layer}" for s in shapes])
    ax.axvline(1.0, color="0.3", linestyle="--", linewidth=1, zorder=0, label="CMSIS-NN (1)")
    ax.axvline(AIM, color="tab:red", linestyle=":", linewidth=1.2, zorder=0, label=f"aim ({AIM:g})")
    ax.set_xlim(0, top * 1.18)
    unit = runs[0].unit
    ax.set_xlabel(f"{unit} per call over CMSIS-NN's (1 = CMSIS-NN; lower is fewer)")
    p = runs[0].bench.provenance
    source = textwrap.fill(f"CMSIS-NN: {runs[0].cmsis_nn_source or 'no figures stored for ' + runs[0].core}", 90)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=min(len(runs) + 2, 4),
               frameon=False, title=f"{unit} per call over CMSIS-NN's, on {p.target} under {p.emulator}\n{source}",
               title_fontproperties={"size": STYLE["axes.titlesize"]})
    return fig


def plot_kernel_suite(suites: KernelSuite | Sequence[KernelSuite], path: Path) -> None:
    _save(lambda plt: kernel_suite_figure(plt, suites), path)

"""Renders the per-layer SQNR of a model: a table for people, a dictionary for JSON."""
from __future__ import annotations

from typing import Any

from harness.verify.sqnr import LayerSqnr, lowest_sqnr


def _db(value: float | None) -> float | None:
    """JSON has no infinity: an exact layer's SQNR is null, with a note."""
    return None if value is None or value == float("inf") else value


def render_sqnr(model: str, rows: list[LayerSqnr], samples: int) -> str:
    width = max(len(r.name) for r in rows)
    op_width = max(len(r.op) for r in rows)
    lines = [f"{model}: per-layer SQNR, float vs int8 reference, over {samples} samples",
             f"{'#':>3}  {'layer'.ljust(width)}  {'op'.ljust(op_width)}  SQNR (dB)"]
    lines += [f"{r.index:>3}  {r.name.ljust(width)}  {r.op.ljust(op_width)}  {r.display():>9}" for r in rows]
    lowest = lowest_sqnr(rows)
    worst = [r.name for r in rows if r.sqnr_db == lowest]
    lines.append(f"lowest: {lowest:.1f} dB at {', '.join(worst)}")
    return "\n".join(lines)


def sqnr_json(model: str, rows: list[LayerSqnr], samples: int) -> dict[str, Any]:
    return {
        "model": model, "samples": samples, "lowest_sqnr_db": _db(lowest_sqnr(rows)),
        "layers": [{"name": r.name, "op": r.op, "sqnr_db": _db(r.sqnr_db),
                    **({"note": "exact" if r.sqnr_db is not None else "no signal"} if _db(r.sqnr_db) is None else {})}
                   for r in rows],
    }

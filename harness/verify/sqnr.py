"""Per-layer SQNR: how far each layer's int8 output (dequantized) is from the float model's.

SQNR = 10 log10(sum f^2 / sum (f - q)^2) over a layer's output on the reference inputs, where f is
the float reference and q the integer reference dequantized: the quantization loss accumulated up
to that layer, as the seed quantization study measures it. Host only: no emulator is involved.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.model import Model
from harness.quant import dequantize, quantize
from harness.reference import run_float, run_int8


@dataclass(frozen=True)
class LayerSqnr:
    index: int
    name: str
    op: str
    sqnr_db: float | None  # None when the float output is all zero (no signal to measure)

    def display(self) -> str:
        if self.sqnr_db is None:
            return "n/a (no signal)"
        return "inf (exact)" if math.isinf(self.sqnr_db) else f"{self.sqnr_db:.1f}"


def layer_sqnr(model: Model) -> list[LayerSqnr]:
    graph = model.graph
    x = model.reference_inputs
    floats = run_float(graph, x)
    ints = run_int8(graph, quantize(x, graph.tensors[graph.input].grid))
    rows = []
    for i, layer in enumerate(graph.layers):
        f = floats[layer.output].astype(np.float64)
        q = dequantize(ints[layer.output], graph.tensors[layer.output].grid).astype(np.float64)
        signal, noise = float(np.sum(f * f)), float(np.sum((f - q) ** 2))
        if signal == 0.0:
            db = None
        elif noise == 0.0:
            db = math.inf
        else:
            db = 10.0 * math.log10(signal / noise)
        rows.append(LayerSqnr(i, layer.name, layer.op, db))
    return rows


def lowest_sqnr(rows: list[LayerSqnr]) -> float:
    values = [r.sqnr_db for r in rows if r.sqnr_db is not None]
    return min(values) if values else math.inf

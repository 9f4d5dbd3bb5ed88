"""Deterministic generators of the seed pipelines (INT8_SPEC: the seed pipelines).

Sine and cosine are taken from libm in double on float32 arguments and rounded to float32, so the
values are the same on every machine (numpy's float32 SIMD sin differs between CPU generations).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from harness.model.graph import Graph
from harness.quant import quantize


def sinus(shape: tuple[int, ...], amp: float, freq: float, phase: float) -> np.ndarray:
    """amp * sin(freq * t + phase), t = float32(i) / float32(n), over the flat buffer, in float32."""
    n = int(np.prod(shape))
    f32 = np.float32
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        t = f32(i) / f32(n)
        arg = f32(f32(freq) * t) + f32(phase)
        out[i] = f32(amp) * f32(math.sin(float(arg)))
    return out.reshape(shape)


def wave_samples(
    count: int, shape: tuple[int, ...], phase_step: int, rate: float, first: int = 0
) -> np.ndarray:
    """Input sample s, flat index i: 0.7 sin((phase_step s + i) rate) + 0.3 cos(0.4 (s + i)), float32."""
    n = int(np.prod(shape))
    f32 = np.float32
    out = np.empty((count, n), dtype=np.float32)
    for k in range(count):
        s = first + k
        for i in range(n):
            a = f32(f32(phase_step * s + i) * f32(rate))
            b = f32(f32(0.4) * f32(s + i))
            out[k, i] = f32(f32(0.7) * f32(math.sin(float(a)))) + f32(f32(0.3) * f32(math.cos(float(b))))
    return out.reshape((count,) + tuple(shape))


@dataclass
class Model:
    """A zoo model ready to compile: its int8 graph and the test samples the firmware will run."""

    graph: Graph
    test_inputs: np.ndarray  # float32, (N, *input_shape)
    labels: Optional[list[int]] = None  # expected class per test sample, where the task has one
    test_inputs_q: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.test_inputs_q = quantize(self.test_inputs, self.graph.tensors[self.graph.input].quant)

    @property
    def name(self) -> str:
        return self.graph.name


@dataclass(frozen=True)
class ZooEntry:
    name: str
    description: str
    build: Callable[[], Model]

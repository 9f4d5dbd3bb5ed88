"""Deterministic generators of the seed pipelines (docs/arithmetic.md, calibration).

Sine and cosine are taken from libm in double on float32 arguments and rounded to float32, so the
values are the same on every machine (numpy's float32 SIMD sin differs between CPU generations).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness.model.model import Model


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


def pattern_samples(count: int, shape: tuple[int, ...], first: int = 0) -> np.ndarray:
    """Inputs that differ in content, not only in phase: sample s is a 2-D wave with its own pair
    of spatial frequencies (and a phase per channel), plus a small cosine ripple, in float32."""
    h, w = (shape[0], shape[1]) if len(shape) == 3 else (1, int(np.prod(shape)))
    c = shape[2] if len(shape) == 3 else 1
    f32 = np.float32
    out = np.empty((count, h, w, c), dtype=np.float32)
    for k in range(count):
        s = first + k
        r = f32(0.04 * (1 + (s * 5) % 11))
        q = f32(0.3 * ((s * 3) % 7) / 7)
        for y in range(h):
            for x in range(w):
                a = f32(f32(y) * r) + f32(f32(x) * q)
                for ch in range(c):
                    i = (y * w + x) * c + ch
                    out[k, y, x, ch] = f32(0.7 * math.sin(float(a) + 0.9 * ch)) + f32(0.3 * math.cos(0.4 * (s + i)))
    return out.reshape((count,) + tuple(shape))


@dataclass(frozen=True)
class ZooEntry:
    name: str
    description: str
    build: Callable[[], Model]

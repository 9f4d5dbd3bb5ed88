"""Building zoo models layer by layer while the float model runs on the calibration samples.

Untrained deep networks collapse or blow up. As a deterministic stand-in for training, a layer
added with `bn=True` gets a batch-norm folded into its float weights and bias, computed from the
statistics of its own output over the calibration samples, exactly as a trained network's
batch-norm is folded before quantization: w' = w * gamma / sqrt(var + eps), b' = (b - mean) *
gamma / sqrt(var + eps) + beta, per output channel (gamma 1). A channel whose output barely varies
gets a huge factor 1/sqrt(eps): the published MobileNetV1's failure mode, on purpose where wanted.

beta defaults to 1.0: most units then sit in the ReLU's linear part, as in trained networks. With
beta 0 a deep random BN-ReLU network is chaotic: it amplifies small perturbations, quantization
noise among them, by about 1.6 dB per layer (vww_mobilenetv1 ends near 2 dB SQNR instead of 22).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.model.graph import Graph, GraphBuilder
from harness.model.ops import OPS
from harness.reference import FLOAT_OPS

BN_EPSILON = 1e-3  # TensorFlow's default
BN_BETA = 1.0


_MASK64 = (1 << 64) - 1


def hashed_uniform(shape: tuple[int, ...], amp: float, seed: int) -> np.ndarray:
    """Values uniform in [-amp, amp) from a splitmix64 hash of (seed, index): full rank, and the
    same on every machine and numpy version (`sinus` buffers are rank 2: every row is one sine
    at another phase, which deep networks collapse onto)."""
    n = int(np.prod(shape))
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        z = (seed * 0x9E3779B97F4A7C15 + (i + 1) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        z ^= z >> 31
        out[i] = np.float32(amp * (2.0 * (z >> 11) / float(1 << 53) - 1.0))
    return out.reshape(shape)


def he_uniform(shape: tuple[int, ...], fan_in: int, seed: int) -> np.ndarray:
    """He-uniform initialisation (limit sqrt(6 / fan_in)) from `hashed_uniform`."""
    return hashed_uniform(shape, math.sqrt(6.0 / fan_in), seed)


class ZooBuilder:
    """A GraphBuilder that keeps the float activations of the calibration samples up to date."""

    def __init__(self, name: str, samples: np.ndarray):
        self.builder = GraphBuilder(name, tuple(samples.shape[1:]))
        self.values: dict[str, np.ndarray] = {"input": samples.astype(np.float32)}

    def _graph(self, output: str) -> Graph:
        b = self.builder
        return Graph(b.name, b.input, output, b.tensors, b.layers)

    def add(self, op: str, inputs: list[str] | str, bn: bool = False, beta: np.ndarray | None = None,
            **kwargs: Any) -> str:
        """Add a layer; with bn=True fold a batch-norm fitted to its pre-activation output."""
        name = self.builder.add(op, inputs, **kwargs)
        layer = self.builder.layers[-1]
        ins = [self.values[t] for t in layer.inputs]
        graph = self._graph(name)
        if bn:
            act = layer.attrs.get("activation", "none")
            layer.attrs["activation"] = "none"
            pre = FLOAT_OPS[op](graph, layer, ins).astype(np.float64)
            layer.attrs["activation"] = act
            channels = pre.reshape(-1, pre.shape[-1])
            mean, var = channels.mean(axis=0), channels.var(axis=0)
            factor = 1.0 / np.sqrt(var + BN_EPSILON)
            shift = np.full_like(mean, BN_BETA) if beta is None else np.asarray(beta, dtype=np.float64)
            axis = OPS[op].channel_axis
            assert layer.float_weights is not None  # a batch-norm folds into a layer that has float weights
            shape = [1] * layer.float_weights.ndim
            shape[axis] = -1
            bias = layer.float_bias if layer.float_bias is not None else np.zeros_like(mean)
            layer.float_weights = (layer.float_weights * factor.reshape(shape)).astype(np.float32)
            layer.float_bias = ((bias - mean) * factor + shift).astype(np.float32)
        self.values[name] = FLOAT_OPS[op](graph, layer, ins)
        return name

    def build(self, output: str) -> Graph:
        return self.builder.build(output)

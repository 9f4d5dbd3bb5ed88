"""kws_cnn: the seed's keyword-spotting CNN (shared/seeds/002) on a 20x20x1 input.

Conv 3x3 (8) -> MaxPool 2x2 -> DW 3x3 (per-channel) -> PW 8->16 -> GlobalAvgPool -> Dense 16->10.
The convolutions carry a fused ReLU (without one the network would be a single linear map). Weights
and biases are `sinus` buffers. Their frequencies are high enough that each filter and each row
changes sign within itself; smooth rows make every feature the same common-mode sum and the ten
logits collapse onto one direction (all samples one class), a degenerate model. The inputs are
spectrogram-like: each sample has its own pair of spatial frequencies, so samples differ in content
and not only in phase.
"""
from __future__ import annotations

import math

import numpy as np

from harness.model.graph import GraphBuilder
from harness.quant.calibrate import calibrate
from harness.zoo.common import Model, sinus

DESCRIPTION = "keyword-spotting CNN: conv, maxpool, depthwise-separable block, GAP, dense 16->10 (seed 002)"

INPUT = (20, 20, 1)
CALIBRATION_SAMPLES = 32
TEST_SAMPLES = 8


def kws_samples(count: int) -> np.ndarray:
    """Sample s: 0.7 sin(h r_s + w c_s) + 0.3 cos(0.4 (s + i)) over the 20x20 grid, float32."""
    f32 = np.float32
    h_w = INPUT[0] * INPUT[1]
    out = np.empty((count, h_w), dtype=np.float32)
    for s in range(count):
        r = f32(0.04 * (1 + (s * 5) % 11))
        c = f32(0.3 * ((s * 3) % 7) / 7)
        for i in range(h_w):
            h, w = divmod(i, INPUT[1])
            a = f32(f32(h) * r) + f32(f32(w) * c)
            out[s, i] = f32(0.7 * math.sin(float(a))) + f32(0.3 * math.cos(0.4 * (s + i)))
    return out.reshape((count,) + INPUT)


def build() -> Model:
    b = GraphBuilder("kws_cnn", INPUT)
    x = b.add("conv2d", "input", name="conv1", activation="relu", per_channel=False,
              float_weights=sinus((8, 3, 3, 1), 0.5, 7.0, 0.3), float_bias=sinus((8,), 0.1, 5.0, 0.7))
    x = b.add("maxpool2d", x, name="pool1", pool=2)
    x = b.add("depthwise_conv2d", x, name="dw1", activation="relu",
              float_weights=sinus((3, 3, 8), 0.4, 41.0, 0.9), float_bias=sinus((8,), 0.1, 3.0, 0.2))
    x = b.add("pointwise_conv2d", x, name="pw1", activation="relu",
              float_weights=sinus((16, 1, 1, 8), 0.3, 97.0, 0.5), float_bias=sinus((16,), 0.05, 9.0, 1.3))
    x = b.add("global_avgpool2d", x, name="gap")
    x = b.add("dense", x, name="fc", float_weights=sinus((10, 16), 0.6, 43.0, 0.1),
              float_bias=sinus((10,), 0.02, 7.0, 0.4))
    graph = b.build(x)
    calib = kws_samples(CALIBRATION_SAMPLES)
    return Model(calibrate(graph, calib), calib[:TEST_SAMPLES])

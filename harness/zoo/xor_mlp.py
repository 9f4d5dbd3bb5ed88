"""xor_mlp: Dense 2->4, ReLU, Dense 4->1, sigmoid LUT, with the hand-set constants of the seed
(shared/seeds/003) that solve XOR exactly."""
from __future__ import annotations

import numpy as np

from harness.model.graph import GraphBuilder
from harness.quant import QuantParams, f32
from harness.zoo.common import Model

DESCRIPTION = "2-4-1 MLP with a sigmoid LUT, hand-set int8 constants that solve XOR (seed 003)"


def build() -> Model:
    b = GraphBuilder("xor_mlp", (2,), QuantParams(f32(1 / 255), -128))
    hidden = QuantParams(f32(2 / 255), -128)
    x = b.add(
        "dense", "input", name="fc1", quant=hidden,
        weights=np.full((4, 2), 127), bias=[0, -32385, 0, -32385], weight_scales=[f32(1 / 127)],
    )
    x = b.add("relu", x, name="relu1", quant=hidden)
    x = b.add(
        "dense", x, name="fc2", quant=QuantParams(f32(4 / 255), -1),
        weights=[[64, -127, 64, -127]], bias=[-8096], weight_scales=[f32(4 / 127)],
    )
    x = b.add("sigmoid", x, name="sigmoid")
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return Model(b.build(x), inputs, labels=[0, 1, 1, 0])

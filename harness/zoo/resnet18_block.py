"""resnet18_block: the ResNet-18 stem and one basic block of the seed documents (docs/arithmetic.md has the arithmetic).

Input 16x16x3; Pad 3 -> Conv 7x7/2 (8, per-channel) -> ReLU -> MaxPool 2x2/2 -> [Pad 1 -> Conv 3x3
-> ReLU -> Pad 1 -> Conv 3x3] -> Add (skip from the pool) -> ReLU -> GlobalAvgPool -> Dense 8->4.
Calibrated on samples 0..31: the add's grid is fitted to the range seen after the ReLU that
follows it; pool and ReLU reuse their input's grid. Test set: samples 0..3.
"""
from __future__ import annotations

from harness.calibration import calibrate
from harness.model import Model
from harness.model.graph import GraphBuilder
from harness.zoo.common import sinus, wave_samples

DESCRIPTION = "ResNet-18 stem + one basic block with a residual add, 16x16x3 -> 4 (seed 001)"
INPUT = (16, 16, 3)
PARITY_THRESHOLD = 0.40
PARITY_NOTE = "the seed pipeline's bound: within 40% of the float logits' range"


def build() -> Model:
    b = GraphBuilder("resnet18_block", INPUT)
    x = b.add("pad2d", "input", name="stem_pad", pads=(3, 3, 3, 3))
    x = b.add(
        "conv2d", x, name="stem_conv", stride=2, per_channel=True, float_weights=sinus((8, 7, 7, 3), 0.10, 5, 0.1)
    )
    x = b.add("relu", x, name="stem_relu")
    pool = b.add("maxpool2d", x, name="stem_pool", pool=2, stride=2)
    x = b.add("pad2d", pool, name="block_pad1", pads=(1, 1, 1, 1))
    x = b.add("conv2d", x, name="block_conv1", per_channel=True, float_weights=sinus((8, 3, 3, 8), 0.06, 7, 0.5))
    x = b.add("relu", x, name="block_relu1")
    x = b.add("pad2d", x, name="block_pad2", pads=(1, 1, 1, 1))
    x = b.add("conv2d", x, name="block_conv2", per_channel=True, float_weights=sinus((8, 3, 3, 8), 0.06, 9, 1.1))
    x = b.add("add", [x, pool], name="block_add")
    x = b.add("relu", x, name="block_relu2")
    x = b.add("global_avgpool2d", x, name="gap")
    x = b.add("dense", x, name="fc", float_weights=sinus((4, 8), 0.15, 3, 0.2))
    calib = wave_samples(32, INPUT, phase_step=17, rate=0.13)
    graph = calibrate(b.build(x), calib, observe={"block_add": "block_relu2"})
    return Model(graph, calib[:4], calibration_inputs=calib, parity_threshold=PARITY_THRESHOLD, parity_note=PARITY_NOTE)

"""mobilenetv2_block: the MobileNetV2-shaped pipeline of the seed documents (docs/arithmetic.md has the arithmetic).

Input 16x16x4; Pad 1 -> Conv 3x3/2 (8, per-channel) -> ReLU; inverted residual 1 (PW 8->32, ReLU,
Pad 1, DW 3x3/1, ReLU, PW 32->8 linear, Add with the stem); inverted residual 2 (PW 8->32, ReLU,
Pad 1, DW 3x3/2, ReLU, PW 32->16 linear); GlobalAvgPool -> Dense 16->4. Per-channel weights in the
stem and the depthwise layers, per-tensor elsewhere. Calibrated on samples 0..31; test set 0..3.
"""
from __future__ import annotations

from harness.calibration import calibrate
from harness.model import Model
from harness.model.graph import GraphBuilder
from harness.zoo.common import sinus, wave_samples

DESCRIPTION = "MobileNetV2 stem + two inverted-residual blocks (linear bottlenecks, a skip), 16x16x4 -> 4 (seed 000)"
INPUT = (16, 16, 4)
PARITY_THRESHOLD = 0.50
PARITY_NOTE = "the seed pipeline's bound: within 50% of the float logits' range"


def build() -> Model:
    b = GraphBuilder("mobilenetv2_block", INPUT)
    x = b.add("pad2d", "input", name="stem_pad", pads=(1, 1, 1, 1))
    x = b.add("conv2d", x, name="stem_conv", stride=2, per_channel=True, float_weights=sinus((8, 3, 3, 4), .10, 5, .1))
    stem = b.add("relu", x, name="stem_relu")
    x = b.add("pointwise_conv2d", stem, name="ir1_expand", float_weights=sinus((32, 1, 1, 8), .10, 7, .3))
    x = b.add("relu", x, name="ir1_expand_relu")
    x = b.add("pad2d", x, name="ir1_pad", pads=(1, 1, 1, 1))
    x = b.add("depthwise_conv2d", x, name="ir1_dw", float_weights=sinus((3, 3, 32), .10, 9, .5))
    x = b.add("relu", x, name="ir1_dw_relu")
    x = b.add("pointwise_conv2d", x, name="ir1_project", float_weights=sinus((8, 1, 1, 32), .08, 4, .7))
    x = b.add("add", [x, stem], name="ir1_add")
    x = b.add("pointwise_conv2d", x, name="ir2_expand", float_weights=sinus((32, 1, 1, 8), .10, 11, .2))
    x = b.add("relu", x, name="ir2_expand_relu")
    x = b.add("pad2d", x, name="ir2_pad", pads=(1, 1, 1, 1))
    x = b.add("depthwise_conv2d", x, name="ir2_dw", stride=2, float_weights=sinus((3, 3, 32), .10, 13, .4))
    x = b.add("relu", x, name="ir2_dw_relu")
    x = b.add("pointwise_conv2d", x, name="ir2_project", float_weights=sinus((16, 1, 1, 32), .08, 6, .6))
    x = b.add("global_avgpool2d", x, name="gap")
    x = b.add("dense", x, name="fc", float_weights=sinus((4, 16), .15, 3, .2))
    calib = wave_samples(32, INPUT, phase_step=13, rate=0.11)
    return Model(calibrate(b.build(x), calib), calib[:4], calibration_inputs=calib,
                 parity_threshold=PARITY_THRESHOLD, parity_note=PARITY_NOTE)

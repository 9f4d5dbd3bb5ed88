"""vww_mobilenetv1: MLPerf Tiny's visual-wake-words MobileNetV1, width 0.25 (96x96x3 -> 2).

Conv 3x3/2 (8) + BN + ReLU -> 13 depthwise-separable blocks (DW 3x3 + BN + ReLU, PW + BN + ReLU)
with the MobileNetV1 channel and stride schedule at alpha 0.25 -> AvgPool 3x3 -> Flatten -> Dense 2
-> Softmax. Weights deterministic (He-uniform from a hash, batch-norms fitted and folded), not trained.
"""
from __future__ import annotations

from harness.calibration import calibrate
from harness.model import Model
from harness.zoo.builder import ZooBuilder, he_uniform
from harness.zoo.common import pattern_samples

DESCRIPTION = "MLPerf Tiny VWW MobileNetV1 alpha 0.25: 13 depthwise-separable blocks, 96x96x3 -> 2 (untrained weights)"
INPUT = (96, 96, 3)
#: (output channels, stride) of each depthwise-separable block: MobileNetV1 at width 0.25.
BLOCKS = ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1), (128, 1), (128, 1),
          (128, 1), (256, 2), (256, 1))
PARITY_THRESHOLD = 0.10
PARITY_NOTE = "softmax outputs of a 28-layer net; measured 0.2%; 10% as for every untrained MLPerf shape"


def build() -> Model:
    calib = pattern_samples(8, INPUT, first=300)
    b = ZooBuilder("vww_mobilenetv1", calib)
    x = b.add("conv2d", "input", name="conv1", stride=2, padding="same", activation="relu", per_channel=True,
              bn=True, float_weights=he_uniform((8, 3, 3, 3), 27, seed=2000))
    c_in = 8
    for i, (c_out, stride) in enumerate(BLOCKS, start=1):
        x = b.add("depthwise_conv2d", x, name=f"dw{i}", stride=stride, padding="same", activation="relu", bn=True,
                  float_weights=he_uniform((3, 3, c_in), 9, seed=2000 + 10 * i + 1))
        x = b.add("pointwise_conv2d", x, name=f"pw{i}", activation="relu", per_channel=True, bn=True,
                  float_weights=he_uniform((c_out, 1, 1, c_in), c_in, seed=2000 + 10 * i + 2))
        c_in = c_out
    x = b.add("avgpool2d", x, name="pool", pool=3, stride=1)
    x = b.add("flatten", x, name="flatten")
    x = b.add("dense", x, name="fc", float_weights=he_uniform((2, 256), 256, seed=2099))
    x = b.add("softmax", x, name="softmax")
    return Model(calibrate(b.build(x), calib), calib[:2], calibration_inputs=calib,
                 parity_threshold=PARITY_THRESHOLD, parity_note=PARITY_NOTE)

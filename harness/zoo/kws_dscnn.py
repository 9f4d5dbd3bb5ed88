"""kws_dscnn: MLPerf Tiny's keyword-spotting DS-CNN shape (49x10x1 MFCC -> 12 classes).

Conv 10x4/2 SAME (64) + BN + ReLU -> 4 x [DW 3x3 + BN + ReLU -> PW 64 + BN + ReLU] -> AvgPool 25x5
-> Flatten -> Dense 12 -> Softmax. Weights are deterministic (He-uniform from a hash, batch-norms fitted
to the calibration data and folded, harness.zoo.builder), not trained.
"""
from __future__ import annotations

from harness.calibration import calibrate
from harness.model import Model
from harness.zoo.builder import ZooBuilder, he_uniform
from harness.zoo.common import pattern_samples

DESCRIPTION = "MLPerf Tiny KWS DS-CNN: conv + 4 depthwise-separable blocks, 49x10x1 -> 12 (untrained weights)"
INPUT = (49, 10, 1)
PARITY_THRESHOLD = 0.10
PARITY_NOTE = "softmax outputs; measured 1.0%; 10% as for every untrained MLPerf shape"


def build() -> Model:
    calib = pattern_samples(32, INPUT, first=200)
    b = ZooBuilder("kws_dscnn", calib)
    x = b.add("conv2d", "input", name="conv1", stride=2, padding="same", activation="relu", per_channel=True,
              bn=True, float_weights=he_uniform((64, 10, 4, 1), 40, seed=1000))
    for i in range(1, 5):
        x = b.add("depthwise_conv2d", x, name=f"dw{i}", padding="same", activation="relu", bn=True,
                  float_weights=he_uniform((3, 3, 64), 9, seed=1000 + 10 * i + 1))
        x = b.add("pointwise_conv2d", x, name=f"pw{i}", activation="relu", per_channel=True, bn=True,
                  float_weights=he_uniform((64, 1, 1, 64), 64, seed=1000 + 10 * i + 2))
    x = b.add("avgpool2d", x, name="pool", pool=(25, 5), stride=1)
    x = b.add("flatten", x, name="flatten")
    x = b.add("dense", x, name="fc", float_weights=he_uniform((12, 64), 64, seed=1099))
    x = b.add("softmax", x, name="softmax")
    return Model(calibrate(b.build(x), calib), calib[:4], calibration_inputs=calib,
                 parity_threshold=PARITY_THRESHOLD, parity_note=PARITY_NOTE)

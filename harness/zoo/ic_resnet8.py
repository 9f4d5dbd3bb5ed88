"""ic_resnet8: MLPerf Tiny's image-classification ResNet-8 (CIFAR-10 shape, 32x32x3 -> 10).

Conv 3x3 (16) + BN + ReLU -> three residual stacks of two 3x3 convs with BN (16, 32/2, 64/2
channels/stride; a 1x1/2 projection on the skip when the stride is 2) each ending Add -> ReLU ->
AvgPool 8x8 -> Flatten -> Dense 10 -> Softmax. Weights deterministic (He-uniform from a hash,
batch-norms fitted and folded), not trained.
"""

from __future__ import annotations

from harness.calibration import calibrate
from harness.model import Model
from harness.zoo.builder import ZooBuilder, he_uniform
from harness.zoo.common import pattern_samples

DESCRIPTION = "MLPerf Tiny IC ResNet-8: three residual stacks with projections, 32x32x3 -> 10 (untrained weights)"
INPUT = (32, 32, 3)
PARITY_THRESHOLD = 0.10
PARITY_NOTE = "softmax outputs; measured 2.2%; 10% as for every untrained MLPerf shape"


def build() -> Model:
    calib = pattern_samples(16, INPUT, first=400)
    b = ZooBuilder("ic_resnet8", calib)
    x = b.add(
        "conv2d",
        "input",
        name="conv1",
        padding="same",
        activation="relu",
        per_channel=True,
        bn=True,
        float_weights=he_uniform((16, 3, 3, 3), 27, seed=3000),
    )
    c_in = 16
    for i, (c_out, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
        y = b.add(
            "conv2d",
            x,
            name=f"s{i}_conv1",
            stride=stride,
            padding="same",
            activation="relu",
            per_channel=True,
            bn=True,
            float_weights=he_uniform((c_out, 3, 3, c_in), 9 * c_in, seed=3000 + 10 * i + 1),
        )
        y = b.add(
            "conv2d",
            y,
            name=f"s{i}_conv2",
            padding="same",
            per_channel=True,
            bn=True,
            float_weights=he_uniform((c_out, 3, 3, c_out), 9 * c_out, seed=3000 + 10 * i + 2),
        )
        if stride != 1:
            x = b.add(
                "conv2d",
                x,
                name=f"s{i}_skip",
                stride=stride,
                per_channel=True,
                float_weights=he_uniform((c_out, 1, 1, c_in), c_in, seed=3000 + 10 * i + 3),
            )
        x = b.add("add", [y, x], name=f"s{i}_add")
        x = b.add("relu", x, name=f"s{i}_relu")
        c_in = c_out
    x = b.add("avgpool2d", x, name="pool", pool=8, stride=1)
    x = b.add("flatten", x, name="flatten")
    x = b.add("dense", x, name="fc", float_weights=he_uniform((10, 64), 64, seed=3099))
    x = b.add("softmax", x, name="softmax")
    return Model(
        calibrate(b.build(x), calib),
        calib[:4],
        calibration_inputs=calib,
        parity_threshold=PARITY_THRESHOLD,
        parity_note=PARITY_NOTE,
    )

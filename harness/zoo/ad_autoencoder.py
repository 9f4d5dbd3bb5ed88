"""ad_autoencoder: MLPerf Tiny's anomaly-detection autoencoder (ToyADMOS shape, 640 -> 640).

Dense 128 + BN + ReLU x4 -> Dense 8 + BN + ReLU -> Dense 128 + BN + ReLU x4 -> Dense 640. Weights
deterministic (He-uniform from a hash, batch-norms fitted and folded), not trained.
"""
from __future__ import annotations

from harness.calibration import calibrate
from harness.model import Model
from harness.zoo.builder import ZooBuilder, he_uniform
from harness.zoo.common import pattern_samples

DESCRIPTION = "MLPerf Tiny AD autoencoder: 640 -> 128x4 -> 8 -> 128x4 -> 640 fully connected (untrained weights)"
INPUT = (640,)
PARITY_THRESHOLD = 0.10
PARITY_NOTE = "640 reconstructed values through a bottleneck of 8; measured 2.7%; 10% as for every MLPerf shape"
WIDTHS = (128, 128, 128, 128, 8, 128, 128, 128, 128)


def build() -> Model:
    calib = pattern_samples(32, INPUT, first=500).reshape(32, 640)
    b = ZooBuilder("ad_autoencoder", calib)
    x, n_in = "input", 640
    for i, n_out in enumerate(WIDTHS, start=1):
        x = b.add("dense", x, name=f"fc{i}", activation="relu", bn=True,
                  float_weights=he_uniform((n_out, n_in), n_in, seed=4000 + i))
        n_in = n_out
    x = b.add("dense", x, name="out", float_weights=he_uniform((640, n_in), n_in, seed=4099))
    return Model(calibrate(b.build(x), calib), calib[:4], calibration_inputs=calib,
                 parity_threshold=PARITY_THRESHOLD, parity_note=PARITY_NOTE)

"""xor_mlp: Dense 2->4, ReLU, Dense 4->1, sigmoid LUT, with the hand-set constants of the seed
(from the seed documents) that solve XOR exactly; and the seed's PyTorch retraining path, which needs torch.
"""
from __future__ import annotations

import numpy as np

from harness.calibration import calibrate
from harness.errors import EnvironmentProblem
from harness.model import Model
from harness.model.graph import GraphBuilder
from harness.quant import QuantParams, f32

DESCRIPTION = "2-4-1 MLP with a sigmoid LUT, hand-set int8 constants that solve XOR (seed 003)"
XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_LABELS = [0, 1, 1, 0]
TORCH_HINT = "the PyTorch retraining path needs torch: pip install torch (a CPU build is enough)"
PARITY_NOTE = ("measured 0.2%: the float reference runs the same hand-set weights, so only activation "
               "rounding separates the two; 10%")


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
    return Model(b.build(x), XOR_INPUTS, labels=XOR_LABELS, parity_threshold=0.10, parity_note=PARITY_NOTE)



def calibration_grid() -> np.ndarray:
    """A 9x9 grid of [0, 1]^2 plus the four corners, as the seed calibrates."""
    pts = np.linspace(0.0, 1.0, 9, dtype=np.float32)
    grid = np.array([[x, y] for x in pts for y in pts], dtype=np.float32)
    return np.concatenate([grid, XOR_INPUTS])


def train_with_pytorch(epochs: int = 4000) -> Model:
    """Retrain the 2-4-1 MLP as the seed does (BCE, SGD lr 0.1, seed 42), then calibrate and
    quantize it with the harness. Raises EnvironmentProblem when torch is not installed."""
    try:
        import torch
        from torch import nn
    except ImportError:
        raise EnvironmentProblem(TORCH_HINT) from None
    torch.manual_seed(42)
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.BCELoss()
    x = torch.from_numpy(XOR_INPUTS)
    y = torch.tensor(XOR_LABELS, dtype=torch.float32).reshape(4, 1)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
    fc1, fc2 = net[0], net[2]
    b = GraphBuilder("xor_mlp_trained", (2,))
    h = b.add(
        "dense", "input", name="fc1", float_weights=fc1.weight.detach().numpy(), float_bias=fc1.bias.detach().numpy()
    )
    h = b.add("relu", h, name="relu1")
    h = b.add("dense", h, name="fc2", float_weights=fc2.weight.detach().numpy(), float_bias=fc2.bias.detach().numpy())
    h = b.add("sigmoid", h, name="sigmoid")
    calib = calibration_grid()
    return Model(
        calibrate(b.build(h), calib),
        XOR_INPUTS,
        labels=XOR_LABELS,
        calibration_inputs=calib,
        parity_threshold=0.10,
        parity_note="trained float model; 10%",
    )

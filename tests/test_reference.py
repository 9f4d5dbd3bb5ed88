"""Known answers for every op of the integer reference, computed by hand, and agreement between
the integer and float references on the zoo."""
from __future__ import annotations

import numpy as np
import pytest

from harness.model import GraphBuilder
from harness.quant import QuantParams, dequantize, f32
from harness.reference import run_float, run_int8
from harness.verify import classify, reference_logits
from harness.zoo import ZOO, load

UNIT = QuantParams(1.0, 0)  # real value = q, so accumulators can be checked by hand


def run_one(op: str, x: np.ndarray, in_q: QuantParams = UNIT, out_q: QuantParams = UNIT, **kw) -> np.ndarray:
    b = GraphBuilder("t", x.shape, in_q)
    out = b.add(op, "input", name="op", quant=out_q, **kw)
    g = b.build(out)
    return run_int8(g, x[None].astype(np.int8))[out][0]


def test_conv2d_valid_known_answer() -> None:
    x = np.arange(1, 10).reshape(3, 3, 1)
    y = run_one("conv2d", x, weights=[[[[1], [2]], [[3], [4]]]], bias=[10], weight_scales=[1.0])
    assert y[..., 0].tolist() == [[47, 57], [77, 87]]


def test_conv2d_input_zero_point_and_same_padding() -> None:
    # input zp 1: effective x - 1; padded positions contribute 0 (as if filled with the zp)
    x = np.array([[1, 2], [3, 4]]).reshape(2, 2, 1)
    y = run_one("conv2d", x, in_q=QuantParams(1.0, 1), weights=np.ones((1, 3, 3, 1)), bias=[0],
                weight_scales=[1.0], padding="same")
    assert y[..., 0].tolist() == [[6, 6], [6, 6]]  # every window covers (0 + 1 + 2 + 3)


def test_conv2d_stride_dilation_and_explicit_pads() -> None:
    x = np.arange(16).reshape(4, 4, 1)
    y = run_one("conv2d", x, weights=np.ones((1, 2, 2, 1)), bias=[0], weight_scales=[1.0],
                stride=2, dilation=2, padding=(1, 1, 1, 1))
    # padded 6x6 input, taps at offsets 0 and 2 of each window (x index = padded index - 1):
    # out[0,0] sees x[1,1] = 5 and padding, out[0,1] x[1,1] and x[1,3], out[1,0] x[1,1] and x[3,1];
    # out[1,1] starts at padded (2,2) and sees x[1,1], x[1,3], x[3,1], x[3,3]
    assert y.shape == (2, 2, 1)
    assert y[..., 0].tolist() == [[5, 5 + 7], [5 + 13, 5 + 7 + 13 + 15]]


def test_conv2d_per_channel_requantization_and_relu() -> None:
    x = np.array([[[10]]])
    y = run_one("conv2d", x, out_q=QuantParams(1.0, -5), weights=[[[[1]]], [[[-1]]], [[[1]]]], bias=[0, 0, 0],
                weight_scales=[1.0, 1.0, 0.5], activation="relu")
    assert y[0, 0].tolist() == [5, -5, 0]  # 10-5, relu clamps -10-5 to the zp -5, 0.5*10-5


def test_depthwise_with_channel_multiplier() -> None:
    x = np.array([[[1, 2]]])
    # [kh][kw][c*mult]: output channel c*2+m reads input channel c
    y = run_one("depthwise_conv2d", x, weights=[[[1, 2, 3, 4]]], bias=[0, 0, 0, 1], weight_scales=[1.0] * 4)
    assert y[0, 0].tolist() == [1, 2, 6, 9]


def test_pointwise_and_dense() -> None:
    x = np.array([[[1, -2, 3]]])
    y = run_one("pointwise_conv2d", x, weights=[[[[1, 1, 1]]], [[[2, 0, -1]]]], bias=[1, 0], weight_scales=[1.0])
    assert y[0, 0].tolist() == [3, -1]
    y = run_one("dense", np.array([1, -2, 3]), in_q=QuantParams(1.0, -1), weights=[[1, 1, 1], [2, 0, -1]],
                bias=[1, 0], weight_scales=[1.0])
    assert y.tolist() == [6, 0]  # (2 + -1 + 4) + 1, 2*2 - 4


def test_requantization_saturates_and_rounds_half_away() -> None:
    y = run_one("dense", np.array([100, 100]), weights=[[127, 127]], bias=[0], weight_scales=[1.0])
    assert y.tolist() == [127]
    # multiplier 0.5: 3 -> 1.5 -> 2, -3 -> -1.5 -> -1 (SRDHM takes negative ties toward zero)
    y = run_one("dense", np.array([3, -3]), out_q=QuantParams(2.0, 0), weights=[[1, 0], [0, 1]], bias=[0, 0],
                weight_scales=[1.0])
    assert y.tolist() == [2, -1]


def test_relu_maxpool_gap_pad() -> None:
    zp = QuantParams(0.1, -3)
    assert run_one("relu", np.array([-10, -3, 0, 7]), zp, zp).tolist() == [-3, -3, 0, 7]
    x = np.array([[1, 5, -2, 0], [3, 2, 9, -9]]).reshape(2, 4, 1)
    assert run_one("maxpool2d", x, pool=2)[..., 0].tolist() == [[5, 9]]
    assert run_one("maxpool2d", x, pool=(1, 2), stride=(1, 1))[..., 0].tolist() == [[5, 5, 0], [3, 9, 9]]
    # mean of raw values rounded half away from zero: 3/2 -> 2, -3/2 -> -2, 1/2 -> 1
    x = np.array([[[1, -1, 0]], [[2, -2, 1]]])
    assert run_one("global_avgpool2d", x).tolist() == [2, -2, 1]
    y = run_one("pad2d", np.array([[[4]]]), zp, zp, pads=(1, 0, 0, 2))
    assert y[..., 0].tolist() == [[-3, -3, -3], [4, -3, -3]]


def test_sigmoid_lut_known_answers() -> None:
    in_q = QuantParams(f32(1 / 16), 0)
    y = run_one("sigmoid", np.array([0, 127, -128, 16]), in_q, None)
    # sigmoid(0) = 0.5 -> -128 + 128 = 0; saturates at both ends; sigmoid(1) = 0.731 -> 59.2 -> 59
    assert y.tolist() == [0, 127, -128, 59]


@pytest.mark.parametrize("name", sorted(ZOO))
def test_integer_and_float_references_agree_on_the_zoo(name: str) -> None:
    model = load(name)
    out = model.graph.tensors[model.graph.output]
    fl = run_float(model.graph, model.test_inputs)[out.name].reshape(len(model.test_inputs), -1)
    q = dequantize(np.array(reference_logits(model)), out.quant)
    spread = float(fl.max() - fl.min()) or 1.0
    assert float(np.abs(q - fl).max()) < 0.1 * spread
    if fl.shape[1] > 1:
        assert classify(model, reference_logits(model)) == [int(i) for i in fl.argmax(1)]


def test_xor_mlp_solves_xor() -> None:
    model = load("xor_mlp")
    assert classify(model, reference_logits(model)) == [0, 1, 1, 0] == model.labels


def test_kws_cnn_is_not_degenerate() -> None:
    logits = reference_logits(load("kws_cnn"))
    assert all(len(set(row)) > 1 for row in logits)
    assert len(set(classify(load("kws_cnn"), logits))) > 1

"""Known answers for every op of the integer reference, computed by hand, and agreement between
the integer and float references on the zoo."""
from __future__ import annotations

import numpy as np

from harness.model import GraphBuilder
from harness.quant import QuantParams, f32
from harness.reference import compute_reference, run_int8
from harness.verify import classify
from harness.zoo import load

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
    y = run_one("conv2d", x, in_q=QuantParams(1.0, 1), weights=np.ones((1, 3, 3, 1), dtype=np.int8), bias=[0],
                weight_scales=[1.0], padding="same")
    assert y[..., 0].tolist() == [[6, 6], [6, 6]]  # every window covers (0 + 1 + 2 + 3)


def test_conv2d_stride_dilation_and_explicit_pads() -> None:
    x = np.arange(16).reshape(4, 4, 1)
    y = run_one("conv2d", x, weights=np.ones((1, 2, 2, 1), dtype=np.int8), bias=[0], weight_scales=[1.0],
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


def test_mean_hw_requantizes_the_sum_without_dividing_first() -> None:
    # n = 4 values, in_scale / out_scale = 3: the requantizer is 3 / (1 * 4) = 0.75 = (1610612736, 0).
    # Channel sums 6 and -6 give 4.5 and -4.5: SRDHM rounds the positive tie up to 5 and the
    # negative one toward zero, -4. Dividing first would round the means 1.5 and -1.5 to 2 and -2
    # (half away) and give 6 and -6.
    x = np.array([[[1, -1], [2, -2]], [[3, -3], [0, 0]]])
    assert run_one("mean_hw", x, QuantParams(0.75, 0), QuantParams(0.25, 0)).tolist() == [5, -4]
    # zero points: in_zp 10 comes off each value, out_zp -20 is added; requantizer 1 / (0.5 * 2) = 1.
    # Channel 0: (0 + 4) - 20 = -16; channel 1: (117 + 117) - 20 = 214 saturates at 127.
    x = np.array([[[10, 127]], [[14, 127]]])
    assert run_one("mean_hw", x, QuantParams(1.0, 10), QuantParams(0.5, -20)).tolist() == [-16, 127]


def test_requantize_rescales_rounds_and_clamps() -> None:
    # in (0.5, 10) -> out (0.25, -20): multiplier 2 = (2^30, shift 2); q - 10 = 3, -1, 20, 0 doubles
    # to 6, -2, 40, 0, plus -20. relu clamps at the output zero point -20; relu6 also at
    # -20 + round(6 / 0.25) = 4.
    x = np.array([13, 9, 30, 10])
    in_q, out_q = QuantParams(0.5, 10), QuantParams(0.25, -20)
    assert run_one("requantize", x, in_q, out_q).tolist() == [-14, -22, 20, -20]
    assert run_one("requantize", x, in_q, out_q, activation="relu").tolist() == [-14, -20, 20, -20]
    assert run_one("requantize", x, in_q, out_q, activation="relu6").tolist() == [-14, -20, 4, -20]
    # multiplier 1/4 = (2^30, -1): SRDHM halves (ties up), RDBPOT halves again (ties away from zero):
    # 6 -> 3 -> 2, -6 -> -3 -> -2, 2 -> 1 -> 1, -2 -> -1 -> -1; and 5 -> 2.5 -> 3 -> 1.5 -> 2, the
    # double rounding that makes 1.25 come out as 2 (a single rounding would give 1)
    y = run_one("requantize", np.array([6, -6, 2, -2, 5]), QuantParams(0.25, 0), QuantParams(1.0, 0))
    assert y.tolist() == [2, -2, 1, -1, 2]


def test_sigmoid_lut_known_answers() -> None:
    in_q = QuantParams(f32(1 / 16), 0)
    y = run_one("sigmoid", np.array([0, 127, -128, 16]), in_q, None)
    # sigmoid(0) = 0.5 -> -128 + 128 = 0; saturates at both ends; sigmoid(1) = 0.731 -> 59.2 -> 59
    assert y.tolist() == [0, 127, -128, 59]


def test_xor_mlp_solves_xor() -> None:
    model = load("xor_mlp")
    assert classify(model, compute_reference(model).logits) == [0, 1, 1, 0] == model.labels


def test_kws_cnn_is_not_degenerate() -> None:
    logits = compute_reference(load("kws_cnn")).logits
    assert all(len(set(row)) > 1 for row in logits)
    assert len(set(classify(load("kws_cnn"), logits))) > 1


def test_relu6_and_fused_pool_activation() -> None:
    q = QuantParams(0.05, -10)  # 6.0 is 120 steps above the zero point: clamp at 110
    assert run_one("relu6", np.array([-20, -10, 50, 110, 120]), q, q).tolist() == [-10, -10, 50, 110, 110]


def test_avgpool_counts_only_in_bounds_values() -> None:
    x = np.array([[1, 2], [3, 5]]).reshape(2, 2, 1)
    # SAME 2x2 stride 1 on 2x2: windows at the edge see 2 or 1 values; mean rounded half away
    y = run_one("avgpool2d", x, pool=2, stride=1, padding="same")
    assert y[..., 0].tolist() == [[3, 4], [4, 5]]  # 11/4 -> 3, 7/2 -> 4, 8/2 -> 4, 5/1
    y = run_one("maxpool2d", -x, pool=2, stride=1, padding="same")
    assert y[..., 0].tolist() == [[-1, -2], [-3, -5]]  # padding never wins a max


def test_add_known_answer() -> None:
    from harness.model.constants import LayerConstants, add_requantizers
    from harness.model.graph import Layer
    from harness.reference import run_layer_int8

    a_q, b_q, out_q = QuantParams(0.5, 0), QuantParams(0.25, 10), QuantParams(1.0, -3)
    mult, shift = add_requantizers(a_q, b_q, out_q)
    k = LayerConstants(a_q.zero_point, out_q.zero_point, multipliers=mult, shifts=shift, input2_zp=b_q.zero_point)
    qa = np.array([[4, -6, 100]], dtype=np.int8)  # 2.0, -3.0, 50.0
    qb = np.array([[14, 10, -128]], dtype=np.int8)  # 1.0, 0.0, -34.5
    y = run_layer_int8(Layer("sum", "add", ["a", "b"], "sum"), k, [qa, qb], (3,))[0]
    assert y.tolist() == [0, -6, 13]  # 3.0 -> 0; -3.0 -> -6; 15.5 - 3 = 12.5 rounds away to 13


def test_tanh_lut_known_answers() -> None:
    y = run_one("tanh", np.array([0, 127, -128, 16]), QuantParams(f32(1 / 16), 0), None)
    assert y.tolist() == [0, 127, -128, 97]  # tanh(1) * 128 = 97.48


def test_softmax_through_a_graph() -> None:
    # input grid 1/16: logits 0, 1, 2 -> softmax 0.090, 0.245, 0.665 -> q = p * 256 - 128
    y = run_one("softmax", np.array([[0, 16, 32]]), QuantParams(f32(1 / 16), 0), None)
    assert y[0].tolist() == [-105, -65, 42]


def test_reshape_and_flatten_keep_the_bytes() -> None:
    x = np.arange(12).reshape(2, 3, 2)
    assert run_one("reshape", x, shape=(3, 4)).ravel().tolist() == list(range(12))
    assert run_one("flatten", x).tolist() == list(range(12))

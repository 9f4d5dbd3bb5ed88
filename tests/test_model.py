"""The IR rejects broken models with a message that names the layer and the cause."""
from __future__ import annotations

import numpy as np
import pytest

from harness.model import GraphBuilder, ModelError
from harness.quant import QuantParams
from harness.zoo import ZOO, UnknownModel, load

Q = QuantParams(0.05, 0)


def test_unsupported_op_is_named() -> None:
    b = GraphBuilder("m", (4,), Q)
    with pytest.raises(ModelError, match="unsupported op 'gelu'"):
        b.add("gelu", "input")


def test_weights_that_do_not_fit_the_input_name_the_layer() -> None:
    b = GraphBuilder("m", (5, 5, 3))
    with pytest.raises(ModelError, match=r"layer 'c1' \(conv2d\): weights have 2 input channels, the input has 3"):
        b.add("conv2d", "input", name="c1", float_weights=np.zeros((4, 3, 3, 2)))
    with pytest.raises(ModelError, match=r"layer 'd1' \(dense\): weights take 10 inputs, the input has 75"):
        b.add("dense", "input", name="d1", float_weights=np.zeros((4, 10)))
    with pytest.raises(ModelError, match="does not fit the padded input"):
        b.add("conv2d", "input", name="big", float_weights=np.zeros((1, 7, 7, 3)))


def test_bad_padding_and_stride_are_explained() -> None:
    b = GraphBuilder("m", (5, 5, 1))
    with pytest.raises(ModelError, match="padding must be"):
        b.add("conv2d", "input", float_weights=np.zeros((1, 3, 3, 1)), padding="full")
    with pytest.raises(ModelError, match="stride must be"):
        b.add("conv2d", "input", float_weights=np.zeros((1, 3, 3, 1)), stride=0)


def test_unknown_input_tensor() -> None:
    b = GraphBuilder("m", (4,), Q)
    with pytest.raises(ModelError, match="input tensor 'nope' is not defined"):
        b.add("relu", "nope")


def test_int8_parameters_are_checked() -> None:
    b = GraphBuilder("m", (2,), Q)
    b.add("dense", "input", name="fc", quant=Q, weights=[[-128, 1]], bias=[0], weight_scales=[0.01])
    with pytest.raises(ModelError, match=r"layer 'fc' \(dense\): weights must lie in \[-127, 127\]"):
        b.build("fc")


def test_unrepresentable_multiplier_names_the_layer() -> None:
    b = GraphBuilder("m", (2,), QuantParams(1.0, 0))
    b.add("dense", "input", name="fc", quant=QuantParams(1e-12, 0), weights=[[1, 1]], bias=[0], weight_scales=[1.0])
    with pytest.raises(ModelError, match=r"layer 'fc' \(dense\).*left shift"):
        b.build("fc")


def test_mean_hw_and_requantize_shapes_and_attributes_are_explained() -> None:
    b = GraphBuilder("m", (4,), Q)
    with pytest.raises(ModelError, match=r"layer 'm1' \(mean_hw\): input must be an image \(H, W, C\), got shape"):
        b.add("mean_hw", "input", name="m1")
    with pytest.raises(ModelError, match=r"layer 'm2' \(mean_hw\): unknown attribute 'activation'; mean_hw takes no"):
        b.add("mean_hw", "input", name="m2", activation="relu")
    with pytest.raises(ModelError, match=r"layer 'r1' \(requantize\): .*'pool'"):
        b.add("requantize", "input", name="r1", pool=2)
    # the int32 sum of H * W offset values: 2^23 of them fit, one row more does not
    assert GraphBuilder("m", (1 << 22, 2, 3), Q).add("mean_hw", "input", name="m") == "m"
    with pytest.raises(ModelError, match=r"mean over 4097x2048 = 8390656 values: at most 8388608 \(2\^23\)"):
        GraphBuilder("m", (4097, 2048, 1), Q).add("mean_hw", "input", name="m")
    b = GraphBuilder("m", (3, 2, 5), Q)
    x = b.add("requantize", "input", name="r", quant=QuantParams(0.1, -128), activation="relu6")
    m = b.add("mean_hw", x, name="mean", quant=QuantParams(0.02, 3))
    g = b.build(m)
    assert [g.tensors[t].shape for t in ("r", "mean")] == [(3, 2, 5), (5,)]
    assert [g.macs(layer) for layer in g.layers] == [0, 0]
    b = GraphBuilder("m", (3, 2, 5), Q)
    b.add("requantize", "input", name="r", quant=QuantParams(0.1, 0), activation="gelu")
    with pytest.raises(ModelError, match=r"layer 'r' \(requantize\): activation 'gelu' is not supported here"):
        b.build("r")


def test_rescaling_layers_refuse_an_unrepresentable_multiplier() -> None:
    b = GraphBuilder("m", (2, 2, 1), QuantParams(1.0, 0))
    b.add("requantize", "input", name="r", quant=QuantParams(1e-12, 0))
    with pytest.raises(ModelError, match=r"layer 'r' \(requantize\).*left shift"):
        b.build("r")
    b = GraphBuilder("m", (2, 2, 1), QuantParams(1.0, 0))
    b.add("mean_hw", "input", name="mean", quant=QuantParams(1e-12, 0))
    with pytest.raises(ModelError, match=r"layer 'mean' \(mean_hw\).*left shift"):
        b.build("mean")


def test_pass_through_layers_must_keep_the_grid() -> None:
    b = GraphBuilder("m", (4,), Q)
    b.add("relu", "input", name="r", quant=QuantParams(0.1, 0))
    with pytest.raises(ModelError, match=r"layer 'r' \(relu\): output grid .* must equal the input grid"):
        b.build("r")


def test_bias_shape_and_scale_count() -> None:
    b = GraphBuilder("m", (2,), Q)
    with pytest.raises(ModelError, match=r"bias has shape \(1,\), expected \(2,\)"):
        b.add("dense", "input", name="fc", quant=Q, weights=[[1, 1], [1, 1]], bias=[0], weight_scales=[0.1])
    b.add("dense", "input", name="fc", quant=Q, weights=[[1, 1], [1, 1]], bias=[0, 0], weight_scales=[0.1, 0.1, 0.1])
    with pytest.raises(ModelError, match="weight scales must number 1 or 2"):
        b.build("fc")


def test_non_finite_float_weights_are_rejected_at_calibration() -> None:
    from harness.calibration import calibrate

    b = GraphBuilder("m", (2,))
    b.add("dense", "input", name="fc", float_weights=np.array([[np.nan, 1.0]]))
    with pytest.raises(ModelError, match=r"layer 'fc' \(dense\): float weights are not all finite"):
        calibrate(b.build("fc"), np.zeros((1, 2), np.float32))


def test_zoo_lists_models_and_rejects_unknown_names() -> None:
    assert {"xor_mlp", "kws_cnn"} <= set(ZOO)
    assert all(entry.description for entry in ZOO.values())
    with pytest.raises(UnknownModel, match="unknown model 'nope'; available: xor_mlp"):
        load("nope")


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_models_validate_and_are_quantized(name: str) -> None:
    model = load(name)
    model.graph.validate()
    assert model.graph.is_quantized
    assert model.test_inputs_q.dtype == np.int8
    assert model.test_inputs_q.shape[1:] == model.graph.tensors[model.graph.input].shape

"""The model API refuses what it cannot represent with one ModelError that names the layer and the
cause, instead of wrapping a value, ignoring it, or failing inside numpy."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from harness.calibration import calibrate
from harness.errors import InputError
from harness.model import Graph, GraphBuilder, Layer, ModelError, Tensor
from harness.quant import QuantParams
from harness.reference import run_int8

Q = QuantParams(0.05, 0)


def dense(**params: Any) -> Graph:
    """A hand-set int8 dense layer 'fc' (2 inputs, 1 output); `params` replace its valid ones."""
    b = GraphBuilder("m", (2,), Q)
    valid = {"weights": [[1, 1]], "bias": [0], "weight_scales": [0.01]}
    return b.build(b.add("dense", "input", name="fc", quant=Q, **{**valid, **params}))


def conv(weights_shape: tuple[int, ...] = (1, 3, 3, 1), **kwargs: Any) -> Graph:
    """A float conv2d layer 'c1' on a 5x5x1 input with the given attributes and parameters."""
    b = GraphBuilder("m", (5, 5, 1))
    return b.build(b.add("conv2d", "input", name="c1", float_weights=np.ones(weights_shape), **kwargs))


def calibrated(samples: Any) -> Graph:
    """A float dense model on a 2-value input, calibrated on `samples`."""
    b = GraphBuilder("m", (2,))
    return calibrate(b.build(b.add("dense", "input", name="fc", float_weights=np.ones((3, 2)))), samples)


def hand_built(**attrs: Any) -> Graph:
    """A graph written without the builder, so only Graph.validate sees its relu 'r'."""
    tensors = {"input": Tensor("input", (4,)), "r": Tensor("r", (4,))}
    return Graph("m", "input", "r", tensors, [Layer("r", "relu", ["input"], "r", attrs=attrs)])


CASES = [
    pytest.param(lambda: dense(weights=np.array([[300, -1]])),
                 ["layer 'fc' (dense)", "weights", "int8 [-128, 127]", "min -1 and max 300"], id="int8-weights-range"),
    pytest.param(lambda: dense(bias=np.array([2**40], np.int64)),
                 ["layer 'fc' (dense)", "bias", "int32 [-2147483648, 2147483647]", "max 1099511627776"],
                 id="int32-bias-range"),
    pytest.param(lambda: dense(weights=np.array([[1.0, 1.0]])),
                 ["layer 'fc' (dense)", "weights must be an integer array, got float64"], id="float-weights"),
    pytest.param(lambda: dense(bias=[0.5]),
                 ["layer 'fc' (dense)", "bias must be an integer array, got float64"], id="float-bias"),
    pytest.param(lambda: conv(stide=2),
                 ["layer 'c1' (conv2d)", "unknown attribute 'stide'", "stride"], id="unknown-attribute"),
    pytest.param(lambda: hand_built(stide=2).validate(),
                 ["layer 'r' (relu)", "unknown attribute 'stide'", "relu takes no attributes"],
                 id="unknown-attribute-in-validate"),
    pytest.param(lambda: GraphBuilder("m", (4, 4, 0)),
                 ["model 'm'", "input shape (4, 4, 0)", "positive"], id="zero-channel-input"),
    pytest.param(lambda: GraphBuilder("m", (4, -1, 2)),
                 ["model 'm'", "input shape (4, -1, 2)", "positive"], id="negative-dimension-input"),
    pytest.param(lambda: conv(float_bias=np.zeros(2)),
                 ["layer 'c1' (conv2d)", "float_bias has shape (2,), expected (1,)"], id="bias-length"),
    pytest.param(lambda: dense(weights=[1, 1]),
                 ["layer 'fc' (dense)", "dense weights must be [out][in], got shape (2,)"], id="weights-rank"),
    pytest.param(lambda: conv(weights_shape=(0, 3, 3, 1)),
                 ["layer 'c1' (conv2d)", "weights have an empty dimension, shape (0, 3, 3, 1)"],
                 id="weights-empty-dimension"),
    pytest.param(lambda: calibrated(np.zeros((0, 2))),
                 ["model 'm'", "calibration samples", "(batch, 2)", "got (0, 2)"], id="empty-calibration"),
    pytest.param(lambda: calibrated(np.zeros((4, 3))),
                 ["model 'm'", "calibration samples", "(batch, 2)", "got (4, 3)"], id="misshaped-calibration"),
    pytest.param(lambda: conv(stride=True),
                 ["layer 'c1' (conv2d)", "stride must be a positive int", "got True"], id="bool-is-not-an-int"),
]


@pytest.mark.parametrize("action, fragments", CASES)
def test_unrepresentable_input_is_refused_naming_the_cause(action: Callable[[], Any], fragments: list[str]) -> None:
    with pytest.raises(ModelError) as caught:
        action()
    message = str(caught.value)
    assert isinstance(caught.value, InputError)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def tour(i: Callable[[int], Any]) -> Graph:
    """A model whose shape, strides, dilation, pads, pool size and reshape all pass through `i`."""
    b = GraphBuilder("m", (i(8), i(8), i(2)))
    x = b.add("conv2d", "input", name="c", stride=i(2), dilation=(i(1), i(1)), padding=(i(1), i(0), i(1), i(0)),
              float_weights=np.linspace(-1, 1, 72, dtype=np.float32).reshape(4, 3, 3, 2))
    x = b.add("pad2d", x, name="p", pads=(i(1), i(1), i(1), i(1)))
    x = b.add("maxpool2d", x, name="mp", pool=(i(2), i(2)))
    return b.build(b.add("reshape", x, name="r", shape=(i(36),)))


def test_numpy_integer_scalars_work_wherever_python_ints_do() -> None:
    """Shapes and sizes often come out of numpy arithmetic; numpy.int64(2) must build what 2 builds."""
    plain, numpy = tour(int), tour(np.int64)
    assert [layer.attrs for layer in numpy.layers] == [layer.attrs for layer in plain.layers]
    assert {name: t.shape for name, t in numpy.tensors.items()} == {name: t.shape for name, t in plain.tensors.items()}
    assert all(type(d) is int for t in numpy.tensors.values() for d in t.shape)
    samples = np.linspace(-1, 1, 4 * 128, dtype=np.float32).reshape(4, 8, 8, 2)
    x_q = np.linspace(-128, 127, 128, dtype=np.int8).reshape(1, 8, 8, 2)
    assert np.array_equal(run_int8(calibrate(numpy, samples), x_q)["r"], run_int8(calibrate(plain, samples), x_q)["r"])

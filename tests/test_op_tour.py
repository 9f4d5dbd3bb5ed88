"""Every op in one calibrated model, end to end on the emulator: two-input layers reading live
tensors, reshape/flatten aliasing the arena, padded pools, LUTs, rescaling layers and softmax in one
schedule; and the no-float scan over its firmware, which holds every kernel."""
from __future__ import annotations

import numpy as np
import pytest

from harness.build import build_firmware
from harness.build.floatscan import scan_elf
from harness.calibration import calibrate
from harness.emu import make_emulator
from harness.model import GraphBuilder, Model
from harness.model.ops import OPS
from harness.quant import QuantParams
from harness.reference import compute_reference, crc32_of, run_int8
from harness.targets import get_target
from harness.zoo.common import sinus, wave_samples

pytestmark = pytest.mark.emulator


def op_tour() -> Model:
    b = GraphBuilder("op_tour", (8, 8, 3))
    x = b.add("conv2d", "input", name="conv", activation="relu6", padding="same", per_channel=True,
              float_weights=sinus((6, 3, 3, 3), 0.4, 23.0, 0.2), float_bias=sinus((6,), 0.1, 3.0, 0.5))
    skip = b.add("relu6", x, name="relu6")
    x = b.add("avgpool2d", skip, name="avg", pool=3, stride=1, padding="same")
    x = b.add("maxpool2d", x, name="max", pool=2, stride=1, padding=(0, 1, 0, 1))
    x = b.add("add", [x, skip], name="add1")
    x = b.add("pad2d", x, name="pad", pads=(1, 1, 1, 1))
    x = b.add("depthwise_conv2d", x, name="dw", stride=2, dilation=1,
              float_weights=sinus((3, 3, 12), 0.5, 37.0, 0.1), float_bias=sinus((12,), 0.05, 5.0, 0.0))
    # the depthwise output spans negative values: the relu6 moves it onto a grid of its own
    x = b.add("requantize", x, name="requant", activation="relu6")
    x = b.add("pointwise_conv2d", x, name="pw", activation="relu", float_weights=sinus((6, 1, 1, 12), 0.3, 51.0, 0.9))
    y = b.add("tanh", x, name="tanh")
    z = b.add("sigmoid", x, name="sigmoid")
    x = b.add("add", [y, z], name="add2")
    x = b.add("relu", x, name="relu")
    gap = b.add("global_avgpool2d", x, name="gap")
    mean = b.add("mean_hw", x, name="mean")
    x = b.add("add", [gap, mean], name="add3")
    x = b.add("reshape", x, name="reshape", shape=(2, 3))
    x = b.add("flatten", x, name="flatten")
    x = b.add("dense", x, name="fc", float_weights=sinus((5, 6), 0.8, 29.0, 0.3), float_bias=sinus((5,), 0.2, 2.0, 0.1))
    x = b.add("softmax", x, name="softmax")
    calib = wave_samples(16, (8, 8, 3), phase_step=19, rate=0.17)
    return Model(calibrate(b.build(x), calib), calib[:4])


def test_the_tour_visits_every_op() -> None:
    assert {layer.op for layer in op_tour().graph.layers} == set(OPS)


def test_the_rescaling_layers_change_the_grid() -> None:
    """requantize and mean_hw are only exercised if their multipliers are not the identity."""
    graph = op_tour().graph
    for name in ("requant", "mean"):
        layer = next(layer for layer in graph.layers if layer.name == name)
        assert graph.tensors[layer.inputs[0]].grid != graph.tensors[layer.output].grid, name
    requant = next(layer for layer in graph.layers if layer.name == "requant")
    assert graph.tensors[requant.inputs[0]].grid.zero_point != graph.tensors[requant.output].grid.zero_point


def test_every_kernel_is_free_of_floating_point() -> None:
    """The tour's firmware reaches every kernel; the no-float scan (tests/test_floatscan.py) finds none."""
    scan = scan_elf(build_firmware(op_tour(), get_target("stm32f405")).elf)
    assert scan.ok, scan.summary()
    assert {"hk_mean_hw_s8", "hk_requantize_s8", "hk_global_avgpool2d_s8", "hk_add_s8"} <= set(scan.reachable)


def test_every_layer_of_every_op_is_bit_exact_on_the_emulator() -> None:
    model = op_tour()
    target = get_target("stm32f405")
    firmware = build_firmware(model, target)
    with make_emulator("qemu", firmware.elf, target) as emu:
        run = emu.run_to_completion()
    assert run.status == "ok"
    assert [run.logits[s] for s in sorted(run.logits)] == compute_reference(model).logits
    values = run_int8(model.graph, model.test_inputs_q)
    for (sample, index), crc in sorted(run.output_crcs().items()):
        layer = model.graph.layers[index]
        assert crc == crc32_of(values[layer.output][sample]), f"layer {index} '{layer.name}' sample {sample}"
    assert len(set(np.array(compute_reference(model).logits).ravel().tolist())) > 2


def _bit_exact_on_the_emulator(model: Model) -> None:
    target = get_target("stm32f405")
    with make_emulator("qemu", build_firmware(model, target).elf, target) as emu:
        run = emu.run_to_completion()
    assert run.status == "ok"
    assert [run.logits[s] for s in sorted(run.logits)] == compute_reference(model).logits
    values = run_int8(model.graph, model.test_inputs_q)
    crcs = run.output_crcs()
    assert len(crcs) == len(model.graph.layers) * len(model.test_inputs_q)
    for (sample, index), crc in sorted(crcs.items()):
        layer = model.graph.layers[index]
        assert crc == crc32_of(values[layer.output][sample]), f"layer {index} '{layer.name}' sample {sample}"


def test_mean_hw_and_requantize_on_the_tflite_fixtures_grids_are_bit_exact_on_the_emulator() -> None:
    """A small hand-built graph on the grids of examples/tflite/relu_relu6_standalone.tflite (RELU,
    RELU6 onto new grids) and mean_hw.tflite (MEAN's output grid), with inputs at the int8 edges."""
    b = GraphBuilder("rescale", (8, 8, 2), QuantParams(0.031097808852791786, 5))
    relu = b.add("requantize", "input", name="relu", quant=QuantParams(0.029721785336732864, -128), activation="relu")
    relu6 = b.add("requantize", "input", name="relu6", quant=QuantParams(0.014860892668366432, -128),
                  activation="relu6")
    plain = b.add("requantize", relu6, name="plain", quant=QuantParams(0.05, 17))
    x = b.add("add", [relu, plain], name="sum", quant=QuantParams(0.06, -100))
    m1 = b.add("mean_hw", x, name="mean1", quant=QuantParams(0.011258702725172043, 1))
    m0 = b.add("mean_hw", "input", name="mean0", quant=QuantParams(0.011258702725172043, 1))
    out = b.add("add", [m0, m1], name="out", quant=QuantParams(0.02, 0))
    rng = np.random.default_rng(4)
    x_q = np.stack([rng.integers(-128, 128, (8, 8, 2)), np.full((8, 8, 2), -128), np.full((8, 8, 2), 127),
                    np.clip(5 + rng.integers(-3, 4, (8, 8, 2)), -128, 127), rng.choice([-128, 127], (8, 8, 2))])
    graph = b.build(out)
    model = Model(graph, np.zeros((5, 8, 8, 2), np.float32), quantized_inputs=x_q.astype(np.int8))
    values = run_int8(graph, model.test_inputs_q)
    assert len(set(values["relu6"].ravel().tolist())) > 30 and len(set(values["mean1"].ravel().tolist())) > 3
    _bit_exact_on_the_emulator(model)

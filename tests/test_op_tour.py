"""Every op in one calibrated model, end to end on the emulator: two-input layers reading live
tensors, reshape/flatten aliasing the arena, padded pools, LUTs and softmax in one schedule."""
from __future__ import annotations

import numpy as np
import pytest

from harness.build import build_firmware
from harness.calibration import calibrate
from harness.emu import make_emulator
from harness.model import GraphBuilder, Model
from harness.model.ops import OPS
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
    x = b.add("pointwise_conv2d", x, name="pw", activation="relu", float_weights=sinus((6, 1, 1, 12), 0.3, 51.0, 0.9))
    y = b.add("tanh", x, name="tanh")
    z = b.add("sigmoid", x, name="sigmoid")
    x = b.add("add", [y, z], name="add2")
    x = b.add("relu", x, name="relu")
    x = b.add("global_avgpool2d", x, name="gap")
    x = b.add("reshape", x, name="reshape", shape=(2, 3))
    x = b.add("flatten", x, name="flatten")
    x = b.add("dense", x, name="fc", float_weights=sinus((5, 6), 0.8, 29.0, 0.3), float_bias=sinus((5,), 0.2, 2.0, 0.1))
    x = b.add("softmax", x, name="softmax")
    calib = wave_samples(16, (8, 8, 3), phase_step=19, rate=0.17)
    return Model(calibrate(b.build(x), calib), calib[:4])


def test_the_tour_visits_every_op() -> None:
    assert {layer.op for layer in op_tour().graph.layers} == set(OPS)


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

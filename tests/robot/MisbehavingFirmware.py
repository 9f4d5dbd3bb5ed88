"""Test-only Robot keywords: firmware of a zoo model that prints one value or one sample too many,
handed to the HarnessLibrary of the suite, so that its checks can be shown to fail on it."""
from __future__ import annotations

import dataclasses

from robot.libraries.BuiltIn import BuiltIn

from harness.build import build_firmware, build_image
from harness.codegen import generate
from harness.targets import get_target
from harness.zoo import load

#: The fields of the generated `hk_model` descriptor, in order (harness/firmware/runtime/include/hk_model.h).
DESCRIPTOR_FIELDS = ("name", "build_id", "num_layers", "num_samples", "input_size", "output_size")


def _patched_source(model_name: str, field: str) -> str:
    """The model's generated C with one descriptor count raised by one."""
    head, marker, body = generate(load(model_name)).source.partition("const hk_model_desc hk_model = {\n")
    lines = body.split("\n")
    i = DESCRIPTOR_FIELDS.index(field)
    lines[i] = f"    {int(lines[i].strip().rstrip(',')) + 1},"
    return head + marker + "\n".join(lines)


class MisbehavingFirmware:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def build_firmware_that_prints_one_more(self, model: str, what: str, target: str = "stm32f405") -> None:
        """Build `model` so that it prints one more logit `value` per sample, or one more `sample`,
        and make it the firmware of the suite's HarnessLibrary."""
        field = {"value": "output_size", "sample": "num_samples"}[what]
        tgt = get_target(target)
        image = build_image(f"{model}_one_more_{what}", _patched_source(model, field), tgt)
        harness = BuiltIn().get_library_instance("harness.robot.HarnessLibrary")
        harness.build_firmware(model, target)
        harness._firmware = dataclasses.replace(build_firmware(load(model), tgt), elf=image.elf,
                                                build_id=image.build_id)

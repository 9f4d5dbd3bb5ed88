"""End to end on the emulator: every zoo model through the `device` fixture, repeatable counts,
and each way firmware can go wrong reported with its cause (fault, kernel error, hang, garbage)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from harness.build import FIRMWARE_DIR, build_firmware, build_image, kernel_variant
from harness.build.elfinfo import function_at
from harness.codegen import generate
from harness.emu import make_emulator
from harness.errors import EmulatorError, FirmwareFault, FirmwareHang, ProtocolError
from harness.protocol import LayerError
from harness.pytest_plugin import Device
from harness.reference import compute_reference, crc32_of, run_int8
from harness.targets import get_target
from harness.verify import verify_run
from harness.zoo import ZOO, load

pytestmark = pytest.mark.emulator

TARGET = get_target("stm32f405")
HERE = Path(__file__).parent


@pytest.mark.parametrize("device", sorted(ZOO), indirect=True)
def test_model_is_bit_exact_with_positive_layer_counts(device: Device) -> None:
    boot = device.expect("boot")
    assert boot.str("board") == "stm32f405" and boot.str("core") == "cortex-m4"
    assert boot.str("counter") == "icount"
    run = device.run_to_completion()
    assert run.status == "ok"
    assert device.logits(run) == device.reference
    assert run.model is not None and run.model.build == device.firmware.build_id
    cycles = run.counts_by_layer()
    assert len(cycles) == len(device.model.graph.layers)
    assert all(len(per_sample) == len(device.reference) and min(per_sample) > 0 for per_sample in cycles)
    assert run.stack_used is not None and 0 < run.stack_used < (run.stack_size or 0)
    # every layer's output checksum equals the reference's for that layer and sample
    values = run_int8(device.model.graph, device.model.test_inputs_q)
    for (sample, index), crc in run.output_crcs().items():
        assert crc == crc32_of(values[device.model.graph.layers[index].output][sample])


@pytest.mark.parametrize("name", sorted(ZOO))
def test_instruction_counts_repeat_exactly(name: str, firmware_builder) -> None:
    firmware = firmware_builder(name)
    runs = []
    for _ in range(2):
        with make_emulator("qemu", firmware.elf, TARGET) as emu:
            runs.append(emu.run_to_completion())
    assert runs[0].counts_by_layer() == runs[1].counts_by_layer()


def misbehaving_image(body: str) -> Path:
    source = (HERE / "firmware" / "misbehaving.c.in").read_text().replace("@BODY@", body)
    return build_image("misbehaving", source, TARGET).elf


def test_cpu_fault_is_reported_at_once_with_registers_and_function() -> None:
    elf = misbehaving_image('__asm volatile("udf #0");')
    start = time.monotonic()
    with make_emulator("qemu", elf, TARGET, timeout=600) as emu:  # a minute proves no timeout was waited out
        run = emu.run_to_completion()
    assert time.monotonic() - start < 60
    assert run.status == "fault" and run.fault is not None
    assert run.fault.exception == 6  # UsageFault
    assert run.fault.cfsr & (1 << 16)  # UFSR.UNDEFINSTR (UsageFault status is CFSR[31:16])
    assert function_at(elf, run.fault.pc) == "hk_model_run_layer"


def test_kernel_error_status_is_reported() -> None:
    elf = misbehaving_image("return HK_ERR_DIMS;")
    with make_emulator("qemu", elf, TARGET, timeout=60) as emu:
        run = emu.run_to_completion()
    assert run.status == "error" and run.error == LayerError(layer=0, status=2, sample=0)


def test_a_layer_its_check_refuses_stops_the_run_before_anything_is_timed() -> None:
    source = (HERE / "firmware" / "misbehaving.c.in").read_text().replace("@BODY@", "").replace(
        "    (void)index;\n    return HK_CHECK_OK;", "    (void)index;\n    return HK_CHECK_SCRATCH;")
    assert "return HK_CHECK_SCRATCH;" in source
    elf = build_image("refused", source, TARGET).elf
    with make_emulator("qemu", elf, TARGET, timeout=60) as emu:
        run = emu.run_to_completion()
    assert run.status == "error" and run.error == LayerError(layer=0, status=4, check=13)
    assert run.layers == [] and "check 'scratch'" in run.error.describe("l0")


def test_hung_firmware_times_out_and_qemu_is_stopped() -> None:
    elf = misbehaving_image("for (;;) { }")
    emu = make_emulator("qemu", elf, TARGET, timeout=2)
    with pytest.raises(FirmwareHang, match=r"no @done record within 2 s.*last record: @model"):
        with emu:
            emu.run_to_completion()
    assert emu._proc is not None and emu._proc.poll() is not None
    assert "@model" in emu.transcript.read_text()  # the evidence stays after the run


def test_a_stack_overflow_below_ram_is_a_lockup_with_qemus_cause_line() -> None:
    elf = misbehaving_image('__asm volatile("ldr r0, =0x20000000\\n mov sp, r0\\n push {r0-r7}" ::: "r0", "memory");')
    with pytest.raises(FirmwareFault, match=r"locked up.*QEMU: .*Lockup: can't escalate") as info:
        with make_emulator("qemu", elf, TARGET, timeout=600) as emu:
            emu.run_to_completion()
    assert info.value.exit_code == 1 and info.value.kind == "fault"


def test_every_byte_is_kept_when_the_guest_prints_before_anyone_reads() -> None:
    """QEMU dials the harness before the guest runs; bytes wait in the socket however late we read."""
    elf = build_firmware(load("kws_cnn"), TARGET).elf
    with make_emulator("qemu", elf, TARGET, timeout=600) as emu:
        time.sleep(1.0)  # the firmware has long finished: everything it printed is waiting
        run = emu.run_to_completion()
    assert run.boot is not None and run.model is not None and run.status == "ok" and len(run.logits) == 8


def test_an_absorbed_error_in_an_intermediate_layer_fails_naming_that_layer() -> None:
    """After conv1 (18x18x8) runs, the lower of the first two neighbours (in one 2x2 window) that
    differ, and are above -128, is lowered by one: still below that window's maximum; the max pool
    after conv1 hides the change, so
    the logits still equal the reference. conv1's out_crc does not."""
    model = load("kws_cnn")
    assert [(l.name, l.op) for l in model.graph.layers[:2]] == [("conv1", "conv2d"), ("pool1", "maxpool2d")]
    source = generate(model).source.replace(
        "hk_status hk_model_run_layer(uint32_t index)\n{", "static hk_status run_layer(uint32_t index)\n{"
    )
    source += """
hk_status hk_model_run_layer(uint32_t index)
{
    const hk_status status = run_layer(index);
    if (index == 0u) {
        int8_t *out = (int8_t *)layer_outputs[0].data; /* NHWC 18x18x8 */
        for (uint32_t w = 0; w < 9u * 9u * 8u; w++) {
            const uint32_t y = 2u * (w / 72u), x = 2u * ((w / 8u) % 9u), c = w % 8u;
            const uint32_t a = (y * 18u + x) * 8u + c, b = a + 8u;
            const uint32_t low = out[a] < out[b] ? a : b;
            if (out[a] != out[b] && out[low] > -128) {
                out[low] = (int8_t)(out[low] - 1);
                break;
            }
        }
    }
    return status;
}
"""
    image = build_image("kws_cnn_perturbed", source, TARGET)
    with make_emulator("qemu", image.elf, TARGET) as emu:
        run = emu.run_to_completion()
    verdict = verify_run(model, run, compute_reference(model), None, image.build_id, image.elf)
    assert verdict.reference_match  # absorbed: the logits alone would have passed
    assert not verdict.match
    assert verdict.divergence is not None and (verdict.divergence.layer, verdict.divergence.name) == (0, "conv1")
    assert [p.kind for p in verdict.problems] == ["differs"]
    assert "conv1" in verdict.problems[0].message


def test_an_emulator_killed_mid_run_is_the_emulators_failure_not_the_firmwares() -> None:
    import os
    import signal

    elf = misbehaving_image("for (;;) { }")
    with pytest.raises(EmulatorError, match=r"exited with status -9 before the firmware finished") as info:
        with make_emulator("qemu", elf, TARGET, timeout=600) as emu:
            emu.expect("model")
            os.kill(emu._proc.pid, signal.SIGKILL)
            emu.run_to_completion()
    assert info.value.kind == "emulator" and info.value.exit_code == 4


def test_garbage_on_the_uart_is_reported() -> None:
    elf = misbehaving_image("for (uint32_t i = 0; i < 20000u; i++) { hk_platform_putc((char)(i * 7u)); }")
    with pytest.raises(ProtocolError):
        with make_emulator("qemu", elf, TARGET, timeout=60) as emu:
            emu.run_to_completion()


def test_missing_elf_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError, match="no ELF at"):
        make_emulator("qemu", tmp_path / "nope.elf", TARGET).start()


def test_an_off_by_one_in_kernel_rounding_is_caught(tmp_path: Path) -> None:
    """Mutate RDBPOT's tie threshold in a copy of the firmware: the run of its ref kernels must not verify."""
    mutant = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, mutant)
    header = mutant / "kernels" / "include" / "hk_requant.h"
    text = header.read_text()
    original = "return (x >> n) + (rem > threshold ? 1 : 0);"
    assert original in text
    header.write_text(text.replace(original, "return (x >> n) + (rem >= threshold ? 1 : 0);"))
    model = load("kws_cnn")
    firmware = build_firmware(model, TARGET, firmware_dir=mutant, kernels=kernel_variant("ref"))
    with make_emulator("qemu", firmware.elf, TARGET) as emu:
        run = emu.run_to_completion()
    verdict = verify_run(model, run, compute_reference(model), None, firmware.build_id, firmware.elf)
    assert not verdict.reference_match and not verdict.match
    assert any(m.against == "reference" for m in verdict.mismatches)
    # the per-layer checksums point at a layer that requantizes (not the pooling)
    assert verdict.divergence is not None
    assert verdict.divergence.op in ("conv2d", "depthwise_conv2d", "pointwise_conv2d", "dense")


@pytest.mark.parametrize("sig", ["SIGINT", "SIGKILL"])
def test_qemu_does_not_outlive_an_interrupted_or_killed_harness(sig: str) -> None:
    """Ctrl-C (SIGINT) unwinds through the context manager; SIGKILL leaves it to PR_SET_PDEATHSIG."""
    import os
    import signal
    import subprocess
    import sys

    elf = misbehaving_image("for (;;) { }")
    script = (
        "import sys\n"
        "from harness.emu import make_emulator\n"
        "from harness.targets import get_target\n"
        f"emu = make_emulator('qemu', {str(elf)!r}, get_target('stm32f405'), timeout=600)\n"
        "with emu:\n"
        "    print(emu._proc.pid, flush=True)\n"
        "    emu.run_to_completion()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    qemu_pid = int(child.stdout.readline())
    os.kill(qemu_pid, 0)  # QEMU is running
    child.send_signal(getattr(signal, sig))
    child.wait(timeout=20)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(qemu_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail(f"QEMU (pid {qemu_pid}) still runs after the harness got {sig}")

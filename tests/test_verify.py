"""The one judge, on record streams written by hand: each way a run can be incomplete or wrong
fails with the kind of problem that says whose fault it is, and a whole, correct run passes."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import EXIT_FIRMWARE, EXIT_INPUT, Problem, exit_code_of
from harness.protocol import FirmwareRun, format_record, parse_line
from harness.reference import compute_reference
from harness.verify import Verdict, verify_run
from harness.zoo import load

MODEL = load("xor_mlp")
REFERENCE = compute_reference(MODEL)
BUILD = "0123456789abcdef"
GOLDEN_FILE = Path("harness/golden/xor_mlp/stm32f405.txt")
SAMPLES = len(REFERENCE.logits)
LAYERS = len(MODEL.graph.layers)


def stream(logits: list[list[int]] | None = None, stack_used: int = 200) -> list[str]:
    """The records a correct firmware prints for xor_mlp."""
    rows = REFERENCE.logits if logits is None else logits
    out = [
        format_record("boot", proto=1, board="stm32f405", core="cortex-m4", counter="icount", read_overhead=6),
        format_record("model", name="xor_mlp", build=BUILD, layers=LAYERS, samples=SAMPLES, input=2, output=1,
                      weights=0, arena=8),
    ]
    for s in range(SAMPLES):
        out += [
            format_record("layer", sample=s, index=i, cycles=100 + i, out_crc=f"{REFERENCE.layer_crcs[(s, i)]:#010x}")
            for i in range(LAYERS)
        ]
    out += [format_record("logits", sample=s, v=",".join(map(str, row))) for s, row in enumerate(rows)]
    out.append(format_record("done", status="ok", stack_used=stack_used, stack_size=16384))
    return out


def judge(lines: list[str], golden: list[list[int]] | None = REFERENCE.logits, ended: Problem | None = None) -> Verdict:
    run = FirmwareRun()
    for line in lines:
        rec = parse_line(line)
        assert rec is not None
        run.feed(rec)
    return verify_run(MODEL, run, REFERENCE, golden, BUILD, None, ended, GOLDEN_FILE)


def kinds(v: Verdict) -> list[str]:
    return [p.kind for p in v.problems]


def test_a_whole_correct_run_verifies_and_lists_every_check() -> None:
    v = judge(stream())
    assert v.match and v.problems == []
    assert [c.name for c in v.checks] == [
        "boot record",
        "model record",
        "build id",
        "finished",
        "layer records",
        "layer outputs = reference",
        "logits = reference",
        "logits = golden",
        "not degenerate",
        "stack",
    ]
    assert all(c.ok for c in v.checks)


def without(kind: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: [line for line in lines if not line.startswith(f"@{kind} ")]


def replace_layer(sample: int, index: int, crc: int) -> Callable[[list[str]], list[str]]:
    old = f"@layer sample={sample} index={index} "
    new = format_record("layer", sample=sample, index=index, cycles=100, out_crc=f"{crc:#010x}")
    return lambda lines: [new if line.startswith(old) else line for line in lines]


CASES: dict[str, tuple[Callable[[list[str]], list[str]], str, str]] = {
    # id: (change to the stream, expected problem kind, fragment of its message)
    "no boot record": (without("boot"), "records", "no @boot record"),
    "no model record": (without("model"), "records", "no @model record"),
    "a layer record missing": (
        lambda ls: [l for l in ls if not l.startswith("@layer sample=1 index=2 ")],
        "records",
        "missing (sample, layer) [(1, 2)]",
    ),
    "a layer record repeated": (lambda ls: ls[:3] + [ls[2]] + ls[3:], "records", "repeated"),
    "the boot record repeated (a reset)": (lambda ls: ls + [ls[0]], "records", "repeated"),
    "an intermediate layer differs, absorbed downstream": (
        replace_layer(2, 1, REFERENCE.layer_crcs[(2, 1)] ^ 1),
        "differs",
        "1 'relu1' (relu) on sample 2",
    ),
    "a wrong build id": (
        lambda ls: [
            l
            if not l.startswith("@model")
            else format_record(
                "model",
                name="xor_mlp",
                build="fedcba9876543210",
                layers=LAYERS,
                samples=SAMPLES,
                input=2,
                output=1,
                weights=0,
                arena=8,
            )
            for l in ls
        ],
        "environment",
        "not the one just built",
    ),
    "no done record": (without("done"), "records", "did not finish"),
    "a fault": (
        lambda ls: (
            ls[:5]
            + [
                format_record(
                    "fault",
                    exception=3,
                    pc="0x08000123",
                    lr="0x0",
                    xpsr="0x0",
                    cfsr="0x0",
                    hfsr="0x0",
                    mmfar="0x0",
                    bfar="0x0",
                ),
                format_record("done", status="fault", stack_used=1, stack_size=16384),
            ]
        ),
        "fault",
        "HardFault",
    ),
    "a kernel error": (
        lambda ls: (
            ls[:5]
            + [
                format_record("error", sample=0, layer=3, status=2),
                format_record("done", status="error", stack_used=1, stack_size=16384),
            ]
        ),
        "error",
        "layer 3 'sigmoid' returned status 2",
    ),
}


@pytest.mark.parametrize("change, kind, fragment", CASES.values(), ids=list(CASES))
def test_an_incomplete_or_wrong_run_fails_with_its_kind(
    change: Callable[[list[str]], list[str]], kind: str, fragment: str
) -> None:
    v = judge(change(stream()))
    assert not v.match
    assert kind in kinds(v)
    assert any(fragment in p.message for p in v.problems if p.kind == kind), v.problems


def test_the_stack_used_to_its_last_byte_is_an_overflow() -> None:
    assert judge(stream(stack_used=16383)).match
    v = judge(stream(stack_used=16384))
    assert kinds(v) == ["stack"] and not v.match and exit_code_of(v.problems) == EXIT_FIRMWARE


@pytest.mark.parametrize(
    "logits, what",
    [
        (REFERENCE.logits + [REFERENCE.logits[0]], "an extra sample"),
        ([row + [0] for row in REFERENCE.logits], "an extra value in every sample"),
        (REFERENCE.logits[:-1] + [REFERENCE.logits[-1] + [1, 2]], "ragged rows"),
        (REFERENCE.logits[:-1], "a missing sample"),
    ],
)
def test_extra_missing_or_ragged_logits_differ(logits: list[list[int]], what: str) -> None:
    lines = [l for l in stream() if not l.startswith("@logits")]
    lines[-1:-1] = [format_record("logits", sample=s, v=",".join(map(str, row))) for s, row in enumerate(logits)]
    v = judge(lines)
    assert not v.match and "differs" in kinds(v) and not v.reference_match, what


def test_a_golden_file_that_does_not_fit_the_model_is_an_input_problem() -> None:
    v = judge(stream(), golden=REFERENCE.logits[:-1])
    assert kinds(v) == ["input"] and exit_code_of(v.problems) == EXIT_INPUT
    assert "does not fit" in [c for c in v.checks if c.name == "logits = golden"][0].detail


def test_golden_differs_while_the_reference_matches_says_the_outputs_changed() -> None:
    golden = [row[:] for row in REFERENCE.logits]
    golden[1][0] += 1
    v = judge(stream(), golden=golden)
    assert kinds(v) == ["differs"] and v.reference_match and v.golden_match is False
    assert "harness golden xor_mlp" in v.problems[0].next_step


def test_no_golden_file_cannot_be_judged() -> None:
    v = judge(stream(), golden=None)
    assert kinds(v) == ["input"] and "harness golden xor_mlp" in v.problems[0].next_step


def test_a_hang_is_the_firmwares_and_an_emulator_crash_is_not() -> None:
    partial = stream()[:4]
    hang = judge(partial, ended=Problem("hang", "no @done record within 2 s"))
    assert kinds(hang) == ["hang"] and exit_code_of(hang.problems) == EXIT_FIRMWARE
    crash = judge(partial, ended=Problem("emulator", "qemu-system-arm exited with status 1"))
    assert kinds(crash) == ["emulator"] and exit_code_of(crash.problems) == 4
    assert [c.name for c in crash.checks] == ["finished"] and crash.checks[0].ok is None


def test_the_exit_code_follows_the_most_telling_problem() -> None:
    assert exit_code_of([]) == 0
    assert exit_code_of([Problem("differs", "x"), Problem("protocol", "y")]) == 5
    assert exit_code_of([Problem("parity", "x"), Problem("differs", "y")]) == 1
    assert exit_code_of([Problem("parity", "x")]) == 6
    with pytest.raises(ValueError):
        Problem("nonsense", "x")

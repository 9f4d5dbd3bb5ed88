"""`harness fuzz`: every op on the emulator, and a kernel bug caught, shrunk and reproducible."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.build import FIRMWARE_DIR
from harness.cli import main
from harness.codegen import GeneratedModel, SuiteCase, generate_suite
from harness.codegen.calls import ALIASES
from harness.fuzz import NEUTRAL, SIZE_KEYS, generate_cases, pack, replay, run_fuzz, shrink_candidates
from harness.fuzz.cases import GENERATORS, case_from_json
from harness.model.ops import OPS
from harness.targets import get_target

pytestmark = pytest.mark.emulator
TARGET = get_target("stm32f405")


def mutant(tmp_path: Path, path: str, old: str, new: str) -> Path:
    tree = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, tree)
    f = tree / path
    assert old in f.read_text()
    f.write_text(f.read_text().replace(old, new))
    return tree


def test_every_op_passes_and_the_counts_add_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fuzz.json"
    assert main(["fuzz", "--cases", "25", "--seed", "7", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["failed"] == 0 and data["passed"] == 25 * len(GENERATORS)
    assert set(data["per_op"]) == set(GENERATORS)
    assert all(v == {"passed": 25, "failed": 0} for v in data["per_op"].values())
    assert f"{25 * len(GENERATORS)} passed, 0 failed" in capsys.readouterr().out


def test_cases_are_batched_into_few_images() -> None:
    cases = generate_cases(list(GENERATORS), 100, 1)
    batches = pack(cases)
    assert len(batches) <= len(cases) // 100
    assert sum(len(b) for b in batches) == len(cases)


def test_same_seed_same_cases_and_ops_are_independent() -> None:
    a = [c.config_json() for c in generate_cases(["conv2d", "dense"], 5, 3)]
    b = [c.config_json() for c in generate_cases(["dense"], 5, 3)]
    assert a[5:] == b


def test_rounding_bug_is_caught_shrunk_and_reproducible(tmp_path: Path) -> None:
    tree = mutant(tmp_path, "kernels/include/hk_requant.h", "return (x >> n) + (rem > threshold ? 1 : 0);",
                  "return (x >> n) + (rem >= threshold ? 1 : 0);")
    report = run_fuzz(["dense", "conv2d"], 40, 1, TARGET, firmware_dir=tree)
    assert report.failed > 0
    failure = report.failures[0]
    assert "--replay" in failure.command() and failure.minimal.op == failure.original.op
    # the reproducer is no larger than the original, fails on the mutant and passes on the real kernels
    assert json.loads(failure.minimal.config_json()).get("n_in", 0) <= json.loads(failure.original.config_json()).get(
        "n_in", 0
    )
    assert not replay(failure.minimal.config_json(), TARGET, firmware_dir=tree).ok
    assert replay(failure.minimal.config_json(), TARGET).ok


def test_a_kernel_that_rejects_valid_parameters_fails_only_its_cases(tmp_path: Path) -> None:
    tree = mutant(
        tmp_path,
        "kernels/src/hk_relu_s8.c",
        "    for (int32_t i = 0; i < size; i++) {",
        "    if (size > 0) {\n        return HK_ERR_DIMS;\n    }\n    for (int32_t i = 0; i < size; i++) {",
    )
    report = run_fuzz(["pad2d", "relu"], 4, 2, TARGET, firmware_dir=tree)
    assert report.per_op == {"pad2d": [4, 0], "relu": [0, 4]}
    assert all("status 2" in f.reason for f in report.failures)


def shrink_steps(original: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """The keys `candidate` moved toward its shrink target; fails on any other change.

    Not `_size`, the shrinker's sort key: cutting a stride or a kernel enlarges the output and
    "uniform" is longer JSON than "min", so real candidates can have a larger `_size`. Every step
    allowed here descends a well-founded order (sizes toward 1, pads toward 0, explicit padding to
    valid, modes to neutral), so a candidate is never the original and shrinking cannot cycle.
    """
    assert candidate.keys() == original.keys()
    steps = [key for key in original if candidate[key] != original[key]]
    for key in steps:
        old, new = original[key], candidate[key]
        if key in SIZE_KEYS:
            assert 1 <= new < old, f"{key}: {old} -> {new} is not smaller"
        elif key == "padding":
            assert (old, new) == ("explicit", "valid"), f"padding: {old} -> {new} is not simpler"
        elif key == "pads":
            assert (new is None and candidate["padding"] == "valid") or (
                len(new) == len(old) and all(0 <= n <= o for n, o in zip(new, old))
            ), f"pads: {old} -> {new}"
        else:
            assert key in NEUTRAL and new == NEUTRAL[key], f"{key}: {old!r} -> {new!r} is not neutral"
    return steps


def test_shrink_candidates_are_smaller_and_valid() -> None:
    """A candidate must be a strict shrink step and a configuration `--replay` can rebuild and check,
    or the shrinker loops, reports the case it started from, or reports a reproducer that crashes."""
    per_op = dict.fromkeys(GENERATORS, 0)
    for case in generate_cases(list(GENERATORS), 4, 11):
        for candidate in shrink_candidates(case):
            assert candidate.op == case.op and shrink_steps(case.config, candidate.config)
            rebuilt = case_from_json(candidate.config_json())
            shape = tuple(OPS[case.op].infer_shape(rebuilt.layer, [x.shape for x in rebuilt.inputs]))
            expected = rebuilt.reference()
            assert expected.dtype == np.int8 and expected.shape == shape == rebuilt.out_shape == candidate.out_shape
            assert np.array_equal(expected, candidate.reference())
            per_op[case.op] += 1
    assert all(per_op.values()), per_op


#: An alias layer's output view in a generated suite: its input's flash array and the output's size.
ALIAS_VIEW = re.compile(r"\{\(const int8_t \*\)(c\d+_in0), (\d+)\}")


@pytest.mark.parametrize(("offset", "extra"), [(1, 0), (0, -1)], ids=["one-byte-late", "one-byte-short"])
def test_a_misplaced_or_missized_alias_view_fails_reshape_and_flatten(
    monkeypatch: pytest.MonkeyPatch, offset: int, extra: int
) -> None:
    """Reshape and flatten run no kernel: the output view aimed at their input is their whole
    implementation, so the fuzz must fail when that view starts or ends a byte off."""
    ops = list(ALIASES)
    assert run_fuzz(ops, 4, 5, TARGET).per_op == {op: [4, 0] for op in ops}

    def broken(name: str, suite: Sequence[SuiteCase], variant: str) -> GeneratedModel:
        gen = generate_suite(name, suite, variant)
        source, views = ALIAS_VIEW.subn(
            lambda m: f"{{(const int8_t *){m[1]} + {offset}, {int(m[2]) + extra}}}", gen.source
        )
        assert views == len(suite)
        return dataclasses.replace(gen, source=source)

    monkeypatch.setattr("harness.fuzz.runner.generate_suite", broken)
    report = run_fuzz(ops, 4, 5, TARGET)
    assert report.per_op == {op: [0, 4] for op in ops}
    assert {f.reason for f in report.failures} == {"output differs from the reference"}


def test_replay_rejects_a_malformed_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--replay", '{"op": "conv2d"}']) == 2
    assert "not a fuzz configuration" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'op' among"):
        case_from_json('{"op": "gelu"}')

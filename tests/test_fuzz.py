"""`harness fuzz`: every op on the emulator, and a kernel bug caught, shrunk and reproducible."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.build import FIRMWARE_DIR
from harness.cli import main
from harness.fuzz import generate_cases, pack, replay, run_fuzz, shrink_candidates
from harness.fuzz.cases import GENERATORS, case_from_json
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
    assert json.loads(failure.minimal.config_json()).get("n_in", 0) <= json.loads(failure.original.config_json()).get("n_in", 0)
    assert not replay(failure.minimal.config_json(), TARGET, firmware_dir=tree).ok
    assert replay(failure.minimal.config_json(), TARGET).ok


def test_a_kernel_that_rejects_valid_parameters_fails_only_its_cases(tmp_path: Path) -> None:
    tree = mutant(tmp_path, "kernels/src/hk_relu_s8.c", "    for (int32_t i = 0; i < size; i++) {",
                  "    if (size > 0) {\n        return HK_ERR_DIMS;\n    }\n    for (int32_t i = 0; i < size; i++) {")
    report = run_fuzz(["pad2d", "relu"], 4, 2, TARGET, firmware_dir=tree)
    assert report.per_op == {"pad2d": [4, 0], "relu": [0, 4]}
    assert all("status 2" in f.reason for f in report.failures)


def test_shrink_candidates_are_smaller_and_valid() -> None:
    case = generate_cases(["conv2d"], 1, 11)[0]
    for candidate in shrink_candidates(case):
        assert candidate.op == "conv2d"
        assert candidate.config != case.config


def test_replay_rejects_a_malformed_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--replay", '{"op": "conv2d"}']) == 2
    assert "not a fuzz configuration" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'op' among"):
        case_from_json('{"op": "gelu"}')

"""The pytest plugin as a user's own test suite drives it (pytester runs those suites): the
README's example as written, the evidence on failure, the one judge, skips and misuse."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness.files import PACKAGE_DIR, PROJECT_ROOT
from harness.verify.golden import format_golden, read_golden

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.emulator


def readme_pytest_example() -> str:
    """The first Python block of the README that uses the device fixture, verbatim."""
    text = (PROJECT_ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    found = [b for b in blocks if "indirect=True" in b]
    assert found, "the README shows no pytest example"
    return found[0]


def test_the_readme_example_runs_as_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme="import pytest\n\n" + readme_pytest_example())
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_expect_then_run_to_completion_then_verify(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_device="""
        import pytest

        @pytest.mark.parametrize("device", ["kws_cnn"], indirect=True)
        def test_kws(device):
            assert device.expect("boot").str("counter") == "icount"
            assert device.expect("model").int("layers") == 6
            run = device.run_to_completion()
            assert run.boot is not None and run.model is not None  # what expect() read is still there
            assert device.logits(run) == device.reference
            verdict = device.verify()
            assert verdict.match and "layer outputs = reference" in [c.name for c in verdict.checks]
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_failing_test_carries_the_uart_transcript(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fails="""
        import pytest

        @pytest.mark.parametrize("device", ["xor_mlp"], indirect=True)
        def test_wrong_expectation(device):
            run = device.run_to_completion()
            assert device.logits(run) == [[0]]
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*harness UART transcript (xor_mlp): *uart.log*", "@boot proto=1 *", "@done status=ok *"]
    )


def test_verify_fails_with_the_problem_kind_when_the_golden_file_differs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    golden = tmp_path / "golden"
    shutil.copytree(PACKAGE_DIR / "golden" / "xor_mlp", golden / "xor_mlp")
    path = golden / "xor_mlp" / "stm32f405.txt"
    rows = read_golden(path)
    assert rows is not None
    rows[0][0] += 1 if rows[0][0] < 127 else -1
    path.write_text(format_golden("xor_mlp", "stm32f405", rows))
    monkeypatch.setenv("HARNESS_GOLDEN_DIR", str(golden))
    pytester.makepyfile(
        test_golden="""
        import pytest
        from harness.errors import VerificationFailed

        @pytest.mark.parametrize("device", ["xor_mlp"], indirect=True)
        def test_golden(device):
            with pytest.raises(VerificationFailed) as info:
                device.verify()
            assert info.value.kind == "differs" and info.value.exit_code == 1
            assert "differ from" in info.value.message and "stm32f405.txt" in info.value.message
    """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_device_fixture_without_a_model_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_misuse="""
        def test_no_model(device):
            pass
    """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert "parametrize it indirectly with a model name" in result.stdout.str()
    assert result.ret != 0


def test_a_missing_emulator_skips_with_the_fix(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    gcc = shutil.which("arm-none-eabi-gcc")
    cmake = shutil.which("cmake")
    assert gcc and cmake
    bin_dir = pytester.mkdir("bin")
    for tool in (gcc, cmake):
        (bin_dir / Path(tool).name).symlink_to(tool)
    monkeypatch.setenv("PATH", str(bin_dir))  # a toolchain, but no qemu-system-arm
    pytester.makepyfile(
        test_skip="""
        import pytest

        @pytest.mark.parametrize("device", ["xor_mlp"], indirect=True)
        def test_needs_qemu(device):
            raise AssertionError("must not run")
    """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*qemu-system-arm not found on PATH*make bootstrap*"])

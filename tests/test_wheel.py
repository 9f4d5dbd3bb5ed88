"""The package as a team that vendors it would install it: a wheel in a fresh virtual environment,
run from a directory outside the checkout, builds, emulates and verifies a model."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from harness.files import PROJECT_ROOT

pytestmark = pytest.mark.emulator


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("wheel") is None:
        pytest.skip("building the wheel offline needs setuptools and wheel: pip install -e '.[test]'")
    # setuptools builds in the source tree (build/lib, egg-info): build a copy, so that parallel test
    # workers and the checkout's own build/ folder never share it
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    shutil.copytree(PROJECT_ROOT / "harness", source / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    done = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                str(source)])
    assert done.returncode == 0, done.stderr
    (whl,) = out.glob("cortexm_harness-*.whl")
    return whl


def test_the_wheel_carries_the_firmware_and_the_golden_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("harness/firmware/CMakeLists.txt", "harness/firmware/cmake/arm-none-eabi.cmake",
                   "harness/firmware/runtime/layout.ld",
                   "harness/firmware/platform/stm32/board.c", "harness/firmware/platform/cmsdk/board.c",
                   "harness/firmware/platform/nrf51/board.c", "harness/golden/kws_cnn/microbit.txt",
                   "harness/firmware/kernels/include/hk_nn.h",
                   "harness/firmware/runtime/src/main.c", "harness/golden/xor_mlp/stm32f405.txt",
                   "harness/golden/cycles/stm32f405.json", "harness/emu/plugin/hk_count.c",
                   "harness/emu/plugin/hk_qemu_plugin.h"):
        assert needed in names, needed


def test_an_installed_wheel_verifies_a_model_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # numpy, pyserial and pyelftools from this environment, without reaching a package index
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)])
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "HARNESS_BUILD_DIR": str(tmp_path / "cache")}
    env.pop("HARNESS_GOLDEN_DIR", None)
    where = run([str(python), "-c", "import harness; print(harness.__file__)"], cwd=elsewhere, env=env)
    assert where.stdout.strip().startswith(str(site)), where  # the wheel, not the checkout
    verdict = run([str(venv / "bin" / "harness"), "run", "xor_mlp"], cwd=elsewhere, env=env)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "VERIFIED" in verdict.stdout and str(site) in verdict.stdout  # its golden file came with the wheel

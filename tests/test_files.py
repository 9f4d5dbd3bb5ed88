"""Where the harness writes: folders a killed process left behind are removed by the next one,
folders in use are not, and a golden file's temporary copy never outlives its writer."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.files import SWEEP_MIN_AGE_SECONDS, new_run_dir, temp_dir, write_atomic


def age(path: Path) -> None:
    """Make `path` look older than the sweep's grace period."""
    old = time.time() - SWEEP_MIN_AGE_SECONDS - 60
    os.utime(path, (old, old))


def hold_in_child(code: str) -> subprocess.Popen[str]:
    """A child process that makes a folder, prints its path, and lives until its stdin closes."""
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_BUILD_DIR", str(tmp_path / "build"))
    return tmp_path / "build"


def test_a_killed_processs_temp_folder_is_removed_by_the_next_one(build_dir: Path) -> None:
    child = hold_in_child(
        "import sys\nfrom harness.files import temp_dir\n"
        "with temp_dir('scratch') as d:\n    print(d, flush=True)\n    sys.stdin.read()\n")
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())
    child.kill()  # SIGKILL: no cleanup runs
    child.wait()
    assert left.is_dir()
    age(left)
    with temp_dir("scratch") as mine:
        assert mine.is_dir()
    assert not left.exists() and not mine.exists()


def test_a_live_processs_folder_is_never_swept(build_dir: Path) -> None:
    child = hold_in_child(
        "import sys\nfrom harness.files import temp_dir\n"
        "with temp_dir('scratch') as d:\n    print(d, flush=True)\n    sys.stdin.read()\n")
    assert child.stdout is not None and child.stdin is not None
    held = Path(child.stdout.readline().strip())
    age(held)
    with temp_dir("scratch"):
        pass
    assert held.is_dir()  # its owner still holds it
    child.stdin.close()
    child.wait()
    assert not held.exists()  # and removes it itself


def test_run_evidence_is_kept_after_the_run_and_old_runs_are_pruned(build_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.files.KEEP_RUNS", 3)
    runs = []
    for i in range(5):
        owned = new_run_dir(f"m{i}")
        (owned.path / "uart.log").write_text(f"run {i}\n")
        owned.release()
        age(owned.path)
        runs.append(owned.path)
    new_run_dir("last").release()
    kept = sorted(p.name for p in (build_dir / "runs").iterdir())
    assert len(kept) == 3 and all(p.exists() for p in runs[-2:]) and not runs[0].exists()


def test_a_golden_temp_file_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "golden.txt"
    stale = tmp_path / ".golden.txt.abc123.tmp"  # what mkstemp leaves when the writer dies mid-write
    stale.write_text("torn")
    age(stale)
    write_atomic(target, "0: 1 2 3\n")
    assert target.read_text() == "0: 1 2 3\n"
    assert [p.name for p in tmp_path.iterdir()] == ["golden.txt"]

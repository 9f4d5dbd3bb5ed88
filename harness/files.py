"""Where the harness writes: the build directory, per-run evidence folders, temporary folders,
and files reviewed like code (golden logits, cycle baselines), written atomically.

Every folder a process works in is locked (flock on the folder) while it lives. The kernel drops
the lock when the process dies, however it dies, so a later harness can tell a folder that is in
use from one that a killed run left behind, and removes the latter.
"""
from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.errors import EnvironmentProblem, InputError

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout the package runs from, when it does (an installed wheel has none).
PROJECT_ROOT = PACKAGE_DIR.parent
#: Evidence folders kept under build/runs; older ones are removed as new runs start.
KEEP_RUNS = 200
#: A folder younger than this is never swept: its owner may not have locked it yet.
SWEEP_MIN_AGE_SECONDS = 10.0


def _directory_from_env(variable: str, default: Path, create: bool = True) -> Path:
    """$variable made absolute (relative paths are taken from the working directory), or
    `default`; created if missing and `create`. Empty, a file, or uncreatable is one clear error."""
    raw = os.environ.get(variable)
    if raw is None:
        path = default
    elif not raw.strip():
        raise EnvironmentProblem(f"{variable} is set but empty", "unset it or set it to a directory")
    else:
        path = Path(raw).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise EnvironmentProblem(f"{variable}={raw} is not a directory" if raw else f"{path} is not a directory",
                                 f"point {variable} at a directory")
    if not create:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EnvironmentProblem(f"cannot create {path} ({variable}): {e.strerror}",
                                 f"point {variable} at a writable directory") from None
    try:
        _probe(path)  # a folder that exists but takes no files (read-only, /proc) fails here, not mid-build
    except OSError as e:
        raise EnvironmentProblem(f"cannot write in {path} ({variable}): {e.strerror or e}",
                                 f"point {variable} at a writable directory") from None
    return path


def _probe(folder: Path) -> None:
    """Create and remove a file in `folder`: the only sure test that it can be written (permission
    bits say nothing to root, nor about read-only mounts or /proc)."""
    fd, name = tempfile.mkstemp(prefix=".probe-", dir=folder)
    os.close(fd)
    os.unlink(name)


def in_checkout() -> bool:
    """Whether the package runs from its source tree (editable install) rather than a wheel."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "harness" / "__init__.py").is_file()


def build_root() -> Path:
    """Where images, run evidence and temporary folders go: $HARNESS_BUILD_DIR, else build/ in the
    checkout, else (an installed wheel) the user's cache folder."""
    if in_checkout():
        default = PROJECT_ROOT / "build"
    else:
        default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cortexm-harness"
    return _directory_from_env("HARNESS_BUILD_DIR", default)


def golden_dir() -> Path:
    """$HARNESS_GOLDEN_DIR, else the golden files that ship with the package (harness/golden)."""
    return _directory_from_env("HARNESS_GOLDEN_DIR", PACKAGE_DIR / "golden", create=False)


# ------------------------------------------------------------------------------ owned folders


@dataclass
class OwnedDir:
    """A folder locked by this process for as long as it is open."""

    path: Path
    _fd: int

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _own(path: Path) -> OwnedDir:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return OwnedDir(path, fd)


def _abandoned(path: Path) -> bool:
    """True when nobody holds `path`'s lock and it is old enough to have been locked."""
    try:
        if time.time() - path.stat().st_mtime < SWEEP_MIN_AGE_SECONDS:
            return False
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def sweep(root: Path, keep: int = 0) -> None:
    """Remove the folders under `root` that no live process holds, except the newest `keep`."""
    if not root.is_dir():
        return
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name)
    for path in folders[: max(len(folders) - keep, 0)] if keep else folders:
        if _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)


def new_temp_dir(prefix: str) -> OwnedDir:
    """A scratch folder under build/tmp for the caller to remove; what a killed process left
    there is removed by the next one that asks for a folder."""
    root = build_root() / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    sweep(root)
    return _own(Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root)))


def remove(owned: OwnedDir) -> None:
    shutil.rmtree(owned.path, ignore_errors=True)
    owned.release()


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A scratch folder under build/tmp, removed on exit."""
    owned = new_temp_dir(prefix)
    try:
        yield owned.path
    finally:
        remove(owned)


def new_run_dir(label: str) -> OwnedDir:
    """A folder under build/runs for one emulator run's evidence (UART transcript, emulator log,
    report), kept after the run; the newest KEEP_RUNS are kept."""
    root = build_root() / "runs"
    root.mkdir(parents=True, exist_ok=True)
    sweep(root, keep=KEEP_RUNS - 1)
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"  # names sort by age
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:60]
    return _own(Path(tempfile.mkdtemp(prefix=f"{stamp}-{safe}-", dir=root)))


# ------------------------------------------------------------------------------ output files


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically: a temporary file in the same directory, fsync, rename.
    An interrupted write never leaves a torn file, and the temporary file of a killed writer is
    removed by the next write (the writer holds a lock on it while it lives)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _sweep_temp_files(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}", "give a writable path") from None
    fcntl.flock(fd, fcntl.LOCK_EX)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; these are shared, reviewed files
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):  # a full disk, or `path` is a directory
            raise InputError(f"cannot write {path}: {e.strerror or e}", "give a writable path") from None
        raise


def _sweep_temp_files(path: Path) -> None:
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime < SWEEP_MIN_AGE_SECONDS:
                continue  # its writer may not have locked it yet
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # a live writer holds it
        finally:
            os.close(fd)


def check_writable(path: str | Path) -> None:
    """Refuse, before any work is done, an output path that could not be written: try it."""
    if not str(path).strip():  # `--json=`: Path("") would be "." and the output silently skipped
        raise InputError("an output path is empty", "give a file path")
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory", "give a file path")
    try:
        if path.exists():
            with open(path, "ab"):
                pass
        else:
            _nearest_folder(path)  # mkdir on a path through a file would say "File exists"
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            path.unlink()
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}", "give a writable file path") from None


def _nearest_folder(path: Path) -> Path:
    """The nearest existing folder above `path`, where its missing folders would be made;
    NotADirectoryError when that is a file."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    return folder


def check_replaceable(path: Path) -> None:
    """Refuse, before any work, a file that `write_atomic` could not replace: a directory, or a
    folder that takes no new file. Creates nothing (unlike `check_writable`), since the file
    itself need not be writable: it is replaced by a rename."""
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory", "remove it or give a file path")
    try:
        _probe(_nearest_folder(path))
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}", "give a writable path") from None


def check_readable_text(path: Path) -> None:
    """Refuse, before any work, an input file that exists but cannot be read as UTF-8 text."""
    if not path.exists():
        return
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a text file (it is not UTF-8)", "remove it or give another path") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}", "give a readable file") from None


#: File types a plot can be written as (matplotlib's formats, less the raw pixel dumps).
PLOT_SUFFIXES = (".png", ".svg", ".svgz", ".pdf", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


def check_plot_path(path: str | Path) -> None:
    """Refuse, before any work, a plot path whose suffix names no image format (matplotlib would
    raise only after everything else was done), then check it like any output path."""
    suffix = Path(path).suffix.lower()
    if suffix and suffix not in PLOT_SUFFIXES:
        raise InputError(f"cannot write a plot as {path}: '{suffix}' is not an image format",
                         f"use one of {', '.join(PLOT_SUFFIXES)}")
    check_writable(path)


def write_output(path: str | Path, text: str) -> Path:
    """Write a report the user asked for; an unusable path is an input error, not a traceback."""
    out = Path(path)
    if out.is_dir():
        raise InputError(f"cannot write {out}: it is a directory", "give a file path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    except OSError as e:
        raise InputError(f"cannot write {out}: {e.strerror or e}", "give a writable file path") from None
    return out

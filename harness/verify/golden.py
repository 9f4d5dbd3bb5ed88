"""Golden files: the locked int8 logits of a model on a target, text, reviewed like code.

They change only through `harness golden`, which writes them atomically (temporary file in the
same directory, fsync, rename), so an interrupted write never leaves a torn file.
"""
from __future__ import annotations

from pathlib import Path

from harness.errors import InputError
from harness.files import golden_dir, write_atomic

__all__ = ["GoldenError", "golden_dir", "golden_path", "format_golden", "read_golden", "write_golden"]


class GoldenError(InputError):
    """A golden file that cannot be read as one; `harness golden` rewrites it."""


def golden_path(model: str, target: str) -> Path:
    return golden_dir() / model / f"{target}.txt"


def format_golden(model: str, target: str, logits: list[list[int]]) -> str:
    outputs = len(logits[0]) if logits else 0
    lines = [
        "# cortexm-harness golden int8 logits",
        f"# model: {model}  target: {target}  samples: {len(logits)}  outputs: {outputs}",
        f"# Written by `harness golden {model} --target {target}`; change it only that way.",
        "# One line per test sample: the sample index, a colon, then its int8 logits.",
    ]
    lines += [f"{s}: " + " ".join(str(v) for v in row) for s, row in enumerate(logits)]
    return "\n".join(lines) + "\n"


def read_golden(path: Path) -> list[list[int]] | None:
    """The logits per sample, or None when there is no golden file."""
    if not path.exists():
        return None
    fix = "rewrite it with `harness golden MODEL`"
    try:
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError:
        raise GoldenError(f"{path} is not a golden file: it is not ASCII text", fix) from None
    except OSError as e:
        raise GoldenError(f"cannot read {path}: {e.strerror or e}", fix) from None
    rows: dict[int, list[int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, sep, body = line.partition(":")
        try:
            if not sep:
                raise ValueError
            sample = int(head)
            values = [int(v) for v in body.split()]
        except ValueError:
            raise GoldenError(f"{path}:{number}: expected 'SAMPLE: v v v ...', got {raw[:80]!r}", fix) from None
        if any(not -128 <= v <= 127 for v in values):
            raise GoldenError(f"{path}:{number}: a value is outside int8 [-128, 127]", fix)
        if sample in rows:
            raise GoldenError(f"{path}:{number}: sample {sample} appears twice", fix)
        rows[sample] = values
    if not rows:
        raise GoldenError(f"{path} holds no samples", fix)
    if sorted(rows) != list(range(len(rows))):
        raise GoldenError(f"{path}: samples must be numbered 0..{len(rows) - 1}, found {sorted(rows)[:10]}", fix)
    return [rows[s] for s in range(len(rows))]


def write_golden(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically."""
    write_atomic(path, text)

"""Keywords that make tests/fakes/renode_standin.py replay what QEMU printed for the same ELF, as
Renode prints it (`counter=dwt`), so the harness's keywords can be run on `--emulator renode` where
Renode is not installed. The stand-in says it is not Renode."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.emu import renode
from harness.protocol.records import format_record, parse_line
from harness.session import build, emulate

STANDIN = Path(__file__).resolve().parent.parent / "fakes" / "renode_standin.py"


def replay_qemus_run_on_the_renode_stand_in(model: str) -> str:
    """Run `model` on QEMU and have the stand-in replay its UART as Renode prints it; returns the
    transcript's path."""
    _, target, firmware = build(model)
    emulated = emulate(firmware, target, "qemu")
    lines = []
    for raw in (emulated.evidence / "uart.log").read_text().splitlines():
        record = parse_line(raw)
        if record is not None and record.kind == "boot":
            raw = format_record("boot", **dict(record.fields, counter="dwt"))
        lines.append(raw + "\n")
    fd, path = tempfile.mkstemp(prefix=f"renode-standin-{model}-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)
    os.environ["RENODE"] = str(STANDIN)
    os.environ["RENODE_STANDIN_UART"] = path
    return path


def stop_the_renode_stand_in(transcript: str) -> None:
    """Quit the pooled stand-in and remove its transcript."""
    renode.stop_all()
    Path(transcript).unlink(missing_ok=True)

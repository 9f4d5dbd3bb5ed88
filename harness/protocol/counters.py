"""The counters the firmware can time layers with, and what each one counts. A figure is only ever
shown or stored with its unit: instructions are not cycles.

The firmware names its counter; what the counter counts can depend on where it runs. On silicon
the DWT counts core cycles; under Renode its DWT advances with virtual time, one count per
executed instruction, so there a `dwt` count is in instructions (the emulator says so:
harness.emu's `unit_of`)."""
from __future__ import annotations

#: What each firmware counter counts on a real core.
COUNTER_UNITS = {
    "dwt": "cycles",
    "icount": "instructions",
    "plugin": "instructions",
    "timer": "timer ticks",
    "none": "nothing (no counter advanced)",
}
#: The JSON key that names each unit, so a reader asking for `cycles` cannot get instructions.
COUNT_KEYS = {"cycles": "cycles", "instructions": "instructions", "timer ticks": "timer_ticks"}
#: Each unit in the singular, short enough for a column head such as `MACs/instr`.
PER_UNIT = {"cycles": "cycle", "instructions": "instr", "timer ticks": "tick"}


def unit_of(counter: str) -> str:
    """What `counter` counts on a real core; a counter this harness does not know is not guessed at."""
    return COUNTER_UNITS.get(counter, "unknown")


def per_unit(unit: str) -> str:
    """`MACs/instr`, `MACs/cycle`, `MACs/tick`: a ratio's head names the unit it divides by."""
    return f"MACs/{PER_UNIT.get(unit, 'count')}"


def unit_named(unit: str, value: int, prefix: str = "") -> dict[str, int]:
    """`value` again under the key of its unit (`instructions`, `cycles`, `timer_ticks`, after
    `prefix`); empty when the counter counted nothing, as there is then no unit to name."""
    key = COUNT_KEYS.get(unit)
    return {prefix + key: value} if key else {}

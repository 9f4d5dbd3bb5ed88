"""The counters the firmware can time layers with, and what each one counts. A figure is only ever
shown or stored with its unit: instructions are not cycles."""
from __future__ import annotations

#: What each firmware counter counts.
COUNTER_UNITS = {
    "dwt": "cycles",
    "icount": "instructions",
    "timer": "timer ticks",
    "none": "nothing (no counter advanced)",
}
#: The JSON key that names each counter's unit, so a reader asking for `cycles` cannot get instructions.
COUNT_KEYS = {"dwt": "cycles", "icount": "instructions", "timer": "timer_ticks"}
#: Each unit in the singular, short enough for a column head such as `MACs/instr`.
PER_UNIT = {"dwt": "cycle", "icount": "instr", "timer": "tick"}


def unit_of(counter: str) -> str:
    """What `counter` counts; a counter this harness does not know is not guessed at."""
    return COUNTER_UNITS.get(counter, "unknown")


def per_unit(counter: str) -> str:
    """`MACs/instr`, `MACs/cycle`, `MACs/tick`: a ratio's head names the unit it divides by."""
    return f"MACs/{PER_UNIT.get(counter, 'count')}"


def unit_named(counter: str, value: int, prefix: str = "") -> dict[str, int]:
    """`value` again under the key of its unit (`instructions`, `cycles`, `timer_ticks`, after
    `prefix`); empty when the counter counted nothing, as there is then no unit to name."""
    key = COUNT_KEYS.get(counter)
    return {prefix + key: value} if key else {}

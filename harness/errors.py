"""Every outcome the harness can report, what kind it is, whose fault, and its exit code.

A verdict is only worth something if a failure says which party failed. Each kind of outcome is a
row in KINDS; every error class and every typed problem in a report names one of these kinds, and
the exit code of every command (`run`, `golden`, `bench`, `fuzz`) and the pytest and Robot layers
follow from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXIT_VERIFIED = 0
EXIT_FIRMWARE = 1  # the firmware failed verification
EXIT_INPUT = 2  # bad arguments or input files: the harness could not judge
EXIT_ENVIRONMENT = 3  # a missing or unusable tool or directory
EXIT_EMULATOR = 4  # the emulator crashed or could not start
EXIT_PROTOCOL = 5  # the UART output was not a valid record stream (garbage, a lost byte)
EXIT_MODEL = 6  # the firmware matched, but the int8 model is too far from its float model
EXIT_INTERRUPTED = 130  # SIGINT
EXIT_BROKEN_PIPE = 141  # whoever read our output stopped reading
EXIT_TERMINATED = 143  # SIGTERM


@dataclass(frozen=True)
class Kind:
    """One kind of outcome: whose fault it is and the exit code it ends a command with."""

    name: str
    party: str  # firmware | model | input | environment | emulator | protocol | user
    exit_code: int
    meaning: str


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("differs", "firmware", EXIT_FIRMWARE, "a logit or a layer's output differs from the reference or golden"),
        Kind("fault", "firmware", EXIT_FIRMWARE, "a CPU fault or lock-up"),
        Kind("error", "firmware", EXIT_FIRMWARE, "a kernel rejected its parameters (an @error record)"),
        Kind("hang", "firmware", EXIT_FIRMWARE, "no end record within the timeout"),
        Kind("stack", "firmware", EXIT_FIRMWARE, "the stack was used to its last byte or beyond"),
        Kind(
            "records", "firmware", EXIT_FIRMWARE, "a record the run must contain is missing, repeated or inconsistent"
        ),
        Kind("float", "firmware", EXIT_FIRMWARE, "floating point reachable in the image"),
        Kind("isa", "firmware", EXIT_FIRMWARE, "an instruction the target's core does not implement"),
        Kind("build", "firmware", EXIT_FIRMWARE, "the firmware did not compile or link"),
        Kind("fit", "firmware", EXIT_FIRMWARE, "the image does not fit the target's flash or RAM"),
        Kind("parity", "model", EXIT_MODEL, "the int8 model is further from its float model than its threshold"),
        Kind("degenerate", "model", EXIT_MODEL, "the model gives the same value for every output: nothing is tested"),
        Kind("input", "input", EXIT_INPUT, "bad arguments, model, golden file or output path"),
        Kind(
            "environment",
            "environment",
            EXIT_ENVIRONMENT,
            "a tool or directory the harness needs is missing or unusable",
        ),
        Kind("emulator", "emulator", EXIT_EMULATOR, "the emulator crashed or could not start"),
        Kind("disagree", "emulator", EXIT_EMULATOR,
             "two emulators ran the same ELF to different records, or to counts further apart than the bound"),
        Kind("protocol", "protocol", EXIT_PROTOCOL, "the UART output is not a valid record stream"),
        Kind("interrupted", "user", EXIT_INTERRUPTED, "stopped by SIGINT or SIGTERM"),
    )
}

#: When a run has several problems, the exit code is that of the first kind in this order: what
#: stopped the harness from judging comes before what the firmware did wrong.
PRECEDENCE = (
    "interrupted",
    "input",
    "environment",
    "emulator",
    "protocol",
    "disagree",
    "build",
    "fit",
    "fault",
    "error",
    "hang",
    "stack",
    "records",
    "differs",
    "float",
    "isa",
    "parity",
    "degenerate",
)


@dataclass(frozen=True)
class Problem:
    """One typed finding of a run, for people (`str`) and machines (`to_json`)."""

    kind: str
    message: str
    next_step: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}")

    @property
    def party(self) -> str:
        return KINDS[self.kind].party

    @property
    def exit_code(self) -> int:
        return KINDS[self.kind].exit_code

    def __str__(self) -> str:
        return f"{self.message}" + (f"; {self.next_step}" if self.next_step else "")

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "party": self.party, "message": self.message, "next_step": self.next_step}


def most_telling(problems: list[Problem]) -> Problem:
    """The problem that decides the outcome (see PRECEDENCE)."""
    return min(problems, key=lambda p: PRECEDENCE.index(p.kind))


def exit_code_of(problems: list[Problem]) -> int:
    """0 when there is no problem, else the code of the most telling one."""
    return most_telling(problems).exit_code if problems else EXIT_VERIFIED


class HarnessError(Exception):
    """A failure with a message fit for the user; the CLI prints it on one line, no traceback.

    `kind` says what failed (a row of KINDS), `next_step` the one thing to do about it, and
    `evidence` where the run's UART transcript and emulator log are kept, when there was a run.
    """

    kind = "input"

    def __init__(self, message: str, next_step: str = "", evidence: Path | None = None):
        super().__init__(message)
        self.message = message
        self.next_step = next_step
        self.evidence = evidence

    @property
    def exit_code(self) -> int:
        return KINDS[self.kind].exit_code

    def problem(self) -> Problem:
        return Problem(self.kind, self.message, self.next_step)

    def __str__(self) -> str:
        return self.message + (f"; {self.next_step}" if self.next_step else "")


# -- the harness could not judge --------------------------------------------------------------
class InputError(HarnessError):
    """Bad arguments, a model that cannot be represented, a malformed golden file, an unusable
    output path."""

    kind = "input"


class UsageError(InputError):
    """An API used out of order, such as reading records from an emulator that was not started."""


class EnvironmentProblem(HarnessError):
    """A tool or directory the harness needs is missing or unusable."""

    kind = "environment"


class EmulatorError(HarnessError):
    """The emulator itself failed: it would not start, or it crashed for a reason of its own."""

    kind = "emulator"


class ProtocolError(HarnessError):
    """The firmware's UART output is not a valid record stream (garbage, a corrupt or lost byte)."""

    kind = "protocol"

    def __init__(
        self,
        message: str,
        next_step: str = "read the run's UART transcript (uart.log) for what arrived",
        evidence: Path | None = None,
    ):
        super().__init__(message, next_step, evidence)


class Interrupted(HarnessError):
    """SIGINT or SIGTERM: the run was stopped, nothing was judged."""

    kind = "interrupted"

    def __init__(self, signal_name: str, exit_code: int):
        super().__init__(f"stopped by {signal_name}; nothing was judged")
        self._exit_code = exit_code

    @property
    def exit_code(self) -> int:
        return self._exit_code


# -- the firmware failed ----------------------------------------------------------------------
class FirmwareFailure(HarnessError):
    """The firmware under test failed: its fault, by the harness's judgement."""

    kind = "differs"


class FirmwareFault(FirmwareFailure):
    """A CPU fault (a @fault record) or a lock-up the emulator reported."""

    kind = "fault"


class FirmwareHang(FirmwareFailure):
    """No end record within the timeout."""

    kind = "hang"


class BuildError(FirmwareFailure):
    """The firmware did not compile or link; the message carries the compiler's own words."""

    kind = "build"


class VerificationFailed(HarnessError):
    """A run ended with problems; carries them all and takes the kind of the most telling one."""

    def __init__(self, problems: list[Problem], evidence: Path | None = None):
        first = most_telling(problems)
        super().__init__(first.message, first.next_step, evidence)
        self.problems = problems
        self.kind = first.kind

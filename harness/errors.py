"""Every error the harness reports to a user derives from HarnessError and names its cause."""


class HarnessError(Exception):
    """A failure with a message fit for the user; the CLI prints it without a traceback."""

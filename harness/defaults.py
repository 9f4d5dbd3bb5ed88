"""The defaults every front-end shares (command line, pytest plugin, Robot library)."""

DEFAULT_TARGET = "stm32f405"
DEFAULT_EMULATOR = "qemu"
#: Seconds an emulator run may take before the firmware is declared hung. The largest zoo model
#: runs in well under a second; the margin is for a machine under full load.
DEFAULT_TIMEOUT = 120.0

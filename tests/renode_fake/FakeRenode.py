"""Renode's Robot keywords, faked for a dry run of a renode-test suite where Renode is not installed.

It is NOT Renode and emulates nothing. Each keyword records how Robot called it (its name, positional
arguments and named arguments) as one JSON line, so a test can read back exactly what a suite passed.
A keyword given a named argument it does not expect fails: Renode's keywords come through a Remote
library that may take **kwargs, so a cell such as `$bin=@/x.elf` would reach Renode as a named argument
`$bin` instead of the Monitor command it was meant to be.

`Wait For Line On Uart` reads a UART transcript instead of a UART: after `Start Emulation` each wait
searches the lines after the one the previous wait matched, as Renode's Terminal Tester does, and
fails when none matches or when a line holding a string given to `Register Failing Uart String` comes
first.

Environment:
  FAKE_RENODE_LOG    the file each keyword call is appended to, one JSON object a line:
                     {"keyword", "args", "kwargs"} and "returned" or "failed".
  FAKE_RENODE_UART   the UART transcript, one line a record.

Standard library only.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any


class FakeRenode:
    ROBOT_LIBRARY_SCOPE = "GLOBAL"

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._tester: str | None = None
        self._failing: list[str] = []
        self._started = False
        self._lines: list[str] = []
        self._next = 0  # the first transcript line the next wait reads

    def _call(self, keyword: str, args: list[Any], kwargs: dict[str, Any], body: Callable[[], Any],
              expected: tuple[str, ...] = ()) -> Any:
        """Record the call, refuse named arguments not in `expected`, then run `body`."""
        entry: dict[str, Any] = {"keyword": keyword, "args": args, "kwargs": kwargs}
        try:
            unexpected = sorted(set(kwargs) - set(expected))
            if unexpected:
                raise AssertionError(f"{keyword} got named arguments it does not take: {unexpected} "
                                     "(Robot read a cell with '=' as name=value)")
            entry["returned"] = body()
            return entry["returned"]
        except AssertionError as e:
            entry["failed"] = str(e)
            raise
        finally:
            with open(os.environ["FAKE_RENODE_LOG"], "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")

    # renode-keywords.robot's setups and teardowns

    def setup(self, **kwargs: Any) -> None:
        self._call("Setup", [], kwargs, self._reset)

    def teardown(self, **kwargs: Any) -> None:
        self._call("Teardown", [], kwargs, self._reset)

    def reset_emulation(self, **kwargs: Any) -> None:
        self._call("Reset Emulation", [], kwargs, self._reset)

    def test_teardown(self, **kwargs: Any) -> None:
        self._call("Test Teardown", [], kwargs, lambda: None)

    # the Monitor

    def execute_command(self, command: str, machine: str | None = None, **kwargs: Any) -> str:
        named = {**kwargs, **({} if machine is None else {"machine": machine})}
        return self._call("Execute Command", [command], named, lambda: "")

    def execute_script(self, path: str, **kwargs: Any) -> str:
        return self._call("Execute Script", [path], kwargs, lambda: "")

    def start_emulation(self, **kwargs: Any) -> None:
        def start() -> None:
            if self._tester is None:
                raise AssertionError("Start Emulation before Create Terminal Tester: no UART is read")
            with open(os.environ["FAKE_RENODE_UART"], encoding="utf-8") as f:
                self._lines = f.read().splitlines()
            self._next = 0
            self._started = True
        self._call("Start Emulation", [], kwargs, start)

    # the UART

    def create_terminal_tester(self, uart: str, timeout: Any = None, **kwargs: Any) -> int:
        named = {**kwargs, **({} if timeout is None else {"timeout": timeout})}

        def create() -> int:
            if timeout is not None:
                float(timeout)  # Renode's parameter is a float
            self._tester = uart
            return 0
        return self._call("Create Terminal Tester", [uart], named, create, expected=("timeout",))

    def register_failing_uart_string(self, text: str, **kwargs: Any) -> None:
        def register() -> None:
            if self._tester is None:
                raise AssertionError("Register Failing Uart String before Create Terminal Tester")
            self._failing.append(text)
        self._call("Register Failing Uart String", [text], kwargs, register)

    def wait_for_line_on_uart(self, pattern: str, treatAsRegex: Any = False, **kwargs: Any) -> dict[str, Any]:
        named = {**kwargs, **({} if treatAsRegex is False else {"treatAsRegex": treatAsRegex})}

        def wait() -> dict[str, Any]:
            if treatAsRegex is not True and str(treatAsRegex).lower() != "true":
                raise AssertionError(f"treatAsRegex is {treatAsRegex!r}, not true: '{pattern}' would be "
                                     "matched as plain text")
            try:
                regex = re.compile(pattern)
            except re.error as e:
                raise AssertionError(f"'{pattern}' is not a regex: {e}") from None
            if not self._started:
                raise AssertionError("Wait For Line On Uart before Start Emulation")
            for index in range(self._next, len(self._lines)):
                line = self._lines[index]
                failing = [text for text in self._failing if text in line]
                if failing:
                    raise AssertionError(f"Terminal tester failed: failing string {failing[0]!r} on the UART: "
                                         f"{line}")
                match = regex.search(line)
                if match:
                    self._next = index + 1
                    return {"line": line, "groups": list(match.groups())}
            self._next = len(self._lines)
            raise AssertionError(f"Terminal tester failed: no line on the UART matches '{pattern}'")
        return self._call("Wait For Line On Uart", [pattern], named, wait, expected=("treatAsRegex",))

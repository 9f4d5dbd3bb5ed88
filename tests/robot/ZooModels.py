"""Test-only Robot library and listener: when the importing suite starts, it adds one test per model of
the zoo (harness.zoo.ZOO), named after the model, so that a model added to the zoo is verified and
shown by name in the report without a hand-kept list in the suite file."""
from __future__ import annotations

from robot import result, running

import harness.zoo


class ZooModels:
    ROBOT_LIBRARY_SCOPE = "SUITE"
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, keyword: str) -> None:
        """`keyword`: the suite's keyword each generated test calls with its model's name."""
        self.ROBOT_LIBRARY_LISTENER = self
        self._keyword = keyword
        self._suite: running.TestSuite | None = None

    def start_suite(self, data: running.TestSuite, result: result.TestSuite) -> None:
        self._suite = data
        for entry in harness.zoo.ZOO.values():
            test = data.tests.create(name=entry.name, doc=entry.description)
            test.body.create_keyword(name=self._keyword, args=[entry.name])

    def every_zoo_model_should_have_a_test(self) -> None:
        """Fail when the zoo is empty, or when a zoo model has no test in this suite (as when this
        listener was not told of the suite's start), since either would pass while verifying nothing."""
        if not harness.zoo.ZOO:
            raise AssertionError("harness.zoo.ZOO has no models: the zoo suite would verify nothing")
        tests = set() if self._suite is None else {t.name for t in self._suite.tests}
        missing = [name for name in harness.zoo.ZOO if name not in tests]
        if missing:
            raise AssertionError(f"zoo models without a test in this suite: {', '.join(missing)}")

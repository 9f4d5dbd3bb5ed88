"""Suite-wide settings. Hypothesis's per-example deadline is a wall-clock assertion, which this
project keeps out of tests (a loaded CI machine would fail a correct test): it is turned off."""
import pytest
from hypothesis import settings

settings.register_profile("harness", deadline=None)
settings.load_profile("harness")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "renode: runs firmware on a real Renode (skipped, saying how to get it, where it is not installed)"
    )

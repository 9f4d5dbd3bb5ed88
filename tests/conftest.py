"""Suite-wide settings. Hypothesis's per-example deadline is a wall-clock assertion, which this
project keeps out of tests (a loaded CI machine would fail a correct test): it is turned off."""
from hypothesis import settings

settings.register_profile("harness", deadline=None)
settings.load_profile("harness")

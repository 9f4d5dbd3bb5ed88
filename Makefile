# The two commands: `make demo` (an imported .tflite, checked four ways) and `make test`. Each first
# brings the machine up to date (scripts/bootstrap: cross compiler, QEMU, CMake, .venv), quick when all is there.
VENV := .venv
HARNESS := $(VENV)/bin/harness
PYTHON := $(VENV)/bin/python

.PHONY: all bootstrap demo lint test test-host stress renode-test clean

all: demo

bootstrap:
	@scripts/bootstrap

demo: bootstrap
	$(HARNESS) run examples/tflite/tiny_classifier.tflite

test: bootstrap lint
	$(PYTHON) -m pytest -n auto -rs
	$(PYTHON) -m robot --outputdir build/robot --console dotted tests/robot

# Lint and types: ruff and mypy as configured in pyproject.toml.
lint: bootstrap
	$(VENV)/bin/ruff check harness tests scripts/stress
	$(VENV)/bin/mypy harness

# Host-only tests (no cross compiler or emulator needed).
test-host: bootstrap
	$(PYTHON) -m pytest -n auto -rs -m "not emulator"

# Verdicts must not depend on machine load: concurrent `harness run` and pytest-xdist runs, every
# failure by cause. Arguments: make stress STRESS_ARGS="-n 16 -r 5" (see scripts/stress --help).
stress: bootstrap
	scripts/stress $(STRESS_ARGS)

# The zoo on Renode with Renode's own runner: writes renode_scripts/, builds every model's ELF into
# build/renode/TARGET/, then runs the suites. Renode must be installed (renode-test on PATH; from
# https://renode.io, it is not in Debian or PyPI); `harness doctor` says whether it is.
renode-test: bootstrap
	$(HARNESS) renode-scripts --build
	renode-test renode_scripts/*.robot

clean:
	rm -rf build

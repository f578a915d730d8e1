# Two commands for a new user:  `make run` (set up + main job) and `make test` (set up + tests).
# The venv is built with the first Python >= 3.12 found on PATH, then under `pyenv root` (scripts/find_python.sh).
# `make run` installs what the main job needs (the core plus the extras [report,discovery]); `make setup` and
# `make test` install every extra and the test tools (.[all,test]).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: setup run test test-fast lint bench app clean

$(PY):
	@PYTHON=$$(bash scripts/find_python.sh) && echo "using $$PYTHON" && $$PYTHON -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e ".[all,test]"
	@touch $(STAMP) $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e ".[report,discovery]"
	@touch $(RUN_STAMP)

setup: $(STAMP)

run: $(RUN_STAMP)
	$(PY) experiments/sensitivity.py
	$(PY) experiments/assess.py

# Every test, browser and SLURM ones included, on two pytest-xdist workers; tests sharing a costly fixture
# (the smoke study, SLURM, the app server) stay on one worker (tests/conftest.py). More pytest options:
# make test PYTEST_ARGS="--durations=25"
PYTEST_N ?= 2
PYTEST_ARGS ?=
test: setup
	$(PY) -m ruff check sim experiments tests hydra_plugins
	$(PY) -m pytest -q -n $(PYTEST_N) --dist loadgroup $(PYTEST_ARGS)

# The inner loop: everything but slow, browser and SLURM tests (well under 2 minutes).
test-fast: setup
	$(PY) -m ruff check sim experiments tests hydra_plugins
	$(PY) -m pytest -q -n $(PYTEST_N) --dist loadgroup -m "not slow and not browser and not slurm" $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check sim experiments tests hydra_plugins

bench: setup
	$(PY) experiments/bench.py

app: setup
	PYTHON=$(PY) bash scripts/app.sh

clean:
	rm -rf $(VENV)

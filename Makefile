# Two commands for a new user:  `make run` (set up + main job) and `make test` (set up + tests).
# The venv is built with the first Python >= 3.12 found on PATH, then under `pyenv root` (scripts/find_python.sh).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench app clean

$(STAMP): pyproject.toml constraints.txt
	@PYTHON=$$(bash scripts/find_python.sh) && echo "using $$PYTHON" && $$PYTHON -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) experiments/sensitivity.py

test: setup
	$(PY) -m ruff check sim experiments tests hydra_plugins
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check sim experiments tests hydra_plugins

bench: setup
	$(PY) experiments/bench.py

app: setup
	PYTHON=$(PY) bash scripts/app.sh

clean:
	rm -rf $(VENV)

# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet -c constraints.txt

.PHONY: demo test lint bench clean

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) examples/demo.py

test: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check ecgsk tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

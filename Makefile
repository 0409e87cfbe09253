# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet -c constraints.txt

.PHONY: demo test docs docs-fast lint clean

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e ".[dev]"
	touch $@

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PIP) -e ".[dev,docs]"
	touch $@

demo: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) examples/demo.py

# One BLAS/torch thread per pytest worker: two workers use the two CI cores without oversubscription.
test: $(VENV)/.installed
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg $(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

# The documentation, with every example in examples/plot_*.py executed (no warnings allowed).
docs: $(VENV)/.docs-installed
	rm -rf docs/auto_examples docs/gen_modules
	MPLBACKEND=Agg $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

# The same without running the examples.
docs-fast: $(VENV)/.docs-installed
	ECGSK_DOCS_PLOT=False MPLBACKEND=Agg $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check ecgsk tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/auto_examples docs/gen_modules

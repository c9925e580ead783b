# Two commands do all the set-up on a fresh machine with Python >= 3.10 and pip:
#   make demo   the worked example from the documents
#   make test   the whole test suite (lint, tests, notebooks)
# Everything goes into .venv/: `source .venv/bin/activate` to use it from the shell.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: help demo test lint bench notebooks lab docs graphviz chromium clean
.DEFAULT_GOAL := help

help:
	@echo "make demo       the worked 2-2-2 example, backpropagation step by step"
	@echo "make test       the whole test suite: lint, tests, notebooks (several minutes)"
	@echo "make lab        the notebooks, opened in JupyterLab"
	@echo "make notebooks  run every notebook again and save it with its outputs"
	@echo "make docs       the documentation site, into docs/_build/html"
	@echo "make bench      the benchmark: micrograd, autograd_mini, a hand-written floor"
	@echo "make clean      remove .venv/ and the caches"
	@echo "Everything is installed into .venv/: 'source .venv/bin/activate' to use it."

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each stamp file records what is installed: the package alone (all the demo
# and the command need), with the dev extras (tests, lint, notebooks run
# headless), with JupyterLab (the notebooks opened in a browser).
$(VENV)/.package: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.lab: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@

# Graphviz's `dot` renders the SVGs; install it with the system package manager
# when it is missing and we are allowed to, otherwise say exactly what to do.
graphviz:
	@command -v dot >/dev/null 2>&1 || sh tools/install-graphviz.sh

# Chromium runs the player's tests (driven by playwright); installed the same way.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| sh tools/install-chromium.sh

demo: $(VENV)/.package graphviz
	$(BIN)/autograd-mini demo

test: $(VENV)/.installed graphviz chromium
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# Into bench-results.json: the committed run (benchmarks/results.json), which the
# README quotes, changes only by running benchmarks/bench.py on purpose.
bench: $(VENV)/.package
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench.py --json bench-results.json

notebooks: $(VENV)/.installed graphviz
	$(BIN)/python tools/run_notebooks.py --write

# Jupyter refuses to run as root unless told; root is common in containers.
lab: $(VENV)/.lab graphviz
	$(BIN)/jupyter lab notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# The documentation site, into docs/_build/html (open its index.html; no server
# needed). `make test` builds it too, with warnings as errors (tests/test_docs.py).
docs: $(VENV)/.installed graphviz
	$(BIN)/python -m sphinx -E -b html --keep-going docs docs/_build/html
	@echo "The site: docs/_build/html/index.html"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info docs/_build

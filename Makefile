# apkit: one command to try it, one to test it. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8866

.PHONY: setup demo serve test test-all lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## Load the sample school into data/apkit.sqlite when it is empty, then serve
## the dashboards on http://127.0.0.1:$(PORT)
demo: setup
	$(BIN)/apkit demo --port $(PORT)

serve: setup
	$(BIN)/apkit serve --port $(PORT)

## The whole test suite, SQLite and PostgreSQL, browser tests included.
test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check apkit tests benchmarks
	$(BIN)/ruff format --check apkit tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

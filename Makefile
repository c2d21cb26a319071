# Set-up and everyday commands. `make run` serves the demo, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTEST_ARGS ?=
# Reinstall whenever pyproject.toml changes: the stamp's name carries its checksum.
STAMP := $(VENV)/.installed-$(firstword $(shell cksum pyproject.toml))

.PHONY: venv install run test lint

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: install
	$(BIN)/builder init --demo
	$(BIN)/builder serve --host 127.0.0.1 --port $(PORT)

# pytest exits with 5 when it collected nothing: that is a failure too, and says so.
test: install
	@$(BIN)/pytest -q -n 2 $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: no tests were collected" >&2; fi; \
	exit $$status

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

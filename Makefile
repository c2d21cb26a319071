# Set-up and everyday commands. `make run` serves the demo, `make test` runs the suite
# (with the browser tests), `make test-frontend` the web app's unit tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTEST_ARGS ?=
# Reinstall whenever pyproject.toml changes: the stamp's name carries its checksum.
STAMP := $(VENV)/.installed-$(firstword $(shell cksum pyproject.toml))

# The web app: npm ci when the lock file changes, a build when any of its sources do.
NODE_MODULES := frontend/node_modules/.package-lock.json
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.js frontend/package.json
FRONTEND_BUILD := frontend/dist/index.html

.PHONY: venv install run test lint frontend test-frontend

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

$(NODE_MODULES): frontend/package-lock.json frontend/package.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(FRONTEND_BUILD): $(NODE_MODULES) $(FRONTEND_SOURCES)
	cd frontend && npm run build
	touch $@

frontend: $(FRONTEND_BUILD)

test-frontend: $(NODE_MODULES)
	cd frontend && npm test

run: install frontend
	$(BIN)/builder init --demo
	$(BIN)/builder serve --host 127.0.0.1 --port $(PORT)

# pytest exits with 5 when it collected nothing: that is a failure too, and says so.
# The browser tests (tests/browser) need the built web app and Debian's chromium.
test: install frontend
	@$(BIN)/pytest -q -n 2 $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: no tests were collected" >&2; fi; \
	exit $$status

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

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

.PHONY: venv install run test lint frontend test-frontend trust

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

# The trust proofs (tests/trust), then the table of their figures; fails when a proof
# fails or recorded a leak, a violation, a 5xx or a lost record. On PostgreSQL and Redis
# when TEST_DATABASE_URL is set or both answer on 127.0.0.1 (as .ci/run sets them up),
# else on the embedded default (SQLite, in-process jobs).
TRUST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
TRUST_REDIS_URL ?= redis://127.0.0.1:6379/0
trust: install
	@figures=$$(mktemp); \
	if [ -z "$$TEST_DATABASE_URL" ] \
	    && psql -h 127.0.0.1 -U postgres -d test -tAc "SELECT 1" >/dev/null 2>&1 \
	    && redis-cli -h 127.0.0.1 ping 2>/dev/null | grep -q PONG; then \
	  export TEST_DATABASE_URL="$(TRUST_DATABASE_URL)" REDIS_URL="$(TRUST_REDIS_URL)"; \
	fi; \
	if [ -n "$$TEST_DATABASE_URL" ]; then echo "trust proofs on PostgreSQL and Redis"; \
	else echo "trust proofs on the embedded default (SQLite, in-process jobs)"; fi; \
	TRUST_FIGURES=$$figures $(BIN)/pytest -q -n 2 tests/trust $(PYTEST_ARGS); status=$$?; \
	$(BIN)/python -m tests.trust.report $$figures; report=$$?; rm -f $$figures; \
	if [ $$status -ne 0 ]; then exit $$status; fi; exit $$report

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

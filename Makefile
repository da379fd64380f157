# govshare: every set-up step a fresh machine needs, behind three targets.
#   make demo   create the virtualenv, install, seed the demo city (SQLite), serve http://127.0.0.1:8000
#               with `govshare worker` beside it (background jobs; it stops when the server stops)
#   make test   install, make sure PostgreSQL/MariaDB run and Debian's Chromium is installed, run the whole
#               suite on SQLite and PostgreSQL (browser tests in real Chromium)
#   make check  ruff (lint + format, SQL only where allowed), import-linter contracts, mypy, the migration
#               check, and the tests

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve test check lint format typecheck vulture docs migrations-check services browser clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/govshare demo
	$(BIN)/govshare serve --with-worker

serve: $(STAMP)
	$(BIN)/govshare serve --with-worker

services:
	@scripts/services.sh

browser:
	@scripts/browser.sh

test: $(STAMP) services browser
	$(BIN)/pytest -n 2 --dist loadgroup

# ruff includes the banned-API rule (SQL only in repositories and query modules); lint-imports checks the
# layering contracts of [tool.importlinter] in pyproject.toml (tools/import_contracts.py).
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Upgrade a scratch database to head and compare it with the ORM models: a model change without its
# migration fails here (the test suite does the same on SQLite and PostgreSQL).
migrations-check: $(STAMP)
	rm -rf .check-db && GOVSHARE_DATA_DIR=.check-db GOVSHARE_DATABASE_URL= $(BIN)/govshare db check; \
	  status=$$?; rm -rf .check-db; exit $$status

# Dead code: functions, classes and attributes nothing uses ([tool.vulture] in pyproject.toml; names a
# framework calls or reads go in vulture_allowlist.py).
vulture: $(STAMP)
	$(BIN)/vulture

# Regenerate the docs' tables that restate the code (roles, permissions, route checks); the suite's
# tests/test_docs.py fails when they are stale.
docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py

check: lint typecheck vulture migrations-check test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .check-db

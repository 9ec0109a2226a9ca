# Souverain — `make run` (portal + API with an embedded database and worker) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/souverain

.PHONY: install run test test-sqlite test-postgres lint clean

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/souverain setup
	$(BIN)/souverain run

lint: install
	$(BIN)/ruff check .

test: lint test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest

# The same suite on PostgreSQL (what scale mode runs on). Needs a server on 127.0.0.1:5432 (trust auth);
# scripts/ensure-postgres.sh finds one or installs and starts Debian's.
test-postgres: install
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not testbed and not browser"

clean:
	rm -rf var .pytest_cache .ruff_cache

-include Makefile.testbed

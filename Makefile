# Souverain — `make run` (portal + API with an embedded database and worker) and `make test` (the whole suite).
BOOTSTRAP_PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/souverain
PG_BROWSER_URL ?= postgres://postgres@127.0.0.1:5432/souverain_browser

.PHONY: install run test test-sqlite test-postgres lint fuzz mutation clean lock lock-upgrade

# requirements.lock pins every package (see its header); pyproject.toml keeps the ranges.
$(VENV)/.installed: pyproject.toml requirements.lock souverain/connectors/nutanix/requirements.txt testbed/oidc/package-lock.json
	bash scripts/ensure-system-packages.sh
	@test -x $(BIN)/python || $(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	# Nutanix's SDKs pin urllib3 1.26, which the lock cannot hold beside urllib3 2; their code runs on 2 (docs/nutanix.md).
	$(BIN)/python -m pip install -q --no-deps -r souverain/connectors/nutanix/requirements.txt
	bash testbed/oidc/install.sh  # the SSO tests' OpenID provider (npm ci into var/)
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/souverain setup
	$(BIN)/souverain run

lint: install
	$(BIN)/ruff check .

# The SQLite pass (with the test-bed and the browser) and the PostgreSQL pass share nothing but the machine: run them
# side by side (the SQLite pass spends much of its time waiting on the test-bed's services), each one's output
# printed whole when it ends.
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

# The whole run logs at DEBUG to a file, then no credential may appear in it.
test-sqlite: install
	@mkdir -p var && rm -f var/test-run.log
	SOUVERAIN_LOG_FILE=$(CURDIR)/var/test-run.log SOUVERAIN_LOG_LEVEL=DEBUG $(BIN)/pytest
	# The provisioning browser test (the page polls while the in-process worker writes) needs a database that
	# takes concurrent writers: PostgreSQL, under its own name beside the PostgreSQL pass's.
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$(PG_BROWSER_URL) SOUVERAIN_LOG_FILE=$(CURDIR)/var/test-run.log SOUVERAIN_LOG_LEVEL=DEBUG \
		$(BIN)/pytest tests/browser/test_provisioning.py
	$(BIN)/python scripts/check_logs_for_secrets.py var/test-run.log

# The tests that reach the database again on PostgreSQL (what scale mode runs on); the others do not depend on the
# database engine (conftest.py). Needs a server on 127.0.0.1:5432 (trust auth);
# scripts/ensure-postgres.sh finds one or installs and starts Debian's.
test-postgres: install
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$(PG_URL) SOUVERAIN_DATABASE_TESTS_ONLY=1 $(BIN)/pytest -m "not testbed and not browser"

# A longer generated-request run over the whole API than the one `make test` includes (see test_fuzz_api.py).
fuzz: install
	SOUVERAIN_FUZZ_EXAMPLES=$${SOUVERAIN_FUZZ_EXAMPLES:-100} $(BIN)/pytest souverain/core/tests/test_fuzz_api.py -p no:randomly

# Mutation testing of the rule-bearing modules (minutes; not part of `make test`): docs/development/mutation-testing.md
mutation: install
	VENV=$(CURDIR)/$(VENV) bash tools/mutation.sh

# Re-pin the dependencies after a change to pyproject.toml (lock) or to take new releases (lock-upgrade);
# review the diff of requirements.lock, run `make test`, commit both files.
lock lock-upgrade: install
	$(BIN)/python -m pip install -q uv
	head -n 3 requirements.lock > requirements.lock.header
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header --annotation-style line \
		$(if $(filter lock-upgrade,$@),--upgrade) -o requirements.lock
	cat requirements.lock.header requirements.lock > requirements.lock.new && mv requirements.lock.new requirements.lock
	rm requirements.lock.header

clean:
	rm -rf var .pytest_cache .ruff_cache

PYTHON := $(BIN)/python
-include Makefile.testbed

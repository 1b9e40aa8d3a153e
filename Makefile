# The two commands of the README: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: run run-prod test test-sqlite test-postgres lint format migrations schema docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.test-deps: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[test]'
	@touch $@ $(VENV)/.run-deps

## make run: install, migrate, load the demo data into an empty database, serve GraphiQL.
run: $(VENV)/.run-deps
	$(BIN)/kabinet migrate
	$(BIN)/kabinet seed-demo --if-empty
	$(BIN)/kabinet serve

## make run-prod: as production runs: PostgreSQL (DATABASE_URL, default the local server's
## database `kabinet`, created if missing), migrated, one uvicorn worker per core (WORKERS).
## Serves what the database holds: `kabinet seed-demo --if-empty` first for the demo data.
run-prod: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kabinet
run-prod: WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
run-prod: $(VENV)/.run-deps
	$(BIN)/kabinet migrate
	$(BIN)/kabinet serve --workers $(WORKERS)

## make test: the whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: lint test-sqlite test-postgres

# graphql-http's GraphQL-over-HTTP audit, run by node (tests/api/test_http_audit.py),
# installed exactly as package-lock.json pins it.
AUDIT := tests/api/http_audit
$(AUDIT)/node_modules/.installed: $(AUDIT)/package.json $(AUDIT)/package-lock.json
	cd $(AUDIT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-sqlite: $(VENV)/.test-deps $(AUDIT)/node_modules/.installed
	KABINET_TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.test-deps $(AUDIT)/node_modules/.installed
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== the suite again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  KABINET_TEST_BACKEND=postgres $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else echo "== TEST_DATABASE_URL is not set: PostgreSQL run skipped"; fi

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.test-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make migrations: write a migration for model changes (then commit it).
migrations: $(VENV)/.test-deps
	$(BIN)/python -m tortoise makemigrations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info $(AUDIT)/node_modules

## make schema: write schema.graphql, the contract the client teams generate code from.
schema: $(VENV)/.test-deps
	$(BIN)/kabinet schema > schema.graphql

## make docs: write docs/configuration.md from the settings definitions in config.py.
docs: $(VENV)/.run-deps
	$(BIN)/python -m config > docs/configuration.md.tmp
	mv docs/configuration.md.tmp docs/configuration.md

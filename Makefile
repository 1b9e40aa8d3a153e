# The two commands of the README: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: run run-prod test test-sqlite test-postgres lint format migrations schema release-schema docs graphiql clean

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

## tools/codegen: GraphQL Code Generator for tests/web/test_codegen.py, and graphql-http's
## GraphQL-over-HTTP audit for tests/api/test_http_audit.py (node and npm needed), each
## installed exactly as its package-lock.json pins it.
CODEGEN := tools/codegen/node_modules/.installed
$(CODEGEN): tools/codegen/package.json tools/codegen/package-lock.json
	cd tools/codegen && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

AUDIT := tests/api/http_audit
$(AUDIT)/node_modules/.installed: $(AUDIT)/package.json $(AUDIT)/package-lock.json
	cd $(AUDIT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## tools/axe: axe-core, run inside the web client's pages by tests/web/test_web_accessibility.py.
AXE := tools/axe/node_modules/.installed
$(AXE): tools/axe/package.json tools/axe/package-lock.json
	cd tools/axe && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

NODE_TOOLS := $(CODEGEN) $(AUDIT)/node_modules/.installed $(AXE)

test-sqlite: $(VENV)/.test-deps $(NODE_TOOLS)
	KABINET_TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.test-deps $(NODE_TOOLS)
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
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info tools/codegen/node_modules tools/axe/node_modules $(AUDIT)/node_modules

## make schema: write schema.graphql, the contract the client teams generate code from.
schema: $(VENV)/.test-deps
	$(BIN)/kabinet schema > schema.graphql

## make release-schema RELEASE=<name>: at a release, the current schema becomes the baseline
## (schema/released.graphql) that tests/api/test_schema_evolution.py compares the code with, and
## "Unreleased" in docs/schema-changelog.md becomes the section RELEASE (default: today's date).
release-schema: RELEASE ?= $(shell date -u +%Y-%m-%d)
release-schema: schema
	$(BIN)/python -m schema.evolution release "$(RELEASE)"

## make docs: write docs/configuration.md from the settings definitions in config.py.
docs: $(VENV)/.run-deps
	$(BIN)/python -m config > docs/configuration.md.tmp
	mv docs/configuration.md.tmp docs/configuration.md

## make graphiql: fetch GraphiQL and React from the npm registry (npm pack, pinned versions in
## tools/vendor_graphiql.py) into web/graphiql/vendor/ with their licences and MANIFEST.json
## (versions, integrity, sha256). Only for updating them: the server never loads a CDN.
## GRAPHIQL_VERSION=... REACT_VERSION=... to try others; then commit web/graphiql/vendor/.
graphiql:
	$(PYTHON) tools/vendor_graphiql.py
	$(PYTHON) tools/vendor_graphiql.py --check

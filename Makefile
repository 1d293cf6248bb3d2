# Bridge: `make run` serves the portal, `make test` runs every test. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
WORKERS ?= 3
export FLASK_APP := app

.PHONY: run test serve setup system-deps test-deps clean

setup: system-deps $(VENV)/.installed

# WeasyPrint needs Pango and HarfBuzz; installed with apt when missing.
system-deps:
	@bash .ci/system-deps

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --first-run
	$(BIN)/flask --app app.wsgi run --host $(HOST) --port $(PORT)

# Production-style: gunicorn with $(WORKERS) workers (point BRIDGE_DATABASE_URL at PostgreSQL to scale out).
serve: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --first-run
	BRIDGE_BIND=$(HOST):$(PORT) BRIDGE_WORKERS=$(WORKERS) $(BIN)/gunicorn -c python:app.gunicorn_conf app.wsgi:app

# Chromium for the browser journeys, installed with apt when missing.
test-deps:
	@bash .ci/test-deps

# The whole suite twice: on SQLite files, then on a throwaway PostgreSQL server (.ci/with-postgres).
test: setup test-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)
	bash .ci/with-postgres $(BIN)/python -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

# Bridge: `make run` serves the portal, `make test` runs every test. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
WORKERS ?= 3
LOCK := requirements.lock
export FLASK_APP := app

.PHONY: run test lint lock serve serve-cluster setup system-deps test-deps clean

setup: system-deps $(VENV)/.installed

# WeasyPrint needs Pango and HarfBuzz; installed with apt when missing.
system-deps:
	@bash .ci/system-deps

# Versions come from $(LOCK) (reproducible installs); the ranges they must fit stay in pyproject.toml.
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[test]'
	@touch $@

# Refresh $(LOCK): the newest versions pyproject.toml's ranges allow, frozen from a clean install.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test]'
	{ echo '# Versions for make setup (pip -c): refreshed by make lock; the ranges are in pyproject.toml.'; \
	  .lock-venv/bin/pip freeze --exclude-editable; } > $(LOCK)
	rm -rf .lock-venv

# The job worker (flask jobs work) runs beside the web server and dies with it: the shell becomes
# the server (exec, so $$ is the server's pid), the worker's parent; --die-with-parent ties them.
run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --first-run
	$(BIN)/flask jobs work --die-with-parent --parent $$$$ & exec $(BIN)/flask --app app.wsgi run --host $(HOST) --port $(PORT)

# Production-style: gunicorn with $(WORKERS) workers (point BRIDGE_DATABASE_URL at PostgreSQL to scale out);
# its master starts BRIDGE_JOB_WORKERS job workers (1) and stops them with itself (app/gunicorn_conf.py).
serve: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --first-run
	BRIDGE_BIND=$(HOST):$(PORT) BRIDGE_WORKERS=$(WORKERS) $(BIN)/gunicorn -c python:app.gunicorn_conf app.wsgi:app

# Two nodes on one machine, as on two (README, "Running on several machines"): PORT_A (5001, with the
# job worker) and PORT_B (5002) on one PostgreSQL and one files directory under CLUSTER_DIR. Without
# BRIDGE_DATABASE_URL, a PostgreSQL server kept in CLUSTER_DIR/postgres is started and stopped with them.
CLUSTER_DIR ?= instance/cluster
PORT_A ?= 5001
PORT_B ?= 5002
serve-cluster: setup
	@export CLUSTER_DIR=$(CLUSTER_DIR) PORT_A=$(PORT_A) PORT_B=$(PORT_B) HOST=$(HOST) WORKERS=2; \
	if [ -n "$$BRIDGE_DATABASE_URL" ]; then bash .ci/serve-cluster; \
	else BRIDGE_PG_DIR=$(CLUSTER_DIR)/postgres bash .ci/with-postgres bash .ci/serve-cluster; fi

# Chromium for the browser journeys, installed with apt when missing.
test-deps:
	@bash .ci/test-deps

# Lint (ruff) and the import contracts (import-linter), both configured in pyproject.toml.
lint: setup
	$(BIN)/ruff check app tests bench
	$(BIN)/lint-imports

# Lint first, then the whole suite twice: on SQLite files, then on a throwaway PostgreSQL server
# (.ci/with-postgres). Browser journeys and no_database tests run in the first (tests/conftest.py), the several-node tests
# in the second (tests/ops/conftest.py). --dist loadfile keeps a file's tests on one worker, so a world a test file
# builds once (the demo, the insights log) is built once per run.
test: lint test-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)
	bash .ci/with-postgres $(BIN)/python -m pytest -n 2 --dist loadfile -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .lock-venv

# Set-up is automatic: every target below creates .venv from the lock file on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export SEGMENTATION_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

# Apache Superset lives in its own environment: it pins SQLAlchemy 1.4 and pandas 2.1.
BI_VENV := .venv-bi
BI_STAMP := $(BI_VENV)/.installed
BI_PORT ?= 8088
export SUPERSET_HOME ?= $(CURDIR)/.superset_home
export SUPERSET_CONFIG_PATH ?= $(CURDIR)/bi/superset/superset_config.py

.PHONY: services setup run test test-fast bench dev lint format lock clean bi bi-venv bi-setup bi-screenshot

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip sync --quiet requirements.lock
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet --no-deps -e .
	@# Compiled bytecode makes the definitions import in ~2 s instead of ~5 s (PYTHONDONTWRITEBYTECODE is set here).
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib segmentation_pipeline > /dev/null
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)

run: setup  ## materialise every asset once (generates the sample data first if the landing zone is empty)
	$(BIN)/python -m segmentation_pipeline run

# The DuckLake tests and benchmark start their own PostgreSQL cluster (tests/services.py): only the
# server's binaries are needed. Debian's package; the machines here run as root (else: sudo make services).
services:  ## install PostgreSQL (Debian's postgresql-15) when no pg_ctl is there
	@ls /usr/lib/postgresql/*/bin/pg_ctl > /dev/null 2>&1 || command -v pg_ctl > /dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 > /dev/null)

# Two test processes (pytest-xdist): each test file runs whole in one of them, so a file's
# module fixtures (a generated world, a base run, a Superset server) are built once. The slowest
# tests are listed at the end of every run.
TEST_WORKERS ?= 2
# The tests write bytecode (this machine sets PYTHONDONTWRITEBYTECODE): each worker then imports the
# package and the test modules compiled (pytest keeps its assertion-rewritten modules too), which
# saved 4-5 s of CPU per worker at collection.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

test: setup bi-venv services  ## every test, Superset end to end included
	$(PYTEST) --durations=15

test-fast: setup services  ## the tests not marked slow (no end-to-end runs, no Superset)
	$(PYTEST) -m "not slow" --durations=5 --hypothesis-profile=fast

bench: setup services  ## million-customer figures: wall time and peak memory per stage
	$(BIN)/python -m benchmarks.run_all

dev: setup
	$(BIN)/dagster dev -w workspace.yaml

lint: setup  ## ruff (lint + format), and every definition loads (`dg check defs`)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/dg check defs

format: setup
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

lock: setup  ## re-resolve requirements.lock after changing pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

$(BI_STAMP): bi/requirements.lock | $(STAMP)
	$(PYTHON) -m venv $(BI_VENV)
	VIRTUAL_ENV=$(BI_VENV) $(BIN)/uv pip sync --quiet bi/requirements.lock
	@# Superset imports ~2,000 modules at each start; bytecode saves seconds on every CLI call.
	$(BI_VENV)/bin/python -m compileall -q -j 0 $(BI_VENV)/lib > /dev/null || true
	touch $(BI_STAMP)

bi-venv: $(BI_STAMP)

bi-setup: bi-venv  ## register the published snapshot and import the segment dashboard into Superset
	@test -f $(SEGMENTATION_DATA_DIR)/marts.duckdb || $(MAKE) run
	$(BI_VENV)/bin/python bi/superset/setup_superset.py --snapshot $(SEGMENTATION_DATA_DIR)/marts.duckdb

bi: bi-setup  ## Superset on http://127.0.0.1:$(BI_PORT)/superset/dashboard/customer-segments/ (admin / admin)
	$(BI_VENV)/bin/superset run -h 127.0.0.1 -p $(BI_PORT) --with-threads

bi-screenshot: bi-venv  ## PNG of the dashboard from a running `make bi` (headless Chromium)
	@command -v chromium > /dev/null && command -v chromedriver > /dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver > /dev/null)
	$(BI_VENV)/bin/python bi/superset/screenshot.py --url http://127.0.0.1:$(BI_PORT) --out $(SEGMENTATION_DATA_DIR)/reports/superset_dashboard.png

clean:
	rm -rf $(VENV) $(BI_VENV) .pytest_cache .ruff_cache

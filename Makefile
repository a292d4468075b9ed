# Evently: `make run` serves a development copy on :8080; `make test` runs the whole suite.
# Both create .venv and install what they need on first use.

# Evently needs Python 3.11 (pyproject.toml): python3.11 when it is on the PATH, else python3;
# `make run PYTHON=/path/to/python3.11` names another.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP := $(VENV)/.test-installed
BENCH_STAMP := $(VENV)/.bench-installed
PORT ?= 8080

.DEFAULT_GOAL := help
.PHONY: help run run-prod test walk lint format migrate demo schema clean screenshot bench \
	bench-instructions metrics-screenshot bench-webhooks bench-checkout

help:
	@echo "make run     - install, migrate, load demo data once, serve on http://localhost:$(PORT)"
	@echo "make run-prod - migrate, collect static files, serve with gunicorn (gunicorn.conf.py) on 127.0.0.1:$(PORT); needs SECRET_KEY"
	@echo "make test    - install test dependencies and run the whole suite"
	@echo "make walk    - the README's API walk, run as written against a fresh server"
	@echo "make lint    - ruff check and format check"
	@echo "make schema  - validate the OpenAPI schema"
	@echo "make screenshot - the browser test's pictures of the console, written to docs/"
	@echo "make bench   - flash-sale benchmark on PostgreSQL, writes docs/benchmarks.md"
	@echo "make bench-instructions - instructions per booking under callgrind, into docs/benchmarks.md"
	@echo "make metrics-screenshot - docs/metrics.png: Prometheus graphing a short flash sale"
	@echo "make bench-webhooks - webhook messages a second from one worker to a local receiver"
	@echo "make bench-checkout - checkout flash sale (dummy provider, half paid, half expired) against plain bookings, into docs/benchmarks.md"

# Checked before the virtualenv is made, so a wrong interpreter stops here with the fix, not
# half-way through pip.
$(BIN)/python:
	@version=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ "$$version" != 3.11 ]; then \
		found=$$($(PYTHON) --version 2>/dev/null) || found="not found"; \
		echo "Evently needs Python 3.11, but $(PYTHON) is $${found:-not Python}." >&2; \
		echo "Install Python 3.11 and run: make $(MAKECMDGOALS) PYTHON=/path/to/python3.11" >&2; \
		exit 1; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@ $(RUNTIME_STAMP)

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	@touch $@ $(RUNTIME_STAMP)

# Development mode (DEBUG on, SQLite unless DATABASE_URL is set).
run: export DEBUG ?= true
# The whole checkout in a browser: a priced booking's payment_url is django-payments' dummy form.
run: export PAYMENT_PROVIDER ?= dummy
run: export PUBLIC_URL ?= http://localhost:$(PORT)
run: $(RUNTIME_STAMP)
	@echo "Migrating the database..."
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(BIN)/python manage.py load_demo_data
	$(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

# Production mode, as the container image runs it: DEBUG off (SECRET_KEY required), PostgreSQL
# from DATABASE_URL, gunicorn configured by gunicorn.conf.py, on loopback only (put nginx in
# front: deploy/nginx/). See docs/operations.md.
run-prod: $(RUNTIME_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py evently.wsgi:application

test: $(TEST_STAMP)
	@bash scripts/test.sh

# The README's shell blocks marked <!-- walk -->, run in order against a server of its own on a
# new SQLite database with the demo data (scripts/walk.sh); the suite runs it too.
walk: $(RUNTIME_STAMP)
	@bash scripts/walk.sh

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(RUNTIME_STAMP)
	DEBUG=true $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

# The browser test over the demo data, saving its pictures to docs/; installs Debian's chromium
# and chromium-driver if they are missing.
screenshot: $(TEST_STAMP)
	@bash scripts/screenshot.sh

# Needs the local PostgreSQL (BENCH_PG) and wrk, installed from Debian's packages if missing.
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The app's instructions per booking (Evently and the floors), counted by valgrind's callgrind
# on the local PostgreSQL; a few minutes. Installs valgrind from Debian's packages if missing.
bench-instructions: $(RUNTIME_STAMP)
	@command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind)
	$(BIN)/python bench/instructions.py $(INSTRUCTIONS_ARGS)

# Prometheus' graph page over a short flash sale on the local PostgreSQL, photographed by
# headless Chromium into docs/metrics.png (the dashboard's queries; Grafana is not in Debian).
metrics-screenshot: $(TEST_STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	@command -v prometheus >/dev/null || (apt-get update -qq && apt-get install -y -qq prometheus)
	$(BIN)/python bench/metrics_picture.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

# How many webhook messages a second one deliver_webhooks worker delivers to a local receiver.
bench-webhooks: $(RUNTIME_STAMP)
	$(BIN)/python bench/webhooks.py $(WEBHOOKS_BENCH_ARGS)

# A flash sale through the checkout (PAYMENT_PROVIDER=dummy, half the checkouts paid, half left
# to expire) beside plain bookings in the same run, then the expiry of the holds; on the local
# PostgreSQL, wrk installed from Debian's packages if missing. Into docs/benchmarks.md.
bench-checkout: $(BENCH_STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/checkout.py $(CHECKOUT_BENCH_ARGS)

# Evently: `make run` serves a development copy on :8080; `make test` runs the whole suite.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP := $(VENV)/.test-installed
PORT ?= 8080

.DEFAULT_GOAL := help
.PHONY: help run test lint format migrate demo schema clean

help:
	@echo "make run     - install, migrate, load demo data once, serve on http://localhost:$(PORT)"
	@echo "make test    - install test dependencies and run the whole suite"
	@echo "make lint    - ruff check and format check"
	@echo "make schema  - validate the OpenAPI schema"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@ $(RUNTIME_STAMP)

# Development mode (DEBUG on, SQLite unless DATABASE_URL is set).
run: export DEBUG ?= true
run: $(RUNTIME_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_data
	$(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

test: $(TEST_STAMP)
	@bash scripts/test.sh

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(RUNTIME_STAMP)
	DEBUG=true $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

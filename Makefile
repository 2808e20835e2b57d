# Developer commands. `make run` and `make test` are all a newcomer needs (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run demo test lint install clean

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "The registry needs Python 3.11 or newer (PYTHON=$(PYTHON))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed: $(VENV)/.python-ok pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed

## Install, migrate, load the demo data, print the demo accounts, serve on SQLite.
run: demo
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

demo: $(VENV)/.installed
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py import_agreements demo/agreements.jsonl
	DEBUG=1 $(BIN)/python manage.py demo_accounts

## The whole test suite (browser tests are skipped, and say so, where Chromium is missing).
test: $(VENV)/.test-installed
	$(BIN)/pytest $(PYTEST_ARGS)

## Lint, formatting and missing migrations: what CI checks besides the tests.
lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles

# Developer commands. `make run` and `make test` are all a newcomer needs (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
BACKUP ?= backup.dump

.PHONY: run demo test lint install clean serve backup restore loadtest bench compare audit

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
	DEBUG=1 $(BIN)/python manage.py demo_accounts --site http://$(HOST):$(PORT)

## The whole test suite (browser tests are skipped, and say so, where Chromium is missing).
test: $(VENV)/.test-installed
	$(BIN)/pytest $(PYTEST_ARGS)

## Lint, formatting and missing migrations: what CI checks besides the tests.
lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

## The production start-up (bin/start, as in docker compose) against DATABASE_URL, with the
## settings of .env.example: wait for the database, migrate, collect static files, gunicorn.
serve: $(VENV)/.installed
	HOST=$(HOST) PORT=$(PORT) PATH="$(abspath $(BIN)):$$PATH" bin/start

## Back up the PostgreSQL database DATABASE_URL names into BACKUP; restore it from BACKUP,
## replacing what is there, in one transaction (stop the app first). pg_restore brings no
## planner statistics: without ANALYZE a page may take minutes until autovacuum (if on) runs.
backup:
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "make backup needs DATABASE_URL=postgres://..."; exit 1;; esac
	pg_dump --format=custom --no-owner --no-privileges --file="$(BACKUP)" "$$DATABASE_URL"

restore:
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "make restore needs DATABASE_URL=postgres://..."; exit 1;; esac
	pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
		--exit-on-error --dbname="$$DATABASE_URL" "$(BACKUP)"
	vacuumdb --analyze-only --quiet --dbname="$$DATABASE_URL"

## 60 seconds of mixed public traffic from 16 clients against a server on this machine
## (`make serve` in another terminal); prints the figures. Not part of `make test`.
loadtest: $(VENV)/.installed
	$(BIN)/python bin/loadtest.py --url http://$(HOST):$(PORT)

## The benchmark (README, "Performance"): BENCH_N agreements (default 100000) in PostgreSQL
## (BENCH_DATABASE_URL), served by gunicorn; writes bench/results.md. Needs PostgreSQL and Redis.
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

## The working tree against REV (default main), timed in turn on the database `make bench`
## made: what to run before keeping a change meant to be faster.
REV ?= main
compare: $(VENV)/.installed
	$(BIN)/python bench/compare.py $(REV)

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles

## Known vulnerabilities in the dependencies (needs PyPI's advisory API to be reachable).
audit: $(VENV)/.test-installed
	$(BIN)/pip-audit --strict --skip-editable

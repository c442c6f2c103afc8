# reliefops — two commands: `make demo` and `make test`. Needs python3.11, make and git.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two processes; tests marked xdist_group run together on one of them (one scenario load, say).
PYTEST := $(BIN)/pytest -n 2 --dist loadgroup -q
HOST ?= 127.0.0.1
PORT ?= 8000
# Python keeps each module compiled in __pycache__ (and pytest its rewritten test modules) unless
# PYTHONDONTWRITEBYTECODE is set, as some machines and containers do. A test run starts hundreds of
# Python processes (test workers, `reliefops` commands, servers); compiling every module again in
# each one cost a test worker 18 s of its start and each command about 1 s on a 2-core machine.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test install lint typecheck pytest pytest-sqlite pytest-postgres serve lock clean docs-api bench fuzz

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

## make demo: install, migrate the SQLite database under var/, load the Kashmir 2005 scenario,
## create an admin account (prints its one-time password) and serve http://$(HOST):$(PORT),
## with the worker that runs the long jobs (imports, duplicate searches) beside the server
demo: $(STAMP)
	$(BIN)/reliefops migrate --no-input
	$(BIN)/reliefops scenario load kashmir-2005
	$(BIN)/reliefops demo_admin
	@echo "Serving http://$(HOST):$(PORT)/ with the jobs worker beside it  (Ctrl-C stops both)"
	@$(BIN)/reliefops jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/reliefops runserver --insecure --noreload $(HOST):$(PORT)

## make test: ruff, mypy, then pytest on SQLite, and again on PostgreSQL when
## RELIEFOPS_TEST_DATABASE_URL is set
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy src

pytest: pytest-sqlite pytest-postgres

pytest-sqlite: $(STAMP)
	@echo "== pytest on SQLite =="
	env -u DATABASE_URL $(PYTEST)

pytest-postgres: $(STAMP)
	@if [ -n "$$RELIEFOPS_TEST_DATABASE_URL" ]; then \
		echo "== pytest on PostgreSQL ($$RELIEFOPS_TEST_DATABASE_URL), the browser tests left to the SQLite run =="; \
		DATABASE_URL="$$RELIEFOPS_TEST_DATABASE_URL" $(PYTEST) -m "not browser"; \
	else \
		echo "== PostgreSQL run skipped: set RELIEFOPS_TEST_DATABASE_URL=postgresql://user@host:5432/db to run it =="; \
	fi

serve: $(STAMP)
	@echo "Serving http://$(HOST):$(PORT)/ with the jobs worker beside it  (Ctrl-C stops both)"
	@$(BIN)/reliefops jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/reliefops runserver --insecure --noreload $(HOST):$(PORT)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python bench/run_all.py

## make fuzz: the security checks at full size (API fuzzing with schemathesis, generated hostile
## files against every importer), on SQLite and, when RELIEFOPS_TEST_DATABASE_URL is set, PostgreSQL
fuzz: $(STAMP)
	env -u DATABASE_URL RELIEFOPS_FUZZ=full $(PYTEST) --hypothesis-show-statistics \
		tests/security/test_api_fuzz.py tests/security/test_hostile_files.py
	@if [ -n "$$RELIEFOPS_TEST_DATABASE_URL" ]; then \
		DATABASE_URL="$$RELIEFOPS_TEST_DATABASE_URL" RELIEFOPS_FUZZ=full $(PYTEST) \
			--hypothesis-show-statistics tests/security/test_api_fuzz.py tests/security/test_hostile_files.py; \
	fi

docs-api: $(STAMP)
	$(BIN)/reliefops export_openapi docs/api/openapi.json

lock:
	@echo "Edit requirements*.txt by hand from 'pip freeze' of a fresh venv; every line stays pinned with ==."

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

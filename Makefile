# The two commands of the README: `make run` and `make test`. Everything they need is installed
# here, into .venv, from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint openapi bench bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.dev-installed

## Set everything up and serve the API on SQLite with demo data (Swagger UI at /docs).
run: $(VENV)/.installed
	$(BIN)/projoffice migrate
	$(BIN)/projoffice demo-data
	@echo "Swagger UI: http://$(HOST):$(PORT)/docs   ReDoc: http://$(HOST):$(PORT)/redoc"
	$(BIN)/projoffice serve --host $(HOST) --port $(PORT)

## Install what the tests need and run the whole suite (lint, types, migrations, OpenAPI, pytest
## on SQLite and, when reachable, on PostgreSQL).
test: $(VENV)/.dev-installed
	bash scripts/test

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app

## Throughput of the users list against a raw Starlette baseline, on SQLite and PostgreSQL
## (needs `wrk`: apt-get install wrk). See bench/README.md.
bench: $(VENV)/.installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## Load driver of issue 7: each endpoint on the large dataset (bench/seed_large.py) against a raw
## baseline, then a mixed load checked against the database; SQLite and PostgreSQL (needs `wrk`).
## A quick run: make bench-load BENCH_LOAD_ARGS="--scale 0.05 --duration 3 --mixed-seconds 5"
bench-load: $(VENV)/.installed
	$(BIN)/python -m bench.load $(BENCH_LOAD_ARGS)

## Regenerate openapi/openapi.json from the app.
openapi: $(VENV)/.installed
	$(BIN)/projoffice export-openapi --output openapi/openapi.json

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Jeeves — the one interface. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export JEEVES_CACHE ?= $(HOME)/.cache/jeeves
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest

.PHONY: help setup sync lint format test test-unit test-integration test-k8s test-all dev bench clean

help: ## list targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort -u | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}'

setup: ## make this machine ready: system packages (apt), uv, the locked virtualenv
	@bash scripts/setup.sh

sync: ## reinstall the locked Python dependencies into .venv
	@uv sync --all-packages --frozen

lint: ## ruff, ruff format --check, mypy --strict, import-linter layering (services and operator)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd operator && ../$(VENV)/bin/lint-imports

format: ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: ## lint, then unit, integration, e2e and k8s (kmock) tests — real servers, no skips
	@$(MAKE) --no-print-directory lint
	$(PYTEST) tests --ignore=tests/k8s/apiserver --ignore=tests/images --ignore=tests/slow --ignore=tests/monitoring/live --ignore=tests/faults -m "not cluster"

test-unit: ## unit tests only (no processes)
	$(PYTEST) -m unit tests

test-integration: ## integration and e2e tests (real PostgreSQL, etcd, services)
	$(PYTEST) -m "integration or e2e" tests

dev: ## run the whole stack locally on loopback with the Slack emulator (Ctrl-C stops it)
	@$(PY) -m jeeves.devstack

bench: ## run every benchmark in bench/ and print figures
	@for b in bench/*/run.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean: ## remove the virtualenv, caches and .dev data (not ~/.cache/jeeves)
	rm -rf $(VENV) .dev .mypy_cache .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

-include mk/*.mk

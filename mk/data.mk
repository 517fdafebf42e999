# mk/data.mk — targets of the data service, the weather emulator and the memory/weather actions.
# Included by the top Makefile.

.PHONY: test-data bench-data data-migrate data-genkey

test-data: ## unit + integration tests of data, weather emulator, memory and weather actions
	.venv/bin/pytest tests/unit/data tests/unit/emulators/weather tests/unit/actions/memory \
	  tests/unit/actions/weather tests/integration/data tests/integration/actions/memory \
	  tests/integration/actions/weather

bench-data: ## data service fact reads/s and p99: full 200 read vs If-None-Match 304 vs /healthz
	.venv/bin/python bench/data/run.py

data-migrate: ## upgrade the data schema to head on JEEVES_DATABASE_URL (jeeves-data migrate)
	@test -n "$$JEEVES_DATABASE_URL" || { echo "set JEEVES_DATABASE_URL"; exit 2; }
	.venv/bin/jeeves-data migrate

data-genkey: ## print a new Fernet key for JEEVES_DATA_ENCRYPTION_KEY
	@.venv/bin/jeeves-data genkey

# mk/tokens.mk — targets of the token dealer and the auth kit (issue 5). Included by the
# top Makefile.

TOKENS_DEV_DIR ?= .dev/tokens

.PHONY: tokens-dev-init tokens-genkey tokens-keys test-tokens bench-tokens

tokens-dev-init: ## dev signing key, clients.json, secrets.json in .dev/tokens (idempotent)
	$(VENV)/bin/jeeves-tokens init-dev --dir $(TOKENS_DEV_DIR)

tokens-genkey: ## rotate: add a signing key to $(TOKENS_DEV_DIR)/keys (published now, signs in 5 min)
	$(VENV)/bin/jeeves-tokens genkey --dir $(TOKENS_DEV_DIR)/keys

tokens-keys: ## list the signing keys in $(TOKENS_DEV_DIR)/keys and their rotation state
	$(VENV)/bin/jeeves-tokens keys --dir $(TOKENS_DEV_DIR)/keys

test-tokens: ## unit + integration tests of the token dealer and the auth kit
	$(PYTEST) tests/unit/tokens tests/unit/auth tests/integration/tokens

bench-tokens: ## token verification µs vs HMAC/parse baselines; dealer issue rate vs /healthz
	$(PY) bench/tokens/run.py

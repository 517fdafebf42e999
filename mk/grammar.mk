# mk/grammar.mk — typed commands, policy, confirmation, audit and schedules (issue 15).
# Included by the top Makefile.

GRAMMAR_PYTEST ?= .venv/bin/pytest

.PHONY: test-grammar test-schedules

test-grammar: ## commands, policy, schedules: unit, PostgreSQL ledger, operator checks, e2e (~70 s)
	$(GRAMMAR_PYTEST) tests/unit/actionspec tests/unit/dispatcher/test_dispatch_commands.py \
	  tests/unit/dispatcher/test_dispatch_guarding.py tests/unit/operator/test_operator_claims.py \
	  tests/integration/dispatcher/test_dispatcher_scheduling.py \
	  tests/integration/data/test_data_audit_subscriptions.py tests/e2e/test_guarded_actions.py

test-schedules: ## two dispatchers in real time: each 10 s tick once, one catch-up after 30 s down (~3.5 min)
	$(GRAMMAR_PYTEST) tests/slow

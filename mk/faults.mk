# mk/faults.mk — the fault-injection suite (tests/faults, marker `faults`): one stack, each fault
# in turn with 200 messages in flight, a table at the end. Included by the top Makefile.

.PHONY: test-faults

test-faults: ## fault injection: SIGKILLs, PostgreSQL/etcd restarts, Slack 429/5xx storms, an action timing out — 0 lost, 0 doubled; prints the table
	$(PYTEST) -m faults tests/faults

# mk/etcd.mk — owns the targets of the etcd configuration layer (live registry, flags,
# discovery) and the `jeeves` CLI. Included by the top Makefile.

ETCD_PYTEST ?= .venv/bin/pytest
ETCD_PY ?= .venv/bin/python

.PHONY: test-etcd bench-etcd

test-etcd: ## tests of the etcd config watch, live registry, flags, discovery and `jeeves` CLI (real etcd)
	$(ETCD_PYTEST) tests/unit/etcd tests/unit/cli tests/integration/etcd tests/integration/cli

bench-etcd: ## etcd put -> live registry applied latency (p50/p99 vs a plain etcd round trip)
	$(ETCD_PY) bench/etcd/run.py

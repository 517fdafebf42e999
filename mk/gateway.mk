# mk/gateway.mk — targets of the gateway (Slack ingress). Included by the top Makefile.

.PHONY: bench-gateway

bench-gateway: ## gateway vs Slack Bolt: ack throughput + p50/p99 at rising rates, every event stored
	$(PY) bench/gateway/run.py

.PHONY: profile-gateway
profile-gateway: ## where each acknowledged event's CPU goes, by layer (py-spy on a live gateway, ~30 s)
	$(PY) bench/gateway/profile.py

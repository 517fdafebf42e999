# mk/monitoring.mk — targets of monitoring (issue 11): the rules, dashboards and chart
# (charts/jeeves-monitoring), jeeves-alerts, and the live tier against `make dev`'s Prometheus.
# Included by the top Makefile. Prometheus/Alertmanager come from scripts/setup.d/prometheus.sh.

MONITORING_PY ?= .venv/bin/python
MONITORING_PYTEST ?= .venv/bin/pytest

.PHONY: monitoring-generate lint-monitoring test-rules test-monitoring test-monitoring-live bench-monitoring

monitoring-generate: ## monitoring: rewrite the generated SLO rules, dashboards JSON and examples in the chart
	$(MONITORING_PY) -m jeeves.monitoring

lint-monitoring: ## monitoring: promtool check rules, generated files in step with the code
	promtool check rules --lint=all --lint-fatal charts/jeeves-monitoring/files/rules/*.rules.yml
	$(MONITORING_PY) -m jeeves.monitoring --check

test-rules: ## monitoring: promtool test rules (every alert firing and quiet)
	cd monitoring/tests && promtool test rules *.test.yml

test-monitoring: ## monitoring: rules, dashboards, chart, jeeves-alerts with a real Alertmanager, poster edits, operator metrics (~4 min)
	$(MONITORING_PYTEST) tests/monitoring --ignore=tests/monitoring/live tests/unit/alerts \
	  tests/integration/alerts tests/unit/poster/test_poster_versions.py \
	  tests/integration/poster/test_poster_editing.py tests/k8s/kmock/test_operator_monitoring.py

test-monitoring-live: ## monitoring: make dev + Prometheus + Alertmanager, real traffic, every panel, faults → alerts (slow, ~10 min)
	$(MONITORING_PYTEST) -s tests/monitoring/live

bench-monitoring: ## monitoring: scrape cost per service (CPU per /metrics vs /healthz, bytes), rule evaluation time
	$(MONITORING_PY) bench/monitoring/run.py

"""Jeeves's monitoring as code: SLO rules, Grafana dashboards, Prometheus config for local runs.

- `slo`: the two service-level objectives (Slack ack, reply) and the multi-window,
  multi-burn-rate rules generated from them (`jeeves-slo.rules.yml`);
- `dashboards`: the Grafana dashboards, built with grafana-foundation-sdk, and `grafana_schema`,
  which checks dashboard JSON against the SDK's Grafana models;
- `scrape`: the Prometheus and Alertmanager configuration `make dev` and the tests run with;
- `files`: where the chart keeps the generated and hand-written files;
- `python -m jeeves.monitoring [--check]` writes every generated file (or fails on drift).

The rule files and dashboard JSON in `charts/jeeves-monitoring/files/` are the single source
for the chart, `make dev` and the tests; nothing here runs in a deployed service.
"""

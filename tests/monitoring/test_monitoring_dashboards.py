"""The Grafana dashboards: built from code (the committed JSON is what the code builds), valid
against Grafana's schema as grafana-foundation-sdk types it, reading only metrics Jeeves
exports or the recording rules define, and the schema check itself catches what it should.

Pure (no Grafana can run here); the queries run against a real Prometheus in
tests/monitoring/live and tests/k8s/kmock/test_operator_monitoring.py."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from rulebook import all_rules

from jeeves.monitoring.dashboards import DASHBOARDS, render
from jeeves.monitoring.files import DASHBOARDS_DIR, REPO
from jeeves.monitoring.grafana_schema import problems
from support.prometheus import metric_names, panel_queries

pytestmark = pytest.mark.unit
RECORDED = re.compile(r"\bjeeves:[a-z0-9_:]+")


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_the_committed_json_is_what_the_code_builds(name: str) -> None:
    committed = (DASHBOARDS_DIR / name).read_text()
    assert committed == render(name), "run `make monitoring-generate` and commit the result"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_each_dashboard_fits_grafanas_schema(name: str) -> None:
    dashboard = json.loads((DASHBOARDS_DIR / name).read_text())
    assert problems(dashboard) == []
    assert dashboard["uid"] == name.removesuffix(".json")
    assert {p["datasource"]["uid"] for p in dashboard["panels"] if p["type"] != "row"} == {
        "${datasource}"
    }


def test_the_four_dashboards_cover_what_the_issue_asks() -> None:
    titles = {json.loads((DASHBOARDS_DIR / n).read_text())["title"] for n in DASHBOARDS}
    assert titles == {
        "Jeeves / Overview",
        "Jeeves / Pipeline",
        "Jeeves / Actions",
        "Jeeves / Operator",
    }
    every = " ".join(expr for n in DASHBOARDS for _, expr in panel_queries(DASHBOARDS[n]()))
    for needed in (
        "jeeves:queue_depth",
        "jeeves:queue_oldest_job_age_seconds",
        "jeeves:dispatch:rate5m",
        "jeeves:dead_letters",
        "jeeves_poster_governor_wait_seconds_bucket",
        "jeeves:slack_rate_limited:rate5m",
        "jeeves_operator_reconciles_total",
        "track",
    ):
        assert needed in every, needed


def test_panels_read_real_metrics_and_recorded_rules() -> None:
    sources = [*REPO.glob("src/jeeves/**/*.py"), *REPO.glob("operator/src/**/*.py")]
    code = "\n".join(p.read_text() for p in sources)
    recorded = {rule["record"] for rule in all_rules() if "record" in rule}
    for name in DASHBOARDS:
        for title, expr in panel_queries(DASHBOARDS[name]()):
            for metric in metric_names(expr):
                base = metric.removesuffix("_bucket").removesuffix("_total")
                assert f'"{base}' in code or metric.startswith("process_") or metric == "up", (
                    f"{name} {title!r} reads {metric}, which no Jeeves code exports"
                )
            for rule in RECORDED.findall(expr):
                assert rule in recorded, f"{name} {title!r} reads {rule}, which no rule records"


def _broken(change: Any) -> dict[str, Any]:
    dashboard = copy.deepcopy(DASHBOARDS["jeeves-overview.json"]())
    change(dashboard)
    return dashboard


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["panels"][2].update(legendd=1), "/panels[2]/legendd: not in Grafana's schema"),
        (lambda d: d.update(graphTooltip=9), "dashboard.graph_tooltip: 9"),
        (lambda d: d["templating"]["list"][1].update(refresh=7), ".refresh: 7"),
        (lambda d: d["panels"][2]["gridPos"].update(x=22), "outside the 24-column grid"),
        (lambda d: d["panels"][3].update(id=2), "ids must be present and unique"),
        (
            lambda d: d["panels"][3]["targets"][0].update(expr='up{job=~"$svc"}'),
            "$svc is used but not defined",
        ),
        (lambda d: d["panels"][5]["options"]["legend"].update(showLegend="yes"), "show_legend"),
    ],
)
def test_the_schema_check_catches_what_grafana_would_refuse(change: Any, expected: str) -> None:
    found = problems(_broken(change))
    assert any(expected in problem for problem in found), found

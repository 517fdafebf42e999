"""The jeeves-monitoring chart, rendered and linted by Helm's own engine (helm-python-sdk).

Checked: nothing renders by default; with every part on, each object is valid — built-in
kinds with kubernetes-validate (strict, oldest and newest offline schemas), the Prometheus
Operator's kinds against its CRD models (cloudcoil, prometheus-operator 0.80: unknown fields
and wrong types both fail), the JeevesAction against our own CRD — the PrometheusRule is the
rule files, the dashboards are the JSON files, the examples pass amtool. (The monitors live in
the charts they scrape: tests/charts/test_charts_monitoring.py.)

Real: Helm's engine, kubernetes-validate's schemas, amtool. Nothing faked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml
from rulebook import all_rules

from jeeves.monitoring.files import CHART, DASHBOARDS_DIR, REPO, RUNBOOK_URL, rule_files
from support.prometheus_crds import CRD_MODELS, crd_problems

pytestmark = pytest.mark.unit
NAMESPACE = "jeeves"
TOKEN = "a-webhook-token-for-tests"
EVERYTHING: dict[str, Any] = {
    "rules": {"enabled": True, "runbookBaseUrl": "https://wiki.example.org/jeeves/runbook"},
    "dashboards": {"enabled": True, "annotations": {"grafana_folder": "Jeeves"}},
    "alerts": {
        "enabled": True,
        "defaultChannel": "C0ALERTS",
        "routes": [{"match": {"team": "payments"}, "channel": "C0PAY"}],
        "alertmanagerUrl": "http://alertmanager-operated.monitoring.svc:9093",
        "teamId": "T0ACME",
        "webhookToken": {"value": TOKEN},
    },
    "alertmanager": {"config": {"enabled": True}},
    "examples": {"enabled": True},
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects `helm template` would print (Helm's engine, offline)."""
    with helm_python.Chart.load(CHART) as chart:
        chart.validate_schema(values)
        files = chart.render(values, name="monitoring", namespace=NAMESPACE, is_install=True)
    return [
        obj
        for path, text in sorted(files.items())
        if not path.endswith("NOTES.txt")
        for obj in yaml.safe_load_all(text)
        if obj
    ]


@pytest.fixture(name="objects", scope="module")
def fixture_objects() -> list[dict[str, Any]]:
    return render(EVERYTHING)


def find(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_nothing_is_rendered_by_default_and_lint_is_clean() -> None:
    assert render({}) == []
    for values in ({}, EVERYTHING):
        report = helm_python.lint(CHART, values, strict=True, namespace=NAMESPACE)
        assert not report.get("errors"), report
        assert all(int(m["severity"]) < 2 for m in report.get("messages") or []), report


def test_every_part_renders_what_it_promises(objects: list[dict[str, Any]]) -> None:
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {
        ("PrometheusRule", "jeeves"),
        ("JeevesAction", "alerts"),
        ("Job", "jeeves-alerts-migrate"),
        ("Secret", "jeeves-alerts-webhook"),
        ("AlertmanagerConfig", "jeeves"),
        ("ConfigMap", "jeeves-monitoring-examples"),
    } <= names
    assert len(find(objects, "ConfigMap")) == 1 + len(list(DASHBOARDS_DIR.glob("*.json")))


@pytest.mark.parametrize("version", ["1.25.0", kubernetes_validate.latest_version()])
def test_built_in_kinds_are_valid_kubernetes(objects: list[dict[str, Any]], version: str) -> None:
    built_in = [o for o in objects if o["kind"] in ("Secret", "ConfigMap", "Job")]
    assert built_in
    for obj in built_in:
        kubernetes_validate.validate(obj, version, strict=True)


def test_prometheus_operator_kinds_match_the_operators_crds(objects: list[dict[str, Any]]) -> None:
    checked = [o for o in objects if o["kind"] in CRD_MODELS]
    assert {o["kind"] for o in checked} == {"PrometheusRule", "AlertmanagerConfig"}
    for obj in checked:
        assert crd_problems(obj) == [], obj["metadata"]["name"]


def test_the_alerts_action_fits_the_jeevesaction_crd(objects: list[dict[str, Any]]) -> None:
    crd = yaml.safe_load((REPO / "manifests" / "crds" / "jeevesactions.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    [action] = find(objects, "JeevesAction")
    jsonschema.validate(action, schema)
    env = {e["name"]: e for e in action["spec"]["env"]}
    assert env["JEEVES_ALERTS_WEBHOOK_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "jeeves-alerts-webhook",
        "key": "token",
    }
    assert json.loads(env["JEEVES_ALERTS_ROUTES"]["value"]) == EVERYTHING["alerts"]["routes"]
    assert env["JEEVES_ALERTS_TEAM_ID"]["value"] == "T0ACME"
    assert action["spec"]["image"] == "ghcr.io/jeeves-dev/jeeves-alerts:0.1.0"


def test_the_prometheus_rule_is_the_rule_files(objects: list[dict[str, Any]]) -> None:
    [rule] = find(objects, "PrometheusRule")
    rendered = [r for g in rule["spec"]["groups"] for r in g["rules"]]
    assert len(rendered) == len(all_rules())
    assert [g["name"] for g in rule["spec"]["groups"]] == [
        g["name"] for p in rule_files() for g in yaml.safe_load(p.read_text())["groups"]
    ]
    links = [r["annotations"]["runbook_url"] for r in rendered if "alert" in r]
    assert links
    assert all(link.startswith("https://wiki.example.org/jeeves/runbook#") for link in links)
    assert not any(RUNBOOK_URL in json.dumps(r) for r in rendered)


def test_dashboards_are_configmaps_the_grafana_sidecar_picks_up(
    objects: list[dict[str, Any]],
) -> None:
    maps = [o for o in find(objects, "ConfigMap") if o["metadata"]["name"].endswith("-dashboard")]
    assert len(maps) == 4
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"] == {"grafana_folder": "Jeeves"}
        [(name, text)] = config_map["data"].items()
        assert json.loads(text) == json.loads((DASHBOARDS_DIR / name).read_text())


def test_the_sample_route_and_examples_deliver_to_jeeves_alerts(
    objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    url = f"http://jeeves-alerts.{NAMESPACE}.svc:8080/v1/alertmanager"
    [route] = find(objects, "AlertmanagerConfig")
    [webhook] = route["spec"]["receivers"][0]["webhookConfigs"]
    assert webhook["url"] == url
    assert webhook["httpConfig"]["authorization"]["credentials"]["name"] == "jeeves-alerts-webhook"
    [examples] = [o for o in objects if o["metadata"]["name"] == "jeeves-monitoring-examples"]
    alertmanager = examples["data"]["alertmanager.yml"]
    assert url in alertmanager
    path = tmp_path / "alertmanager.yml"
    path.write_text(alertmanager)
    amtool = shutil.which("amtool")
    assert amtool, "amtool not found: run `make setup`"
    checked = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    scrape = yaml.safe_load(examples["data"]["prometheus-scrape-configs.yml"])
    namespaces = [
        c["kubernetes_sd_configs"][0]["namespaces"]["names"] for c in scrape["scrape_configs"]
    ]
    assert namespaces == [[NAMESPACE], [NAMESPACE]]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"alerts": {"enabled": True, "webhookToken": {"value": TOKEN}}}, "alerts.defaultChannel"),
        ({"alerts": {"enabled": True, "defaultChannel": "C0A"}}, "alerts.webhookToken"),
        ({"alerts": {"webhookToken": {"value": "short"}}}, "webhookToken"),
        ({"dashboards": {"enabeld": True}}, "enabeld"),
        ({"alerts": {"teamId": "acme"}}, "teamId"),
        ({"monitoring": {"enabled": True}}, "monitoring"),  # moved to the jeeves charts
    ],
)
def test_bad_values_are_refused_by_name(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm_python.HelmError, match=message):
        render(values)


def test_the_chart_schema_is_valid_json_schema() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(values, schema)

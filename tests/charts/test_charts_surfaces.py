"""The surfaces beyond the pipeline: the dealer's one client table, the dashboard (its read-only
Kubernetes access), jeeves-socket, the Strava action and a distributed Slack app.

Real: the chart rendered by Helm's engine; the code's registry (`jeeves-tokens init-dev`) and
the dashboard's settings class as the references.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml
from chart_checks import pod_spec
from chart_scenarios import (
    DASHBOARD_ON,
    DEFAULT,
    EVERYTHING_ON,
    SOCKET_DISTRIBUTED,
    STRAVA_ON,
    Render,
)

from jeeves.dashboard.settings import DashboardSettings
from jeeves.tokens.commands import DEV_CLIENTS
from jeeves_operator.claims import find_problem
from jeeves_operator.models import ActionRef
from support.helm import CHARTS, HelmFailure, Rendering, merge, render

pytestmark = pytest.mark.charts

READ_VERBS = {"get", "list", "watch"}


def chart_clients() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHARTS / "jeeves" / "values.yaml").read_text())
    clients: dict[str, Any] = values["auth"]["clients"]
    return clients


def values_of(rendering: Rendering, deployment: str) -> dict[str, Any]:
    """name -> value (None for a secretKeyRef) of a Deployment's first container."""
    env = pod_spec(rendering.find("Deployment", deployment))["containers"][0]["env"]
    return {e["name"]: e.get("value") for e in env}


def registered(rendering: Rendering) -> dict[str, Any]:
    spec = rendering.find("ConfigMap", "jeeves-tokens-clients")["data"]["spec.json"]
    clients: dict[str, Any] = json.loads(spec)["clients"]
    return clients


def test_the_chart_registers_the_codes_clients() -> None:
    """auth.clients is the code's registry: same ids, same scopes, same audiences, except the
    dashboard's, narrowed to exactly the services its settings let it call."""
    chart = chart_clients()
    assert sorted(chart) == sorted(DEV_CLIENTS)
    for client_id, (audiences, scopes) in DEV_CLIENTS.items():
        assert chart[client_id]["scopes"] == scopes, client_id
        if client_id != "dashboard":
            assert chart[client_id]["audiences"] == audiences, client_id
    called = {
        field.removesuffix("_url")
        for field in DashboardSettings.model_fields
        if field in ("data_url", "dispatcher_url", "poster_url")
    }
    assert set(chart["dashboard"]["audiences"]) == called


def test_a_client_is_registered_exactly_when_its_caller_runs(rendered: Render) -> None:
    default = rendered("jeeves", DEFAULT)
    assert sorted(registered(default)) == ["cli", "dispatcher", "echo", "memory", "weather"]
    everything = rendered("jeeves", EVERYTHING_ON)
    assert sorted(registered(everything)) == sorted(DEV_CLIENTS)
    assert registered(everything)["strava"] == {
        "audiences": ["data", "poster"],
        "scopes": ["data", "post", "credentials"],
    }
    for rendering, clients in ((default, registered(default)), (everything, DEV_CLIENTS)):
        secrets = {
            s["metadata"]["name"]
            for s in rendering.of_kind("Secret")
            if s["metadata"]["name"].endswith("-auth")
        }
        assert secrets == {f"jeeves-{client_id}-auth" for client_id in clients}
    # A distributed app without jeeves-socket: gateway and poster, no socket client.
    distributed = rendered(
        "jeeves", merge(SOCKET_DISTRIBUTED, {"jeeves-socket": {"enabled": False}})
    )
    assert {"gateway", "poster"} <= set(registered(distributed))
    assert "socket" not in registered(distributed)


def test_a_caller_without_its_client_stops_the_render() -> None:
    values = merge(DASHBOARD_ON, {"auth": {"clients": {"dashboard": None}}})
    with pytest.raises(HelmFailure, match=r"jeeves-dashboard.*auth.clients.dashboard is missing"):
        render("jeeves", values)


def test_the_dashboard_may_only_read_jeevesactions(rendered: Render) -> None:
    rendering = rendered("jeeves", DASHBOARD_ON)
    roles = rendering.of_kind("Role") + rendering.of_kind("ClusterRole")
    assert [r["metadata"]["name"] for r in roles] == ["jeeves-dashboard"]
    rules = roles[0]["rules"]
    assert len(rules) == 1
    assert rules[0]["apiGroups"] == ["jeeves.dev"]
    assert rules[0]["resources"] == ["jeevesactions"]
    assert set(rules[0]["verbs"]) <= READ_VERBS
    binding = rendering.find("RoleBinding", "jeeves-dashboard")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "jeeves-dashboard",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "jeeves-dashboard", "namespace": "jeeves"}
    ]
    assert rendering.of_kind("ClusterRoleBinding") == []
    # Only the dashboard's Pods carry a Kubernetes API token.
    for deployment in rendering.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        mounts = pod_spec(deployment)["automountServiceAccountToken"]
        assert mounts is (name == "jeeves-dashboard"), name
    env = values_of(rendering, "jeeves-dashboard")
    assert env["JEEVES_KUBE_NAMESPACE"] == "jeeves"
    assert env["JEEVES_PUBLIC_URL"] == "https://jeeves-admin.example.com"
    assert env["JEEVES_DASHBOARD_ADMINS"] == "U0ADMIN01,U0ADMIN02"
    off = rendered(
        "jeeves", merge(DASHBOARD_ON, {"jeeves-dashboard": {"kubernetes": {"enabled": False}}})
    )
    assert off.of_kind("Role") == []
    assert off.of_kind("RoleBinding") == []
    dashboard = pod_spec(off.find("Deployment", "jeeves-dashboard"))
    assert dashboard["automountServiceAccountToken"] is False
    assert not any(e["name"].startswith("JEEVES_KUBE_") for e in dashboard["containers"][0]["env"])


def test_the_dashboard_and_socket_migrate_with_the_rest(rendered: Render) -> None:
    rendering = rendered("jeeves", EVERYTHING_ON, is_upgrade=False)
    jobs = [j["metadata"]["name"] for j in rendering.of_kind("Job")]
    assert {"jeeves-dashboard-migrate", "jeeves-socket-migrate"} <= set(jobs)
    default = rendered("jeeves", DEFAULT)
    names = {j["metadata"]["name"] for j in default.of_kind("Job")}
    assert not names & {"jeeves-dashboard-migrate", "jeeves-socket-migrate"}


def test_the_dashboards_own_database_url(rendered: Render) -> None:
    rendering = rendered("jeeves", DASHBOARD_ON)
    secret = rendering.find("Secret", "jeeves-database")
    url = base64.b64decode(secret["data"]["dashboard-url"]).decode()
    assert url == "postgresql://dash:pw@db.example.internal:5432/dashboard"
    env = pod_spec(rendering.find("Deployment", "jeeves-dashboard"))["containers"][0]["env"]
    ref = next(e for e in env if e["name"] == "JEEVES_DATABASE_URL")["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == ("jeeves-database", "dashboard-url")


def test_socket_links_stay_within_slacks_limit() -> None:
    """Slack allows 10 Socket Mode links per app: replicas x socketConnections above it stops."""
    fine = merge(
        SOCKET_DISTRIBUTED, {"jeeves-socket": {"replicas": 5, "settings": {"socketConnections": 2}}}
    )
    render("jeeves", fine)
    over = merge(fine, {"jeeves-socket": {"replicas": 6}})
    with pytest.raises(HelmFailure, match="12 Socket Mode links"):
        render("jeeves", over)


def test_a_distributed_app_needs_no_bot_token(rendered: Render) -> None:
    rendering = rendered("jeeves", SOCKET_DISTRIBUTED)
    slack = rendering.find("Secret", "jeeves-slack")["data"]
    assert "bot-token" not in slack
    assert base64.b64decode(slack["app-token"]).decode().startswith("xapp-1-A0JEEVES")
    for name in ("gateway", "poster", "socket"):
        env = values_of(rendering, f"jeeves-{name}")
        assert env["JEEVES_SLACK_DISTRIBUTED"] == "true", name
        assert env["JEEVES_DATA_URL"] == "http://jeeves-data.jeeves.svc:8080", name
        assert "JEEVES_SLACK_BOT_TOKEN" not in env, name
    gateway = values_of(rendering, "jeeves-gateway")
    assert gateway["JEEVES_SLACK_REDIRECT_URI"] == "https://jeeves.example.com/slack/oauth_redirect"


def test_the_strava_callback_shares_the_gateways_host(rendered: Render) -> None:
    rendering = rendered("jeeves", STRAVA_ON)
    ingress = rendering.find("Ingress", "jeeves-strava")["spec"]
    assert ingress["rules"] == [
        {
            "host": "jeeves.example.com",
            "http": {
                "paths": [
                    {
                        "path": "/strava/callback",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "jeeves-strava", "port": {"name": "http"}}},
                    }
                ]
            },
        }
    ]
    assert ingress["tls"] == [{"hosts": ["jeeves.example.com"], "secretName": "tls"}]
    strava = rendering.find("JeevesAction", "strava")["spec"]
    assert strava["keywords"] == ["strava", "runs", "login strava"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in strava["env"]}
    assert env["JEEVES_STRAVA_PUBLIC_URL"] == "https://jeeves.example.com"
    assert env["JEEVES_STRAVA_URL"] == "https://www.strava.com"
    assert env["JEEVES_STRAVA_CLIENT_SECRET"]["secretKeyRef"]["name"] == "jeeves-strava"
    assert set(strava) <= {
        "keywords",
        "description",
        "usage",
        "replicas",
        "timeoutSeconds",
        "image",
        "env",
    }  # only JeevesAction spec fields: the chart's own keys stay out


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            merge(SOCKET_DISTRIBUTED, {"slack": {"appToken": ""}}),
            "jeeves-socket needs slack.appToken",
        ),
        (
            merge(DASHBOARD_ON, {"slack": {"clientSecret": ""}}),
            "set slack.clientSecret",
        ),
        (
            merge(DASHBOARD_ON, {"jeeves-dashboard": {"ingress": {"enabled": False}}}),
            "jeeves-dashboard needs publicUrl",
        ),
        (
            merge(SOCKET_DISTRIBUTED, {"jeeves-gateway": {"ingress": {"enabled": False}}}),
            "slack.distributed needs slack.redirectUri",
        ),
        (
            merge(STRAVA_ON, {"actions": {"strava": {"clientSecret": ""}}}),
            "actions.strava needs clientSecret",
        ),
        (
            merge(STRAVA_ON, {"actions": {"strava": {"ingress": {"enabled": False}}}}),
            "actions.strava needs publicUrl",
        ),
    ],
)
def test_missing_surface_values_stop_the_render_with_what_to_set(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmFailure, match=message):
        render("jeeves", values)


def test_notes_name_the_urls_to_register_and_print_no_secret(rendered: Render) -> None:
    values = merge(
        merge(SOCKET_DISTRIBUTED, STRAVA_ON),
        {"jeeves-dashboard": DASHBOARD_ON["jeeves-dashboard"]},
    )
    rendering = rendered("jeeves", values)
    notes = rendering.notes
    assert "Redirect URLs         https://jeeves.example.com/slack/oauth_redirect" in notes
    assert "https://jeeves.example.com/slack/install" in notes
    assert "Socket Mode (jeeves-socket)" in notes
    assert "https://jeeves-admin.example.com/auth/callback" in notes
    assert "Authorization Callback Domain to jeeves.example.com." in notes
    secrets = [
        base64.b64decode(v).decode()
        for s in rendering.of_kind("Secret")
        for v in (s.get("data") or {}).values()
    ]
    assert [value for value in secrets if value in notes] == []


def test_the_operators_default_allow_list_admits_the_charts_own_actions(rendered: Render) -> None:
    """The operator refuses a JeevesAction whose env reads a Secret off its allow-list, so the
    JeevesActions both platform charts install must pass the operator chart's default list —
    checked with the operator's own rule (claims.find_problem), as it would run in a cluster."""
    operator_values = yaml.safe_load((CHARTS / "jeeves-operator" / "values.yaml").read_text())
    allowed = frozenset(operator_values["actionSecrets"])
    monitoring = render(
        CHARTS / "jeeves-monitoring",
        {
            "alerts": {
                "enabled": True,
                "defaultChannel": "C0ALERTS",
                "webhookToken": {"value": "a-webhook-token-for-tests"},
            }
        },
    )
    actions = rendered("jeeves", EVERYTHING_ON).of_kind("JeevesAction")
    actions += monitoring.of_kind("JeevesAction")
    assert {a["metadata"]["name"] for a in actions} >= {"echo", "memory", "weather", "strava"}
    assert "alerts" in {a["metadata"]["name"] for a in actions}
    for action in actions:
        ref = ActionRef(
            name=action["metadata"]["name"], namespace="jeeves", uid="uid", created="2026-01-01"
        )
        problem = find_problem(action["spec"], ref, {}, allowed_secrets=allowed)
        assert problem is None, (ref.name, problem)
    # ... and the list is what admits them: without it, Strava's is refused.
    strava = next(a for a in actions if a["metadata"]["name"] == "strava")
    ref = ActionRef(name="strava", namespace="jeeves", uid="uid", created="2026-01-01")
    refused = find_problem(strava["spec"], ref, {}, allowed_secrets=frozenset())
    assert refused is not None
    assert refused.reason == "SecretNotAllowed"

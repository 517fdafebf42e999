"""charts/jeeves rendered by Helm's engine for each scenario: which objects, wired how.

Real: helm-python-sdk renders the chart offline (as `helm template`); the assertions read the
objects. The consistency checks of chart_checks.py run over every scenario and both Kubernetes
versions. Nothing is faked.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from chart_checks import all_problems, pod_spec
from chart_scenarios import (
    DEFAULT,
    DISCOVERY_120,
    DISCOVERY_CURRENT,
    EXISTING,
    EXISTING_SECRETS,
    EXTERNAL_DATA_DB,
    EXTERNAL_DB,
    EXTERNAL_DB_SPLIT,
    HPA_ON,
    IN_CHART_DB,
    KUBE_120,
    KUBE_CURRENT,
    SCENARIOS,
    TEST_CLUSTER,
    Render,
)
from cryptography.fernet import Fernet

from support.helm import HOOK, HelmFailure, KubeObject, Rendering, annotations_of, merge, render

pytestmark = pytest.mark.charts

PLATFORM = ("gateway", "dispatcher", "poster", "data", "tokens")
MIGRATED = ("gateway", "dispatcher", "poster", "data")


def env_of(rendering: Rendering, deployment: str, container: int = 0) -> dict[str, Any]:
    """name -> value (or the valueFrom mapping) of a Deployment's container."""
    spec = pod_spec(rendering.find("Deployment", deployment))
    return {
        e["name"]: e.get("value", e.get("valueFrom"))
        for e in spec["containers"][container].get("env") or []
    }


def secret_ref(value: Any) -> tuple[str, str]:
    ref = value["secretKeyRef"]
    return ref["name"], ref["key"]


def decoded(secret: KubeObject) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


@pytest.mark.parametrize("kube", [KUBE_120, KUBE_CURRENT])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_is_consistent(rendered: Render, scenario: str, kube: str) -> None:
    rendering = rendered("jeeves", SCENARIOS[scenario], kube_version=kube)
    existing = EXISTING if scenario == "existing-secrets" else {}
    assert all_problems(rendering, existing) == []


def test_default_renders_the_platform_with_hooks_and_actions(rendered: Render) -> None:
    rendering = rendered("jeeves", DEFAULT)
    deployments = [f"jeeves-{n}" for n in PLATFORM]
    assert rendering.names("Deployment") == deployments
    assert rendering.names("Service") == deployments
    assert rendering.names("ServiceAccount") == deployments
    assert rendering.names("PodDisruptionBudget") == deployments
    assert rendering.of_kind("HorizontalPodAutoscaler") == []
    assert rendering.of_kind("StatefulSet") == []
    assert sorted(rendering.names("JeevesAction")) == ["echo", "memory", "weather"]
    for name in PLATFORM:
        spec = pod_spec(rendering.find("Deployment", f"jeeves-{name}"))
        assert spec["containers"][0]["image"] == f"ghcr.io/jeeves-dev/jeeves-{name}:0.1.0"
        assert spec["automountServiceAccountToken"] is False
        service = rendering.find("Service", f"jeeves-{name}")
        assert service["spec"]["ports"] == [
            {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
        ]
    jobs = {j["metadata"]["name"]: annotations_of(j) for j in rendering.of_kind("Job")}
    assert list(jobs) == [f"jeeves-{n}-migrate" for n in MIGRATED]
    for weight, name in enumerate(MIGRATED):
        marks = jobs[f"jeeves-{name}-migrate"]
        assert marks[HOOK] == "pre-install,pre-upgrade"
        assert marks["helm.sh/hook-weight"] == str(weight)
        job = rendering.find("Job", f"jeeves-{name}-migrate")
        assert pod_spec(job)["containers"][0]["command"] == [f"jeeves-{name}", "migrate"]
        wait = pod_spec(job)["initContainers"][0]
        assert wait["command"] == ["python3", "-c"]
        assert "asyncpg.connect" in wait["args"][0]
    hook_secret = rendering.find("Secret", "jeeves-migrate-database")
    assert annotations_of(hook_secret)["helm.sh/hook-weight"] == "-10"
    assert decoded(hook_secret) == decoded(rendering.find("Secret", "jeeves-database"))


def test_each_deployable_gets_its_wiring(rendered: Render) -> None:
    rendering = rendered("jeeves", DEFAULT)
    gateway = env_of(rendering, "jeeves-gateway")
    assert secret_ref(gateway["JEEVES_DATABASE_URL"]) == ("jeeves-database", "url")
    assert secret_ref(gateway["JEEVES_SLACK_SIGNING_SECRET"]) == ("jeeves-slack", "signing-secret")
    assert "JEEVES_ETCD_ENDPOINTS" not in gateway  # it reads nothing from etcd (issue 14)
    assert gateway["JEEVES_SLACK_BOT_USER_ID"] == "U0BOTBOT1"
    assert "JEEVES_TOKENS_URL" not in gateway  # it verifies Slack, not JWTs
    dispatcher = env_of(rendering, "jeeves-dispatcher")
    assert dispatcher["JEEVES_ETCD_ENDPOINTS"] == "etcd.example.internal:2379"
    assert dispatcher["JEEVES_DATA_URL"] == "http://jeeves-data.jeeves.svc:8080"
    assert dispatcher["JEEVES_TOKENS_URL"] == "http://jeeves-tokens.jeeves.svc:8080"
    assert secret_ref(dispatcher["JEEVES_AUTH_CLIENT_SECRET"]) == (
        "jeeves-dispatcher-auth",
        "client-secret",
    )
    assert dispatcher["JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S"] == "5"
    poster = env_of(rendering, "jeeves-poster")
    assert poster["JEEVES_SLACK_API_URL"] == "https://slack.com/api/"
    assert secret_ref(poster["JEEVES_SLACK_BOT_TOKEN"]) == ("jeeves-slack", "bot-token")
    data = env_of(rendering, "jeeves-data")
    assert secret_ref(data["JEEVES_DATABASE_URL"]) == ("jeeves-database", "data-url")
    assert secret_ref(data["JEEVES_DATA_ENCRYPTION_KEY"]) == ("jeeves-data", "encryption-key")
    tokens = env_of(rendering, "jeeves-tokens")
    assert tokens["JEEVES_TOKENS_KEYS_DIR"] == "/var/run/jeeves/state/keys"
    assert tokens["JEEVES_TOKENS_CLIENTS_FILE"] == "/var/run/jeeves/state/clients.json"
    init = [
        c["name"] for c in pod_spec(rendering.find("Deployment", "jeeves-tokens"))["initContainers"]
    ]
    assert init == ["import-key", "build-registry"]
    for name in PLATFORM:
        assert env_of(rendering, f"jeeves-{name}")["JEEVES_ENV"] == "prod"


def test_generated_secrets_have_usable_shapes(rendered: Render) -> None:
    rendering = rendered("jeeves", DEFAULT)
    key = decoded(rendering.find("Secret", "jeeves-tokens-key"))["signing-key.pem"]
    assert key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    fernet = Fernet(decoded(rendering.find("Secret", "jeeves-data"))["encryption-key"])
    assert fernet.decrypt(fernet.encrypt(b"token")) == b"token"
    clients = {s["metadata"]["name"] for s in rendering.of_kind("Secret")} & {
        f"jeeves-{c}-auth" for c in ("dispatcher", "echo", "memory", "weather", "cli")
    }
    assert len(clients) == 5
    secrets = {decoded(rendering.find("Secret", name))["client-secret"] for name in clients}
    assert len(secrets) == 5
    assert all(len(s) >= 40 for s in secrets)
    spec = rendering.find("ConfigMap", "jeeves-tokens-clients")["data"]["spec.json"]
    assert '"dispatcher":{"audiences":["*"],"scopes":["act","data","audit"]}' in spec


def test_notes_say_where_slack_calls_and_print_no_secret(rendered: Render) -> None:
    values = merge(
        DEFAULT,
        {
            "jeeves-gateway": {
                "ingress": {"enabled": True, "host": "jeeves.example.com", "tlsSecretName": "tls"}
            }
        },
    )
    rendering = rendered("jeeves", values)
    for path in ("events", "commands", "interactivity"):
        assert f"https://jeeves.example.com/slack/{path}" in rendering.notes
    secret_values = [v for s in rendering.of_kind("Secret") for v in decoded(s).values()]
    secret_values += [DEFAULT["slack"]["signingSecret"], DEFAULT["slack"]["botToken"], EXTERNAL_DB]
    for value in secret_values:
        assert value not in rendering.notes
    ingress = rendering.find("Ingress", "jeeves-gateway")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "jeeves-gateway", "port": {"name": "http"}}


def test_external_database_split_gives_data_its_own_url(rendered: Render) -> None:
    rendering = rendered("jeeves", EXTERNAL_DB_SPLIT)
    urls = decoded(rendering.find("Secret", "jeeves-database"))
    assert urls == {"url": EXTERNAL_DB, "data-url": EXTERNAL_DATA_DB}
    migrate = pod_spec(rendering.find("Job", "jeeves-data-migrate"))["containers"][0]
    url = next(e for e in migrate["env"] if e["name"] == "JEEVES_DATABASE_URL")
    assert secret_ref(url["valueFrom"]) == ("jeeves-migrate-database", "data-url")
    assert env_of(rendering, "jeeves-dispatcher")["JEEVES_ETCD_ENDPOINTS"] == (
        "etcd-0.example:2379,etcd-1.example:2379"
    )
    # Signing keys given as genkey files: mounted as the keys directory, nothing to import.
    files = EXTERNAL_DB_SPLIT["jeeves-tokens"]["signingKeys"]["files"]
    assert decoded(rendering.find("Secret", "jeeves-tokens-keys")) == files
    tokens = pod_spec(rendering.find("Deployment", "jeeves-tokens"))
    assert [c["name"] for c in tokens["initContainers"]] == ["build-registry"]
    keys = next(v for v in tokens["volumes"] if v["name"] == "keys")
    assert keys["secret"]["secretName"] == "jeeves-tokens-keys"
    assert env_of(rendering, "jeeves-tokens")["JEEVES_TOKENS_KEYS_DIR"] == "/var/run/jeeves/keys"
    assert "jeeves-tokens-key" not in rendering.names("Secret")


def test_in_chart_datastores_and_first_install_migrations(rendered: Render) -> None:
    rendering = rendered("jeeves", IN_CHART_DB)
    assert rendering.names("StatefulSet") == ["jeeves-postgres", "jeeves-etcd"]
    for name in ("jeeves-postgres", "jeeves-etcd"):
        claims = rendering.find("StatefulSet", name)["spec"]["volumeClaimTemplates"]
        assert claims[0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    postgres = pod_spec(rendering.find("StatefulSet", "jeeves-postgres"))["containers"][0]
    assert {e["name"] for e in postgres["env"]} == {
        "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD", "PGDATA",
    }  # fmt: skip
    gateway = pod_spec(rendering.find("Deployment", "jeeves-gateway"))["containers"][0]["env"]
    names = [e["name"] for e in gateway]
    assert names.index("POSTGRES_PASSWORD") < names.index("JEEVES_DATABASE_URL")
    url = next(e["value"] for e in gateway if e["name"] == "JEEVES_DATABASE_URL")
    assert url == "postgresql://jeeves:$(POSTGRES_PASSWORD)@jeeves-postgres.jeeves.svc:5432/jeeves"
    assert (
        env_of(rendering, "jeeves-dispatcher")["JEEVES_ETCD_ENDPOINTS"]
        == "jeeves-etcd.jeeves.svc:2379"
    )
    assert "jeeves-database" not in rendering.names("Secret")
    jobs = rendering.of_kind("Job")
    plain = [j["metadata"]["name"] for j in jobs if HOOK not in annotations_of(j)]
    marks = {j["metadata"]["name"]: annotations_of(j) for j in jobs}
    hooks = {name: m[HOOK] for name, m in marks.items() if HOOK in m}
    assert plain == [f"jeeves-{n}-migrate-install" for n in MIGRATED]
    assert hooks == {f"jeeves-{n}-migrate": "pre-upgrade" for n in MIGRATED}
    upgrade = rendered("jeeves", IN_CHART_DB, is_upgrade=True)
    assert [j["metadata"]["name"] for j in upgrade.of_kind("Job")] == list(hooks)


def test_existing_secrets_replace_every_chart_secret(rendered: Render) -> None:
    rendering = rendered("jeeves", EXISTING_SECRETS)
    assert rendering.of_kind("Secret") == []
    assert rendering.of_kind("ConfigMap") == []
    assert secret_ref(env_of(rendering, "jeeves-gateway")["JEEVES_SLACK_SIGNING_SECRET"]) == (
        "my-slack",
        "signing-secret",
    )
    assert secret_ref(env_of(rendering, "jeeves-data")["JEEVES_DATA_ENCRYPTION_KEY"]) == (
        "my-data-key",
        "encryption-key",
    )
    for job in rendering.of_kind("Job"):
        env = pod_spec(job)["containers"][0]["env"]
        url = next(e for e in env if e["name"] == "JEEVES_DATABASE_URL")
        assert url["valueFrom"]["secretKeyRef"]["name"] == "my-database"
    tokens = pod_spec(rendering.find("Deployment", "jeeves-tokens"))
    assert "initContainers" not in tokens
    volumes = {v["name"]: v for v in tokens["volumes"]}
    assert volumes["keys"]["secret"]["secretName"] == "my-signing-keys"
    assert volumes["clients"]["secret"]["secretName"] == "my-clients"
    env = env_of(rendering, "jeeves-tokens")
    assert env["JEEVES_TOKENS_KEYS_DIR"] == "/var/run/jeeves/keys"
    assert env["JEEVES_TOKENS_CLIENTS_FILE"] == "/var/run/jeeves/clients/clients.json"


@pytest.mark.parametrize(
    ("kube", "discovery", "pdb", "hpa"),
    [
        (KUBE_120, (), "policy/v1beta1", "autoscaling/v2beta2"),
        (KUBE_CURRENT, (), "policy/v1", "autoscaling/v2"),
        (KUBE_CURRENT, DISCOVERY_120, "policy/v1beta1", "autoscaling/v2beta2"),
        (KUBE_120, DISCOVERY_CURRENT, "policy/v1", "autoscaling/v2"),
    ],
)
def test_api_versions_follow_what_the_cluster_serves(
    rendered: Render, kube: str, discovery: tuple[str, ...], pdb: str, hpa: str
) -> None:
    """Discovered kinds decide (a real API server); offline, the Kubernetes version does."""
    rendering = rendered("jeeves", HPA_ON, kube_version=kube, api_versions=discovery)
    assert {o["apiVersion"] for o in rendering.of_kind("PodDisruptionBudget")} == {pdb}
    scalers = rendering.of_kind("HorizontalPodAutoscaler")
    assert [s["metadata"]["name"] for s in scalers] == [f"jeeves-{n}" for n in PLATFORM]
    assert {s["apiVersion"] for s in scalers} == {hpa}
    for name in PLATFORM:
        assert "replicas" not in rendering.find("Deployment", f"jeeves-{name}")["spec"]


def test_emulators_and_test_cluster_wiring(rendered: Render) -> None:
    rendering = rendered("jeeves", TEST_CLUSTER)
    for name in ("slack-emulator", "weather-emulator"):
        deployment = rendering.find("Deployment", f"jeeves-{name}")
        image = pod_spec(deployment)["containers"][0]["image"]
        assert image == f"localhost/jeeves-{name}:0.1.0"
        rendering.find("Service", f"jeeves-{name}")
    assert env_of(rendering, "jeeves-poster")["JEEVES_SLACK_API_URL"] == (
        "http://jeeves-slack-emulator.jeeves.svc:8080/api/"
    )
    emulator = env_of(rendering, "jeeves-slack-emulator")
    assert emulator["JEEVES_EMULATOR_GATEWAY_URL"] == "http://jeeves-gateway.jeeves.svc:8080"
    assert emulator["JEEVES_EMULATOR_PUBLIC_URL"] == "http://jeeves-slack-emulator.jeeves.svc:8080"
    assert (
        emulator["JEEVES_EMULATOR_BOT_USER_ID"]
        == env_of(rendering, "jeeves-dispatcher")["JEEVES_SLACK_BOT_USER_ID"]
        == "U0JEEVES"
    )
    weather = rendering.find("JeevesAction", "weather")["spec"]
    env = {e["name"]: e.get("value") for e in weather["env"]}
    assert env["JEEVES_OPEN_METEO_URL"] == "http://jeeves-weather-emulator.jeeves.svc:8080"
    assert weather["image"] == "localhost/jeeves-weather:0.1.0"
    slack = decoded(rendering.find("Secret", "jeeves-slack"))
    assert set(slack) == {"signing-secret", "bot-token", "app-token", "client-secret"}
    assert slack["app-token"].startswith("xapp-")  # what jeeves-socket and the emulator share
    assert slack["client-secret"] == "emulator-oidc-client-secret"  # the emulator's own client
    for name in PLATFORM:
        assert rendering.find("Deployment", f"jeeves-{name}")["spec"]["replicas"] == 1


def test_actions_carry_platform_urls_and_their_client_secret(rendered: Render) -> None:
    dice = {"name": "dice", "keywords": ["dice", "roll"], "image": "registry.example/dice:1.0"}
    rendering = rendered("jeeves", merge(DEFAULT, {"actions": {"extra": [dice]}}))
    assert rendering.names("JeevesAction") == ["echo", "memory", "weather", "dice"]
    for action in rendering.of_kind("JeevesAction"):
        name = action["metadata"]["name"]
        env = {e["name"]: e for e in action["spec"]["env"]}
        assert env["JEEVES_DATA_URL"]["value"] == "http://jeeves-data.jeeves.svc:8080"
        assert env["JEEVES_POSTER_URL"]["value"] == "http://jeeves-poster.jeeves.svc:8080"
        assert env["JEEVES_TOKENS_URL"]["value"] == "http://jeeves-tokens.jeeves.svc:8080"
        assert env["JEEVES_AUTH_AUDIENCE"]["value"] == name
        ref = env["JEEVES_AUTH_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": f"jeeves-{name}-auth", "key": "client-secret", "optional": True}
        assert "install" not in action["spec"]
    assert rendering.find("JeevesAction", "dice")["spec"]["image"] == "registry.example/dice:1.0"
    memory = rendering.find("JeevesAction", "memory")["spec"]
    assert memory["keywords"] == ["remember", "forget", "recall"]
    assert memory["timeoutSeconds"] == 5
    assert memory["image"] == "ghcr.io/jeeves-dev/jeeves-memory:0.1.0"


def test_without_the_crd_a_real_install_stops_with_a_clear_message() -> None:
    served = ("v1/Service", "apps/v1/Deployment")  # a real API server, no JeevesAction CRD
    with pytest.raises(HelmFailure, match=r"no JeevesAction CRD.*jeeves-operator chart"):
        render("jeeves", DEFAULT, api_versions=served)
    quiet = render("jeeves", merge(DEFAULT, {"actions": {"enabled": False}}), api_versions=served)
    assert quiet.of_kind("JeevesAction") == []
    assert render("jeeves", DEFAULT, api_versions=DISCOVERY_CURRENT).of_kind("JeevesAction")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({**DEFAULT, "slack": {}}, "set slack.signingSecret and slack.botToken"),
        (merge(DEFAULT, {"slack": {"botUserId": ""}}), "set slack.botUserId"),
        ({**DEFAULT, "database": {}}, "no database: set database.url"),
        ({**DEFAULT, "etcd": {}}, "no etcd: set etcd.endpoints"),
        (
            merge(DEFAULT, {"jeeves-tokens": {"clientRegistry": {"existingSecret": "reg"}}}),
            "auth.clients.cli.secret is required with jeeves-tokens.clientRegistry",
        ),
        (
            merge(DEFAULT, {"jeeves-gateway": {"ingress": {"enabled": True}}}),
            "jeeves-gateway.ingress.host is required",
        ),
        (merge(DEFAULT, {"actions": {"extra": [{"name": "x", "keywords": ["x"]}]}}), "image"),
    ],
)
def test_missing_values_stop_the_render_with_what_to_set(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmFailure, match=message):
        render("jeeves", values)

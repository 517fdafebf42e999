"""The value sets the chart tests render, and the Kubernetes versions they render for.

Each scenario is a complete, installable set of values for charts/jeeves (what a person would
pass with -f), named for what it exercises. `TEST_CLUSTER` is what the real-node cluster test
installs (docs/deploying.md repeats it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization

from jeeves.tokens.domain.keys import generate_key
from support.helm import Rendering, merge

Values = dict[str, Any]
# The `rendered` fixture (conftest.py): render(chart, values, kube_version=, api_versions=,
# is_upgrade=), memoized for the session.
Render = Callable[..., Rendering]

# The API versions a real API server adds to .Capabilities (kinds included). Rendering with
# them plays `helm install` against that cluster; without them Helm renders offline.
KUBE_120 = "1.20.2"
KUBE_CURRENT = "1.36.0"
DISCOVERY_120 = (
    "v1/Service",
    "policy/v1beta1/PodDisruptionBudget",
    "autoscaling/v2beta2/HorizontalPodAutoscaler",
    "jeeves.dev/v1alpha1/JeevesAction",
)
DISCOVERY_CURRENT = (
    "v1/Service",
    "policy/v1/PodDisruptionBudget",
    "autoscaling/v2/HorizontalPodAutoscaler",
    "jeeves.dev/v1alpha1/JeevesAction",
)

SLACK: Values = {
    "slack": {
        "signingSecret": "8f742231b10e8888abcd99yyyzzz85a5",
        "botToken": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        "botUserId": "U0BOTBOT1",
    }
}
EXTERNAL_DB = "postgresql://jeeves:s3cret@db.example.internal:5432/jeeves"
EXTERNAL_DATA_DB = "postgresql://jeeves_data:0ther@db.example.internal:5432/jeeves_data"

DEFAULT: Values = merge(
    SLACK,
    {"database": {"url": EXTERNAL_DB}, "etcd": {"endpoints": "etcd.example.internal:2379"}},
)


def signing_key_files() -> dict[str, str]:
    """What `jeeves-tokens genkey` writes (<kid>.pem + <kid>.json), for
    jeeves-tokens.signingKeys.files (and it spares the render an RSA-4096 generation)."""
    key = generate_key(now=0.0, sign_from=0.0)
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    meta = {"kid": key.kid, "sign_from": key.sign_from, "created_at": key.created_at}
    return {f"{key.kid}.pem": pem.decode(), f"{key.kid}.json": json.dumps(meta)}


KEY_FILES = {"jeeves-tokens": {"signingKeys": {"files": signing_key_files()}}}

EXTERNAL_DB_SPLIT: Values = merge(
    merge(DEFAULT, KEY_FILES),
    {
        "database": {"dataUrl": EXTERNAL_DATA_DB},
        "etcd": {"endpoints": "etcd-0.example:2379,etcd-1.example:2379"},
        "networkPolicy": {
            "externalDatabase": {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}]},
            "gatewayFrom": [
                {"namespaceSelector": {"matchLabels": {"name": "ingress-nginx"}}},
            ],
        },
    },
)

IN_CHART_DB: Values = merge(
    SLACK,
    {"jeeves-postgres": {"enabled": True}, "jeeves-etcd": {"enabled": True}},
)

EXISTING_SECRETS: Values = merge(
    DEFAULT,
    {
        "slack": {"signingSecret": "", "botToken": "", "existingSecret": "my-slack"},
        "database": {"url": "", "existingSecret": "my-database"},
        "jeeves-data": {"existingSecret": "my-data-key"},
        "jeeves-tokens": {
            "signingKeys": {"existingSecret": "my-signing-keys"},
            "clientRegistry": {"existingSecret": "my-clients"},
        },
        "auth": {"existingClientSecrets": True},
    },
)

HPA_ON: Values = merge(
    merge(DEFAULT, KEY_FILES),
    {
        f"jeeves-{name}": {"autoscaling": {"enabled": True}}
        for name in ("gateway", "dispatcher", "poster", "data", "tokens")
    },
)

# What the real-node test cluster installs (make test-cluster): local images, everything
# in-chart, the emulators as in-cluster services, one replica each, small volumes.
TEST_CLUSTER: Values = {
    "env": "test",
    "image": {"registry": "localhost", "pullPolicy": "IfNotPresent"},
    "jeeves-postgres": {"enabled": True, "persistence": {"size": "1Gi"}},
    "jeeves-etcd": {"enabled": True, "persistence": {"size": "256Mi"}},
    "jeeves-slack-emulator": {"enabled": True},
    "jeeves-weather-emulator": {"enabled": True},
    **{
        f"jeeves-{name}": {"replicas": 1}
        for name in ("gateway", "dispatcher", "poster", "data", "tokens")
    },
}

EMULATORS_ON: Values = TEST_CLUSTER

SLACK_APP = {
    "clientId": "1234567890.1234567890",
    "clientSecret": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
}

# The dashboard on its own host, admins listed, an external database of its own.
DASHBOARD_ON: Values = merge(
    merge(DEFAULT, KEY_FILES),
    {
        "slack": SLACK_APP,
        "database": {"dashboardUrl": "postgresql://dash:pw@db.example.internal:5432/dashboard"},
        "jeeves-dashboard": {
            "enabled": True,
            "admins": ["U0ADMIN01", "U0ADMIN02"],
            "ingress": {
                "enabled": True,
                "host": "jeeves-admin.example.com",
                "tlsSecretName": "tls",
            },
            "autoscaling": {"enabled": True},
        },
    },
)

# A distributed app (OAuth installs) taking its events over Socket Mode: no bot token.
SOCKET_DISTRIBUTED: Values = merge(
    merge(DEFAULT, KEY_FILES),
    {
        "slack": {
            **SLACK_APP,
            "botToken": "",
            "appToken": "xapp-1-A0JEEVES-1234567890-0123456789abcdef",
            "distributed": True,
        },
        "jeeves-gateway": {"ingress": {"enabled": True, "host": "jeeves.example.com"}},
        "jeeves-socket": {"enabled": True, "replicas": 3},
    },
)

# The Strava action with a real Strava app, its callback on the gateway's host.
STRAVA_ON: Values = merge(
    merge(DEFAULT, KEY_FILES),
    {
        "jeeves-gateway": {
            "ingress": {"enabled": True, "host": "jeeves.example.com", "tlsSecretName": "tls"}
        },
        "actions": {
            "strava": {
                "install": True,
                "clientId": "54321",
                "clientSecret": "f00dfeedf00dfeedf00dfeedf00dfeed",
                "ingress": {"enabled": True},
            }
        },
    },
)

# Every component and emulator on, in-chart datastores (the settings and NetworkPolicy tests'
# widest case): the Slack emulator delivers over Socket Mode to a distributed app.
EVERYTHING_ON: Values = merge(
    TEST_CLUSTER,
    {
        "slack": {"distributed": True},
        "jeeves-dashboard": {
            "enabled": True,
            "publicUrl": "http://localhost:8413",
            "admins": ["U0ALICE"],
        },
        "jeeves-socket": {"enabled": True, "replicas": 1},
        "jeeves-slack-emulator": {"settings": {"emulatorDelivery": "socket"}},
        "jeeves-strava-emulator": {"enabled": True},
        "actions": {"strava": {"install": True}},
    },
)

SCENARIOS: dict[str, Values] = {
    "default": DEFAULT,
    "external-db": EXTERNAL_DB_SPLIT,
    "in-chart-db": IN_CHART_DB,
    "existing-secrets": EXISTING_SECRETS,
    "hpa-on": HPA_ON,
    "emulators-on": EMULATORS_ON,
    "dashboard-on": DASHBOARD_ON,
    "socket-distributed": SOCKET_DISTRIBUTED,
    "strava-on": STRAVA_ON,
    "everything-on": EVERYTHING_ON,
}

# The Secrets a person creates before installing EXISTING_SECRETS (name -> keys).
EXISTING: dict[str, tuple[str, ...]] = {
    "my-slack": ("signing-secret", "bot-token"),
    "my-database": ("url", "data-url"),
    "my-data-key": ("encryption-key",),
    "my-signing-keys": (),  # a directory of genkey files: any keys
    "my-clients": ("clients.json",),
    **{
        f"jeeves-{cid}-auth": ("client-secret",)
        for cid in ("dispatcher", "echo", "memory", "weather", "cli")
    },
}

OPERATOR: Values = {"etcd": {"endpoints": "jeeves-etcd.jeeves.svc:2379"}}

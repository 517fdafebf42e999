"""The rendered Pods' commands, files and settings, run for real as local processes.

The token dealer starts from its rendered Pod (Helm's generated key imported by `import-key`,
the registry hashed by `build-registry` from the client Secrets) and grants the dispatcher a
token with the dispatcher's own rendered secret; the same with the Secrets a person brings
(existingSecret). The migration Jobs wait for and migrate a real PostgreSQL; their wait step
fails with a clear line when the database is missing or unreachable.

Real: Helm's engine renders; chart_pods.LocalPod runs the containers' commands from the
virtualenv (the same entry points the images run) against the session's PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from chart_pods import LocalPod
from chart_scenarios import DEFAULT, EXISTING_SECRETS

from jeeves.localstack.ports import free_port
from support.helm import merge, render
from support.services import ServiceProcess, entry_point, http_json

pytestmark = [pytest.mark.charts, pytest.mark.integration]

MIGRATED = ("gateway", "dispatcher", "poster", "data")
TABLES = """
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1])
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    print(" ".join(r[0] for r in rows))
    await conn.close()
asyncio.run(main())
"""


def start_dealer(pod: LocalPod) -> ServiceProcess:
    for name in pod.init_containers:
        done = pod.run(name)
        assert done.returncode == 0, f"{name}: {done.stderr}"
    env = pod.env(pod.container("tokens"))
    return ServiceProcess("jeeves-tokens", env, port=free_port()).start()


def token_for(
    dealer: ServiceProcess, client: str, secret: str, audience: str
) -> tuple[int, object]:
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "audience": audience})
    basic = base64.b64encode(f"{client}:{secret}".encode()).decode()
    request = urllib.request.Request(
        dealer.url + "/oauth/token",
        data=body.encode(),
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


def test_token_dealer_pod_serves_with_the_charts_generated_key(tmp_path: Path) -> None:
    rendering = render("jeeves", DEFAULT)
    pod = LocalPod(rendering, "Deployment", "jeeves-tokens", tmp_path)
    assert pod.init_containers == ["import-key", "build-registry"]
    dealer = start_dealer(pod)
    try:
        secret = pod.secrets["jeeves-dispatcher-auth"]["client-secret"]
        status, body = token_for(dealer, "dispatcher", secret, "echo")
        assert status == 200, body
        assert isinstance(body, dict)
        assert body["token_type"] == "Bearer"
        status, body = token_for(
            dealer, "memory", pod.secrets["jeeves-memory-auth"]["client-secret"], "data"
        )
        assert status == 200, body
        status, body = token_for(dealer, "dispatcher", "a-wrong-secret-0123456789", "echo")
        assert status == 401
        status, jwks = http_json("GET", dealer.url + "/.well-known/jwks.json")
        assert status == 200
        assert len(jwks["keys"]) == 1
        assert len(jwks["keys"][0]["n"]) > 600  # Helm's genPrivateKey makes 4096-bit keys
    finally:
        dealer.close()


def test_token_dealer_pod_serves_from_existing_secrets(tmp_path: Path) -> None:
    made = tmp_path / "made"
    subprocess.run(
        [*entry_point("jeeves-tokens"), "init-dev", "--dir", str(made)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    plain = json.loads((made / "secrets.json").read_text())
    existing = {
        "my-signing-keys": {p.name: p.read_text() for p in (made / "keys").iterdir()},
        "my-clients": {"clients.json": (made / "clients.json").read_text()},
        "jeeves-dispatcher-auth": {"client-secret": plain["dispatcher"]},
    }
    rendering = render("jeeves", EXISTING_SECRETS)
    pod = LocalPod(rendering, "Deployment", "jeeves-tokens", tmp_path / "pod", existing)
    assert pod.init_containers == []
    dealer = start_dealer(pod)
    try:
        status, body = token_for(dealer, "dispatcher", plain["dispatcher"], "weather")
        assert status == 200, body
    finally:
        dealer.close()


def test_migration_jobs_wait_for_and_migrate_postgresql(database_url: str, tmp_path: Path) -> None:
    rendering = render("jeeves", merge(DEFAULT, {"database": {"url": database_url}}))
    for name in MIGRATED:
        pod = LocalPod(rendering, "Job", f"jeeves-{name}-migrate", tmp_path / name)
        waited = pod.run("wait-for-database")
        assert waited.returncode == 0, waited.stderr
        assert "accepts logins" in waited.stdout
        migrated = pod.run("migrate")
        assert migrated.returncode == 0, f"{name} migrate: {migrated.stderr}"
    tables = subprocess.run(
        [sys.executable, "-c", TABLES, database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    for table in ("gateway_inbound_events", "dispatch_attempts", "outbound_messages", "facts"):
        assert table in tables


@pytest.mark.parametrize(
    ("url", "timeout", "complaint"),
    [
        ("postgresql://jeeves:pw@127.0.0.1:{port}/jeeves", "1", "not reachable after 1s"),
        ("{base}/no_such_database", "60", "refused the login"),
    ],
)
def test_wait_for_database_stops_with_a_clear_line(
    url: str, timeout: str, complaint: str, database_url: str, tmp_path: Path
) -> None:
    target = url.format(port=free_port(), base=database_url.rsplit("/", 1)[0])
    rendering = render("jeeves", merge(DEFAULT, {"database": {"url": target}}))
    pod = LocalPod(rendering, "Job", "jeeves-data-migrate", tmp_path)
    waited = pod.run("wait-for-database", timeout=60, WAIT_TIMEOUT_S=timeout)
    assert waited.returncode == 1
    assert complaint in waited.stderr
    assert ":pw@" not in waited.stderr + waited.stdout

"""The try-out infrastructure images: jeeves-postgres (the official postgres image's
interface, UID 999) and jeeves-etcd (etcd 3.5, flags from the caller).

Real: both images under podman with a read-only root fs, a tmpfs /tmp and a host directory as
their data volume (as a PVC), psql from the host's PostgreSQL 15, `jeeves-data migrate` run
from the jeeves-data image against the jeeves-postgres container. Nothing faked.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
from containers import ContainerExited, Podman, figure, imagestore

from jeeves.localstack.ports import free_port
from jeeves.localstack.postgres import pg_bin_dir

pytestmark = pytest.mark.images

PASSWORD = "try-out-password"  # a throwaway test database


def ref(name: str) -> str:
    return f"{imagestore.REGISTRY}/{name}:{imagestore.version()}"


def volume_dir(base: Path, owner: int) -> Path:
    directory = base / f"volume-{owner}"
    directory.mkdir()
    os.chown(directory, owner, owner)
    return directory


def psql(port: int, sql: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    """psql from the host over TCP as the superuser, on database jeeves."""
    where = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "jeeves"]
    return subprocess.run(
        [str(pg_bin_dir() / "psql"), *where, "-tAc", sql],
        env={**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "2"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_postgres_initializes_answers_migrates_and_keeps_its_data(
    podman: Podman, tmp_path: Path
) -> None:
    data = volume_dir(tmp_path, 999)
    port = free_port()
    env = {
        "POSTGRES_PASSWORD": PASSWORD,
        "POSTGRES_DB": "jeeves",
        "PGDATA": "/var/lib/postgresql/data/pgdata",  # a subdirectory of the volume, as on a PVC
    }
    volume = f"{data}:/var/lib/postgresql/data"
    first = podman.start(ref("jeeves-postgres"), "-p", str(port), env=env, volumes=[volume])
    ready = first.wait_until(
        lambda: psql(port, "select 1").stdout.strip() == "1", timeout=90, what="select 1"
    )
    figure("jeeves-postgres", ready_s=ready, probe="psql select 1 (incl. initdb)")
    assert "initialized" in first.logs()
    assert psql(port, "select current_user").stdout.strip() == "postgres"
    assert psql(port, "select 1", password="wrong").returncode != 0, "logins need the password"
    assert podman("exec", first.name, "id", "-u").stdout.strip() == "999"

    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/jeeves"
    migrated = podman.run_once(
        ref("jeeves-data"),
        "jeeves-data",
        "migrate",
        env={"JEEVES_DATABASE_URL": url},
        user=f"{imagestore.UID}:{imagestore.UID}",
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert psql(port, "select count(*) from alembic_version").stdout.strip() == "1"

    assert first.stop() == 0, first.logs()[-2000:]
    second = podman.start(ref("jeeves-postgres"), "-p", str(port), env=env, volumes=[volume])
    second.wait_until(
        lambda: psql(port, "select 1").stdout.strip() == "1", timeout=60, what="restart"
    )
    assert "initializ" not in second.logs(), "an existing data directory is kept as it is"
    assert psql(port, "select count(*) from alembic_version").stdout.strip() == "1"
    assert second.stop() == 0


def test_postgres_without_a_password_refuses_to_initialize(podman: Podman, tmp_path: Path) -> None:
    data = volume_dir(tmp_path, 999)
    container = podman.start(
        ref("jeeves-postgres"),
        "-p",
        str(free_port()),
        volumes=[f"{data}:/var/lib/postgresql/data"],
    )
    with pytest.raises(ContainerExited, match="POSTGRES_PASSWORD"):
        container.wait_until(lambda: False, timeout=30, what="an exit")
    assert not list(data.iterdir()), "nothing was initialized"


def test_etcd_serves_health_and_keys(podman: Podman, tmp_path: Path) -> None:
    data = volume_dir(tmp_path, imagestore.UID)
    client, peer = free_port(), free_port()
    client_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
    container = podman.start(
        ref("jeeves-etcd"),
        "--name=jeeves-etcd-0",
        "--data-dir=/var/lib/etcd/data",
        f"--listen-client-urls={client_url}",
        f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=jeeves-etcd-0={peer_url}",
        volumes=[f"{data}:/var/lib/etcd"],
    )
    ready = container.wait_ready(f"{client_url}/health", timeout=30)
    figure("jeeves-etcd", ready_s=ready, probe="/health")
    with urllib.request.urlopen(f"{client_url}/health", timeout=5) as response:
        assert json.loads(response.read())["health"] == "true"
    etcdctl = ["exec", container.name, "etcdctl", f"--endpoints={client_url}"]
    podman(*etcdctl, "put", "/jeeves/test/flag", "on")
    assert podman(*etcdctl, "get", "--print-value-only", "/jeeves/test/flag").stdout.strip() == "on"
    assert podman("exec", container.name, "id", "-u").stdout.strip() == str(imagestore.UID)
    assert container.stop() == 0
    assert (data / "data" / "member").is_dir(), "the data lives on the volume"

"""`make dev` as a newcomer runs it: the stack comes up, every /healthz answers, Ctrl-C
stops everything it started. Real: the devstack process, PostgreSQL, etcd, every deployable.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from jeeves.localstack.ports import wait_until
from jeeves.localstack.postgres import PostgresServer
from support.devstack import URL_ROW, alive, children
from support.services import http_status

pytestmark = pytest.mark.integration


@pytest.fixture(name="data_dir")
def fixture_data_dir() -> Iterator[Path]:
    """A data dir the `postgres` user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="jeeves-devstack-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_make_dev_starts_everything_and_ctrl_c_stops_everything(data_dir: Path) -> None:
    tmp_path = data_dir
    proc = subprocess.Popen(
        [sys.executable, "-m", "jeeves.devstack", "--base-port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        wait_until(
            lambda: any("Stop: Ctrl-C" in line for line in lines) or proc.poll() is not None,
            timeout=180,
            what="make dev to print its URL table",
        )
        assert proc.poll() is None, "".join(lines[-50:])
        urls = dict(m.groups() for line in lines if (m := URL_ROW.match(line)))
        services = {name: url for name, url in urls.items() if name not in {"postgres", "etcd"}}
        assert "gateway" in services
        assert {"prometheus", "alertmanager"} <= set(services)
        for name, url in services.items():
            probe = "/-/healthy" if name in {"prometheus", "alertmanager"} else "/healthz"
            assert http_status(url + probe) == 200, name
        started = children(proc.pid)
        pg_line = next(line for line in lines if "starting PostgreSQL" in line)
        pg_dir = Path(pg_line.rsplit("(data in ", 1)[1].rstrip(")\n"))
        pidfile = pg_dir / "data" / "postmaster.pid"
        postmaster = int(pidfile.read_text().split()[0])
        started.add(postmaster)
        assert len(started) >= len(services) + 1
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        reader.join(10)
    assert code == 0, "".join(lines[-30:])
    assert "stopped; nothing left running" in "".join(lines)
    leftovers = [pid for pid in started if alive(pid)]
    assert leftovers == [], f"processes left behind: {leftovers}"


def test_services_stop_when_make_dev_is_killed(data_dir: Path) -> None:
    """Even a SIGKILL of `make dev` (no cleanup possible) takes its services and etcd along."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jeeves.devstack", "--base-port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    pg_dir: Path | None = None
    try:
        wait_until(
            lambda: any("Stop: Ctrl-C" in line for line in lines) or proc.poll() is not None,
            timeout=180,
            what="make dev to print its URL table",
        )
        assert proc.poll() is None, "".join(lines[-50:])
        pg_line = next(line for line in lines if "starting PostgreSQL" in line)
        pg_dir = Path(pg_line.rsplit("(data in ", 1)[1].rstrip(")\n"))
        started = children(proc.pid)
        assert started
        proc.kill()
        proc.wait(timeout=10)
        wait_until(
            lambda: not any(alive(pid) for pid in started),
            timeout=30,
            what="every child of the killed make dev to exit",
        )
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(10)
        if pg_dir is not None:  # PostgreSQL is a daemon by design: the next `make dev` reuses it
            PostgresServer(base_dir=pg_dir).stop("immediate")

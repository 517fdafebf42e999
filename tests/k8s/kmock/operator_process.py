"""Run the real `jeeves-operator` entry point as a child process (kopf run, real HTTP endpoints)
against whatever API server a kubeconfig names; used by the kmock tests, the real-API-server
tests and bench/operator. Nothing is faked here. The child gets a process group of its own and
is always terminated (then killed) by `stop()`; `kill()` simulates a crash.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path

from jeeves.localstack.ports import free_port

ENTRY = Path(sys.executable).parent / "jeeves-operator"


class OperatorProcess:
    """One operator replica; `env` adds/overrides JEEVES_* settings."""

    def __init__(self, kubeconfig: Path, etcd: str, env_name: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.log = log
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "JEEVES_ENV": env_name,
            "JEEVES_ETCD_ENDPOINTS": etcd,
            "JEEVES_BIND": f"127.0.0.1:{self.port}",
            "JEEVES_DRIFT_INTERVAL": "1",
            "JEEVES_RETRY_DELAY": "0.5",
            "JEEVES_ETCD_TIMEOUT": "0.5",
            "JEEVES_PEERING_LIFETIME": "3",  # start-up gate of ~2 s instead of ~11 s
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> OperatorProcess:
        with open(self.log, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                str(ENTRY),
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def get(self, path: str) -> tuple[int, str]:
        """Blocking GET on the operator's own endpoints (call via asyncio.to_thread)."""
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    def peak_rss_kib(self) -> int:
        """VmHWM of the child (peak resident set size), in KiB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: a crash, no cleanup."""
        await self._signal(signal.SIGKILL, timeout=10)

    async def stop(self) -> None:
        await self._signal(signal.SIGTERM, timeout=10)
        await self._signal(signal.SIGKILL, timeout=10)

    async def _signal(self, sig: int, timeout: float) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            return

"""Deployables run as real processes: `jeeves-<name>` under Hypercorn on a random port.

`ServiceProcess` starts the console entry point with `JEEVES_*` settings, waits for `/readyz`
(or `/healthz`), keeps its output in a log file for assertions, and stops it with SIGTERM or
kills it with SIGKILL for crash tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jeeves.localstack.ports import free_port, wait_until


def entry_point(name: str) -> list[str]:
    """argv of the `jeeves-<name>` console script, or `python -m mod` for `-m mod`."""
    if name.startswith("-m "):
        return [sys.executable, "-m", name[3:]]
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise RuntimeError(f"{name} is not installed in the virtualenv: run `make setup`")
    return [str(path)]


def migrate(command: str, database_url: str, **env: str) -> str:
    """`<command> migrate` on `database_url` (a minimal environment); returns what it printed."""
    result = subprocess.run(
        [*entry_point(command), "migrate"],
        env={"JEEVES_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{command} migrate failed: {result.stderr}"
    return result.stdout


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Await `condition()` until true; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """Status code of GET `url`, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Small blocking JSON client for test assertions: (status, decoded body or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = int(exc.code)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


class ServiceProcess:
    """One deployable process; `start()` blocks until it answers its probe."""

    def __init__(
        self,
        command: str,
        env: dict[str, str] | None = None,
        *,
        args: list[str] | None = None,
        probe: str = "/readyz",
        port: int | None = None,
    ) -> None:
        self.command = command
        self.args = args or []
        self.port = port or free_port()
        self.probe = probe
        self.env = {**os.environ, **(env or {}), "JEEVES_BIND": f"127.0.0.1:{self.port}"}
        self.env.setdefault("JEEVES_LOG_LEVEL", "debug")
        handle, name = tempfile.mkstemp(prefix=f"{command.replace('-m ', '')}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*entry_point(self.command), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.command} exited with {self.proc.returncode}:\n{self.logs()[-3000:]}"
                )
            return http_status(self.url + self.probe) == 200

        wait_until(ready, timeout=timeout, what=f"{self.command} {self.probe}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """Every JSON log line the process wrote (non-JSON lines are skipped)."""
        records = []
        for line in self.logs().splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                records.append(value)
        return records

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, no cleanup."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)

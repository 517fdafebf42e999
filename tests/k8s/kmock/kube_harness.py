"""Helpers of the fast Kubernetes tier: a real kubectl bound to the emulated API server, a
reader of the registrations in the real etcd, and polling with deadlines (never fixed sleeps).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import etcd3aio
from kube_emulator import KubeEmulator
from operator_process import OperatorProcess

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "manifests"
KUBECTL = (
    str(Path(sys.executable).parent / "kubectl")
    if (Path(sys.executable).parent / "kubectl").exists()
    else (shutil.which("kubectl") or "kubectl")
)


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 20, what: str = "condition"
) -> Any:
    """Poll an async check until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


@dataclass
class Cluster:
    """The emulated API server plus a kubectl bound to it."""

    emulator: KubeEmulator
    kubeconfig: Path

    async def kubectl(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        proc = await asyncio.create_subprocess_exec(
            KUBECTL,
            "--kubeconfig",
            str(self.kubeconfig),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate(stdin.encode() if stdin else None)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {err.decode()}")
        return out.decode() + (err.decode() if not check else "")

    async def install(self) -> None:
        """CRDs first (they must be served before resources of their kinds), then RBAC."""
        await self.kubectl("apply", "--validate=false", "-f", str(MANIFESTS / "crds"))
        await self.kubectl("apply", "--validate=false", "-f", str(MANIFESTS / "rbac"))

    async def apply(self, path_or_yaml: str) -> str:
        if path_or_yaml.lstrip().startswith(("apiVersion", "{", "---")):
            return await self.kubectl("apply", "--validate=false", "-f", "-", stdin=path_or_yaml)
        return await self.kubectl("apply", "--validate=false", "-f", path_or_yaml)

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.emulator.find(resource, namespace, name)


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "kmock",
                "clusters": [{"name": "kmock", "cluster": {"server": server}}],
                "users": [{"name": "kmock", "user": {"token": "kmock"}}],
                "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "kmock"}}],
            }
        )
    )
    return path


@dataclass
class EtcdView:
    """Reads the registrations the operator wrote (a real etcd3aio client)."""

    client: Any
    env: str

    async def registration(self, name: str) -> dict[str, Any] | None:
        response = await self.client.kv.get(f"/jeeves/{self.env}/actions/{name}", timeout=2)
        return json.loads(response.kvs[0].value) if response.kvs else None

    async def names(self) -> list[str]:
        prefix = f"/jeeves/{self.env}/actions/"
        response = await self.client.kv.get(prefix, etcd3aio.prefix_range_end(prefix), timeout=2)
        return sorted(kv.key.decode().removeprefix(prefix) for kv in response.kvs)


Starter = Callable[..., Awaitable[OperatorProcess]]

"""The node agent: a small loop standing in for CoreDNS's Kubernetes plugin and a provisioner.

Runs inside the node (`python -m kubenode agent --run-dir …`), polling the API server twice a
second: it rewrites dnsmasq's hosts file from Services and Endpoints (then SIGHUPs dnsmasq, which
rereads it) and provisions or deletes hostPath PersistentVolumes for the node's StorageClass.
An API error is logged and retried on the next round: the loop only ends with its process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from kubenode import dns, render, volumes
from kubenode.api import Api, ApiError
from kubenode.spec import Layout

INTERVAL_S = 0.5


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


class Agent:
    """One round = `sync_dns()` + `sync_volumes()`; state is only the last hosts text."""

    def __init__(self, api: Api, layout: Layout) -> None:
        self.api = api
        self.layout = layout
        self.hosts = ""

    def sync_dns(self) -> None:
        services = self.api.items("/api/v1/services")
        endpoints = self.api.items("/api/v1/endpoints")
        text = dns.hosts_file(dns.records(services, endpoints))
        if text == self.hosts:
            return
        tmp = self.layout.hosts_file.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.layout.hosts_file)
        self.hosts = text
        pid_file = self.layout.hosts_file.parent / "dnsmasq.pid"
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGHUP)
        except (OSError, ValueError, IndexError):
            self.hosts = ""  # dnsmasq not up yet: signal again next round
            return
        _say(f"dns: {text.count(chr(10)) - 1} records")

    def sync_volumes(self) -> None:
        claims = self.api.items("/api/v1/persistentvolumeclaims")
        existing = self.api.items("/api/v1/persistentvolumes")
        for volume in volumes.to_create(claims, existing, self.layout.volumes):
            path = Path(volume["spec"]["hostPath"]["path"])
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o777)  # hostPath gets no fsGroup: any UID of the Pod must write
            self.api.create("/api/v1/persistentvolumes", volume)
            claim = volume["spec"]["claimRef"]
            _say(f"volume: {volume['metadata']['name']} for {claim['namespace']}/{claim['name']}")
        for name in volumes.to_delete(existing):
            volume = next(v for v in existing if v["metadata"]["name"] == name)
            self.api.delete(f"/api/v1/persistentvolumes/{name}")
            shutil.rmtree(volume["spec"]["hostPath"]["path"], ignore_errors=True)
            _say(f"volume: {name} released, deleted")

    def run_forever(self) -> None:
        while True:
            for sync in (self.sync_dns, self.sync_volumes):
                try:
                    sync()
                except (ApiError, OSError, ValueError) as error:
                    _say(f"{sync.__name__}: {error}")
            time.sleep(INTERVAL_S)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kubenode agent")
    parser.add_argument("--run-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    layout = Layout(args.run_dir)
    pki_dir = layout.pki
    api = Api(render.in_node_server(), pki_dir / "ca.crt", pki_dir / "admin.crt",
              pki_dir / "admin.key")  # fmt: skip
    _say(f"agent for {layout.run_dir} (pid {os.getpid()}, python {sys.version.split()[0]})")
    Agent(api, layout).run_forever()

"""The `jeeves-operator` entry point: read settings, then run kopf programmatically with the
handlers, peering (one active replica) and the health/metrics endpoints.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import uuid
from typing import Any, cast

import kopf

from jeeves_operator import handlers, serving
from jeeves_operator.k8s import Kube, load_configuration
from jeeves_operator.leadership import PeeringWatch, StartupGate
from jeeves_operator.reconcile import Deps
from jeeves_operator.registry import Registry
from jeeves_operator.settings import OperatorSettings, SettingsError, load_settings


def kopf_settings(settings: OperatorSettings) -> kopf.OperatorSettings:
    """kopf's own knobs: state in jeeves.dev annotations, our finalizer name, peering."""
    configured = kopf.OperatorSettings()
    configured.persistence.finalizer = "jeeves.dev/registration"
    configured.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="jeeves.dev")
    configured.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="jeeves.dev", key="last-handled-configuration"
    )
    configured.peering.mandatory = not settings.standalone
    configured.peering.lifetime = settings.peering_lifetime
    configured.posting.level = logging.INFO
    configured.watching.server_timeout = 300
    configured.watching.client_timeout = 330
    configured.networking.request_timeout = 30
    return configured


def build_deps(settings: OperatorSettings) -> Deps:
    kube = Kube(load_configuration(settings.kubeconfig))
    registry = Registry(settings.etcd_endpoints, settings.etcd_prefix, settings.etcd_timeout)
    return Deps(settings=settings, kube=kube, registry=registry)


async def run(settings: OperatorSettings, stop_flag: asyncio.Event | None = None) -> None:
    """Run until stopped (signal or `stop_flag`)."""
    deps = build_deps(settings)
    identity = f"{os.environ.get('POD_ID') or socket.gethostname()}/{uuid.uuid4().hex[:8]}"
    registry = kopf.OperatorRegistry()
    handlers.register(registry, deps, StartupGate(settings, deps.kube, identity))
    ready = asyncio.Event()
    watch = None if settings.standalone else PeeringWatch(settings, deps.kube)
    problems = [] if watch is None else [lambda: watch.problem]
    runner = await serving.start(settings.bind, ready, problems)
    watching = asyncio.create_task(watch.run()) if watch is not None else None
    try:
        await kopf.operator(
            registry=registry,
            settings=kopf_settings(settings),
            clusterwide=settings.clusterwide,
            namespaces=list(settings.namespaces),
            standalone=settings.standalone,
            priority=settings.priority,
            peering_name=None if settings.standalone else settings.peering,
            identity=cast(Any, identity),  # kopf's Identity is a NewType of str
            stop_flag=stop_flag,
            ready_flag=ready,
        )
    finally:
        if watching is not None:
            watching.cancel()
        await runner.cleanup()
        await deps.kube.close()
        await deps.registry.close()


def main() -> None:
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(f"jeeves-operator: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    kopf.configure(log_format=kopf.LogFormat.JSON, verbose=os.environ.get("JEEVES_DEBUG") == "1")
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()

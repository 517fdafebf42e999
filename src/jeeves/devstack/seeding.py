"""Registering the local actions in etcd for `make dev` (the operator's job in a cluster).

Uses etcd's JSON gateway (`/v3/kv/put`), so seeding needs no client library.
"""

from __future__ import annotations

import base64
import json

import aiohttp

from jeeves.devstack.plan import ENV, Infrastructure, ServiceSpec, action_registry


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def seed_actions(infra: Infrastructure, plan: list[ServiceSpec]) -> None:
    running = {spec.name for spec in plan}
    registry = action_registry(infra.ports, lambda name: name in running)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        for name, value in registry.items():
            body = {
                "key": _b64(f"/jeeves/{ENV}/actions/{name}"),
                "value": _b64(json.dumps(value, sort_keys=True)),
            }
            url = f"http://{infra.etcd_endpoint}/v3/kv/put"
            async with session.post(url, json=body) as response:
                response.raise_for_status()

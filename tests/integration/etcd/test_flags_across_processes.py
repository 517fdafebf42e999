"""Feature flag rollouts are the same in every process and across restarts.

Real: a separate Python interpreter computing decisions, the session etcd 3.5, and the
`registry_app` kit app served as a real process (stopped and started again). Nothing is faked.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jeeves.kit.etcd import flag_key, make_client, write_key
from jeeves.kit.flags import FlagSpec, decide
from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
USERS = [f"U{n:07d}" for n in range(10_000)]
SPEC = FlagSpec(enabled=True, percent=25)
IN_ANOTHER_PROCESS = """
import json, sys
from jeeves.kit.flags import FlagSpec, decide
spec = FlagSpec(enabled=True, percent=25)
users = [f"U{n:07d}" for n in range(10_000)]
print(json.dumps([decide("beta", spec, u).enabled for u in users]))
"""


def here() -> list[bool]:
    return [decide("beta", SPEC, user).enabled for user in USERS]


def test_ten_thousand_users_at_25_percent_agree_across_interpreters() -> None:
    mine = here()
    assert 0.235 <= sum(mine) / len(mine) <= 0.265
    result = subprocess.run(
        [sys.executable, "-c", IN_ANOTHER_PROCESS],
        capture_output=True,
        check=True,
        timeout=60,
        env={"PYTHONHASHSEED": "random"},
    )
    assert json.loads(result.stdout) == mine


def test_a_served_flag_decides_the_same_before_and_after_a_restart(
    etcd_server: EtcdServer, env: str
) -> None:
    asyncio.run(_put_flag(etcd_server.endpoint, env))
    sample = USERS[:150]
    expected = {user: decide("beta", SPEC, user).enabled for user in sample}
    process_env = {
        "PYTHONPATH": f"{HERE}:{HERE.parent.parent}",
        "JEEVES_ENV": env,
        "JEEVES_ETCD_ENDPOINTS": etcd_server.endpoint,
    }
    for _ in range(2):  # a fresh process each time: a restart
        service = ServiceProcess("-m registry_app", process_env).start()
        try:
            served = {
                user: http_json("GET", f"{service.url}/flags/beta/{user}")[1]["enabled"]
                for user in sample
            }
        finally:
            service.close()
        assert served == expected


def test_a_flag_switched_off_applies_without_restart(etcd_server: EtcdServer, env: str) -> None:
    asyncio.run(_put_flag(etcd_server.endpoint, env))
    process_env = {
        "PYTHONPATH": f"{HERE}:{HERE.parent.parent}",
        "JEEVES_ENV": env,
        "JEEVES_ETCD_ENDPOINTS": etcd_server.endpoint,
    }
    service = ServiceProcess("-m registry_app", process_env).start()
    try:
        allowed = f"{service.url}/flags/beta/UVIP"
        assert http_json("GET", allowed)[1]["reason"] in {"rollout", "outside"}
        off = FlagSpec(enabled=True, percent=0, allow=frozenset({"UVIP"}))
        asyncio.run(_put_flag(etcd_server.endpoint, env, off))
        wait_until(
            lambda: http_json("GET", allowed)[1]["reason"] == "allow",
            timeout=15,
            what="the allow-list change to apply",
        )
    finally:
        service.close()


async def _put_flag(endpoint: str, env: str, spec: FlagSpec = SPEC) -> None:
    client = make_client(endpoint, attempts=5)
    await client.connect()
    try:
        await write_key(client, flag_key(env, "beta"), spec.to_json())
    finally:
        await client.close()

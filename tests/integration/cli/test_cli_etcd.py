"""The `jeeves` console script against a real etcd: flags, actions, config, exit codes.

Real: the installed `jeeves` entry point run as a subprocess, and the session etcd 3.5
(each test in an env of its own). Nothing is faked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
from pathlib import Path

import pytest

from jeeves.kit.etcd import flag_key, make_client, write_key
from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.ports import free_port
from support.services import entry_point

pytestmark = pytest.mark.integration
_envs = itertools.count()
ECHO = '{"keywords": ["echo", "say"], "url": "http://127.0.0.1:9/", "description": "repeat"}'


@pytest.fixture(name="env")
def fixture_env() -> str:
    return f"cli{next(_envs)}"


def jeeves(etcd: str, env: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI; the timeout also proves it never retries without end."""
    return subprocess.run(
        [*entry_point("jeeves"), "--etcd", etcd, "--env", env, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_flag_lifecycle(etcd_server: EtcdServer, env: str) -> None:
    etcd = etcd_server.endpoint
    assert jeeves(etcd, env, "flags", "rollout", "beta", "25").returncode == 0
    assert jeeves(etcd, env, "flags", "set", "beta", "--allow", "U1", "U2").returncode == 0
    flag = as_json(jeeves(etcd, env, "-o", "json", "flags", "get", "beta"))
    assert flag == {"name": "beta", "enabled": True, "percent": 25, "allow": ["U1", "U2"]}
    assert jeeves(etcd, env, "flags", "set", "beta", "--off").returncode == 0
    listed = as_json(jeeves(etcd, env, "flags", "list", "-o", "json"))
    assert listed == [{"name": "beta", "enabled": False, "percent": 25, "allow": ["U1", "U2"]}]
    table = jeeves(etcd, env, "flags", "list").stdout.splitlines()
    assert table[0].split() == ["FLAG", "ENABLED", "PERCENT", "ALLOW"]
    assert table[1].split() == ["beta", "off", "25", "U1,U2"]
    assert jeeves(etcd, env, "flags", "delete", "beta").returncode == 0
    missing = jeeves(etcd, env, "flags", "delete", "beta")
    assert missing.returncode == 1
    assert "not set" in missing.stderr
    assert jeeves(etcd, env, "flags", "get", "beta").returncode == 1


def test_actions_put_list_get_delete(etcd_server: EtcdServer, env: str, tmp_path: Path) -> None:
    etcd = etcd_server.endpoint
    assert jeeves(etcd, env, "actions", "put", "echo", "--json", ECHO).returncode == 0
    spec_file = tmp_path / "weather.json"
    spec_file.write_text('{"keywords": ["weather"], "url": "http://127.0.0.1:8/"}')
    assert jeeves(etcd, env, "actions", "put", "weather", "--file", str(spec_file)).returncode == 0
    listed = as_json(jeeves(etcd, env, "-o", "json", "actions", "list"))
    assert isinstance(listed, list)
    assert [(a["name"], a["keywords"]) for a in listed] == [
        ("echo", ["echo", "say"]),
        ("weather", ["weather"]),
    ]
    table = jeeves(etcd, env, "actions", "list").stdout
    assert "echo,say" in table
    got = as_json(jeeves(etcd, env, "-o", "json", "actions", "get", "echo"))
    assert isinstance(got, dict)
    assert got["url"] == "http://127.0.0.1:9"
    assert jeeves(etcd, env, "actions", "delete", "weather").returncode == 0
    assert jeeves(etcd, env, "actions", "get", "weather").returncode == 1


def test_malformed_values_exit_4_and_are_not_stored(etcd_server: EtcdServer, env: str) -> None:
    etcd = etcd_server.endpoint
    bad = jeeves(etcd, env, "actions", "put", "echo", "--json", '{"keywords": []}')
    assert bad.returncode == 4
    assert "keywords" in bad.stderr
    assert jeeves(etcd, env, "config", "put", "flags/beta", "{nope").returncode == 4
    assert jeeves(etcd, env, "config", "get", "flags/beta").returncode == 1
    assert jeeves(etcd, env, "flags", "rollout", "beta", "120").returncode == 4


def test_a_malformed_stored_flag_is_reported(etcd_server: EtcdServer, env: str) -> None:
    asyncio.run(_store(etcd_server.endpoint, flag_key(env, "broken"), "{nope"))
    got = jeeves(etcd_server.endpoint, env, "flags", "get", "broken")
    assert got.returncode == 4
    assert "malformed flag broken" in got.stderr
    listed = jeeves(etcd_server.endpoint, env, "flags", "list")
    assert listed.returncode == 0
    assert "INVALID" in listed.stdout


def test_config_get_put_delete(etcd_server: EtcdServer, env: str) -> None:
    etcd = etcd_server.endpoint
    url = "http://10.0.0.9:8080"
    assert jeeves(etcd, env, "config", "put", "services/poster/url", url).returncode == 0
    assert jeeves(etcd, env, "config", "get", "services/poster/url").stdout.strip() == url
    listed = as_json(jeeves(etcd, env, "-o", "json", "config", "get", "services/", "--prefix"))
    assert listed == {f"/jeeves/{env}/services/poster/url": url}
    assert jeeves(etcd, env, "config", "delete", "services/poster/url").returncode == 0
    assert jeeves(etcd, env, "config", "delete", "services/poster/url").returncode == 1


def test_config_watch_prints_changes(etcd_server: EtcdServer, env: str) -> None:
    command = [*entry_point("jeeves"), "--etcd", etcd_server.endpoint, "--env", env]
    watcher = subprocess.Popen(
        [*command, "-o", "json", "config", "watch", "flags/", "--count", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stderr is not None
        assert "watching" in watcher.stderr.readline()  # the watch is established
        assert jeeves(etcd_server.endpoint, env, "flags", "rollout", "beta", "5").returncode == 0
        assert jeeves(etcd_server.endpoint, env, "flags", "delete", "beta").returncode == 0
        out, _ = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
        watcher.wait()
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["type"], e["key"]) for e in events] == [
        ("PUT", f"/jeeves/{env}/flags/beta"),
        ("DELETE", f"/jeeves/{env}/flags/beta"),
    ]


def test_unreachable_etcd_exits_3_with_one_clear_line(env: str) -> None:
    result = jeeves(f"127.0.0.1:{free_port()}", env, "flags", "list")
    assert result.returncode == 3
    assert result.stderr.startswith("jeeves: etcd at 127.0.0.1:")
    assert "unreachable" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def _store(endpoint: str, key: str, value: str) -> None:
    client = make_client(endpoint, attempts=5)
    await client.connect()
    try:
        await write_key(client, key, value)
    finally:
        await client.close()

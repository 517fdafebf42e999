"""How `make dev` wires the stack: which services run and what each is told (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jeeves.devstack.__main__ import MONITORING_PORTS, allocate_ports
from jeeves.devstack.plan import SERVICES, Infrastructure, build_plan

pytestmark = pytest.mark.unit


def _infra(ports: dict[str, int]) -> Infrastructure:
    return Infrastructure(ports["postgres"], f"127.0.0.1:{ports['etcd']}", Path("/x"), ports)


def test_fixed_base_ports_are_consecutive_and_distinct() -> None:
    ports = allocate_ports(8400)
    count = 3 + len(SERVICES) + len(MONITORING_PORTS)
    assert sorted(ports.values()) == list(range(8400, 8400 + count))


def test_only_present_services_run_and_are_wired_together() -> None:
    ports = allocate_ports(9000)
    present = {
        "jeeves.gateway.main",
        "jeeves.poster.main",
        "jeeves.emulators.slack.main",
        "jeeves.actions.echo.main",
        "jeeves.dispatcher.main",
    }
    plan = build_plan(_infra(ports), ports, present=present.__contains__)
    names = [spec.name for spec in plan]
    assert names == ["slack-emulator", "poster", "echo", "dispatcher", "gateway"]
    poster = next(spec for spec in plan if spec.name == "poster")
    assert poster.env["JEEVES_SLACK_API_URL"] == f"http://127.0.0.1:{ports['slack-emulator']}/api/"
    assert poster.env["JEEVES_DATABASE_URL"].endswith(f":{ports['postgres']}/jeeves")
    assert "JEEVES_DATA_URL" not in poster.env  # data is not running, so nobody is told of it
    actions = json.loads(poster.env["JEEVES_ACTIONS"])
    assert set(actions) == {"echo"}
    assert actions["echo"]["url"] == f"http://127.0.0.1:{ports['echo']}"
    assert {spec.name for spec in plan if spec.migrate} == {"gateway", "dispatcher", "poster"}


def test_tokens_is_prepared_and_callers_get_their_secret_files() -> None:
    ports = allocate_ports(9000)
    present = {"jeeves.tokens.main", "jeeves.dispatcher.main", "jeeves.actions.echo.main"}
    plan = {
        spec.name: spec for spec in build_plan(_infra(ports), ports, present=present.__contains__)
    }
    tokens = plan["tokens"]
    assert tokens.prepare == ("init-dev", "--dir", "/x/tokens")
    assert tokens.env["JEEVES_TOKENS_KEYS_DIR"] == "/x/tokens/keys"
    assert tokens.env["JEEVES_TOKENS_CLIENTS_FILE"] == "/x/tokens/clients.json"
    assert (
        plan["dispatcher"].env["JEEVES_AUTH_CLIENT_SECRET_FILE"] == "/x/tokens/secrets/dispatcher"
    )
    assert plan["echo"].env["JEEVES_TOKENS_URL"] == tokens.url


def test_dispatcher_and_gateway_share_the_bot_id_and_the_dispatcher_records_usage() -> None:
    ports = allocate_ports(9000)
    present = {
        "jeeves.tokens.main",
        "jeeves.data.main",
        "jeeves.dispatcher.main",
        "jeeves.gateway.main",
        "jeeves.emulators.slack.main",
    }
    plan = {
        spec.name: spec for spec in build_plan(_infra(ports), ports, present=present.__contains__)
    }
    for name in ("dispatcher", "gateway", "slack-emulator"):
        assert plan[name].env["JEEVES_SLACK_BOT_USER_ID"] == "U0JEEVES"
        assert "JEEVES_BOT_USER_ID" not in plan[name].env
    dispatcher = plan["dispatcher"].env
    assert dispatcher["JEEVES_DATA_URL"] == f"http://127.0.0.1:{ports['data']}"
    assert dispatcher["JEEVES_TOKENS_URL"] == plan["tokens"].url  # its JWT, scope `data`

"""The echo action: its reply, its test fault plan, and the `/_test` controls in-process.

Real: echo's app (built on the SDK) through Quart's test client. Nothing is faked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from jeeves.actions.echo.app import build_app
from jeeves.actions.echo.domain import (
    Fault,
    FaultPlan,
    FaultRequestError,
    echo,
    parse_fault_request,
)
from jeeves.actions.echo.settings import EchoSettings
from jeeves.kit.action_app import ActionError, parse_envelope

pytestmark = pytest.mark.unit


def envelope(action_id: str = "e1", text: str = "hello there") -> dict[str, Any]:
    return {
        "id": action_id,
        "action": "echo",
        "text": text,
        "args": {},
        "user": {"slack_id": "U0ALICE", "team_id": "T0TEAM"},
        "channel": "C0GENERAL",
        "thread_ts": None,
        "sent_at": 1700000000,
    }


@pytest.fixture(name="app")
async def fixture_app() -> AsyncIterator[Quart]:
    app = build_app(EchoSettings(echo_faults=True))
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


def test_echo_replies_with_the_text() -> None:
    assert echo(parse_envelope(envelope(text="  hi  "))).text == "hi"


def test_echo_cannot_make_the_bot_ping_or_link() -> None:
    reply = echo(parse_envelope(envelope(text="<!channel> <@U0BOB> <http://x.example|y> & co")))
    assert reply.text == "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;http://x.example|y&gt; &amp; co"
    with pytest.raises(ActionError) as caught:
        echo(parse_envelope(envelope(text="   ")))
    assert caught.value.status == 400


def test_fault_requests() -> None:
    assert parse_fault_request({"status": 503, "count": 2, "delay_s": 0.5}) == (
        Fault(503, 0.5),
        2,
    )
    assert parse_fault_request({}) == (Fault(500, 0.0), 1)
    for bad, field in [
        ({"status": 302}, "status"),
        ({"count": 0}, "count"),
        ({"delay_s": -1}, "delay_s"),
        ([], "body"),
    ]:
        with pytest.raises(FaultRequestError, match=field):
            parse_fault_request(bad)
    plan = FaultPlan()
    plan.add(Fault(500), 2)
    plan.add(Fault(202), 1)
    assert [plan.take(), plan.take(), plan.take(), plan.take()] == [
        Fault(500),
        Fault(500),
        Fault(202),
        None,
    ]


async def test_planned_failures_then_recovery(client: Client) -> None:
    planned = await client.post("/_test/fail", json={"status": 500, "count": 2})
    assert (await planned.get_json()) == {"planned": 2}
    statuses = [(await client.post("/v1/act", json=envelope())).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    calls = (await (await client.get("/_test/calls")).get_json())["calls"]
    assert [c["fault_status"] for c in calls] == [500, 500, None]
    assert {c["id"] for c in calls} == {"e1"}


async def test_planned_202_and_4xx(client: Client) -> None:
    await client.post("/_test/fail", json={"status": 202})
    await client.post("/_test/fail", json={"status": 404})
    assert (await client.post("/v1/act", json=envelope("a"))).status_code == 202
    rejected = await client.post("/v1/act", json=envelope("b"))
    assert rejected.status_code == 404
    assert "on purpose" in (await rejected.get_json())["error"]["message"]
    assert (await client.post("/_test/fail", json={"status": "x"})).status_code == 422
    assert (await client.post("/_test/reset")).status_code == 200
    assert (await (await client.get("/_test/calls")).get_json())["calls"] == []


async def test_test_routes_are_absent_by_default() -> None:
    app = build_app(EchoSettings())
    async with app.test_app():
        client = app.test_client()
        assert (await client.post("/_test/fail", json={})).status_code == 404
        reply = await client.post("/v1/act", json=envelope())
        assert (await reply.get_json()) == {"reply": {"text": "hello there"}}

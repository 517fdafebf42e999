"""Alerts from a real Alertmanager into Slack through `jeeves-alerts` and the poster.

Real: Alertmanager 0.25 sending its own webhook payloads (firing, repeats every
repeat_interval, resolved), PostgreSQL, `jeeves-alerts`, `jeeves-poster`, the Slack emulator
(with its 5xx faults for an outage) — see conftest. The buttons are clicked the way the
dispatcher forwards a click (`POST /v1/act` with `args.interaction`); the whole click path
through gateway and dispatcher runs in tests/monitoring/live/test_live_stack.py.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from alerts_stack import ADMIN, DEFAULT_CHANNEL, WEBHOOK_TOKEN, Delivery

from jeeves.localstack.ports import wait_until
from support.services import http_json

pytestmark = pytest.mark.integration
_calls = itertools.count(1)


def push(delivery: Delivery, labels: dict[str, str], *, resolved: bool = False) -> None:
    """What Prometheus does: POST the alert to Alertmanager's v2 API (endsAt past = resolved)."""
    now = datetime.now(UTC)
    alert: dict[str, Any] = {
        "labels": labels,
        "annotations": {
            "summary": f"{labels['alertname']} on {labels.get('instance', '?')}",
            "description": "Disk usage above 90% for 10 minutes.",
            "runbook_url": "https://example.org/runbook#diskfull",
        },
        "startsAt": (now - timedelta(minutes=10)).isoformat(),
        "generatorURL": "http://prometheus.test/graph",
    }
    if resolved:
        alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
    status, body = http_json("POST", delivery.alertmanager.url + "/api/v2/alerts", [alert])
    assert status == 200, body


def labels_of(name: str, **extra: str) -> dict[str, str]:
    return {
        "alertname": name,
        "job": "jeeves-data",
        "severity": "warning",
        "instance": "db1",
        **extra,
    }


def webhook(
    delivery: Delivery, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"} if headers is None else headers
    return http_json("POST", delivery.alerts.url + "/v1/alertmanager", body, auth)


def bot_messages(delivery: Delivery, channel: str, needle: str) -> list[dict[str, Any]]:
    return [m for m in delivery.slack.messages(channel) if needle in m["text"]]


def wait_message(
    delivery: Delivery, channel: str, needle: str, timeout: float = 30
) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def there() -> bool:
        found[:] = bot_messages(delivery, channel, needle)
        return bool(found)

    wait_until(there, timeout=timeout, what=f"a message with {needle!r} in {channel}")
    return found[0]


async def notifications(delivery: Delivery, name: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(delivery.database_url)
    try:
        rows = await conn.fetch(
            "SELECT effect, status, body::text AS body FROM alert_notifications "
            "WHERE group_key LIKE '%' || $1 || '%' ORDER BY id",
            name,
        )
    finally:
        await conn.close()
    return [dict(r) for r in rows]


def admin(delivery: Delivery, path: str) -> Any:
    status, body = http_json(
        "GET", delivery.alerts.url + path, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert status == 200, body
    return body


def click(
    delivery: Delivery,
    button: dict[str, Any],
    user: str,
    call_id: str | None = None,
    thread_ts: str | None = None,
) -> tuple[int, Any]:
    """Call the action as the dispatcher does for a click (same envelope, `args.interaction`)."""
    envelope = {
        "id": call_id or f"interaction:{next(_calls)}:{uuid.uuid4().hex[:6]}:alerts",
        "action": "alerts",
        "text": button["value"],
        "args": {
            "interaction": {
                "action_id": button["action_id"],
                "value": button["value"],
                "block_id": "b",
            }
        },
        "user": {"slack_id": user, "team_id": "T0TEST"},
        "channel": DEFAULT_CHANNEL,
        "thread_ts": thread_ts,
        "sent_at": time.time(),
    }
    return http_json("POST", delivery.alerts.url + "/v1/act", envelope)


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    for element in button_row(message):
        if element["text"]["text"] == label:
            return dict(element)
    raise AssertionError(f"no {label!r} button on {message['text']!r}")


def test_the_webhook_wants_alertmanagers_token(delivery: Delivery) -> None:
    payload = {"version": "4", "groupKey": "x", "status": "firing", "alerts": []}
    assert webhook(delivery, payload, {})[0] == 401
    assert webhook(delivery, payload, {"Authorization": "Bearer wrong-token"})[0] == 403
    basic = base64.b64encode(f"alertmanager:{WEBHOOK_TOKEN}".encode()).decode()
    status, body = webhook(delivery, payload, {"Authorization": f"Basic {basic}"})
    assert (status, body["error"]["field"]) == (422, "alerts")  # let in, then validated


def test_a_malformed_notification_is_refused_naming_the_field(delivery: Delivery) -> None:
    status, body = webhook(
        delivery, {"version": "4", "groupKey": "g", "status": "sleeping", "alerts": [{}]}
    )
    assert status == 422
    assert body["error"]["field"] == "status"
    assert webhook(delivery, "not an object")[0] == 422


async def test_firing_repeats_resolved_and_retries_make_one_message_updated_in_place(
    delivery: Delivery,
) -> None:
    name = "DiskFull" + uuid.uuid4().hex[:6]
    push(delivery, labels_of(name))
    message = wait_message(delivery, DEFAULT_CHANNEL, f"[FIRING:1] {name}")
    assert [b["text"]["text"] for b in button_row(message)] == [
        "Silence 1h",
        "Acknowledge",
        "Runbook",
    ]

    async def repeated() -> bool:  # repeat_interval: the same group notified again
        return len(await notifications(delivery, name)) >= 3

    await wait_async(repeated, 30, "Alertmanager's repeat notifications")
    push(delivery, labels_of(name), resolved=True)
    resolved = wait_message(delivery, DEFAULT_CHANNEL, f"[RESOLVED:1] {name}")
    assert resolved["ts"] == message["ts"]
    assert [b["text"]["text"] for b in button_row(resolved)] == ["Runbook"]
    sent = await notifications(delivery, name)
    effects = [n["effect"] for n in sent]
    assert effects[0] == "posted"
    assert "updated" in effects
    assert set(effects[1 : effects.index("updated")]) == {"unchanged"}  # the repeats
    for stored in sent:  # Alertmanager's own payloads again, as its retries would send them
        status, body = webhook(delivery, json.loads(stored["body"]))
        assert status == 200
        assert body["effect"] in ("unchanged", "ignored")
    assert len(bot_messages(delivery, DEFAULT_CHANNEL, name)) == 1
    assert bot_messages(delivery, DEFAULT_CHANNEL, name)[0]["text"].startswith(
        ":large_green_circle: [RESOLVED:1]"
    )
    posts = [
        c
        for c in delivery.slack.calls("chat.postMessage", channel=DEFAULT_CHANNEL)
        if c["status"] == 200
    ]
    assert sum(1 for m in delivery.slack.messages(DEFAULT_CHANNEL) if name in m["text"]) == 1
    assert posts  # and no second post for this group (counted above)


def button_row(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [b for b in message["blocks"] if b["type"] == "actions"]
    return rows[0]["elements"] if rows else []


async def wait_async(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_a_group_goes_to_the_channel_its_labels_route_to(delivery: Delivery) -> None:
    name = "PaymentsLag" + uuid.uuid4().hex[:6]
    push(delivery, labels_of(name, team="payments"))
    wait_message(delivery, "C0PAYMENTS", name)
    assert bot_messages(delivery, DEFAULT_CHANNEL, name) == []


def test_a_slack_outage_delays_the_message_and_loses_nothing(delivery: Delivery) -> None:
    name = "Outage" + uuid.uuid4().hex[:6]
    delivery.slack.add_fault(
        kind="server_error",
        status=503,
        channel="C0OUTAGE",
        methods=["chat.postMessage"],
        duration_s=6,
    )
    started = time.time()
    push(delivery, labels_of(name, team="outage"))
    message = wait_message(delivery, "C0OUTAGE", name, timeout=60)
    assert message["posted_at"] - started >= 5
    failed = [
        c
        for c in delivery.slack.calls("chat.postMessage", channel="C0OUTAGE")
        if c["status"] == 503
    ]
    assert failed, "the outage never hit a post"
    time.sleep(2)  # a late duplicate would land now
    assert len(bot_messages(delivery, "C0OUTAGE", name)) == 1


async def test_silence_creates_a_real_silence_and_says_who_in_the_thread(
    delivery: Delivery,
) -> None:
    name = "Silenced" + uuid.uuid4().hex[:6]
    push(delivery, labels_of(name))
    message = wait_message(delivery, DEFAULT_CHANNEL, name)
    status, answer = click(
        delivery, button(message, "Silence 1h"), "U0ALICE", thread_ts=message["ts"]
    )
    assert status == 200, answer
    assert answer["reply"]["text"].startswith("<@U0ALICE> silenced this alert until ")
    _, silences = http_json("GET", delivery.alertmanager.url + "/api/v2/silences")
    mine = [s for s in silences if any(m["value"] == name for m in s["matchers"])]
    assert len(mine) == 1
    silence = mine[0]
    assert silence["status"]["state"] == "active"
    assert sorted(
        (m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in silence["matchers"]
    ) == [
        ("alertname", name, True, False),
        ("job", "jeeves-data", True, False),
    ]
    assert silence["createdBy"] == "slack:U0ALICE (via Jeeves)"
    ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < ends - datetime.now(UTC) <= timedelta(hours=1)
    wait_until(
        lambda: (
            "Silenced by <@U0ALICE>"
            in str(bot_messages(delivery, DEFAULT_CHANNEL, name)[0]["blocks"])
        ),
        timeout=20,
        what="the message to show the silence",
    )
    again_status, again = click(delivery, button(message, "Silence 1h"), "U0BOB")
    assert again_status == 200
    assert again["reply"]["text"].startswith("Already silenced by <@U0ALICE>")
    audit = admin(delivery, "/v1/audit")["audit"]
    ours = [
        a for a in audit if a["action"] == "silence" and a["detail"]["silence_id"] == silence["id"]
    ]
    assert [a["user_id"] for a in ours] == ["U0ALICE"]


async def test_acknowledge_is_recorded_once_per_click_and_shown(delivery: Delivery) -> None:
    name = "Acked" + uuid.uuid4().hex[:6]
    push(delivery, labels_of(name))
    message = wait_message(delivery, DEFAULT_CHANNEL, name)
    ack = button(message, "Acknowledge")
    call_id = f"interaction:{uuid.uuid4().hex}:alerts"
    for _ in range(2):  # the dispatcher retrying one click
        status, answer = click(delivery, ack, "U0CAROL", call_id=call_id)
        assert status == 200, answer
        assert answer["reply"]["text"] == "<@U0CAROL> acknowledged this alert."
    status, answer = click(delivery, ack, "U0DAVE")
    assert answer["reply"]["text"] == ("<@U0DAVE> acknowledged this alert too (first: <@U0CAROL>).")
    wait_until(
        lambda: (
            "Acknowledged by <@U0CAROL>"
            in str(bot_messages(delivery, DEFAULT_CHANNEL, name)[0]["blocks"])
        ),
        timeout=20,
        what="the message to show the acknowledgement",
    )
    incident = int(ack["value"])
    audit = [
        a for a in admin(delivery, "/v1/audit?limit=500")["audit"] if a["incident_id"] == incident
    ]
    assert sorted(a["user_id"] for a in audit) == ["U0CAROL", "U0DAVE"]
    assert len(bot_messages(delivery, DEFAULT_CHANNEL, name)) == 1


def test_every_notification_is_counted_by_effect(delivery: Delivery) -> None:
    _, text = http_json("GET", delivery.alerts.url + "/metrics")
    for effect in ("posted", "unchanged", "unauthorized", "rejected"):
        assert f'jeeves_alerts_notifications_total{{effect="{effect}"}}' in text

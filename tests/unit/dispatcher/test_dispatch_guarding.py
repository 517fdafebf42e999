"""The dispatcher's own buttons, prompts, scheduled-run plans and audit records, as data.

Pure functions; nothing is faked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jeeves.dispatcher.domain import guarding
from jeeves.dispatcher.domain.auditing import RunFacts, audit_record
from jeeves.dispatcher.scheduler import action_plans, alert_plans
from jeeves.kit.actions import ActionSpec
from jeeves.kit.jobs import DispatchJob, parse_dispatch_job
from jeeves_actionspec.schedule import Due

pytestmark = pytest.mark.unit


def click_job(action_id: str, value: str = "run-1") -> DispatchJob:
    return {
        "event_id": "interaction:T1",
        "kind": "interaction",
        "team_id": "T0",
        "user_id": "U0ANN",
        "channel": "C0X",
        "ts": None,
        "thread_ts": None,
        "text": value,
        "interaction": {"action_id": action_id, "value": value, "block_id": "b"},
        "received_at": 1.0,
    }


def test_only_the_dispatchers_own_buttons_are_its_clicks() -> None:
    assert guarding.click_of(click_job("jeeves:confirm")) == guarding.Click("confirm", "run-1")
    assert guarding.click_of(click_job("jeeves:approve", "r2")) == guarding.Click("approve", "r2")
    assert guarding.click_of(click_job("memory:forget_all:confirm")) is None
    assert guarding.click_of(click_job("jeeves:explode")) is None
    assert guarding.is_own(click_job("jeeves:explode"))  # never routed to an action named jeeves


def test_the_confirm_prompt_is_two_buttons_carrying_the_run_id() -> None:
    text, blocks = guarding.confirm_prompt("run-9", "`deploy` service=api", 120)
    assert text == "Run `deploy` service=api? This button works for 2 min, and only for you."
    buttons = blocks[1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("jeeves:confirm", "run-9"),
        ("jeeves:cancel", "run-9"),
    ]


def test_the_approval_prompt_names_requester_and_approvers() -> None:
    text, blocks = guarding.approval_prompt("r", "`deploy`", "U0ANN", "<!subteam^S0LEADS>", 3600)
    assert text == (
        "<@U0ANN> asks to run `deploy`. It needs approval by <!subteam^S0LEADS> "
        "(someone other than <@U0ANN>) within 1 h."
    )
    assert [b["action_id"] for b in blocks[1]["elements"]] == ["jeeves:approve", "jeeves:reject"]


def test_an_audit_record_holds_the_story_never_the_text() -> None:
    record = audit_record(
        RunFacts(
            event_id="Ev1",
            action="deploy",
            actor="U0ANN",
            team_id="T0",
            channel="C0DEPLOYS",
            trigger="message",
            outcome="ok",
            command="deploy",
            params={"service": "api", "password": "••••"},
            status=200,
            duration_ms=12.345,
            clicks={"confirmed_by": "U0ANN", "approved_by": "U0BOB"},
        )
    )
    assert record == {
        "key": "run:Ev1:ok",
        "actor": "U0ANN",
        "kind": "action.run",
        "target": "deploy",
        "detail": {
            "event_id": "Ev1",
            "trigger": "message",
            "channel": "C0DEPLOYS",
            "team_id": "T0",
            "decision": "allowed",
            "outcome": "ok",
            "duration_ms": 12.3,
            "command": "deploy",
            "params": {"service": "api", "password": "••••"},
            "status": 200,
            "confirmed_by": "U0ANN",
            "approved_by": "U0BOB",
        },
    }
    with pytest.raises(ValueError, match="unknown audit outcome"):
        audit_record(RunFacts("E", "a", "U", "T", "C", "message", outcome="maybe"))


SCHEDULED: dict[str, Any] = {
    "keywords": ["report"],
    "url": "http://report:8080",
    "schedule": {"cron": "*/10 * * * * *", "timezone": "UTC", "channel": "C0OPS", "text": ""},
}


def test_an_enabled_action_with_a_schedule_is_planned() -> None:
    spec = ActionSpec.from_json("report", SCHEDULED)
    off = ActionSpec.from_json("off", {**SCHEDULED, "keywords": ["off"], "enabled": False})
    plain = ActionSpec.from_json("plain", {"keywords": ["p"], "url": "http://p:1"})
    (plan,) = action_plans([spec, off, plain], "UBOT")
    assert (plan.key, plan.text, plan.user_id, plan.team_id) == (
        "action:report",
        "report",
        "UBOT",
        "-",
    )
    tick = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)
    job = parse_dispatch_job(dict(plan.job(Due(tick, 2), now=5.0)))
    assert job["event_id"] == f"schedule:action:report:{int(tick.timestamp())}"
    assert job["channel"] == "C0OPS"
    assert job["schedule"] == {
        "key": "action:report",
        "action": "report",
        "tick": "2026-03-01T09:00:10+00:00",
        "missed": 2,
        "trigger": "schedule",
    }


def test_a_subscription_is_a_daily_plan_in_the_users_time_zone() -> None:
    weather = ActionSpec.from_json("weather", {"keywords": ["weather"], "url": "http://w:1"})
    subs = [
        {
            "action": "weather",
            "time": "07:30",
            "team_id": "T0",
            "slack_id": "U0ANN",
            "channel": "U0ANN",
            "timezone": "Europe/Lisbon",
        },
        {
            "action": "weather",
            "time": "06:00",
            "team_id": "T0",
            "slack_id": "U0BOB",
            "channel": "U0BOB",
            "timezone": "Not/AZone",
        },
        {
            "action": "gone",
            "time": "06:00",
            "team_id": "T0",
            "slack_id": "U0CAT",
            "channel": "U0CAT",
            "timezone": None,
        },
    ]
    ann, bob = alert_plans(subs, {"weather": weather})
    assert (ann.key, ann.user_id, ann.schedule.channel) == (
        "alert:weather:T0:U0ANN",
        "U0ANN",
        "U0ANN",
    )
    summer_morning = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)  # 7:30 in Lisbon (UTC+1)
    assert ann.schedule.latest_tick(summer_morning) == summer_morning
    assert bob.schedule.timezone == "UTC"  # an unknown zone falls back to UTC
    job = ann.job(Due(summer_morning, 0), now=1.0)
    assert job["schedule"] is not None
    assert job["schedule"]["trigger"] == "alert"
    assert (job["user_id"], job["team_id"], job["text"]) == ("U0ANN", "T0", "weather")

"""Typed commands, policy, confirmation, approval and the audit log, end to end.

Real: every process of `support.guarded` (gateway, dispatcher, poster, echo and weather actions,
data service, token dealer, Slack emulator with user groups, PostgreSQL). People are emulator
users clicking real buttons; that an action was never called is read from the echo action's own
list of calls; audit records are read from the data service as an admin. Nothing is faked.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from jeeves.localstack.postgres import PostgresServer
from support.guarded import GuardedStack, buttons, start_guarded
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.e2e
ALICE, BOB, MALLORY, CAROL, DAVE = "U0ALICE", "U0BOB", "U0MALLORY", "U0CAROL", "U0DAVE"
OPS, LEADS = "S0OPS", "S0LEADS"
WAIT = 20.0


def actions(echo: dict[str, str], weather: str) -> dict[str, dict[str, Any]]:
    return {
        "deploy": {
            "keywords": ["deploy"],
            "url": echo["deploy"],
            "description": "Deploys a service",
            "commands": [
                {
                    "format": "deploy {service} to {env=staging}",
                    "params": [{"name": "env", "type": "enum", "choices": ["staging", "prod"]}],
                }
            ],
            "policy": {
                "sideEffects": True,
                "allow": {"users": [ALICE], "userGroups": [OPS]},
                "confirm": True,
                "confirmTimeoutSeconds": 10,
            },
        },
        "release": {
            "keywords": ["release"],
            "url": echo["release"],
            "commands": [{"format": "release {version}"}],
            "policy": {"approvers": {"users": [CAROL], "userGroups": [LEADS]}},
        },
        "lock": {"keywords": ["lock"], "url": echo["lock"], "policy": {"sideEffects": True}},
        "weather": {
            "keywords": ["weather", "forecast"],
            "url": weather,
            "timeout_s": 8,
            "commands": [
                {
                    "name": "subscribe",
                    "format": "weather every day at {time}",
                    "params": [{"name": "time", "type": "time"}],
                },
                {"name": "unsubscribe", "format": "stop weather alerts"},
            ],
        },
    }


@pytest.fixture(name="stack", scope="module")
def fixture_stack(postgres_server: PostgresServer) -> Iterator[GuardedStack]:
    suffix = uuid.uuid4().hex[:8]
    pipeline_db = postgres_server.create_database(f"jeeves_e2e_guard_{suffix}")
    data_db = postgres_server.create_database(f"jeeves_e2e_guard_data_{suffix}")
    started: list[ServiceProcess] = []
    try:
        yield start_guarded(
            pipeline_db,
            data_db,
            started,
            actions,
            echo_names=("deploy", "release", "lock"),
            usergroups={OPS: [BOB], LEADS: [DAVE]},
        )
    finally:
        for service in reversed(started):
            print(f"===== {service.command}\n{service.logs()[-4000:]}")  # shown on failure
            service.close()


def channel() -> str:
    return "C" + uuid.uuid4().hex[:10].upper()


def said(stack: GuardedStack, where: str, since: float, count: int = 1) -> list[dict[str, Any]]:
    """The bot's messages in `where` since `since` (ephemeral ones included), once there are
    `count`."""
    return stack.slack.wait_for_messages(
        count, channel=where, since=since, timeout=WAIT, source="api,response_url"
    )


def ask(stack: GuardedStack, text: str, where: str, user: str) -> tuple[str, str, dict[str, Any]]:
    """`user` mentions the bot; (event id, message ts, the bot's one answer)."""
    since = time.time()
    sent = stack.slack.send("mention", text, where, user)
    [answer] = said(stack, where, since)
    return str(sent["event_id"]), str(sent["ts"]), answer


def click(
    stack: GuardedStack, message: dict[str, Any], action_id: str, user: str, where: str
) -> dict[str, Any]:
    """`user` clicks a button of `message`; the bot's one answer to that click."""
    since = time.time()
    value = buttons(message)[action_id]
    stack.slack.click(action_id, value, channel=where, user=user, message_ts=message["ts"])
    [answer] = said(stack, where, since)
    return answer


def calls_of(stack: GuardedStack, event_id: str) -> list[dict[str, Any]]:
    return [c for c in stack.echo_calls() if str(c["id"]).startswith(event_id)]


def quiet(seconds: float = 1.0) -> None:
    """Let anything still on its way arrive before asserting that it did not."""
    time.sleep(seconds)


def test_a_denied_user_is_told_privately_and_the_action_never_runs(stack: GuardedStack) -> None:
    where = channel()
    event_id, _, denial = ask(stack, "deploy api to prod", where, MALLORY)
    assert denial["ephemeral_to"] == MALLORY
    assert denial["method"] == "chat.postEphemeral"
    assert denial["text"] == (
        f"Sorry, you are not allowed to run `deploy`. It is for <@{ALICE}>, <!subteam^{OPS}>."
    )
    record = stack.audited(event_id)
    assert (record["actor"], record["target"]) == (MALLORY, "deploy")
    assert record["detail"]["outcome"] == "denied"
    assert record["detail"]["decision"] == "denied:user"
    assert record["detail"]["params"] == {"service": "api", "env": "prod"}
    quiet()
    assert calls_of(stack, event_id) == []


def test_side_effects_are_off_until_someone_is_allowed(stack: GuardedStack) -> None:
    event_id, _, denial = ask(stack, "lock the doors", channel(), ALICE)
    assert denial["ephemeral_to"] == ALICE
    assert "nobody may run it" in denial["text"]
    assert stack.audited(event_id)["detail"]["decision"] == "denied:side_effects"
    assert calls_of(stack, event_id) == []


def test_a_broken_command_is_explained_and_not_run(stack: GuardedStack) -> None:
    event_id, _, answer = ask(stack, "deploy api to qa", channel(), ALICE)
    assert answer["ephemeral_to"] is None
    assert answer["text"].startswith("Sorry, `env` must be one of staging, prod. Usage:")
    assert "deploy &lt;service&gt; [to &lt;env&gt;]" in answer["text"]
    quiet()
    assert calls_of(stack, event_id) == []


def test_a_confirmation_runs_the_action_only_after_the_callers_own_click(
    stack: GuardedStack,
) -> None:
    where = channel()
    event_id, _, prompt = ask(stack, "deploy api to prod", where, BOB)  # BOB: in @ops
    assert prompt["ephemeral_to"] == BOB
    assert set(buttons(prompt)) == {"jeeves:confirm", "jeeves:cancel"}
    assert "`deploy` service=api env=prod" in prompt["text"]

    refused = click(stack, prompt, "jeeves:confirm", ALICE, where)
    assert refused["ephemeral_to"] == ALICE
    assert refused["text"].startswith(f"Only <@{BOB}> can answer this")
    quiet()
    assert calls_of(stack, event_id) == []

    result = click(stack, prompt, "jeeves:confirm", BOB, where)
    assert result["text"] == "deploy service=api env=prod"  # echo shows the typed args it got
    assert result["ephemeral_to"] is None
    [call] = calls_of(stack, event_id)
    assert (call["user"], call["command"], call["params"]) == (
        BOB,
        "deploy",
        {"service": "api", "env": "prod"},
    )
    record = stack.audited(event_id)
    assert record["detail"]["outcome"] == "ok"
    assert record["detail"]["confirmed_by"] == BOB
    assert record["detail"]["status"] == 200

    again = click(stack, prompt, "jeeves:confirm", BOB, where)
    assert "already answered" in again["text"]
    quiet()
    assert len(calls_of(stack, event_id)) == 1


def test_a_cancelled_request_never_runs(stack: GuardedStack) -> None:
    where = channel()
    event_id, _, prompt = ask(stack, "deploy web", where, ALICE)
    answer = click(stack, prompt, "jeeves:cancel", ALICE, where)
    assert answer["text"] == "Cancelled: `deploy` service=web env=staging will not run."
    assert answer["ephemeral_to"] == ALICE
    assert stack.audited(event_id)["detail"]["outcome"] == "cancelled"
    quiet()
    assert calls_of(stack, event_id) == []


def test_an_approval_needs_a_second_person_from_the_approvers(stack: GuardedStack) -> None:
    where = channel()
    event_id, ts, request = ask(stack, "release v2", where, ALICE)
    assert request["ephemeral_to"] is None  # the thread sees the request
    assert request["thread_ts"] == ts
    assert request["text"].startswith(f"<@{ALICE}> asks to run `release` version=v2.")

    own = click(stack, request, "jeeves:approve", ALICE, where)
    assert own["text"] == "You asked for this `release` run, so someone else has to approve it."
    outsider = click(stack, request, "jeeves:approve", MALLORY, where)
    assert outsider["text"] == f"Only <@{CAROL}>, <!subteam^{LEADS}> may approve `release`."
    assert outsider["ephemeral_to"] == MALLORY
    quiet()
    assert calls_of(stack, event_id) == []

    done = click(stack, request, "jeeves:approve", DAVE, where)  # DAVE: in @leads
    assert done["text"] == "release version=v2"
    assert done["thread_ts"] == ts
    [call] = calls_of(stack, event_id)
    assert call["user"] == ALICE  # the action runs as the one who asked
    record = stack.audited(event_id)
    assert (record["actor"], record["detail"]["outcome"]) == (ALICE, "ok")
    assert record["detail"]["approved_by"] == DAVE


def test_a_rejected_request_never_runs(stack: GuardedStack) -> None:
    where = channel()
    event_id, ts, request = ask(stack, "release v3", where, ALICE)
    rejected = click(stack, request, "jeeves:reject", CAROL, where)
    assert rejected["text"] == (
        f"<@{CAROL}> rejected `release` version=v3 asked by <@{ALICE}>: it will not run."
    )
    assert rejected["thread_ts"] == ts
    record = stack.audited(event_id)
    assert record["detail"]["outcome"] == "rejected"
    assert record["detail"]["rejected_by"] == CAROL
    quiet()
    assert calls_of(stack, event_id) == []


def test_an_unanswered_confirmation_expires_and_is_audited(stack: GuardedStack) -> None:
    where = channel()
    event_id, _, prompt = ask(stack, "deploy late", where, ALICE)
    record = stack.audited(event_id, timeout=30)  # 10 s to confirm, then the sweep
    assert record["detail"]["outcome"] == "expired"
    late = click(stack, prompt, "jeeves:confirm", ALICE, where)
    assert "already answered (expired)" in late["text"]
    assert calls_of(stack, event_id) == []


def test_the_audit_log_lists_runs_by_outcome(stack: GuardedStack) -> None:
    event_id, _, _ = ask(stack, "lock everything", channel(), BOB)
    stack.audited(event_id)
    denied = stack.audit(outcome="denied")
    assert event_id in {r["detail"]["event_id"] for r in denied}
    assert {r["detail"]["outcome"] for r in denied} == {"denied"}


def test_daily_weather_alerts_are_opt_in_and_typed(stack: GuardedStack) -> None:
    where, user = channel(), "U0WEATHER1"
    _, _, bad = ask(stack, "weather every day at 25:00", where, user)
    assert bad["text"].startswith("Sorry, `time` must be a time of day like 7:30")
    _, _, done = ask(stack, "weather every day at 7:30am", where, user)
    assert done["text"].startswith("Done: I'll send you the weather every day at 07:30 UTC")
    headers = {"Authorization": f"Bearer {stack.dealer.token('cli', 'data')}"}
    everyone = http_json("GET", f"{stack.data.url}/v1/subscriptions", headers=headers)[1]
    mine = [s for s in everyone["items"] if s["slack_id"] == user]
    assert [(s["time"], s["channel"]) for s in mine] == [("07:30", user)]
    _, _, stopped = ask(stack, "stop weather alerts", where, user)
    assert stopped["text"] == "Done: no more daily weather from me."
    everyone = http_json("GET", f"{stack.data.url}/v1/subscriptions", headers=headers)[1]
    assert [s for s in everyone["items"] if s["slack_id"] == user] == []


def test_help_shows_how_to_call_each_command(stack: GuardedStack) -> None:
    _, _, answer = ask(stack, "help deploy", channel(), MALLORY)
    lines = answer["text"].splitlines()
    assert lines[1] == "• `deploy &lt;service&gt; [to &lt;env&gt;]`"
    assert lines[-1] == f"Who may run it: for <@{ALICE}>, <!subteam^{OPS}>; asks you to confirm"


def test_each_command_exports_its_json_schema(stack: GuardedStack) -> None:
    token = stack.dealer.token("cli", "dispatcher")
    status, body = http_json(
        "GET",
        stack.dispatchers[0].url + "/v1/actions/deploy/schema",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 200, body
    [schema] = body["commands"]
    assert schema["title"] == "deploy.deploy"
    assert schema["required"] == ["service"]
    assert schema["properties"]["env"]["enum"] == ["staging", "prod"]
    assert http_json("GET", stack.dispatchers[0].url + "/v1/actions/deploy/schema")[0] == 401

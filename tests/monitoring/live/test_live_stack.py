"""Monitoring against the real dev stack: real faults and real traffic.

Real: `make dev` (see conftest) — gateway, dispatcher, poster, data, tokens, the actions,
`jeeves-alerts`, the dashboard, the Slack emulator, PostgreSQL, etcd — with Prometheus 2.42
scraping every service each second (the chart's rules loaded) and Alertmanager 0.25 delivering
to `jeeves-alerts`. In order: every target scraped; the poster killed while people keep asking
(the reply SLO alert goes pending → firing; restarted, the poster posts every reply and the
alert); traffic (mentions, a command, a 429, a refused token, an alert whose Silence and
Acknowledge are clicked through gateway → dispatcher → alerts); the recorded series and every
dashboard panel; an action killed (its JeevesServiceDown reaches Slack: the fault-to-message
latency); figures. Printed with -s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jeeves.devstack.plan import SERVICES
from jeeves.localstack.ports import wait_until
from jeeves.localstack.processes import terminate
from jeeves.monitoring.dashboards import DASHBOARDS
from jeeves.monitoring.scrape import job_name
from support.dealer import client_token
from support.devstack import DevStack
from support.prometheus import PrometheusAPI, dashboard_problems
from support.services import http_json, http_status
from support.slack import SlackEmulator

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]  # make dev alone takes minutes here
GENERAL, ALERTS = "C0GENERAL", "C0ALERTS"
JOBS = {"prometheus", *(job_name(name) for name, _, _ in SERVICES)}  # every process of make dev
FIGURES: dict[str, Any] = {}
RECORDED = (
    'jeeves:dispatch:rate5m{action="echo",outcome="replied"} > 0',
    "jeeves:slack_ack_latency_seconds:p99_5m >= 0",
    "jeeves:reply_latency_seconds:p99_5m >= 0",
    'jeeves:dead_letters{entrypoint="reply"} >= 1',
    "jeeves:slack_rate_limited:rate5m > 0",
    'jeeves:slack_errors:rate5m{error="invalid_auth"} > 0',
    "jeeves:reply_errors:ratio_rate5m >= 0",
    'jeeves:queue_oldest_job_age_seconds{entrypoint="reply"} >= 0',
    'sum(jeeves_alerts_clicks_total{result="done"}) >= 2',
)


@pytest.fixture(name="prom", scope="module")
def fixture_prom(stack: DevStack) -> PrometheusAPI:
    return PrometheusAPI(stack.urls["prometheus"])


@pytest.fixture(name="slack", scope="module")
def fixture_slack(stack: DevStack) -> SlackEmulator:
    return SlackEmulator(stack.urls["slack-emulator"])


def test_prometheus_scrapes_every_service_with_the_rules_loaded(prom: PrometheusAPI) -> None:
    bad: list[str] = []

    def all_up() -> bool:
        targets = prom.targets()
        jobs = {t["labels"]["job"] for t in targets}
        bad[:] = [f"{t['labels']['job']}: {t['lastError']}" for t in targets if t["health"] != "up"]
        bad.extend(f"{job}: not a target" for job in JOBS - jobs)
        return not bad and jobs == JOBS

    try:
        prom.wait(all_up, 60, "every target scraped and up")
    except AssertionError:
        raise AssertionError(f"targets not up: {bad}") from None
    groups = {g["name"]: g for g in prom.rule_groups()}
    assert set(groups) == {
        "jeeves-slo-slack-ack",
        "jeeves-slo-reply",
        "jeeves-pipeline",
        "jeeves-platform",
    }
    assert all(r["health"] == "ok" for g in groups.values() for r in g["rules"])
    tracks = prom.query('group by (job, track) (up{track="stable"})')
    assert {t["metric"]["job"] for t in tracks} == {
        "jeeves-echo",
        "jeeves-memory",
        "jeeves-weather",
        "jeeves-alerts",
    }


def restart(stack: DevStack, service: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `jeeves-<service>` again with the environment it had (same port): what Kubernetes
    does with a Pod that died. Ours to stop; it dies with this process (PR_SET_PDEATHSIG)."""
    binary = Path(sys.executable).parent / f"jeeves-{service}"
    with open(stack.data_dir / f"{service}-restarted.log", "ab") as log:
        proc = subprocess.Popen(
            ["setpriv", "--pdeathsig", "TERM", "--", str(binary)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = stack.urls[service] + "/readyz"
    wait_until(lambda: http_status(url) == 200, timeout=120, what=f"the restarted {service}")
    return proc


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.fixture(name="restarted", scope="module")
def fixture_restarted() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        terminate(proc)


def test_a_killed_poster_fires_the_reply_slo_alert_and_loses_no_reply(
    stack: DevStack,
    prom: PrometheusAPI,
    slack: SlackEmulator,
    restarted: list[subprocess.Popen[bytes]],
) -> None:
    """First, before any reply traffic (a loaded machine can make replies late enough to burn
    the budget by itself): the poster dies, people keep asking, the reply SLO alert goes
    pending → firing; the poster comes back and every reply is posted, the alert too."""
    assert prom.alert_state("JeevesReplyBudgetBurn") is None
    pid = stack.pid_of("poster")
    env = environ(pid)
    stop, asked = threading.Event(), []

    def chatter() -> None:  # people keep asking; their replies now wait in the queue
        while not stop.is_set():
            slack.send_mention(f"help {len(asked)}", channel="C0HELP")
            asked.append(1)
            stop.wait(0.5)

    talker = threading.Thread(target=chatter)
    started, seen = time.monotonic(), {}
    since = time.time()
    os.kill(pid, signal.SIGKILL)
    talker.start()
    try:
        prom.wait(
            lambda: _states(prom, "JeevesReplyBudgetBurn", seen, started),
            300,
            "JeevesReplyBudgetBurn to fire",
        )
    finally:
        stop.set()
        talker.join(10)
    assert "pending" in seen
    assert seen["pending"] < seen["firing"]
    ratio = prom.value("jeeves:reply_errors:ratio_rate5m")
    assert ratio is not None
    assert ratio > 0.144
    restarted.append(restart(stack, "poster", env))
    came_back = time.time()
    replies = slack.wait_for_messages(len(asked), channel="C0HELP", since=since, timeout=300)
    [alert] = wait_bot_message(slack, ALERTS, "JeevesReplyBudgetBurn", 120)
    seen["in Slack, after the poster came back"] = round(alert["posted_at"] - came_back, 1)
    last = max(m["posted_at"] for m in replies)
    seen[f"the {len(asked)} queued replies, after it came back"] = round(last - came_back, 1)
    FIGURES["poster killed → reply SLO"] = seen
    print(f"\nFIGURE poster SIGKILL → JeevesReplyBudgetBurn: {seen} s (5m error ratio {ratio:.2f})")
    assert len(slack.messages("C0HELP")) == len(asked)  # every reply, once


def push_alert(stack: DevStack, name: str) -> None:
    """What Prometheus does with a firing rule: POST it to Alertmanager."""
    alert = {
        "labels": {"alertname": name, "job": "jeeves-drill", "severity": "warning"},
        "annotations": {"summary": "A drill", "runbook_url": "https://example.org/rb#drill"},
        "startsAt": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
    }
    status, body = http_json("POST", stack.urls["alertmanager"] + "/api/v2/alerts", [alert])
    assert status == 200, body


def wait_bot_message(slack: SlackEmulator, channel: str, needle: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            m for m in slack.messages(channel, source="api,response_url") if needle in m["text"]
        ]
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"no message with {needle!r} in {channel} within {timeout}s")


def test_real_traffic_and_clicks_through_the_pipeline(
    stack: DevStack, slack: SlackEmulator, prom: PrometheusAPI
) -> None:
    since = time.time()
    # A counter's label set first appears at its first increment: Prometheus sees no increase
    # for what happened before that first scrape. One warm-up call per action, then the rest.
    warm = ["echo warm-up", "weather in Porto", "what do you know"]
    for text in warm:
        slack.send_mention(text, channel=GENERAL)
    slack.wait_for_messages(len(warm), channel=GENERAL, since=since, timeout=180)
    time.sleep(3)  # three scrapes at 1 s: the new series are known at their first value
    texts = [f"echo live {n}" for n in range(20)]
    texts += [
        "weather in Lisbon",
        "remember my location is Porto",
        "what do you know",
        "help",
        "flibbertigibbet",
    ]
    for text in texts:
        slack.send_mention(text, channel=GENERAL)
    slack.send_command("help", channel=GENERAL)
    slack.rate_limit("C0RATE", retry_after=1, count=1)
    slack.send_mention("echo paced", channel="C0RATE")
    slack.slack_error("invalid_auth", channel="C0GONE", methods=["chat.postMessage"])
    slack.send_mention("echo into the void", channel="C0GONE")
    slack.wait_for_messages(len(warm) + len(texts), channel=GENERAL, since=since, timeout=180)
    slack.wait_for_messages(1, channel="C0RATE", since=since, timeout=120)

    drill = "JeevesLiveDrill" + uuid.uuid4().hex[:6]
    push_alert(stack, drill)
    [message] = wait_bot_message(slack, ALERTS, drill, 30)
    buttons = {b["action_id"]: b for b in message["blocks"][-1]["elements"]}
    slack.click(
        "alerts:silence",
        buttons["alerts:silence"]["value"],
        channel=ALERTS,
        message_ts=message["ts"],
        user="U0ALICE",
    )
    slack.click(
        "alerts:ack",
        buttons["alerts:ack"]["value"],
        channel=ALERTS,
        message_ts=message["ts"],
        user="U0BOB",
    )
    said = wait_bot_message(slack, ALERTS, "<@U0ALICE> silenced this alert", 30)
    assert said[0]["thread_ts"] == message["ts"]
    wait_bot_message(slack, ALERTS, "<@U0BOB> acknowledged this alert", 30)
    _, silences = http_json("GET", stack.urls["alertmanager"] + "/api/v2/silences")
    [silence] = [s for s in silences if any(m["value"] == drill for m in s["matchers"])]
    assert sorted((m["name"], m["value"]) for m in silence["matchers"]) == [
        ("alertname", drill),
        ("job", "jeeves-drill"),
    ]
    assert silence["createdBy"] == "slack:U0ALICE (via Jeeves)"
    assert len([m for m in slack.messages(ALERTS) if drill in m["text"]]) == 1
    token = client_token(stack.urls["tokens"], stack.data_dir / "tokens", "cli", "data")
    _, audit = http_json(
        "GET",
        stack.urls["data"] + "/v1/audit?limit=50",
        headers={"Authorization": f"Bearer {token}"},
    )
    shared = {(a["kind"], a["actor"]) for a in audit["items"] if drill in json.dumps(a["detail"])}
    assert shared == {("alert.silence", "U0ALICE"), ("alert.acknowledge", "U0BOB")}

    missing: list[str] = []

    def recorded() -> bool:
        missing[:] = [q for q in RECORDED if not prom.query(q)]
        return not missing

    try:
        prom.wait(recorded, 60, "the recording rules to hold the traffic")
    except AssertionError:
        raise AssertionError(f"no series for: {missing}") from None
    prom.wait(
        lambda: prom.alert_state("JeevesSlackInvalidAuth") == "firing",
        60,
        "the refused token to fire JeevesSlackInvalidAuth",
    )
    wait_bot_message(slack, ALERTS, "JeevesSlackInvalidAuth", 30)
    replies = prom.value("sum(jeeves_dispatch_replies_total)")
    assert replies is not None
    assert replies >= len(texts) + 3


@pytest.mark.parametrize(
    "name", ["jeeves-overview.json", "jeeves-pipeline.json", "jeeves-actions.json"]
)
def test_every_panel_of_the_dashboard_returns_real_series(prom: PrometheusAPI, name: str) -> None:
    problems: list[str] = []

    def clean() -> bool:  # a series created a moment ago needs two scrapes before rate() has it
        problems[:] = dashboard_problems(prom, DASHBOARDS[name](), rate_interval="1m")
        return not problems

    try:
        prom.wait(clean, 30, f"every panel of {name} to return series")
    except AssertionError:
        raise AssertionError("\n".join(problems)) from None


def _states(
    prom: PrometheusAPI, name: str, seen: dict[str, float], started: float, **labels: str
) -> bool:
    state = prom.alert_state(name, **labels)
    if state and state not in seen:
        seen[state] = round(time.monotonic() - started, 1)
    return "firing" in seen


def test_a_killed_action_reaches_slack_as_one_alert(
    stack: DevStack, prom: PrometheusAPI, slack: SlackEmulator
) -> None:
    started, seen = time.monotonic(), {}
    os.kill(stack.pid_of("echo"), signal.SIGKILL)
    prom.wait(
        lambda: _states(prom, "JeevesServiceDown", seen, started, job="jeeves-echo"),
        200,
        "JeevesServiceDown{job=jeeves-echo} to fire",
    )
    assert "pending" in seen
    [message] = wait_bot_message(slack, ALERTS, "JeevesServiceDown: jeeves-echo is down", 60)
    seen["slack"] = round(time.monotonic() - started, 1)
    assert "jeeves-echo" in json.dumps(message["blocks"])
    FIGURES["action killed → alert"] = seen
    print(f"\nFIGURE action SIGKILL → JeevesServiceDown: {seen} s")


def test_figures_rule_evaluation_and_scrape_cost(prom: PrometheusAPI) -> None:
    rules = prom.query("prometheus_rule_group_last_duration_seconds")
    assert len(rules) == 4
    scrape = prom.query('avg_over_time(scrape_duration_seconds{job!="prometheus"}[2m])')
    samples = prom.query('scrape_samples_scraped{job!="prometheus"}')
    for row in rules:
        group = row["metric"]["rule_group"].rsplit(";", 1)[-1]
        print(f"FIGURE rule group {group}: {float(row['value'][1]) * 1000:.2f} ms per evaluation")
        assert float(row["value"][1]) < 1.0
    per_job = {s["metric"]["job"]: float(s["value"][1]) for s in samples}
    for row in sorted(scrape, key=lambda r: r["metric"]["job"]):
        job = row["metric"]["job"]
        print(
            f"FIGURE scrape {job}: {float(row['value'][1]) * 1000:.1f} ms, "
            f"{per_job.get(job, 0):.0f} samples"
        )

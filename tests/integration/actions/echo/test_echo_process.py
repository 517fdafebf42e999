"""The echo action as a real process: the action protocol over HTTP, validation, idempotency,
the test fault controls and metrics.

Real: the `jeeves-echo` entry point under Hypercorn (with JEEVES_ECHO_FAULTS=1). Nothing faked.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration


def envelope(action_id: str, text: str = "hello") -> dict[str, Any]:
    return {
        "id": action_id,
        "action": "echo",
        "text": text,
        "args": {},
        "user": {"slack_id": "U0ALICE", "team_id": "T0TEAM"},
        "channel": "C0GENERAL",
        "thread_ts": "1700000000.000100",
        "sent_at": "2026-11-25T23:00:00Z",
    }


@pytest.fixture(name="echo", scope="module")
def fixture_echo() -> Iterator[ServiceProcess]:
    process = ServiceProcess("jeeves-echo", {"JEEVES_ECHO_FAULTS": "1"}).start()
    yield process
    process.close()


@pytest.fixture(name="url")
def fixture_url(echo: ServiceProcess) -> str:
    http_json("POST", echo.url + "/_test/reset", {})
    return echo.url


def test_replies_with_the_text(url: str) -> None:
    assert http_json("POST", url + "/v1/act", envelope("p1", "Hello, Jeeves")) == (
        200,
        {"reply": {"text": "Hello, Jeeves"}},
    )


def test_user_text_comes_back_escaped_so_it_pings_no_one(url: str) -> None:
    status, answer = http_json("POST", url + "/v1/act", envelope("p1b", "<!channel> R&D <@U1>"))
    assert status == 200
    assert answer["reply"]["text"] == "&lt;!channel&gt; R&amp;D &lt;@U1&gt;"


def test_bad_envelopes_are_422_naming_the_field(url: str) -> None:
    body = envelope("p2")
    del body["user"]["team_id"]
    status, answer = http_json("POST", url + "/v1/act", body)
    assert status == 422
    assert answer["error"]["field"] == "user.team_id"
    status, answer = http_json("POST", url + "/v1/act", [1, 2])
    assert (status, answer["error"]["field"]) == (422, "body")
    status, answer = http_json("GET", url + "/v1/act")
    assert (status, answer["error"]["code"]) == (405, "method_not_allowed")


def test_blank_text_is_a_message_for_the_user(url: str) -> None:
    status, answer = http_json("POST", url + "/v1/act", envelope("p3", "  "))
    assert status == 400
    assert answer["error"]["message"] == "Nothing to echo: try `echo hello`."


def test_repeated_ids_are_answered_from_the_first_call(url: str) -> None:
    answers = [http_json("POST", url + "/v1/act", envelope("p4", "first")) for _ in range(3)]
    assert answers == [(200, {"reply": {"text": "first"}})] * 3
    later = http_json("POST", url + "/v1/act", envelope("p4", "changed text, same id"))
    assert later == (200, {"reply": {"text": "first"}})
    _, calls = http_json("GET", url + "/_test/calls")
    assert [c["id"] for c in calls["calls"]] == ["p4"]


def test_concurrent_repeats_reach_the_handler_once(url: str) -> None:
    http_json("POST", url + "/_test/fail", {"status": 200, "delay_s": 0.5})
    results: list[tuple[int, Any]] = []

    def call() -> None:
        results.append(http_json("POST", url + "/v1/act", envelope("p5", "together")))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [(200, {"reply": {"text": "together"}})] * 4
    _, calls = http_json("GET", url + "/_test/calls")
    assert len(calls["calls"]) == 1


def test_planned_failures_then_success_for_retries(url: str) -> None:
    http_json("POST", url + "/_test/fail", {"status": 503, "count": 2})
    statuses = [http_json("POST", url + "/v1/act", envelope("p6"))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert http_json("POST", url + "/v1/act", envelope("p6"))[0] == 200
    _, calls = http_json("GET", url + "/_test/calls")
    assert [c["fault_status"] for c in calls["calls"]] == [503, 503, None]


def test_metrics_count_outcomes(url: str, echo: ServiceProcess) -> None:
    http_json("POST", url + "/v1/act", envelope("p7"))
    http_json("POST", url + "/v1/act", envelope("p7"))
    with urllib.request.urlopen(url + "/metrics") as response:
        text = response.read().decode()
    assert 'jeeves_action_requests_total{action="echo",outcome="replied"}' in text
    assert 'jeeves_action_requests_total{action="echo",outcome="duplicate"}' in text
    assert "hello" not in echo.logs(), "message text is never logged"


def test_faults_are_off_unless_enabled() -> None:
    process = ServiceProcess("jeeves-echo", {"JEEVES_ECHO_FAULTS": "0"}).start()
    try:
        status, answer = http_json("POST", process.url + "/_test/fail", {"status": 500})
        assert (status, answer["error"]["code"]) == (404, "not_found")
    finally:
        process.close()


def test_a_caller_giving_up_does_not_cause_a_second_run(url: str) -> None:
    http_json("POST", url + "/_test/fail", {"status": 200, "delay_s": 1.0})
    request = urllib.request.Request(
        url + "/v1/act",
        data=json.dumps(envelope("p8", "patience")).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(request, timeout=0.2)  # the dispatcher's timeout, say
    retry = http_json("POST", url + "/v1/act", envelope("p8", "patience"))
    assert retry == (200, {"reply": {"text": "patience"}})
    _, calls = http_json("GET", url + "/_test/calls")
    assert [c["id"] for c in calls["calls"]] == ["p8"], "the handler ran once"

"""The dice action as a real process: the action protocol over HTTP, seeded rolls that a
restarted process repeats, errors for people, health and metrics.

Real: the `jeeves-dice` entry point under Hypercorn. Nothing faked.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration


def envelope(action_id: str, text: str) -> dict[str, Any]:
    return {
        "id": action_id,
        "action": "dice",
        "text": text,
        "args": {},
        "user": {"slack_id": "U0ALICE", "team_id": "T0TEAM"},
        "channel": "C0GENERAL",
        "thread_ts": None,
        "sent_at": "2026-11-25T23:00:00Z",
    }


@pytest.fixture(name="dice")
def fixture_dice() -> Iterator[ServiceProcess]:
    process = ServiceProcess("jeeves-dice").start()
    yield process
    process.close()


def test_rolls_and_a_restart_rolls_the_same(dice: ServiceProcess) -> None:
    status, answer = http_json("POST", dice.url + "/v1/act", envelope("r1", "4d6+1"))
    assert status == 200
    match = re.fullmatch(
        r":game_die: 4d6\+1: ([1-6]) \+ ([1-6]) \+ ([1-6]) \+ ([1-6]) \+ 1 = \*(\d+)\*",
        answer["reply"]["text"],
    )
    assert match is not None, answer
    faces = [int(face) for face in match.groups()[:4]]
    assert int(match.group(5)) == sum(faces) + 1
    dice.stop()
    restarted = ServiceProcess("jeeves-dice", port=dice.port).start()
    try:
        assert http_json("POST", restarted.url + "/v1/act", envelope("r1", "4d6+1")) == (
            status,
            answer,
        ), "a replayed request shows the same roll"
    finally:
        restarted.close()


def test_errors_are_for_people_and_envelopes_are_checked(dice: ServiceProcess) -> None:
    status, answer = http_json("POST", dice.url + "/v1/act", envelope("r2", "a lot of dice"))
    assert status == 400
    assert "roll 2d6" in answer["error"]["message"]
    body = envelope("r3", "d20")
    del body["channel"]
    status, answer = http_json("POST", dice.url + "/v1/act", body)
    assert (status, answer["error"]["field"]) == (422, "channel")


def test_health_and_metrics(dice: ServiceProcess) -> None:
    assert http_json("GET", dice.url + "/healthz")[0] == 200
    http_json("POST", dice.url + "/v1/act", envelope("r4", "d20"))
    with urllib.request.urlopen(dice.url + "/metrics") as response:
        text = response.read().decode()
    assert 'jeeves_action_requests_total{action="dice",outcome="replied"}' in text

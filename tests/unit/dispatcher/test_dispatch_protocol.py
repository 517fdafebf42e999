"""The dispatcher's side of the action protocol: request bodies, keys, canaries, answers.

Pure functions; answers are given as (status, decoded body) pairs. Nothing is faked.
"""

from __future__ import annotations

import pytest

from jeeves.dispatcher.domain.protocol import (
    Outcome,
    act_request,
    action_call_id,
    action_url,
    interpret,
    reply_key,
)
from jeeves.kit.actions import ActionSpec, Canary
from jeeves.kit.jobs import DispatchJob

pytestmark = pytest.mark.unit
WEATHER = ActionSpec(name="weather", keywords=("weather",), url="http://w", usage="weather in <p>")


def job(**overrides: object) -> DispatchJob:
    base: DispatchJob = {
        "event_id": "Ev1",
        "kind": "message",
        "team_id": "T1",
        "user_id": "U1",
        "channel": "C1",
        "ts": "1.000100",
        "thread_ts": "1.000001",
        "text": "<@UBOT> weather in Berlin",
        "received_at": 1700000000.5,
    }
    return {**base, **overrides}  # type: ignore[typeddict-item]


def test_request_body_follows_the_protocol() -> None:
    args = {"keyword": "weather", "message": "weather in Berlin"}
    body = act_request(job(), WEATHER, "in Berlin", args)
    assert body == {
        "id": "Ev1:weather",
        "action": "weather",
        "text": "in Berlin",
        "args": {"keyword": "weather", "message": "weather in Berlin"},
        "user": {"slack_id": "U1", "team_id": "T1"},
        "channel": "C1",
        "thread_ts": "1.000001",
        "sent_at": 1700000000.5,
    }


def test_keys_are_stable_per_event() -> None:
    assert action_call_id("Ev1", "weather") == action_call_id("Ev1", "weather")
    assert action_call_id("Ev1", "weather") != action_call_id("Ev2", "weather")
    assert reply_key("Ev1") == reply_key("Ev1") != reply_key("Ev2")


def test_canary_takes_its_share_of_users_deterministically() -> None:
    spec = ActionSpec(
        name="weather", keywords=("weather",), url="http://main", canary=Canary("http://can/", 20)
    )
    users = [f"U{n}" for n in range(2000)]
    chosen = [action_url(spec, u) for u in users]
    assert set(chosen) == {"http://main", "http://can"}
    assert 0.15 < chosen.count("http://can") / len(users) < 0.25
    assert chosen == [action_url(spec, u) for u in users]


def test_no_canary_means_the_main_url() -> None:
    assert action_url(WEATHER, "U1") == "http://w"


def test_200_with_reply_is_posted() -> None:
    answer = interpret(WEATHER, 200, {"reply": {"text": "Sunny", "blocks": [{"type": "x"}]}})
    assert answer.outcome is Outcome.REPLIED
    assert answer.reply is not None
    assert (answer.reply.text, answer.reply.blocks) == ("Sunny", [{"type": "x"}])
    assert answer.reply.ephemeral is False


def test_a_reply_marked_ephemeral_stays_private() -> None:
    answer = interpret(WEATHER, 200, {"reply": {"text": "your link", "ephemeral": True}})
    assert answer.reply is not None
    assert answer.reply.ephemeral is True
    loose = interpret(WEATHER, 200, {"reply": {"text": "x", "ephemeral": "yes"}})
    assert loose.reply is not None
    assert loose.reply.ephemeral is False, "only a JSON true makes a reply private"


@pytest.mark.parametrize(
    "body",
    [
        None,
        "text",
        {},
        {"reply": "x"},
        {"reply": {"text": ""}},
        {"reply": {"text": "a", "blocks": 3}},
    ],
)
def test_unreadable_200_tells_the_user(body: object) -> None:
    answer = interpret(WEATHER, 200, body)
    assert answer.outcome is Outcome.INVALID
    assert answer.reply is not None
    assert "could not read" in answer.reply.text


def test_202_posts_nothing() -> None:
    answer = interpret(WEATHER, 202, None)
    assert (answer.outcome, answer.reply) == (Outcome.DEFERRED, None)


def test_4xx_passes_the_action_message_to_the_user() -> None:
    body = {"error": {"code": "no_place", "message": "Which  place?\n"}}
    answer = interpret(WEATHER, 400, body)
    assert answer.outcome is Outcome.REJECTED
    assert answer.reply is not None
    assert answer.reply.text == "`weather` could not do that: Which place?"


@pytest.mark.parametrize(
    ("status", "phrase"),
    [(422, "Usage: `weather in &lt;p&gt;`"), (403, "not authorised"), (404, "answered 404")],
)
def test_4xx_without_message_is_still_clear(status: int, phrase: str) -> None:
    answer = interpret(WEATHER, status, None)
    assert answer.outcome is Outcome.REJECTED
    assert answer.reply is not None
    assert phrase in answer.reply.text


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429, 302])
def test_transient_answers_are_retried(status: int) -> None:
    answer = interpret(WEATHER, status, {"error": {"message": "x"}})
    assert answer.outcome is Outcome.FAILED
    assert answer.outcome.retried
    assert answer.reply is None


def test_long_replies_are_cut_to_slacks_limit() -> None:
    answer = interpret(WEATHER, 200, {"reply": {"text": "x" * 50_000}})
    assert answer.reply is not None
    assert len(answer.reply.text) == 40_000

"""The action SDK (`jeeves.kit.action_app`): envelope validation, answers, idempotency, the
verifier hook and metrics, through Quart's test client.

Real: the kit app built by `create_action_app`, with its serving hooks. The handlers are small
test handlers defined here; the reply store's clock is faked to test expiry without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from jeeves.kit.action_app import (
    LATER,
    ActionError,
    ActionRequest,
    EnvelopeError,
    Later,
    MemoryReplyStore,
    Reply,
    StoredAnswer,
    create_action_app,
    escape_mrkdwn,
    parse_envelope,
)
from jeeves.kit.settings import ServiceSettings

pytestmark = pytest.mark.unit


def envelope(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "job-1",
        "action": "probe",
        "text": "hello",
        "args": {"n": 1},
        "user": {"slack_id": "U0ALICE", "team_id": "T0TEAM"},
        "channel": "C0GENERAL",
        "thread_ts": None,
        "sent_at": 1700000000.5,
    }
    base.update(changes)
    return base


class Probe:
    """A handler whose behaviour each test chooses; counts its calls."""

    def __init__(self) -> None:
        self.calls: list[ActionRequest] = []
        self.answer: Reply | Later | Exception = Reply("ok")
        self.gate: asyncio.Event | None = None

    async def __call__(self, request: ActionRequest) -> Reply | Later:
        self.calls.append(request)
        if self.gate is not None:
            await self.gate.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture(name="probe")
def fixture_probe() -> Probe:
    return Probe()


@pytest.fixture(name="app")
async def fixture_app(probe: Probe) -> AsyncIterator[Quart]:
    app = create_action_app("probe", ServiceSettings(), probe)
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


# Envelope parsing (pure) ---------------------------------------------------------------------


def test_a_full_envelope_parses_into_a_typed_request() -> None:
    request = parse_envelope(envelope(thread_ts="1700000000.000100"))
    assert request.id == "job-1"
    assert request.user.slack_id == "U0ALICE"
    assert request.args == {"n": 1}
    assert request.thread_ts == "1700000000.000100"
    assert request.sent_at is not None
    assert request.sent_at.timestamp() == 1700000000.5


def test_optional_fields_and_iso_times() -> None:
    minimal = envelope()
    for key in ("args", "thread_ts", "sent_at"):
        del minimal[key]
    request = parse_envelope(minimal)
    assert (request.args, request.thread_ts, request.sent_at) == ({}, None, None)
    iso = parse_envelope(envelope(sent_at="2026-11-25T23:00:00Z", text=""))
    assert iso.sent_at is not None
    assert iso.sent_at.isoformat() == "2026-11-25T23:00:00+00:00"
    assert iso.text == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": 7}, "id"),
        ({"id": "x" * 201}, "id"),
        ({"action": None}, "action"),
        ({"text": 5}, "text"),
        ({"args": []}, "args"),
        ({"user": "U0ALICE"}, "user"),
        ({"user": {"team_id": "T0TEAM"}}, "user.slack_id"),
        ({"user": {"slack_id": "U0ALICE", "team_id": ""}}, "user.team_id"),
        ({"channel": ""}, "channel"),
        ({"thread_ts": 1.5}, "thread_ts"),
        ({"sent_at": "yesterday"}, "sent_at"),
        ({"sent_at": True}, "sent_at"),
    ],
)
def test_bad_envelopes_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(envelope(**changes))
    assert caught.value.field == field


def test_missing_fields_are_required() -> None:
    data = envelope()
    del data["channel"]
    with pytest.raises(EnvelopeError, match="'channel' is required"):
        parse_envelope(data)
    with pytest.raises(EnvelopeError, match="'body'"):
        parse_envelope(["not", "an", "object"])


def test_action_error_status_range() -> None:
    assert ActionError(404, "no such city").code == "action_rejected"
    assert ActionError(503, "upstream down").code == "action_unavailable"
    with pytest.raises(ValueError, match="4xx or 5xx"):
        ActionError(302, "nope")


# The endpoint --------------------------------------------------------------------------------


async def test_reply_is_200_with_text_and_blocks(client: Client, probe: Probe) -> None:
    probe.answer = Reply("hi", blocks=[{"type": "divider"}])
    response = await client.post("/v1/act", json=envelope())
    assert response.status_code == 200
    assert await response.get_json() == {"reply": {"text": "hi", "blocks": [{"type": "divider"}]}}
    assert probe.calls[0].text == "hello"


async def test_later_is_202(client: Client, probe: Probe) -> None:
    probe.answer = LATER
    response = await client.post("/v1/act", json=envelope())
    assert response.status_code == 202


async def test_action_errors_and_crashes(client: Client, probe: Probe) -> None:
    probe.answer = ActionError(404, "I don't know Atlantis.")
    rejected = await client.post("/v1/act", json=envelope(id="a"))
    assert rejected.status_code == 404
    assert (await rejected.get_json())["error"] == {
        "code": "action_rejected",
        "message": "I don't know Atlantis.",
    }
    probe.answer = RuntimeError("secret detail")
    crashed = await client.post("/v1/act", json=envelope(id="b"))
    assert crashed.status_code == 500
    body = await crashed.get_json()
    assert body["error"]["code"] == "internal_error"
    assert "secret detail" not in str(body)


async def test_invalid_envelopes_are_422_and_bad_json_400(client: Client, probe: Probe) -> None:
    response = await client.post("/v1/act", json=envelope(user={"slack_id": "U1"}))
    assert response.status_code == 422
    error = (await response.get_json())["error"]
    assert (error["code"], error["field"]) == ("validation_failed", "user.team_id")
    broken = await client.post(
        "/v1/act", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert (await broken.get_json())["error"]["code"] == "bad_request"
    assert probe.calls == []


async def test_same_id_is_answered_once(client: Client, probe: Probe) -> None:
    first = await client.post("/v1/act", json=envelope())
    probe.answer = Reply("a different answer")
    second = await client.post("/v1/act", json=envelope())
    assert await first.get_json() == await second.get_json()
    assert len(probe.calls) == 1
    probe.answer = ActionError(400, "bad")
    await client.post("/v1/act", json=envelope(id="rejected"))
    await client.post("/v1/act", json=envelope(id="rejected"))
    assert len(probe.calls) == 2  # a 4xx is final, kept too


async def test_5xx_is_not_kept_so_retries_run_again(client: Client, probe: Probe) -> None:
    probe.answer = ActionError(503, "try later")
    assert (await client.post("/v1/act", json=envelope())).status_code == 503
    probe.answer = Reply("recovered")
    retry = await client.post("/v1/act", json=envelope())
    assert (retry.status_code, (await retry.get_json())["reply"]["text"]) == (200, "recovered")
    assert len(probe.calls) == 2


async def test_concurrent_duplicates_wait_for_the_first(client: Client, probe: Probe) -> None:
    probe.gate = asyncio.Event()
    first = asyncio.create_task(client.post("/v1/act", json=envelope()))
    second = asyncio.create_task(client.post("/v1/act", json=envelope()))
    while not probe.calls:
        await asyncio.sleep(0.01)
    probe.gate.set()
    answers = await asyncio.gather(first, second)
    assert [a.status_code for a in answers] == [200, 200]
    assert len(probe.calls) == 1


async def test_metrics_count_outcomes(client: Client, probe: Probe) -> None:
    await client.post("/v1/act", json=envelope())
    await client.post("/v1/act", json=envelope())
    await client.post("/v1/act", json=envelope(id=""))
    text = (await (await client.get("/metrics")).get_data()).decode()
    assert 'jeeves_action_requests_total{action="probe",outcome="replied"} 1.0' in text
    assert 'jeeves_action_requests_total{action="probe",outcome="duplicate"} 1.0' in text
    assert 'jeeves_action_requests_total{action="probe",outcome="invalid"} 1.0' in text
    assert 'jeeves_action_duration_seconds_count{action="probe"} 1.0' in text


async def test_verifier_runs_first_and_passes_claims(probe: Probe) -> None:
    async def verifier(headers: Mapping[str, str]) -> Mapping[str, Any]:
        if headers.get("authorization") != "Bearer good":
            raise ActionError(401, "a valid token is required")
        return {"sub": "dispatcher", "aud": "probe"}

    app = create_action_app("probe", ServiceSettings(), probe, verifier=verifier)
    async with app.test_app():
        client = app.test_client()
        denied = await client.post("/v1/act", json={"not": "an envelope"})
        assert denied.status_code == 401
        allowed = await client.post(
            "/v1/act", json=envelope(), headers={"Authorization": "Bearer good"}
        )
        assert allowed.status_code == 200
    assert probe.calls[0].claims == {"sub": "dispatcher", "aud": "probe"}


async def test_memory_store_is_bounded_and_expires() -> None:
    now = [0.0]
    store = MemoryReplyStore(max_entries=2, ttl_s=10, clock=lambda: now[0])
    answer = StoredAnswer(200, {"reply": {"text": "x"}})
    for key in ("a", "b", "c"):
        await store.put(key, answer)
    assert len(store) == 2
    assert await store.get("a") is None
    assert await store.get("c") == answer
    now[0] = 11.0
    assert await store.get("c") is None


async def test_a_cancelled_caller_does_not_cancel_the_work(
    app: Quart, client: Client, probe: Probe
) -> None:
    probe.gate = asyncio.Event()
    caller = asyncio.create_task(client.post("/v1/act", json=envelope()))
    while not probe.calls:
        await asyncio.sleep(0.01)
    caller.cancel()  # the dispatcher's timeout
    with pytest.raises(asyncio.CancelledError):
        await caller
    probe.gate.set()
    endpoint = app.extensions["jeeves"].extras["action_endpoint"]
    await endpoint.drain(10)
    repeat = await client.post("/v1/act", json=envelope())
    assert (await repeat.get_json()) == {"reply": {"text": "ok"}}
    assert len(probe.calls) == 1


async def test_two_replicas_sharing_a_store_run_a_duplicate_once(probe: Probe) -> None:
    """Two replicas of an action behind one Service, with a shared reply store, receive the
    same id at the same time (the dispatcher's retry after a timeout): the handler runs once;
    the other replica answers 503 `in_progress` (the dispatcher retries, and then gets the
    kept answer)."""
    shared = MemoryReplyStore()
    replicas = [
        create_action_app("probe", ServiceSettings(), probe, store=shared) for _ in range(2)
    ]
    probe.gate = asyncio.Event()
    async with replicas[0].test_app(), replicas[1].test_app():
        first = asyncio.create_task(replicas[0].test_client().post("/v1/act", json=envelope()))
        while not probe.calls:
            await asyncio.sleep(0.01)
        second = await replicas[1].test_client().post("/v1/act", json=envelope())
        probe.gate.set()
        answered = await first
        retried = await replicas[1].test_client().post("/v1/act", json=envelope())
    assert answered.status_code == 200
    assert second.status_code == 503
    assert (await second.get_json())["error"]["code"] == "in_progress"
    assert await retried.get_json() == await answered.get_json()
    assert len(probe.calls) == 1


async def test_drain_cancels_calls_still_running_after_the_grace_period(
    app: Quart, client: Client, probe: Probe
) -> None:
    """Shutdown is bounded: a call still running when the grace period ends is cancelled (its
    reservation released, so the dispatcher's retry runs it again elsewhere)."""
    probe.gate = asyncio.Event()  # never opened: the handler would run forever
    caller = asyncio.create_task(client.post("/v1/act", json=envelope()))
    while not probe.calls:
        await asyncio.sleep(0.01)
    endpoint = app.extensions["jeeves"].extras["action_endpoint"]
    await endpoint.drain(0.05)
    answer = await asyncio.wait_for(caller, 5)
    assert answer.status_code == 503
    assert (await answer.get_json())["error"]["code"] == "shutting_down"
    probe.gate.set()
    assert (await client.post("/v1/act", json=envelope())).status_code == 200
    assert len(probe.calls) == 2  # the cancelled call kept nothing


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<!channel> hi", "&lt;!channel&gt; hi"),
        ("<@U0ALICE>", "&lt;@U0ALICE&gt;"),
        ("<http://evil.example|click>", "&lt;http://evil.example|click&gt;"),
        ("fish & chips", "fish &amp; chips"),
        ("&lt; stays literal", "&amp;lt; stays literal"),
        ("*bold* `code` _it_ :wave: @here", "*bold* `code` _it_ :wave: @here"),
        ("", ""),
    ],
)
def test_escape_mrkdwn_escapes_exactly_the_three_characters(raw: str, shown: str) -> None:
    assert escape_mrkdwn(raw) == shown

"""`response_url` rules: ephemeral vs in_channel, replace/delete the clicked message, 5 uses,
30 minutes. Pure: in-memory message log; the clock is faked.
"""

from __future__ import annotations

import pytest

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.messages import MessageLog
from jeeves.emulators.slack.domain.responses import TTL_S, USES, ResponseUrls

pytestmark = pytest.mark.unit


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(name="clock")
def fixture_clock() -> Clock:
    return Clock()


@pytest.fixture(name="log")
def fixture_log(clock: Clock) -> MessageLog:
    return MessageLog(clock=clock)


@pytest.fixture(name="urls")
def fixture_urls(log: MessageLog, clock: Clock) -> ResponseUrls:
    return ResponseUrls(log, Identity(), keep=3, clock=clock)


def test_ephemeral_by_default_in_channel_on_request(urls: ResponseUrls, log: MessageLog) -> None:
    hook = urls.issue("C1", "U0BOB")
    assert urls.respond(hook, {"text": "only Bob"}).body == {"ok": True}
    assert urls.respond(hook, {"text": "everyone", "response_type": "in_channel"}).status == 200
    first, second = log.select(sources=("response_url",))
    assert (first.text, first.ephemeral_to, first.user) == ("only Bob", "U0BOB", "U0JEEVES")
    assert (second.text, second.ephemeral_to) == ("everyone", None)


def test_replace_and_delete_the_clicked_message(urls: ResponseUrls, log: MessageLog) -> None:
    clicked = log.add("api", "C1", "U0JEEVES", "Dead letter 42", thread_ts="1.000001")
    hook = urls.issue("C1", "U0ALICE", clicked.ts)
    urls.respond(hook, {"replace_original": True, "text": "Replayed 42"})
    assert (clicked.text, clicked.edited_at is not None) == ("Replayed 42", True)
    urls.respond(hook, {"text": "and a note"})
    note = log.select(sources=("response_url",))[0]
    assert note.thread_ts == "1.000001", "answers to a click stay in the clicked message's thread"
    urls.respond(hook, {"delete_original": True})
    assert clicked.text == "(deleted)"


def test_uses_expiry_and_bad_bodies(urls: ResponseUrls, clock: Clock) -> None:
    hook = urls.issue("C1", "U0ALICE")
    assert urls.respond(hook, ["not", "an", "object"]).status == 400
    assert urls.respond(hook, {"text": 5}).body == {"ok": False, "error": "invalid_payload"}
    for _ in range(USES - 1):
        assert urls.respond(hook, {"text": "x"}).status == 200
    assert urls.respond(hook, {"text": "x"}).body["error"] == "used_url"
    fresh = urls.issue("C1", "U0ALICE")
    clock.now += TTL_S + 1
    assert urls.respond(fresh, {"text": "x"}).body["error"] == "expired_url"
    assert urls.respond("never-issued", {"text": "x"}).status == 404


def test_hooks_are_bounded(urls: ResponseUrls) -> None:
    hooks = [urls.issue("C1", "U0ALICE") for _ in range(4)]
    assert urls.respond(hooks[0], {"text": "x"}).body["error"] == "expired_url"
    assert urls.respond(hooks[-1], {"text": "x"}).status == 200

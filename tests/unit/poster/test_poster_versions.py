"""Versioned replies and Slack error labels: the pure parts (job validation, newest content,
bounded labels). Nothing is faked."""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.kit.jobs import ReplyJob
from jeeves.poster.domain.slack import Kind, classify, error_label
from jeeves.poster.editing import Content, newest
from jeeves.poster.posting import parse_reply_job

pytestmark = pytest.mark.unit
BASE: dict[str, Any] = {"reply_key": "alert:1", "channel": "C1", "text": "FIRING"}


def test_a_version_is_an_integer_from_one() -> None:
    assert parse_reply_job({**BASE, "version": 2})["version"] == 2
    assert "version" not in parse_reply_job(BASE)
    for bad in (0, -1, "2", 1.5, True):
        with pytest.raises(ValueError, match="'version'"):
            parse_reply_job({**BASE, "version": bad})


def test_a_versioned_reply_is_a_channel_message_edited_in_place() -> None:
    for extra in ({"response_url": "https://hooks.slack.com/x"}, {"ephemeral_to": "U1"}):
        with pytest.raises(ValueError, match="'version' excludes"):
            parse_reply_job({**BASE, "version": 1, **extra})


def test_the_newest_content_replaces_the_jobs_own() -> None:
    job: ReplyJob = {**BASE, "thread_ts": None, "version": 1}  # type: ignore[typeddict-item]
    blocks = [{"type": "divider"}]
    out = newest(job, Content(version=3, text="RESOLVED", blocks=blocks, applied=1))
    assert (out["text"], out["blocks"], out["version"]) == ("RESOLVED", blocks, 3)
    assert out["reply_key"] == "alert:1"
    assert job["text"] == "FIRING"


def test_content_is_behind_until_slack_shows_its_version() -> None:
    assert Content(2, "t", None, applied=1).behind
    assert not Content(2, "t", None, applied=2).behind


def test_chat_update_refusals_are_permanent() -> None:
    for error in ("message_not_found", "cant_update_message", "edit_window_closed"):
        assert classify(200, {"ok": False, "error": error}, {}).kind is Kind.PERMANENT


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("invalid_auth", "invalid_auth"),
        ("ratelimited", "ratelimited"),
        ("internal_error", "internal_error"),
        ("http 503", "http_5xx"),
        ("http 404", "http_4xx"),
        ("ClientConnectorError", "other"),
        ("some_new_code_slack_added", "other"),
        ("", "other"),
    ],
)
def test_error_labels_are_bounded(reason: str, label: str) -> None:
    assert error_label(reason) == label

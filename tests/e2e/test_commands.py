"""Slash commands and button clicks end to end, answered through Slack's `response_url`.

Real: every process of the pipeline (see conftest.py), PostgreSQL, the emulator issuing
response_urls with its commands and clicks and showing what is posted to them. Faked: nothing —
"the bot is not a member of this channel" is the emulator answering chat.postMessage in that
channel with `not_in_channel` (a fault), as real Slack does; an expired URL is a fault too.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pipeline_stack import Pipeline, fresh_channel
from test_pipeline import settle

from jeeves.localstack.ports import wait_until

pytestmark = pytest.mark.e2e
ACK = "Working on it…"  # the ingress's immediate, ephemeral answer to a command


def answers(pipeline: Pipeline, channel: str, since: float) -> list[dict[str, Any]]:
    """What the bot showed the channel (its ephemeral ack to the command left out)."""
    found = pipeline.slack.messages(channel, since=since, source="api,response_url")
    return [m for m in found if m["ephemeral_to"] is None]


def wait_for_answer(pipeline: Pipeline, channel: str, since: float) -> dict[str, Any]:
    wait_until(lambda: answers(pipeline, channel, since), timeout=20, what="the bot's answer")
    settle(pipeline)
    [answer] = answers(pipeline, channel, since)
    return answer


def statuses(pipeline: Pipeline, method: str, channel: str) -> list[int]:
    return [int(c["status"]) for c in pipeline.slack.calls(method, channel=channel)]


def test_help_in_a_channel_the_bot_is_not_in_gets_one_reply_by_response_url(
    pipeline: Pipeline,
) -> None:
    channel, since = fresh_channel(), time.time()
    pipeline.slack.slack_error(
        "not_in_channel", channel=channel, duration_s=120, methods=["chat.postMessage"]
    )
    sent = pipeline.slack.send_command("help", channel=channel)
    assert sent["delivery"]["acked"] is True
    answer = wait_for_answer(pipeline, channel, since)
    assert answer["source"] == "response_url"
    assert answer["user"] == "U0JEEVES"
    assert answer["text"].startswith("Here is what I can do:")
    assert statuses(pipeline, "response_url", channel) == [200]
    assert statuses(pipeline, "chat.postMessage", channel) == [], "no doomed post was tried"
    everything = pipeline.slack.messages(channel, since=since, source="api,response_url")
    assert sorted(m["text"][:12] for m in everything) == sorted([ACK[:12], "Here is what"]), (
        "the ack (to the user only) and one answer"
    )


def test_a_click_is_answered_through_its_response_url(pipeline: Pipeline) -> None:
    channel, since = fresh_channel(), time.time()
    pipeline.slack.slack_error(
        "not_in_channel", channel=channel, duration_s=120, methods=["chat.postMessage"]
    )
    pipeline.slack.click("echo:again", "clicked once", channel=channel)
    answer = wait_for_answer(pipeline, channel, since)
    assert (answer["source"], answer["text"]) == ("response_url", "clicked once")
    assert statuses(pipeline, "chat.postMessage", channel) == []


def test_an_expired_response_url_falls_back_to_chat_post_message(pipeline: Pipeline) -> None:
    channel, since = fresh_channel(), time.time()
    pipeline.slack.slack_error("expired_url", channel=channel, methods=["response_url"])
    pipeline.slack.send_command("echo late but there", channel=channel)
    answer = wait_for_answer(pipeline, channel, since)
    assert (answer["source"], answer["text"]) == ("api", "late but there")
    assert statuses(pipeline, "response_url", channel) == [404]
    assert statuses(pipeline, "chat.postMessage", channel) == [200]

"""Authentication is really on in the e2e pipeline: every service refuses calls without the
dealer's token, the old static admin token opens nothing, and no process runs with auth off.

Real: the shared `pipeline` fixture (every process, the token dealer included). Nothing faked.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pipeline_stack import ADMIN, Pipeline, fresh_channel, settle

from support.services import http_json

pytestmark = pytest.mark.e2e


def test_services_refuse_calls_without_a_token(pipeline: Pipeline) -> None:
    calls = [
        ("POST", pipeline.echo.url + "/v1/act", {"id": "x"}),
        ("POST", pipeline.poster.url + "/v1/messages", {"channel": "C0AUTH", "text": "hi"}),
        ("GET", pipeline.dispatcher.url + "/v1/dead-letters", None),
        ("GET", pipeline.poster.url + "/v1/dead-letters", None),
    ]
    for method, url, body in calls:
        status, answer = http_json(method, url, body)
        assert status == 401, (url, answer)
        assert answer["error"]["code"] == "unauthorized"


def test_the_static_admin_token_opens_nothing(pipeline: Pipeline) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    for url in (pipeline.dispatcher.url, pipeline.poster.url):
        assert http_json("GET", url + "/v1/dead-letters", None, headers)[0] == 401


def test_admin_token_from_the_dealer_works(pipeline: Pipeline) -> None:
    for url in (pipeline.dispatcher.url, pipeline.poster.url):
        status, body = pipeline.admin("GET", url + "/v1/dead-letters")
        assert status == 200, body


def test_no_process_runs_with_authentication_off(pipeline: Pipeline) -> None:
    for process in (pipeline.echo, pipeline.poster, pipeline.dispatcher):
        assert "auth_disabled" not in process.logs(), process.command


def test_idempotency_keys_belong_to_their_caller(pipeline: Pipeline) -> None:
    """One action's `key` never suppresses another action's message: keys are scoped by the
    token's subject. The same caller repeating its key still posts once."""
    channel, since = fresh_channel(), time.time()
    body = {"channel": channel, "text": "", "key": "daily-report"}

    def post(client: str, text: str) -> tuple[int, Any]:
        token = pipeline.dealer.token(client, "poster")
        headers = {"Authorization": f"Bearer {token}"}
        return http_json(
            "POST", pipeline.poster.url + "/v1/messages", {**body, "text": text}, headers
        )

    memory, weather, again = (
        post("memory", "from memory"),
        post("weather", "from weather"),
        post("memory", "from memory, again"),
    )
    assert [memory[0], weather[0], again[0]] == [202, 202, 202]
    assert memory[1]["reply_key"] == again[1]["reply_key"] != weather[1]["reply_key"]
    pipeline.slack.wait_for_messages(2, channel=channel, since=since, timeout=20)
    settle(pipeline)
    posted = pipeline.slack.messages(channel, since=since)
    assert sorted(m["text"] for m in posted) == ["from memory", "from weather"]

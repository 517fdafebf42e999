"""The Slack emulator as a real process, driven the way the gateway and poster will meet it.

Real: the `jeeves-slack-emulator` process, slack_sdk's AsyncWebClient and SignatureVerifier, and
a tiny threaded HTTP receiver standing in for the gateway (it answers from a per-request script:
delay, status, headers), so retries, timeouts and signatures are observed on the wire.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, entry_point, http_json
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
SECRET = "integration-signing-secret"
TOKEN = "xoxb-integration-token"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body.decode()).items()}


@dataclass
class Step:
    delay_s: float = 0.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Receiver:
    """A stand-in gateway: records every request, answers from `script` (then 200)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[Step] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers), body, time.monotonic())
                    )
                    step = receiver.script.pop(0) if receiver.script else Step()
                time.sleep(step.delay_s)
                try:
                    self.send_response(step.status)
                    for key, value in step.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(step.body)))
                    self.end_headers()
                    self.wfile.write(step.body)
                except OSError:
                    pass  # the emulator gave up on this attempt

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self, *steps: Step) -> None:
        with self._lock:
            self.requests.clear()
            self.script = list(steps)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        wait_until(lambda: len(self.requests) >= count, timeout=timeout, what=f"{count} requests")
        return list(self.requests)


@pytest.fixture(name="receiver", scope="module")
def fixture_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator(receiver: Receiver) -> Iterator[ServiceProcess]:
    process = start_slack_emulator(
        gateway_url=receiver.url,
        signing_secret=SECRET,
        token=TOKEN,
        ack_timeout_s=2.0,
        retry_delays_s="0,0.1,0.1",
    )
    yield process
    process.close()


@pytest.fixture(name="slack")
def fixture_slack(emulator: ServiceProcess, receiver: Receiver) -> SlackEmulator:
    slack = SlackEmulator(emulator.url)
    slack.clear()
    # A generous ack timeout keeps a loaded machine from causing retries; tests about timeouts
    # shorten it themselves.
    slack.configure(gateway_url=receiver.url, ack_timeout_s=2.0, retry_delays_s=[0, 0.1, 0.1])
    receiver.reset()
    return slack


# Web API through slack_sdk ---------------------------------------------------------------------


async def test_post_message_through_slack_sdk(slack: SlackEmulator) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    auth = await client.auth_test()
    assert auth["user_id"] == "U0JEEVES"
    posted = await client.chat_postMessage(
        channel="C0GENERAL", text="Lisbon: 21°C", thread_ts="1700000000.000100"
    )
    assert posted["ok"] is True
    assert posted["message"]["text"] == "Lisbon: 21°C"
    [message] = slack.messages("C0GENERAL")
    assert (message["ts"], message["thread_ts"], message["text"]) == (
        posted["ts"],
        "1700000000.000100",
        "Lisbon: 21°C",
    )
    update = await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="Lisbon: 22°C")
    assert update["text"] == "Lisbon: 22°C"
    assert slack.messages("C0GENERAL")[0]["text"] == "Lisbon: 22°C"
    user = await client.users_info(user="U0ALICE")
    assert user["user"]["name"] == "alice"


async def test_wrong_token_is_invalid_auth(slack: SlackEmulator) -> None:
    client = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C0GENERAL", text="x")
    assert caught.value.response["error"] == "invalid_auth"
    assert slack.messages() == []


async def test_rate_limit_answers_429_with_retry_after(slack: SlackEmulator) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    slack.rate_limit("C0GENERAL", retry_after=1, count=1)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C0GENERAL", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    assert caught.value.response["error"] == "ratelimited"
    other = await client.chat_postMessage(channel="C0RANDOM", text="other channels are fine")
    assert other["ok"] is True


async def test_slack_sdk_retry_handler_honours_retry_after(slack: SlackEmulator) -> None:
    client = AsyncWebClient(
        token=TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.rate_limit("C0GENERAL", retry_after=1, count=1)
    posted = await client.chat_postMessage(channel="C0GENERAL", text="eventually")
    assert posted["ok"] is True
    limited, accepted = slack.calls("chat.postMessage")
    assert (limited["status"], accepted["status"]) == (429, 200)
    assert accepted["at"] - limited["at"] >= 1.0


async def test_server_errors_and_slack_errors(slack: SlackEmulator) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    slack.fail_next(2, status=503)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C0GENERAL", text="x")
        assert caught.value.response.status_code == 503
    slack.slack_error("not_in_channel", channel="C0SECRET")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C0SECRET", text="x")
    assert refused.value.response.status_code == 200
    assert refused.value.response["error"] == "not_in_channel"
    assert (await client.chat_postMessage(channel="C0GENERAL", text="ok now"))["ok"] is True
    assert [c["status"] for c in slack.calls()] == [503, 503, 200, 200]


# Events towards the gateway ----------------------------------------------------------------------


def test_mention_arrives_signed_and_shaped_like_slack(
    slack: SlackEmulator, receiver: Receiver
) -> None:
    event_id = slack.send_mention("weather in Lisbon", channel="C0GENERAL", user="U0BOB")
    [request] = receiver.wait_for(1)
    assert request.path == "/slack/events"
    assert SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)
    assert "X-Slack-Retry-Num" not in request.headers
    envelope = request.json()
    assert (envelope["type"], envelope["event_id"]) == ("event_callback", event_id)
    event = envelope["event"]
    assert (event["type"], event["user"], event["channel"]) == ("app_mention", "U0BOB", "C0GENERAL")
    assert event["text"] == "<@U0JEEVES> weather in Lisbon"
    assert event["blocks"][0]["type"] == "rich_text"
    [delivery] = slack.deliveries(event_id)
    wait_until(lambda: slack.deliveries(event_id)[0]["done"], timeout=5, what="delivery settled")
    assert slack.deliveries(event_id)[0]["statuses"] == [200]
    assert delivery["kind"] == "event"


def test_thread_reply_carries_thread_ts(slack: SlackEmulator, receiver: Receiver) -> None:
    parent = slack.send(
        "mention", "help", "C0GENERAL", None, None, as_retry=0, force_retries=0, wait=True
    )
    slack.send_message("and more", channel="C0GENERAL", thread_ts=parent["ts"], wait=True)
    first, second = receiver.wait_for(2)
    assert "thread_ts" not in first.json()["event"]
    event = second.json()["event"]
    assert (event["type"], event["thread_ts"], event["parent_user_id"]) == (
        "message",
        parent["ts"],
        "U0ALICE",
    )


def test_slow_ack_is_retried_with_the_same_event_id(
    slack: SlackEmulator, receiver: Receiver
) -> None:
    slack.configure(ack_timeout_s=0.5)
    receiver.reset(Step(delay_s=2.0))  # the first answer comes well after the ack timeout
    event_id = slack.send_mention("slow one")
    first, retry = receiver.wait_for(2)
    assert retry.headers["X-Slack-Retry-Num"] == "1"
    assert retry.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert retry.json()["event_id"] == event_id
    assert retry.body == first.body
    assert SignatureVerifier(SECRET).is_valid_request(retry.body, retry.headers)
    assert retry.at - first.at < 2.0, "the retry does not wait for the slow first answer"
    time.sleep(0.3)
    assert len(receiver.requests) == 2, "the retry was acknowledged: no more"

    def late_status_recorded() -> bool:
        attempts = slack.deliveries(event_id)[0]["attempts"]
        return attempts[0]["status"] == 200

    wait_until(late_status_recorded, timeout=5, what="the late answer to be recorded")
    [delivery] = slack.deliveries(event_id)
    assert delivery["acked"] is True
    assert [a["timed_out"] for a in delivery["attempts"]] == [True, False]


def test_errors_are_retried_three_times(slack: SlackEmulator, receiver: Receiver) -> None:
    receiver.reset(*[Step(status=500)] * 4)
    event_id = slack.send_mention("always failing")
    requests = receiver.wait_for(4)
    assert [r.headers.get("X-Slack-Retry-Num") for r in requests] == [None, "1", "2", "3"]
    assert {r.headers.get("X-Slack-Retry-Reason") for r in requests[1:]} == {"http_error"}
    assert {r.json()["event_id"] for r in requests} == {event_id}
    delivery = slack.wait_for_delivery(slack.deliveries(event_id)[0]["id"])
    assert (delivery["acked"], delivery["statuses"]) == (False, [500, 500, 500, 500])
    time.sleep(0.3)
    assert len(receiver.requests) == 4


def test_no_retry_header_stops_retries(slack: SlackEmulator, receiver: Receiver) -> None:
    receiver.reset(Step(status=503, headers={"X-Slack-No-Retry": "1"}))
    event_id = slack.send_mention("do not retry")
    delivery = slack.wait_for_delivery(slack.deliveries(event_id)[0]["id"])
    assert delivery["statuses"] == [503]
    assert len(receiver.requests) == 1


def test_forced_retries_and_replays_repeat_the_same_bytes(
    slack: SlackEmulator, receiver: Receiver
) -> None:
    event_id = slack.send_mention("say it twice", force_retries=1, wait=True)
    original, forced = receiver.wait_for(2)
    assert forced.headers["X-Slack-Retry-Num"] == "1"
    assert forced.body == original.body
    replayed = slack.replay(event_id, retry_num=2)
    assert replayed["delivery"]["statuses"] == [200]
    third = receiver.wait_for(3)[2]
    assert third.body == original.body
    assert third.headers["X-Slack-Retry-Num"] == "2"


def test_unreachable_gateway_is_recorded_as_connection_failed(slack: SlackEmulator) -> None:
    slack.configure(gateway_url="http://127.0.0.1:9")  # the fixture restores it for the next test
    result = slack.send(
        "mention", "anyone?", "C0GENERAL", None, None, as_retry=0, force_retries=0, wait=True
    )
    delivery = result["delivery"]
    assert delivery["acked"] is False
    assert [a["reason"] for a in delivery["attempts"]] == [
        None,
        "connection_failed",
        "connection_failed",
        "connection_failed",
    ]


# Commands, clicks, response_url -------------------------------------------------------------------


def test_slash_command_and_its_response_url(slack: SlackEmulator, receiver: Receiver) -> None:
    receiver.reset(
        Step(
            headers={"Content-Type": "application/json"},
            body=b'{"response_type": "ephemeral", "text": "Working on it..."}',
        )
    )
    sent = slack.send_command("weather in Porto", user="U0BOB")
    [request] = receiver.wait_for(1)
    assert request.path == "/slack/commands"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)
    form = request.form()
    assert (form["command"], form["text"], form["user_id"]) == (
        "/jeeves",
        "weather in Porto",
        "U0BOB",
    )
    assert form["trigger_id"] == sent["trigger_id"]
    assert sent["delivery"]["statuses"] == [200]
    status, answer = http_json(
        "POST",
        form["response_url"],
        {"response_type": "in_channel", "text": "Porto: 18°C"},
    )
    assert (status, answer) == (200, {"ok": True})
    shown = slack.messages("C0GENERAL", source="response_url")
    assert [(m["text"], m["ephemeral_to"]) for m in shown] == [
        ("Working on it...", "U0BOB"),
        ("Porto: 18°C", None),
    ]


def test_click_sends_block_actions(slack: SlackEmulator, receiver: Receiver) -> None:
    client_post = http_json(
        "POST",
        slack.api_url + "chat.postMessage",
        {
            "channel": "C0GENERAL",
            "text": "Dead letter 42",
            "blocks": [
                {
                    "type": "actions",
                    "elements": [{"type": "button", "action_id": "replay", "value": "42"}],
                }
            ],
        },
        {"Authorization": f"Bearer {TOKEN}"},
    )
    ts = client_post[1]["ts"]
    slack.click("replay", "42", message_ts=ts)
    [request] = receiver.wait_for(1)
    assert request.path == "/slack/interactivity"
    payload = json.loads(request.form()["payload"])
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["value"] == "42"
    assert payload["message"]["ts"] == ts
    status, _ = http_json(
        "POST", payload["response_url"], {"replace_original": True, "text": "Replayed 42"}
    )
    assert status == 200
    assert slack.messages("C0GENERAL")[0]["text"] == "Replayed 42"


def test_url_verification_handshake(slack: SlackEmulator, receiver: Receiver) -> None:
    receiver.reset(
        Step(headers={"Content-Type": "application/json"}, body=b'{"challenge": "c-123"}'),
        Step(body=b"something else"),
    )
    status, answer = http_json(
        "POST", slack.url + "/_emulator/send/url_verification", {"challenge": "c-123"}
    )
    assert (status, answer["verified"]) == (200, True)
    sent = receiver.requests[0].json()
    assert sent == {"token": sent["token"], "challenge": "c-123", "type": "url_verification"}
    _, refused = http_json("POST", slack.url + "/_emulator/send/url_verification", {})
    assert refused["verified"] is False


def test_metrics_count_calls_and_deliveries(slack: SlackEmulator, receiver: Receiver) -> None:
    http_json("POST", slack.api_url + "chat.nonsense", {}, {"Authorization": f"Bearer {TOKEN}"})
    slack.send("mention", "count me", "C0GENERAL", None, None, 0, 0, wait=True)
    with urllib.request.urlopen(slack.url + "/metrics") as response:
        text = response.read().decode()
    assert 'jeeves_slack_emulator_api_calls_total{method="<unknown>",status="404"}' in text
    assert 'jeeves_slack_emulator_deliveries_total{kind="event",outcome="acked"}' in text
    assert "chat.nonsense" not in text


def test_slow_command_shows_slacks_timeout_error(slack: SlackEmulator, receiver: Receiver) -> None:
    slack.configure(ack_timeout_s=0.5)
    receiver.reset(Step(delay_s=1.5, body=b"too late"))
    sent = slack.send_command("weather in Porto", user="U0BOB")
    assert sent["delivery"]["acked"] is False
    assert len(receiver.wait_for(1)) == 1, "commands are never retried"
    [shown] = slack.messages("C0GENERAL", source="response_url")
    assert (shown["user"], shown["ephemeral_to"]) == ("USLACKBOT", "U0BOB")
    assert shown["text"] == '/jeeves failed with the error "operation_timeout"'


def test_bot_posts_can_come_back_as_events(slack: SlackEmulator, receiver: Receiver) -> None:
    slack.configure(echo_bot_messages=True)
    try:
        status, posted = http_json(
            "POST",
            slack.api_url + "chat.postMessage",
            {"channel": "C0GENERAL", "text": "Lisbon: 21°C", "thread_ts": "1700000000.000100"},
            {"Authorization": f"Bearer {TOKEN}"},
        )
        assert status == 200
        [request] = receiver.wait_for(1)
    finally:
        slack.configure(echo_bot_messages=False)
    event = request.json()["event"]
    assert (event["type"], event["bot_id"], event["user"]) == ("message", "B0JEEVES", "U0JEEVES")
    assert (event["ts"], event["thread_ts"]) == (posted["ts"], "1700000000.000100")


def test_messages_with_a_subtype(slack: SlackEmulator, receiver: Receiver) -> None:
    status, _ = http_json(
        "POST",
        slack.url + "/_emulator/send/message",
        {"text": "edited", "subtype": "message_changed", "wait": True},
    )
    assert status == 200
    [request] = receiver.wait_for(1)
    assert request.json()["event"]["subtype"] == "message_changed"


def test_missing_token_stops_the_emulator_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JEEVES_")}
    env["JEEVES_SLACK_SIGNING_SECRET"] = SECRET
    result = subprocess.run(
        entry_point("jeeves-slack-emulator"), env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "jeeves: setting JEEVES_SLACK_BOT_TOKEN is required but not set"
    ]

"""Answering through Slack's `response_url` (pure): which URLs to trust, which route, what an
answer means.

A reply to a slash command or a button click carries the command's `response_url` (valid 30
minutes, 5 uses). It works where chat.postMessage fails with `not_in_channel` (a command used in
a channel the bot is not a member of), so the poster answers there first:

- `allowed_response_url(url, slack_api_url)`: only `https://hooks.slack.com/…`, or a URL on the
  configured `JEEVES_SLACK_API_URL`'s scheme, host and port (the emulator in tests and `make
  dev`). Anything else — another host, credentials in the URL, another scheme — is refused, so
  a forged job cannot make the poster call arbitrary URLs; the reply then goes by
  chat.postMessage.
- `choose_route(...)`: `response_url` or `chat` (chat.postMessage), from the reply, the route
  the outbound log already holds for its key, and the URL's age.
- `response_body(reply)`: the JSON posted: `{"text", "blocks"?, "response_type": "in_channel",
  "replace_original": false, "thread_ts"?}` — visible to the channel, like a chat.postMessage
  reply, and a new message (a click's message is left as it is); `"ephemeral"` for a reply
  meant for the asker only (`ephemeral_to`).
- `after_doubt(via)`: what to do with a key an earlier call left unconfirmed: `read_back`
  (chat.postMessage: its metadata can be looked for) or `record_unconfirmed` (a response_url
  call: nothing can be read back, so it is never repeated — no duplicates, see
  `jeeves.poster.outbound`).
- `classify_response(status, body)`: `posted`; `gone` (404/410, `expired_url`, `used_url`, ...:
  try chat.postMessage); `rate_limited`; `permanent` (other 4xx: dead letter); `transient` (5xx,
  408, anything unknown: retried, nothing was posted).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from jeeves.kit.jobs import ReplyJob
from jeeves.poster.domain.slack import PERMANENT_ERRORS, parse_retry_after

SLACK_HOOKS_HOST = "hooks.slack.com"
TTL_S = 30 * 60  # Slack's validity of a response_url
TTL_MARGIN_S = 60  # older than TTL - margin: do not bother, post with chat.postMessage
GONE_ERRORS = frozenset({"expired_url", "used_url", "invalid_url", "url_not_found"})
GONE_STATUS = frozenset({404, 410})


class Route(StrEnum):
    CHAT = "chat"  # chat.postMessage (readable back by its metadata)
    RESPONSE_URL = "response_url"  # POST to the command's / click's response_url


class Doubt(StrEnum):
    READ_BACK = "read_back"
    RECORD_UNCONFIRMED = "record_unconfirmed"


def after_doubt(via: str | None) -> Doubt:
    """For a key marked `maybe_posted` whose answer was never recorded, by the route of that
    call (None: a row older than the route column, always chat.postMessage)."""
    return Doubt.RECORD_UNCONFIRMED if via == Route.RESPONSE_URL else Doubt.READ_BACK


class Answer(StrEnum):
    POSTED = "posted"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    PERMANENT = "permanent"
    TRANSIENT = "transient"


@dataclass(frozen=True)
class ResponseResult:
    kind: Answer
    reason: str = ""
    retry_after_s: float = 0.0


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def allowed_response_url(url: str, slack_api_url: str) -> bool:
    """Whether the poster may POST to `url`: Slack's hooks host over https, or the scheme, host
    and port of the configured Slack API URL. Never a URL with credentials or a malformed one."""
    try:
        target, api = urlsplit(url), urlsplit(slack_api_url)
        target_port, api_port = target.port, api.port
    except ValueError:
        return False
    if target.username is not None or target.password is not None or not target.hostname:
        return False
    if any(ch in url for ch in ("\\", "\n", "\r", "\t", " ")):
        return False
    host = target.hostname.lower()
    if target.scheme == "https" and host == SLACK_HOOKS_HOST and target_port in (None, 443):
        return True
    return (
        target.scheme in ("http", "https")
        and target.scheme == api.scheme
        and host == (api.hostname or "").lower()
        and _port(target.scheme, target_port) == _port(api.scheme, api_port)
    )


def choose_route(
    reply: ReplyJob, *, stored: str | None, slack_api_url: str, now: float
) -> tuple[Route, str]:
    """The route for this attempt and why (a short reason for logs and metrics).

    `stored` is the route the outbound log holds for the key: once `chat` (the URL was gone, or
    a chat.postMessage was made), the key stays on chat.postMessage."""
    url = reply.get("response_url")
    if not url:
        return Route.CHAT, "no_response_url"
    if stored == Route.CHAT:
        return Route.CHAT, "stored_chat"
    if stored == Route.RESPONSE_URL:
        return Route.RESPONSE_URL, "stored_response_url"
    if not allowed_response_url(url, slack_api_url):
        return Route.CHAT, "refused_host"
    sent_at = reply.get("sent_at")
    if isinstance(sent_at, int | float) and now - sent_at > TTL_S - TTL_MARGIN_S:
        return Route.CHAT, "expired_by_age"
    return Route.RESPONSE_URL, "response_url"


def response_body(reply: ReplyJob) -> dict[str, Any]:
    """What is POSTed to the response_url: a new message everyone in the channel sees (only the
    person who asked, for a reply marked `ephemeral_to`)."""
    body: dict[str, Any] = {
        "text": reply["text"],
        "response_type": "ephemeral" if reply.get("ephemeral_to") else "in_channel",
        "replace_original": False,
    }
    if reply.get("blocks"):
        body["blocks"] = reply.get("blocks")
    if reply["thread_ts"]:
        body["thread_ts"] = reply["thread_ts"]
    return body


def _error_of(body: str) -> str:
    """Slack answers response_urls with JSON `{"ok", "error"}` or a bare word (`ok`,
    `expired_url`)."""
    text = body.strip()
    try:
        data = json.loads(text) if text.startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        return "" if data.get("ok") is True else str(data.get("error") or "")
    return "" if text.lower() in ("", "ok") else text[:100]


def classify_response(
    status: int, body: str, headers: Mapping[str, str] | None = None
) -> ResponseResult:
    """What one answer of a response_url means for the reply."""
    error = _error_of(body)
    if status == 429 or error == "ratelimited":
        retry_after = parse_retry_after((headers or {}).get("Retry-After"))
        return ResponseResult(Answer.RATE_LIMITED, "ratelimited", retry_after)
    if status in GONE_STATUS or error in GONE_ERRORS:
        return ResponseResult(Answer.GONE, error or f"http {status}")
    if 200 <= status < 300 and not error:
        return ResponseResult(Answer.POSTED)
    if error in PERMANENT_ERRORS or error.startswith("invalid_"):
        return ResponseResult(Answer.PERMANENT, error)
    if status >= 500 or status == 408 or 200 <= status < 300:
        return ResponseResult(Answer.TRANSIENT, error or f"http {status}")
    return ResponseResult(Answer.PERMANENT, error or f"http {status}")

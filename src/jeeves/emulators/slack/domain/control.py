"""Parsing the control API's request bodies into typed requests (pure; clear 422 messages).

Field names and defaults are documented in docs/slack-emulator.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jeeves.emulators.slack.domain.deliveries import MAX_RETRIES

EventChoice = Literal["auto", "app_mention", "message"]


class ControlError(ValueError):
    """A control request that cannot be served; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"'{field}' {message}")
        self.field = field


@dataclass(frozen=True)
class SendMessage:
    text: str
    channel: str
    user: str
    thread_ts: str | None = None
    event: EventChoice = "auto"
    as_retry: int = 0
    force_retries: int = 0
    wait: bool = False
    subtype: str | None = None  # e.g. bot_message, message_changed: what apps must ignore
    bot_id: str | None = None  # set: the message comes from a bot
    team: str | None = None  # the person's workspace (None: the emulator's default one)


@dataclass(frozen=True)
class SendCommand:
    text: str
    channel: str
    user: str
    command: str = "/jeeves"
    wait: bool = True
    team: str | None = None


@dataclass(frozen=True)
class SendClick:
    action_id: str
    value: str
    channel: str
    user: str
    block_id: str = "actions"
    message_ts: str | None = None
    wait: bool = True
    team: str | None = None


@dataclass(frozen=True)
class Replay:
    event_id: str
    retry_num: int = 1
    reason: str = "http_timeout"
    wait: bool = False


def _obj(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ControlError("body", "must be a JSON object")
    return data


def _str(
    data: Mapping[str, Any], key: str, default: str | None = None, *, empty: bool = False
) -> str:
    """A string field; missing or null takes `default` (required when None)."""
    value = data.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str) or (not value and not empty):
        raise ControlError(key, "must be a non-empty string")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(key, "must be a non-empty string or null")
    return value


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ControlError(key, "must be true or false")
    return value


def _count(data: Mapping[str, Any], key: str, default: int, high: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool):
        value = high if value else 0
    if not isinstance(value, int) or not 0 <= value <= high:
        raise ControlError(key, f"must be a whole number from 0 to {high}")
    return value


def parse_send_message(
    raw: Any, *, default_channel: str, default_user: str, event: EventChoice = "auto"
) -> SendMessage:
    data = _obj(raw)
    choice = data.get("event", event)
    if choice not in ("auto", "app_mention", "message"):
        raise ControlError("event", "must be auto, app_mention or message")
    force = _count(data, "force_retries", 0, MAX_RETRIES)
    if data.get("no_ack") is True:
        force = MAX_RETRIES
    return SendMessage(
        text=_str(data, "text"),
        channel=_str(data, "channel", default_channel),
        user=_str(data, "user", default_user),
        thread_ts=_opt_str(data, "thread_ts"),
        event=choice,
        as_retry=_count(data, "as_retry", 0, MAX_RETRIES),
        force_retries=force,
        wait=_bool(data, "wait", False),
        subtype=_opt_str(data, "subtype"),
        bot_id=_opt_str(data, "bot_id"),
        team=_opt_str(data, "team"),
    )


def parse_send_command(raw: Any, *, default_channel: str, default_user: str) -> SendCommand:
    data = _obj(raw)
    command = _str(data, "command", "/jeeves")
    if not command.startswith("/") or len(command) < 2:
        raise ControlError("command", "must start with '/', e.g. /jeeves")
    return SendCommand(
        text=_str(data, "text", "", empty=True),
        channel=_str(data, "channel", default_channel),
        user=_str(data, "user", default_user),
        command=command,
        wait=_bool(data, "wait", True),
        team=_opt_str(data, "team"),
    )


def parse_send_click(raw: Any, *, default_channel: str, default_user: str) -> SendClick:
    data = _obj(raw)
    return SendClick(
        action_id=_str(data, "action_id"),
        value=_str(data, "value", "", empty=True),
        channel=_str(data, "channel", default_channel),
        user=_str(data, "user", default_user),
        block_id=_str(data, "block_id", "actions"),
        message_ts=_opt_str(data, "message_ts"),
        wait=_bool(data, "wait", True),
        team=_opt_str(data, "team"),
    )


def parse_replay(raw: Any) -> Replay:
    data = _obj(raw)
    reason = _str(data, "reason", "http_timeout")
    return Replay(
        event_id=_str(data, "event_id"),
        retry_num=_count(data, "retry_num", 1, MAX_RETRIES),
        reason=reason,
        wait=_bool(data, "wait", False),
    )


def parse_since(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise ControlError("since", "must be epoch seconds, e.g. 1700000000.5") from None

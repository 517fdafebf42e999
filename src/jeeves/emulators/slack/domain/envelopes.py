"""What Slack sends to an app, built as plain data: Events API envelopes, slash commands, clicks.

Every builder is pure: identifiers and times are passed in, so tests can pin the exact shape.
The shapes follow Slack's own payloads (fields an app may read are all present, including the
`rich_text` block Slack derives from the message text).
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any, Literal

EventType = Literal["app_mention", "message"]
_ALNUM = string.ascii_uppercase + string.digits
# <@U123>, <#C123|name>, <!here>, <http://x|label>: Slack's encoded entities inside text.
_ENTITY = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True)
class Identity:
    """The workspace and app the emulator pretends to be."""

    team_id: str = "T0TEAM"
    team_domain: str = "jeeves-emulator"
    app_id: str = "A0JEEVES"
    bot_user_id: str = "U0JEEVES"
    bot_id: str = "B0JEEVES"
    bot_name: str = "jeeves"
    verification_token: str = "emulator-verification-token"  # noqa: S105 (a fake)


def new_event_id() -> str:
    """An id shaped like Slack's (`Ev` + 10 upper-case alphanumerics)."""
    return "Ev" + "".join(secrets.choice(_ALNUM) for _ in range(10))


def new_trigger_id(now: float) -> str:
    """A trigger id shaped like Slack's: `<epoch>.<digits>.<32 hex>`."""
    return f"{int(now)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def channel_type(channel: str) -> str:
    """Slack's `channel_type` from the id's first letter (D: im, G: group, else channel)."""
    return {"D": "im", "G": "group"}.get(channel[:1], "channel")


def mentions(text: str, user_id: str) -> bool:
    return f"<@{user_id}>" in text or f"<@{user_id}|" in text


def with_mention(text: str, bot_user_id: str) -> str:
    """`text` starting with the bot's mention, as when a person types `@jeeves …`."""
    return text if mentions(text, bot_user_id) else f"<@{bot_user_id}> {text}".rstrip()


def _entity_element(inner: str) -> dict[str, Any]:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return {"type": "user", "user_id": target[1:]}
    if target.startswith("#"):
        return {"type": "channel", "channel_id": target[1:]}
    if target.startswith("!"):
        return {"type": "broadcast", "range": target[1:]}
    link: dict[str, Any] = {"type": "link", "url": target}
    if label:
        link["text"] = label
    return link


def rich_text_elements(text: str) -> list[dict[str, Any]]:
    """The elements of the `rich_text_section` Slack builds from a message's text."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _ENTITY.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append(_entity_element(match.group(1)))
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    return elements


def rich_text_blocks(text: str, block_id: str | None = None) -> list[dict[str, Any]]:
    """`blocks` as Slack sends them with a typed message: one rich_text block."""
    return [
        {
            "type": "rich_text",
            "block_id": block_id or secrets.token_hex(3),
            "elements": [{"type": "rich_text_section", "elements": rich_text_elements(text)}],
        }
    ]


def message_event(
    identity: Identity,
    *,
    event_type: EventType,
    user: str,
    text: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    client_msg_id: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
) -> dict[str, Any]:
    """The inner `app_mention` or `message` event of a message (a bot's when `bot_id` is set)."""
    event: dict[str, Any] = {
        "type": event_type,
        "user": user,
        "text": text,
        "ts": ts,
        "client_msg_id": client_msg_id or secrets.token_hex(16),
        "team": identity.team_id,
        "blocks": rich_text_blocks(text),
        "channel": channel,
        "event_ts": ts,
    }
    if event_type == "message":
        event["channel_type"] = channel_type(channel)
    if subtype is not None:
        event["subtype"] = subtype
    if bot_id is not None:
        event["bot_id"] = bot_id
        event.pop("client_msg_id")
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id
    return event


def event_callback(
    identity: Identity, event: dict[str, Any], *, event_id: str, event_time: int
) -> dict[str, Any]:
    """The Events API envelope around `event`."""
    return {
        "token": identity.verification_token,
        "team_id": identity.team_id,
        "context_team_id": identity.team_id,
        "context_enterprise_id": None,
        "api_app_id": identity.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": identity.team_id,
                "user_id": identity.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_urlsafe(24),
    }


def url_verification(identity: Identity, challenge: str) -> dict[str, Any]:
    """The handshake Slack sends when an app's request URL is configured."""
    return {
        "token": identity.verification_token,
        "challenge": challenge,
        "type": "url_verification",
    }


def slash_command_form(
    identity: Identity,
    *,
    user: str,
    user_name: str,
    channel: str,
    channel_name: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command request (sent `application/x-www-form-urlencoded`)."""
    return {
        "token": identity.verification_token,
        "team_id": identity.team_id,
        "team_domain": identity.team_domain,
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": identity.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_actions_payload(
    identity: Identity,
    *,
    user: str,
    user_name: str,
    channel: str,
    channel_name: str,
    action_id: str,
    value: str,
    block_id: str,
    message: dict[str, Any] | None,
    response_url: str,
    trigger_id: str,
    action_ts: str,
) -> dict[str, Any]:
    """The `payload` of a button click (`block_actions`) on a message."""
    container: dict[str, Any] = {"type": "message", "channel_id": channel, "is_ephemeral": False}
    if message is not None:
        container["message_ts"] = message.get("ts")
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": identity.team_id},
        "api_app_id": identity.app_id,
        "token": identity.verification_token,
        "container": container,
        "trigger_id": trigger_id,
        "team": {"id": identity.team_id, "domain": identity.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": value, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }
    if message is not None:
        payload["message"] = message
    return payload


def interactivity_form(payload: dict[str, Any]) -> dict[str, str]:
    """Slack posts interactions as a form with one field, `payload`, holding JSON."""
    return {"payload": json.dumps(payload, separators=(",", ":"))}

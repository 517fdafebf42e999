"""The emulated workspace: its state (messages, calls, faults, deliveries) and what people do.

`Emulator` ties the pure domain pieces to the `Deliverer`: sending a message records it as
typed by a person and delivers the matching Events API envelope; a slash command or a click is
delivered as Slack's form post and carries a `response_url` served by the emulator itself.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlencode

from quart import Quart

from jeeves.emulators.slack.delivery import Deliverer, DeliveryConfig, Outgoing
from jeeves.emulators.slack.domain.control import Replay, SendClick, SendCommand, SendMessage
from jeeves.emulators.slack.domain.deliveries import Delivery, DeliveryKind, DeliveryLog
from jeeves.emulators.slack.domain.envelopes import (
    Identity,
    block_actions_payload,
    channel_type,
    event_callback,
    interactivity_form,
    mentions,
    message_event,
    new_event_id,
    new_trigger_id,
    slash_command_form,
    url_verification,
)
from jeeves.emulators.slack.domain.faults import GONE_ERRORS, RESPONSE_URL, FaultBook
from jeeves.emulators.slack.domain.messages import CallLog, Message, MessageLog
from jeeves.emulators.slack.domain.responses import ResponseUrls
from jeeves.emulators.slack.domain.web_api import ApiAnswer, WebApi, fail, user_profile
from jeeves.emulators.slack.domain.workspaces import Workspaces
from jeeves.emulators.slack.metrics import EmulatorMetrics
from jeeves.emulators.slack.socket_delivery import SocketHub
from jeeves.kit.app import kit

EVENTS_PATH = "/slack/events"
COMMANDS_PATH = "/slack/commands"
INTERACTIVITY_PATH = "/slack/interactivity"
V = TypeVar("V")


class NotConfigured(Exception):
    """Sending needs a gateway URL."""


class UnknownEvent(Exception):
    """A replay of an event the emulator never sent."""


class UnknownTeam(Exception):
    """A person of a workspace the emulator does not have."""


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    message: Message | None = None
    trigger_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "event_id": self.delivery.event_id,
            "delivery_id": self.delivery.id,
            "delivery": self.delivery.to_json() if self.delivery.done else None,
        }
        if self.message is not None:
            data["ts"] = self.message.ts
            data["channel"] = self.message.channel
        if self.trigger_id is not None:
            data["trigger_id"] = self.trigger_id
        return data


def _bounded_put(entries: OrderedDict[str, V], key: str, value: V, keep: int) -> None:
    """Insert, dropping the oldest entries beyond `keep`."""
    entries[key] = value
    while len(entries) > keep:
        entries.popitem(last=False)


def _compact(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


class Emulator:
    def __init__(
        self,
        *,
        identity: Identity,
        web_api: WebApi,
        deliverer: Deliverer,
        deliveries: DeliveryLog,
        public_url: str,
        default_user: str,
        keep: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.identity = identity
        self.web_api = web_api
        self.deliverer = deliverer
        self.metrics: EmulatorMetrics | None = None
        self.deliveries = deliveries
        self.public_url = public_url
        self.default_user = default_user
        self._clock = clock
        self.responses = ResponseUrls(web_api.messages, identity, keep=keep, clock=clock)
        self._bodies: OrderedDict[str, Outgoing] = OrderedDict()  # event_id -> bytes, for replays
        self._keep = keep

    @property
    def messages(self) -> MessageLog:
        return self.web_api.messages

    @property
    def calls(self) -> CallLog:
        return self.web_api.calls

    @property
    def faults(self) -> FaultBook:
        return self.web_api.faults

    @property
    def config(self) -> DeliveryConfig:
        return self.deliverer.config

    def clock(self) -> float:
        return self._clock()

    @property
    def workspaces(self) -> Workspaces:
        return self.web_api.workspaces

    def team(self, team_id: str | None) -> Identity:
        """The identity of workspace `team_id` (the default for None); UnknownTeam otherwise."""
        try:
            return self.workspaces.identity(team_id)
        except KeyError:
            raise UnknownTeam(str(team_id)) from None

    def _enter(self, channel: str, identity: Identity) -> None:
        """A person of `identity`'s workspace acts in `channel`: the channel is theirs."""
        self._check_channel(channel)
        self.web_api.channel_teams[channel] = identity.team_id

    @property
    def socket(self) -> SocketHub:
        return self.deliverer.hub

    def can_deliver(self) -> bool:
        """Socket Mode delivers to whoever connects; HTTP needs the gateway's URL."""
        return self.config.mode == "socket" or bool(self.config.gateway_url)

    def default_channel(self) -> str:
        return next(iter(self.web_api.channels), "C0GENERAL")

    def info(self) -> dict[str, Any]:
        return {
            "team_id": self.identity.team_id,
            "team_domain": self.identity.team_domain,
            "app_id": self.identity.app_id,
            "bot_user_id": self.identity.bot_user_id,
            "bot_id": self.identity.bot_id,
            "bot_name": self.identity.bot_name,
            "default_user": self.default_user,
            "default_channel": self.default_channel(),
            "channels": self.channel_list(),
            "gateway_url": self.config.gateway_url,
            "delivery": self.config.mode,
            "socket_connections": len(self.socket.connections),
            "token_rotation": self.workspaces.rotation,
            "token_ttl_s": self.workspaces.token_ttl_s,
            "teams": [t["team_id"] for t in self.workspaces.to_json(self._clock())],
            "ack_timeout_s": self.config.ack_timeout_s,
            "retry_delays_s": list(self.config.retry_delays_s),
            "echo_bot_messages": self.config.echo_bot_messages,
            "usergroups": dict(self.web_api.usergroups),
            "api_url": f"{self.public_url}/api/",
            "methods": self.web_api.methods(),
        }

    def channel_list(self) -> list[dict[str, str]]:
        known = dict(self.web_api.channels) or {self.default_channel(): "general"}
        for channel in self.messages.channels():
            known.setdefault(channel, self.web_api.channel_name(channel))
        return [{"id": cid, "name": name} for cid, name in known.items()]

    def reset(self) -> None:
        self.messages.clear()
        self.calls.clear()
        self.faults.clear()
        self.deliveries.clear()
        self.responses.clear()
        self._bodies.clear()

    # People acting in the workspace -------------------------------------------------------

    def _check_channel(self, channel: str) -> None:
        self.web_api.resolve_channel(channel)

    def _deliver(
        self,
        kind: DeliveryKind,
        outgoing: Outgoing,
        event_id: str | None,
        summary: dict[str, Any],
        on_done: Callable[[Delivery], None] | None = None,
    ) -> Delivery:
        if not self.can_deliver():
            raise NotConfigured("no gateway URL: set JEEVES_EMULATOR_GATEWAY_URL or PUT config")
        delivery = self.deliveries.new(kind, outgoing.path, event_id, summary)
        if self.metrics is not None:
            delivery.finished_callbacks.append(self.metrics.delivered)
        if on_done is not None:
            delivery.finished_callbacks.append(on_done)
        self.deliverer.start(delivery, outgoing)
        return delivery

    def send_message(self, request: SendMessage) -> Sent:
        """A person posts `text`; the app gets an `app_mention` or `message` event."""
        identity = self.team(request.team)
        self._enter(request.channel, identity)
        event_type = request.event
        if event_type == "auto":
            is_mention = mentions(request.text, identity.bot_user_id)
            event_type = (
                "app_mention" if is_mention and channel_type(request.channel) != "im" else "message"
            )
        parent = (
            self.messages.find(request.channel, request.thread_ts) if request.thread_ts else None
        )
        message = self.messages.add(
            "user", request.channel, request.user, request.text, thread_ts=request.thread_ts
        )
        event = message_event(
            identity,
            event_type=event_type,
            user=request.user,
            text=request.text,
            channel=request.channel,
            ts=message.ts,
            thread_ts=request.thread_ts,
            parent_user_id=parent.user if parent else None,
            subtype=request.subtype,
            bot_id=request.bot_id,
        )
        message.blocks = event["blocks"]
        outgoing = Outgoing(
            path=EVENTS_PATH,
            body=b"",
            content_type="application/json",
            retries=True,
            as_retry=request.as_retry,
            force_retries=request.force_retries,
        )
        return self._send_event(event, outgoing, message, identity)

    def _send_event(
        self,
        event: dict[str, Any],
        outgoing: Outgoing,
        message: Message,
        identity: Identity | None = None,
    ) -> Sent:
        """Wrap `event` in an envelope with a new event_id; deliver it by `outgoing`'s rules."""
        event_id = new_event_id()
        envelope = event_callback(
            identity or self.identity, event, event_id=event_id, event_time=int(self._clock())
        )
        outgoing = replace(outgoing, body=_compact(envelope))
        _bounded_put(self._bodies, event_id, outgoing, self._keep)
        summary = {
            "type": event.get("subtype") or event["type"],
            "channel": message.channel,
            "user": message.user,
            "ts": message.ts,
        }
        return Sent(self._deliver("event", outgoing, event_id, summary), message)

    def echo_bot_message(self, message: Message) -> None:
        """Slack tells an app about its own posts too (`message` with `bot_id`), when enabled."""
        if not self.config.echo_bot_messages or not self.can_deliver():
            return
        event = message_event(
            self.identity,
            event_type="message",
            user=self.identity.bot_user_id,
            text=message.text,
            channel=message.channel,
            ts=message.ts,
            thread_ts=message.thread_ts,
            bot_id=self.identity.bot_id,
        )
        if message.blocks is not None:
            event["blocks"] = message.blocks
        outgoing = Outgoing(
            path=EVENTS_PATH, body=b"", content_type="application/json", retries=True
        )
        self._send_event(event, outgoing, message)

    def uninstall(self, team_id: str) -> list[Sent]:
        """The app is removed from a workspace: its tokens are revoked and the app is told,
        as Slack tells it, with `tokens_revoked` and `app_uninstalled`."""
        identity = self.team(team_id)
        self.workspaces.uninstall(team_id)
        if not self.can_deliver():
            return []
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [identity.bot_user_id]}}
        gone = {"type": "app_uninstalled"}
        return [self._send_app_event(identity, event) for event in (revoked, gone)]

    def _send_app_event(self, identity: Identity, event: dict[str, Any]) -> Sent:
        """An event about the app itself (no person, no message), retried like every event."""
        event_id = new_event_id()
        envelope = event_callback(identity, event, event_id=event_id, event_time=int(self._clock()))
        outgoing = Outgoing(
            path=EVENTS_PATH, body=_compact(envelope), content_type="application/json", retries=True
        )
        _bounded_put(self._bodies, event_id, outgoing, self._keep)
        summary = {"type": event["type"], "team": identity.team_id}
        return Sent(self._deliver("event", outgoing, event_id, summary))

    def replay(self, request: Replay) -> Sent:
        """Send an earlier event again, byte for byte, marked as Slack retry `retry_num`."""
        original = self._bodies.get(request.event_id)
        if original is None:
            raise UnknownEvent(request.event_id)
        outgoing = Outgoing(
            path=original.path,
            body=original.body,
            content_type=original.content_type,
            retries=False,
            as_retry=request.retry_num,
        )
        summary = {"replay_of": request.event_id, "reason": request.reason}
        return Sent(self._deliver("event", outgoing, request.event_id, summary))

    def send_url_verification(self, challenge: str) -> Sent:
        """The handshake Slack sends when the Events request URL is saved (never retried)."""
        outgoing = Outgoing(
            path=EVENTS_PATH,
            body=_compact(url_verification(self.identity, challenge)),
            content_type="application/json",
            retries=False,
        )
        return Sent(self._deliver("event", outgoing, None, {"type": "url_verification"}))

    def issue_response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        """A response_url as a command or click would carry (for tests of apps answering)."""
        self._check_channel(channel)
        return self._response_url(channel, user, message_ts)

    def _response_url(self, channel: str, user: str, message_ts: str | None) -> str:
        hook_id = self.responses.issue(channel, user, message_ts)
        return f"{self.public_url}/_emulator/hooks/{hook_id}"

    def send_command(self, request: SendCommand) -> Sent:
        """A person runs a slash command; the app gets Slack's form post."""
        identity = self.team(request.team)
        self._enter(request.channel, identity)
        trigger_id = new_trigger_id(self._clock())
        typed = self.messages.add(
            "user",
            request.channel,
            request.user,
            f"{request.command} {request.text}".strip(),
            extra={"command": request.command},
        )
        form = slash_command_form(
            identity,
            user=request.user,
            user_name=user_profile(request.user, identity)["name"],
            channel=request.channel,
            channel_name=self.web_api.channel_name(request.channel),
            command=request.command,
            text=request.text,
            response_url=self._response_url(request.channel, request.user, None),
            trigger_id=trigger_id,
        )
        outgoing = Outgoing(
            path=COMMANDS_PATH,
            body=urlencode(form).encode(),
            content_type="application/x-www-form-urlencoded",
            retries=False,
        )
        summary = {
            "command": request.command,
            "channel": request.channel,
            "user": request.user,
            "ts": typed.ts,
        }

        def show_ack(delivery: Delivery) -> None:
            self._record_ack(delivery, request.command, request.channel, request.user)

        delivery = self._deliver("command", outgoing, trigger_id, summary, show_ack)
        return Sent(delivery, typed, trigger_id)

    def send_click(self, request: SendClick) -> Sent:
        """A person clicks a button on a message; the app gets a `block_actions` payload."""
        identity = self.team(request.team)
        self._enter(request.channel, identity)
        clicked = (
            self.messages.find(request.channel, request.message_ts) if request.message_ts else None
        )
        trigger_id = new_trigger_id(self._clock())
        payload = block_actions_payload(
            identity,
            user=request.user,
            user_name=user_profile(request.user, identity)["name"],
            channel=request.channel,
            channel_name=self.web_api.channel_name(request.channel),
            action_id=request.action_id,
            value=request.value,
            block_id=request.block_id,
            message=clicked.slack_json(identity.team_id) if clicked else None,
            response_url=self._response_url(request.channel, request.user, request.message_ts),
            trigger_id=trigger_id,
            action_ts=f"{self._clock():.6f}",
        )
        outgoing = Outgoing(
            path=INTERACTIVITY_PATH,
            body=urlencode(interactivity_form(payload)).encode(),
            content_type="application/x-www-form-urlencoded",
            retries=False,
        )
        summary = {"action_id": request.action_id, "channel": request.channel}
        return Sent(
            self._deliver("interaction", outgoing, trigger_id, summary), trigger_id=trigger_id
        )

    def _record_ack(self, delivery: Delivery, command: str, channel: str, user: str) -> None:
        """What Slack shows the person after a command: the app's immediate answer (JSON like a
        response_url message, or plain text), or Slack's own error when the app failed."""
        attempt = delivery.response()
        if attempt is None:
            return
        failure = attempt.failure_reason()
        if failure is not None:
            error = "operation_timeout" if failure == "http_timeout" else "dispatch_failed"
            text = f'{command} failed with the error "{error}"'
            self.messages.add("response_url", channel, "USLACKBOT", text, ephemeral_to=user)
            return
        if not attempt.body:
            return
        if "json" not in (attempt.content_type or ""):
            self.messages.add(
                "response_url", channel, self.identity.bot_user_id, attempt.body, ephemeral_to=user
            )
            return
        try:
            body = json.loads(attempt.body)
        except ValueError:
            return
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            self.responses.show(channel, user, body)

    def respond(self, hook_id: str, body: Any) -> ApiAnswer:
        """An app answers a command or click through its `response_url`: faults naming the
        method `response_url` apply first; the post is recorded in the call log under that
        method (with the hook's channel), and its message like every bot message."""
        channel = self.responses.channel_of(hook_id)
        fault = self.faults.take(RESPONSE_URL, channel)
        if fault is not None:
            status = 404 if fault.error in GONE_ERRORS else fault.status
            answer = fail(fault.error, status, **fault.headers)
        else:
            answer = self.responses.respond(hook_id, body)
            delay = self.faults.take_delay(RESPONSE_URL, channel) if answer.error is None else 0.0
            answer = replace(answer, delay_s=delay)
        retry_after = answer.headers.get("Retry-After")
        self.calls.record(
            RESPONSE_URL,
            channel,
            answer.status,
            answer.error,
            int(retry_after) if retry_after else None,
        )
        return answer


EXTRAS_KEY = "slack_emulator"


def emulator_of(app: Quart | None = None) -> Emulator:
    """The Emulator serving `app` (default: the current app)."""
    value = kit(app).extras[EXTRAS_KEY]
    assert isinstance(value, Emulator)
    return value

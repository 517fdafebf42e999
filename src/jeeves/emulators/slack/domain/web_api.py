"""The emulated Slack Web API: `auth.test`, `chat.postMessage`, `chat.postEphemeral`,
`chat.update`, `conversations.history`, `conversations.replies`, `users.info`,
`usergroups.users.list` (groups set through the control API), `api.test`, and
`apps.connections.open` (Socket Mode; it takes the app-level token, and only in the
`Authorization` header, as Slack requires), and `oauth.v2.access` (OAuth v2 installs and token
rotation, with the app's client id and secret; see `domain.workspaces`).

Bot tokens of every workspace are accepted (`domain.workspaces`); a method runs as the workspace
whose token called it (its bot user posts, `auth.test` names it), a channel one workspace's
people spoke in is not found with another workspace's token, and every call is logged with the
calling workspace.

`WebApi.call` takes the method name, the merged parameters (query, form or JSON, as the real API
accepts them) and the token, and returns the HTTP answer as data. Order of checks, as Slack's:
unknown method → 404 `unknown_method`; missing token → `not_authed`; wrong token →
`invalid_auth`; then injected faults; then the method's own validation. Slack answers errors
with HTTP 200 and `{"ok": false, "error": …}`, except rate limits (429 + `Retry-After`) and
server errors (5xx).

Message metadata (`{"event_type", "event_payload"}`, an object or its JSON text) given to
chat.postMessage is kept with the message and read back by conversations.history/.replies
with `include_all_metadata` (see `domain.history`).
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.faults import FaultBook
from jeeves.emulators.slack.domain.history import (
    HISTORY_LIMIT,
    REPLIES_LIMIT,
    HistoryError,
    history,
    parse_query,
    replies,
)
from jeeves.emulators.slack.domain.messages import CallLog, Message, MessageLog
from jeeves.emulators.slack.domain.workspaces import OAuthError, Workspaces

MAX_TEXT = 40_000
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # need the app-level token (xapp-…)
NO_TOKEN_METHODS = frozenset({"api.test", "oauth.v2.access"})  # client id/secret, or nothing
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_EVENT_TYPE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # hold the answer back this long (a `slow` fault)

    @property
    def error(self) -> str | None:
        return None if self.body.get("ok") else str(self.body.get("error", "unknown_error"))


def ok(**fields: Any) -> ApiAnswer:
    return ApiAnswer(200, {"ok": True, **fields})


def fail(error: str, status: int = 200, **headers: str) -> ApiAnswer:
    return ApiAnswer(status, {"ok": False, "error": error}, headers)


class ParamError(Exception):
    """A parameter Slack would reject; `error` is Slack's error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _text(params: Mapping[str, Any], key: str = "text") -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParamError("invalid_arguments")
    if len(value) > MAX_TEXT:
        raise ParamError("msg_too_long")
    return value


def _blocks(params: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    value = params.get("blocks")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ParamError("invalid_blocks_format") from None
    if not isinstance(value, list) or not all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in value
    ):
        raise ParamError("invalid_blocks")
    return value


def _optional_ts(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.6f}"
    if not isinstance(value, str):
        raise ParamError("invalid_arguments")
    return value


def parse_metadata(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """chat.postMessage's `metadata`: (what is kept, a warning). A value that is not an object
    with a string `event_type` and an object `event_payload` is `invalid_metadata_format`; an
    `event_type` with other characters than letters, digits, `_` and `-` is dropped with the
    warning `invalid_metadata_schema`, the message still posted."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ParamError("invalid_metadata_format") from None
    if not isinstance(value, dict):
        raise ParamError("invalid_metadata_format")
    event_type, payload = value.get("event_type"), value.get("event_payload")
    if not isinstance(event_type, str) or not isinstance(payload, dict):
        raise ParamError("invalid_metadata_format")
    if not _EVENT_TYPE.match(event_type):
        return None, "invalid_metadata_schema"
    return {"event_type": event_type, "event_payload": payload}, None


def user_profile(user_id: str, identity: Identity) -> dict[str, Any]:
    """A minimal `user` object: the bot, or a person whose name derives from the id."""
    is_bot = user_id == identity.bot_user_id
    name = identity.bot_name if is_bot else user_id.removeprefix("U0").lower() or user_id.lower()
    return {
        "id": user_id,
        "team_id": identity.team_id,
        "name": name,
        "deleted": False,
        "real_name": name.title(),
        "tz": "Europe/Lisbon",
        "tz_offset": 0,
        "is_bot": is_bot,
        "is_admin": False,
        "profile": {
            "real_name": name.title(),
            "display_name": name,
            "team": identity.team_id,
            **({"bot_id": identity.bot_id} if is_bot else {}),
        },
    }


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class WebApi:
    """The Web API over the emulator's state."""

    def __init__(
        self,
        *,
        identity: Identity,
        token: str,
        messages: MessageLog,
        calls: CallLog,
        faults: FaultBook,
        channels: Mapping[str, str] | None = None,
        app_token: str = "",
        workspaces: Workspaces | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.default_identity = identity
        self._caller: Identity | None = None  # the workspace of the call being answered
        self.workspaces = workspaces or Workspaces(identity, token)
        self._app_token = app_token
        self._clock = clock
        self.channel_teams: dict[str, str] = {}  # channel → the workspace its people are in
        # Issues a one-time Socket Mode URL (wired by the emulator); None: Socket Mode is off.
        self.open_socket: Callable[[], str] | None = None
        self.messages = messages
        self.calls = calls
        self.faults = faults
        self.channels = dict(channels or {})  # id -> name; empty: every channel exists
        self.usergroups: dict[str, list[str]] = {}  # user group id -> member user ids
        self.on_post: list[Callable[[Message], None]] = []  # told of each chat.postMessage
        self._methods: dict[str, Callable[[Mapping[str, Any]], ApiAnswer]] = {
            "api.test": self._api_test,
            "apps.connections.open": self._apps_connections_open,
            "oauth.v2.access": self._oauth_v2_access,
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroup_members,
        }

    @property
    def identity(self) -> Identity:
        """The workspace the current call runs as (the default one outside a call)."""
        return self._caller or self.default_identity

    def methods(self) -> list[str]:
        return sorted(self._methods)

    def call(
        self, method: str, params: Mapping[str, Any], token: str | None, *, header: bool = True
    ) -> ApiAnswer:
        """Answer one Web API call and record it in the call log (`header`: the token came in
        the Authorization header rather than as a parameter)."""
        try:
            answer = self._answer(method, params, token, header)
            team = self._caller.team_id if self._caller is not None else None
        finally:
            self._caller = None
        channel = params.get("channel")
        retry_after = answer.headers.get("Retry-After")
        self.calls.record(
            method,
            channel if isinstance(channel, str) else None,
            answer.status,
            answer.error,
            int(retry_after) if retry_after else None,
            team=team,
        )
        return answer

    def _answer(
        self, method: str, params: Mapping[str, Any], token: str | None, header: bool
    ) -> ApiAnswer:
        handler = self._methods.get(method)
        if handler is None:
            return fail("unknown_method", 404)
        refusal = self._check_token(method, token, header)
        if refusal is not None:
            return refusal
        channel = params.get("channel")
        fault = self.faults.take(method, channel if isinstance(channel, str) else None)
        if fault is not None:
            return fail(fault.error, fault.status, **fault.headers)
        try:
            answer = handler(params)
        except ParamError as exc:
            return fail(exc.error)
        delay_s = self.faults.take_delay(method, channel if isinstance(channel, str) else None)
        return replace(answer, delay_s=delay_s) if delay_s else answer

    def _check_token(self, method: str, token: str | None, header: bool) -> ApiAnswer | None:
        """Slack's refusals before a method runs: no token, a wrong one, the wrong kind, one
        expired or revoked. Sets the calling workspace for a bot token."""
        if method in NO_TOKEN_METHODS:
            return None
        if not token:
            return fail("not_authed")
        is_app = bool(self._app_token) and _same(token, self._app_token)
        caller, error = self.workspaces.authenticate(token, self._clock())
        if method in APP_TOKEN_METHODS:
            if caller is not None:
                return fail("not_allowed_token_type")
            if not is_app:
                return fail("invalid_auth")
            return None if header else fail("invalid_auth")
        if is_app:
            return fail("not_allowed_token_type")
        if caller is None:
            return fail(error or "invalid_auth")
        self._caller = caller
        return None

    def resolve_channel(self, value: Any) -> str:
        """A channel id from an id or a `#name`; `channel_not_found` when channels are fixed,
        or when the channel belongs to another workspace than the caller's."""
        if not isinstance(value, str) or not value:
            raise ParamError("channel_not_found")
        owner = self.channel_teams.get(value)
        if self._caller is not None and owner is not None and owner != self._caller.team_id:
            raise ParamError("channel_not_found")
        if not self.channels:
            return value
        if value in self.channels:
            return value
        by_name = {name: cid for cid, name in self.channels.items()}
        found = by_name.get(value.removeprefix("#"))
        if found is None:
            raise ParamError("channel_not_found")
        return found

    def channel_name(self, channel: str) -> str:
        return self.channels.get(channel, channel.lower())

    def _api_test(self, params: Mapping[str, Any]) -> ApiAnswer:
        return ok(args={k: v for k, v in params.items() if k != "token"})

    def _apps_connections_open(self, _params: Mapping[str, Any]) -> ApiAnswer:
        if self.open_socket is None:
            return fail("internal_error")
        return ok(url=self.open_socket())

    def _oauth_v2_access(self, params: Mapping[str, Any]) -> ApiAnswer:
        """Code → installation, or refresh token → new tokens (token rotation)."""
        client_id = params.get("client_id")
        secret = params.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(secret, str):
            return fail("invalid_client_id")
        now = self._clock()
        try:
            if params.get("grant_type") == "refresh_token":
                refresh = params.get("refresh_token")
                if not isinstance(refresh, str):
                    return fail("invalid_refresh_token")
                return ok(**self.workspaces.refresh(refresh, client_id, secret, now))
            grant_type = params.get("grant_type")
            if grant_type not in (None, "", "authorization_code"):
                return fail("invalid_grant_type")
            code = params.get("code")
            if not isinstance(code, str):
                return fail("invalid_code")
            redirect = params.get("redirect_uri")
            redirect_uri = redirect if isinstance(redirect, str) and redirect else None
            return ok(**self.workspaces.exchange(code, client_id, secret, redirect_uri, now))
        except OAuthError as exc:
            return fail(exc.error)

    def _auth_test(self, _params: Mapping[str, Any]) -> ApiAnswer:
        identity = self.identity
        return ok(
            url=f"https://{identity.team_domain}.slack.com/",
            team=identity.team_domain,
            user=identity.bot_name,
            team_id=identity.team_id,
            user_id=identity.bot_user_id,
            bot_id=identity.bot_id,
            is_enterprise_install=False,
        )

    def _content(
        self, params: Mapping[str, Any]
    ) -> tuple[str, str, list[dict[str, Any]] | None, str | None]:
        channel = self.resolve_channel(params.get("channel"))
        text = _text(params)
        blocks = _blocks(params)
        if not text and not blocks and not params.get("attachments"):
            raise ParamError("no_text")
        return channel, text or "", blocks, _optional_ts(params, "thread_ts")

    def _post_message(self, params: Mapping[str, Any]) -> ApiAnswer:
        channel, text, blocks, thread_ts = self._content(params)
        metadata, warning = parse_metadata(params.get("metadata"))
        message = self.messages.add(
            "api",
            channel,
            self.identity.bot_user_id,
            text,
            thread_ts=thread_ts,
            blocks=blocks,
            bot_id=self.identity.bot_id,
            method="chat.postMessage",
            metadata=metadata,
        )
        for listener in self.on_post:
            listener(message)
        warned = {"warning": warning, "response_metadata": {"warnings": [warning]}}
        return ok(
            channel=channel,
            ts=message.ts,
            message=message.slack_json(self.identity.team_id),
            **(warned if warning else {}),
        )

    def _history(self, params: Mapping[str, Any]) -> ApiAnswer:
        channel = self.resolve_channel(params.get("channel"))
        try:
            query = parse_query(params, HISTORY_LIMIT)
            page = history(self.messages.in_channel(channel), query, self.identity.team_id)
        except HistoryError as exc:
            raise ParamError(exc.error) from None
        return ok(**page.body(), pin_count=0, channel_actions_ts=None, channel_actions_count=0)

    def _replies(self, params: Mapping[str, Any]) -> ApiAnswer:
        channel = self.resolve_channel(params.get("channel"))
        ts = _optional_ts(params, "ts")
        if ts is None:
            raise ParamError("invalid_arguments")
        try:
            query = parse_query(params, REPLIES_LIMIT)
            page = replies(self.messages.in_channel(channel), ts, query, self.identity.team_id)
        except HistoryError as exc:
            raise ParamError(exc.error) from None
        return ok(**page.body())

    def _post_ephemeral(self, params: Mapping[str, Any]) -> ApiAnswer:
        channel, text, blocks, thread_ts = self._content(params)
        user = params.get("user")
        if not isinstance(user, str) or not _USER_ID.match(user):
            raise ParamError("user_not_found")
        message = self.messages.add(
            "api",
            channel,
            self.identity.bot_user_id,
            text,
            thread_ts=thread_ts,
            blocks=blocks,
            bot_id=self.identity.bot_id,
            method="chat.postEphemeral",
            ephemeral_to=user,
        )
        return ok(message_ts=message.ts)

    def _update(self, params: Mapping[str, Any]) -> ApiAnswer:
        channel = self.resolve_channel(params.get("channel"))
        ts = _optional_ts(params, "ts")
        if ts is None:
            raise ParamError("message_not_found")
        message = self.messages.find(channel, ts)
        if message is None:
            raise ParamError("message_not_found")
        if message.user != self.identity.bot_user_id or message.ephemeral_to:
            raise ParamError("cant_update_message")
        text, blocks = _text(params), _blocks(params)
        if text is None and blocks is None:
            raise ParamError("no_text")
        self.messages.update(message, text, blocks)
        return ok(
            channel=channel,
            ts=ts,
            text=message.text,
            message=message.slack_json(self.identity.team_id),
        )

    def _usergroup_members(self, params: Mapping[str, Any]) -> ApiAnswer:
        group = params.get("usergroup")
        if not isinstance(group, str) or not group:
            raise ParamError("invalid_arguments")
        if group not in self.usergroups:
            raise ParamError("no_such_subteam")
        return ok(users=list(self.usergroups[group]))

    def _users_info(self, params: Mapping[str, Any]) -> ApiAnswer:
        user = params.get("user")
        if not isinstance(user, str) or not _USER_ID.match(user):
            raise ParamError("user_not_found")
        return ok(user=user_profile(user, self.identity))

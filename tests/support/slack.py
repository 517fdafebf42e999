"""A typed, blocking client for the Slack emulator's control API, for everyone's tests.

    emulator = start_slack_emulator(gateway_url=gateway.url, signing_secret=SECRET, token=TOKEN)
    slack = SlackEmulator(emulator.url)
    event_id = slack.send_mention("weather in Lisbon", channel="C0GENERAL")
    [reply] = slack.wait_for_messages(1, channel="C0GENERAL")
    slack.rate_limit("C0GENERAL", retry_after=2, count=1)   # next call answers 429
    slack.fail_next(count=2, status=503)                     # next 2 calls answer 503

Real: the `jeeves-slack-emulator` process. See docs/slack-emulator.md for the API underneath.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from support.services import ServiceProcess, http_json

BOT_USER_ID = "U0JEEVES"
DEFAULT_CHANNEL = "C0GENERAL"


class EmulatorError(AssertionError):
    """The control API refused a request (status and body in the message)."""


def start_slack_emulator(
    *,
    gateway_url: str = "",
    signing_secret: str = "test-signing-secret",  # noqa: S107
    token: str = "xoxb-test-token",  # noqa: S107
    app_token: str = "",
    delivery: str = "http",
    ack_timeout_s: float = 3.0,
    retry_delays_s: str = "0,0.2,0.5",
    channels: str = "",
    extra_env: dict[str, str] | None = None,
) -> ServiceProcess:
    """Start `jeeves-slack-emulator` on a free port (the caller closes it)."""
    env = {
        "JEEVES_SLACK_SIGNING_SECRET": signing_secret,
        "JEEVES_SLACK_BOT_TOKEN": token,
        "JEEVES_SLACK_APP_TOKEN": app_token,
        "JEEVES_EMULATOR_DELIVERY": delivery,
        "JEEVES_EMULATOR_GATEWAY_URL": gateway_url,
        "JEEVES_EMULATOR_ACK_TIMEOUT_S": str(ack_timeout_s),
        "JEEVES_EMULATOR_RETRY_DELAYS_S": retry_delays_s,
        "JEEVES_EMULATOR_CHANNELS": channels,
        **(extra_env or {}),
    }
    return ServiceProcess("jeeves-slack-emulator", env).start()


class SlackEmulator:
    """The control API of one running emulator."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @property
    def api_url(self) -> str:
        """What to give slack_sdk as `base_url` (and the poster as JEEVES_SLACK_API_URL)."""
        return f"{self.url}/api/"

    def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = ()) -> Any:
        status, data = http_json(method, f"{self.url}/_emulator{path}", body)
        if status >= 300 and status not in ok:
            raise EmulatorError(f"{method} {path} answered {status}: {data}")
        return data

    # Acting as people -------------------------------------------------------------------

    def send_message(
        self,
        text: str,
        *,
        channel: str = DEFAULT_CHANNEL,
        user: str | None = None,
        thread_ts: str | None = None,
        as_retry: int = 0,
        force_retries: int = 0,
        wait: bool = False,
    ) -> str:
        """A person posts `text` (an app_mention if it mentions the bot); returns the event_id."""
        return str(
            self.send("message", text, channel, user, thread_ts, as_retry, force_retries, wait)[
                "event_id"
            ]
        )

    def send_mention(
        self,
        text: str,
        *,
        channel: str = DEFAULT_CHANNEL,
        user: str | None = None,
        thread_ts: str | None = None,
        as_retry: int = 0,
        force_retries: int = 0,
        wait: bool = False,
        team: str | None = None,
    ) -> str:
        """A person (of workspace `team`) posts `@jeeves <text>`; returns the event_id."""
        sent = self.send(
            "mention", text, channel, user, thread_ts, as_retry, force_retries, wait, team
        )
        return str(sent["event_id"])

    def send(
        self,
        kind: str,
        text: str,
        channel: str = DEFAULT_CHANNEL,
        user: str | None = None,
        thread_ts: str | None = None,
        as_retry: int = 0,
        force_retries: int = 0,
        wait: bool = False,
        team: str | None = None,
    ) -> dict[str, Any]:
        """The full answer of /send/<kind> for "message" or "mention": event_id, ts (the
        message's own, to thread under it), channel, delivery_id, and delivery when `wait`.
        `team`: the person's workspace (default: the emulator's own)."""
        body: dict[str, Any] = {
            "text": text,
            "channel": channel,
            "thread_ts": thread_ts,
            "as_retry": as_retry,
            "force_retries": force_retries,
            "wait": wait,
        }
        if user is not None:
            body["user"] = user
        if team is not None:
            body["team"] = team
        result: dict[str, Any] = self._call("POST", f"/send/{kind}", body)
        return result

    def send_command(
        self,
        text: str,
        *,
        command: str = "/jeeves",
        channel: str = DEFAULT_CHANNEL,
        user: str | None = None,
        wait: bool = True,
        team: str | None = None,
    ) -> dict[str, Any]:
        """A person runs `/jeeves <text>`; returns trigger_id, delivery (with the app's answer)."""
        body: dict[str, Any] = {"text": text, "command": command, "channel": channel, "wait": wait}
        if user is not None:
            body["user"] = user
        if team is not None:
            body["team"] = team
        result: dict[str, Any] = self._call("POST", "/send/command", body)
        return result

    def click(
        self,
        action_id: str,
        value: str = "",
        *,
        channel: str = DEFAULT_CHANNEL,
        message_ts: str | None = None,
        user: str | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """A person clicks a button (block_actions); returns trigger_id and delivery."""
        body: dict[str, Any] = {
            "action_id": action_id,
            "value": value,
            "channel": channel,
            "message_ts": message_ts,
            "wait": wait,
        }
        if user is not None:
            body["user"] = user
        result: dict[str, Any] = self._call("POST", "/send/click", body)
        return result

    def replay(self, event_id: str, *, retry_num: int = 1, wait: bool = True) -> dict[str, Any]:
        """Send an earlier event again, byte for byte, as Slack retry `retry_num`."""
        body = {"event_id": event_id, "retry_num": retry_num, "wait": wait}
        result: dict[str, Any] = self._call("POST", "/replay", body)
        return result

    def response_url(self, channel: str = DEFAULT_CHANNEL, *, user: str | None = None) -> str:
        """A fresh response_url for `channel`, as a slash command would carry (30 min, 5 uses)."""
        body = {"channel": channel, "user": user}
        return str(self._call("POST", "/response_urls", body)["response_url"])

    # What the bot did -------------------------------------------------------------------

    def messages(
        self, channel: str | None = None, *, since: float | None = None, source: str = "api"
    ) -> list[dict[str, Any]]:
        """Messages posted by the bot (source "api"; "user", "response_url" or "all")."""
        query = {"source": source}
        if channel:
            query["channel"] = channel
        if since is not None:
            query["since"] = str(since)
        found: list[dict[str, Any]] = self._call("GET", f"/messages?{urlencode(query)}")["messages"]
        return found

    def wait_for_messages(
        self,
        count: int,
        *,
        channel: str | None = None,
        timeout: float = 10.0,
        source: str = "api",
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        """Poll until at least `count` bot messages exist; returns them all."""
        deadline = time.monotonic() + timeout
        found = self.messages(channel, since=since, source=source)
        while len(found) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"expected {count} message(s) in {channel or 'any channel'} within "
                    f"{timeout}s, saw {len(found)}: {[m['text'] for m in found]}"
                )
            time.sleep(0.05)
            found = self.messages(channel, since=since, source=source)
        return found

    def teams(self) -> list[dict[str, Any]]:
        """Every workspace: team_id, bot_user_id, installed, installs, refreshes, live tokens."""
        found: list[dict[str, Any]] = self._call("GET", "/teams")["teams"]
        return found

    def uninstall(self, team: str) -> list[str]:
        """The app is removed from `team`; the event ids of tokens_revoked and app_uninstalled."""
        return list(self._call("POST", f"/teams/{team}/uninstall")["event_ids"])

    def calls(self, method: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """Every Web API call received (method, channel, status, ok, error, at)."""
        query = {k: v for k, v in {"method": method, "channel": channel}.items() if v}
        found: list[dict[str, Any]] = self._call("GET", f"/calls?{urlencode(query)}")["calls"]
        return found

    def deliveries(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """What was sent to the gateway, with every attempt's status."""
        query = {"event_id": event_id} if event_id else {}
        found: list[dict[str, Any]] = self._call("GET", f"/deliveries?{urlencode(query)}")[
            "deliveries"
        ]
        return found

    def wait_for_delivery(self, delivery_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The delivery once settled (acked, or out of retries)."""
        result: dict[str, Any] = self._call("GET", f"/deliveries/{delivery_id}?wait={timeout}")
        return result

    # Faults and state -------------------------------------------------------------------

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """Any fault (see docs/slack-emulator.md); returns it with its id."""
        result: dict[str, Any] = self._call("POST", "/faults", spec)
        return result

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        channel: str | None = None,
        methods: list[str] | None = None,
    ) -> dict[str, Any]:
        """The next `count` matching Web API calls answer HTTP `status` (5xx)."""
        return self.add_fault(
            kind="server_error", status=status, count=count, channel=channel, methods=methods
        )

    def rate_limit(
        self,
        channel: str | None = None,
        retry_after: int = 1,
        count: int | None = 1,
        *,
        duration_s: float | None = None,
        methods: list[str] | None = None,
    ) -> dict[str, Any]:
        """429 with `Retry-After: retry_after` for the next `count` calls and/or `duration_s`."""
        return self.add_fault(
            kind="rate_limit",
            channel=channel,
            retry_after=retry_after,
            count=count,
            duration_s=duration_s,
            methods=methods,
        )

    def slack_error(
        self,
        error: str,
        *,
        channel: str | None = None,
        count: int | None = 1,
        duration_s: float | None = None,
        methods: list[str] | None = None,
    ) -> dict[str, Any]:
        """`{"ok": false, "error": error}` (e.g. channel_not_found, not_in_channel)."""
        return self.add_fault(
            kind="slack_error",
            error=error,
            channel=channel,
            count=count,
            duration_s=duration_s,
            methods=methods,
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def configure(self, **config: Any) -> dict[str, Any]:
        """Change gateway_url, ack_timeout_s or retry_delays_s at run time."""
        result: dict[str, Any] = self._call("PUT", "/config", config)
        return result

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/info")
        return result

    def clear(self) -> None:
        """Forget messages, calls, deliveries and faults."""
        self._call("POST", "/reset")

    # Socket Mode ----------------------------------------------------------------------------

    def socket_connections(self) -> list[dict[str, Any]]:
        """The app's open Socket Mode connections (id, opened_at, sent, acked)."""
        found: list[dict[str, Any]] = self._call("GET", "/socket")["connections"]
        return found

    def socket_disconnect(
        self,
        reason: str | None = "refresh_requested",
        *,
        connection: str | None = None,
        close_after_s: float = 0.2,
    ) -> list[str]:
        """Slack's `disconnect` (None: the link just drops) to one or every connection."""
        body = {"reason": reason, "connection": connection, "close_after_s": close_after_s}
        return list(self._call("POST", "/socket/disconnect", body)["connections"])

    def socket_refuse_upgrades(self, count: int) -> None:
        """The next `count` WebSocket upgrades fail (503) after spending their ticket."""
        self._call("POST", "/socket/refuse", {"count": count})

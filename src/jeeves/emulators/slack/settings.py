"""Settings of the Slack emulator (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator

from jeeves.emulators.slack.domain.workspaces import parse_teams
from jeeves.kit.settings import ServiceSettings


def parse_delays(value: str) -> tuple[float, ...]:
    """`"0,1,5"` → (0.0, 1.0, 5.0); raises ValueError on anything else."""
    delays = tuple(float(part) for part in value.split(",") if part.strip())
    if not delays or any(d < 0 for d in delays):
        raise ValueError("must be comma-separated seconds >= 0, e.g. 0,1,5")
    return delays


def parse_channels(value: str) -> dict[str, str]:
    """`"C0GENERAL:general,C0RANDOM:random"` → {id: name}; a bare id names itself."""
    channels: dict[str, str] = {}
    for item in value.split(","):
        cid, _, name = item.strip().partition(":")
        if cid:
            channels[cid] = name or cid.lower()
    return channels


class SlackEmulatorSettings(ServiceSettings):
    # Signing secret shared with the gateway: every request sent to it is signed with it.
    slack_signing_secret: SecretStr
    # The bot token the Web API accepts (what the poster sends as `Authorization: Bearer`).
    slack_bot_token: SecretStr
    # The app-level token (xapp-…) apps.connections.open accepts (Socket Mode); empty: refused.
    slack_app_token: SecretStr = SecretStr("")
    # The app's OAuth client id and secret (oauth.v2.access); empty: OAuth installs refused.
    slack_client_id: str = ""
    slack_client_secret: SecretStr = SecretStr("")
    # More workspaces the app can be installed in (OAuth): `T0SECOND:second,T0THIRD:third`.
    emulator_teams: str = ""
    # Token rotation: installs get expiring bot tokens (xoxe.xoxb-…) with refresh tokens.
    emulator_token_rotation: bool = False
    # Seconds a rotating bot token lives (Slack: 12 hours).
    emulator_token_ttl_s: float = Field(default=43_200.0, gt=0)
    # How events, commands and clicks reach the app: `http` (POST to the gateway) or `socket`
    # (envelopes on the app's Socket Mode connections).
    emulator_delivery: str = Field(default="http", pattern=r"^(http|socket)$")
    # Base URL of the gateway receiving events, commands and clicks (e.g. http://127.0.0.1:8081);
    # empty: sending is refused until set through PUT /_emulator/config.
    emulator_gateway_url: str = ""
    # Seconds to wait for a 2xx before an attempt counts as failed (Slack: 3).
    emulator_ack_timeout_s: float = Field(default=3.0, gt=0, le=60)
    # Delays before retries 1, 2, 3 in seconds (Slack's: about 0, 60, 300; scaled down here).
    emulator_retry_delays_s: str = "0,1,5"
    # Deliver a `message` event (with bot_id) for each chat.postMessage, as Slack does for apps
    # subscribed to message.channels: checks that the app ignores its own messages.
    emulator_echo_bot_messages: bool = False
    # Known channels as id:name pairs; empty accepts every channel id.
    emulator_channels: str = ""
    # The workspace and app the emulator pretends to be.
    emulator_team_id: str = "T0TEAM"
    emulator_team_domain: str = "jeeves-emulator"
    emulator_app_id: str = "A0JEEVES"
    emulator_bot_user_id: str = Field(
        default="U0JEEVES",
        validation_alias=AliasChoices("JEEVES_EMULATOR_BOT_USER_ID", "JEEVES_SLACK_BOT_USER_ID"),
    )  # JEEVES_SLACK_BOT_USER_ID, shared with the gateway and dispatcher, is read too
    emulator_bot_id: str = "B0JEEVES"
    emulator_bot_name: str = "jeeves"
    # Default person sending messages from the control API and the chat page.
    emulator_default_user: str = "U0ALICE"
    # URL the gateway and actions can reach the emulator at (for response_url); empty: from bind.
    emulator_public_url: str = ""
    # Sign in with Slack (OpenID Connect): the one app allowed to use it, its secret, the
    # redirect URLs it may send people back to (comma-separated; empty: any http(s) URL), and
    # the people offered on the sign-in page (user ids; any other id can be typed in).
    emulator_oidc_client_id: str = "1000000001.2000000002"
    emulator_oidc_client_secret: SecretStr = SecretStr("emulator-oidc-client-secret")
    emulator_oidc_redirect_uris: str = ""
    emulator_people: str = "U0ALICE,U0BOB"
    # How many messages, calls and deliveries are kept (the oldest are dropped).
    emulator_history_limit: int = Field(default=10_000, gt=0)

    @field_validator("emulator_teams")
    @classmethod
    def _check_teams(cls, value: str) -> str:
        parse_teams(value)
        return value

    @field_validator("emulator_retry_delays_s")
    @classmethod
    def _check_delays(cls, value: str) -> str:
        parse_delays(value)
        return value

    @field_validator("emulator_gateway_url", "emulator_public_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    def public_url(self) -> str:
        if self.emulator_public_url:
            return self.emulator_public_url
        host, _, port = self.bind.rpartition(":")
        if host in ("0.0.0.0", "", "::", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

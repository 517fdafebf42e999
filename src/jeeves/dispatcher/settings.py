"""Settings of the dispatcher (`JEEVES_*`): database, registry source, bot identity, queue."""

from __future__ import annotations

import json

from pydantic import Field, SecretStr, field_validator

from jeeves.kit.actions import ActionSpec
from jeeves.kit.auth import AuthSettings
from jeeves.kit.queue import QueueWorkerSettings
from jeeves.kit.settings import ServiceSettings


def parse_actions(raw: str) -> list[ActionSpec]:
    """`{"echo": {"keywords": [...], "url": ...}}` → specs; ValueError naming what is wrong."""
    try:
        data = json.loads(raw or "{}")
    except ValueError as exc:
        raise ValueError(f"must be a JSON object of actions: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError('must be a JSON object like {"echo": {"keywords": [...], "url": ...}}')
    return [ActionSpec.from_json(name, value) for name, value in sorted(data.items())]


class DispatcherSettings(QueueWorkerSettings, AuthSettings):
    # PostgreSQL holding the queue and the dispatch_attempts table.
    database_url: str
    # Slack user id of the bot (as for the gateway); its leading mention is removed before
    # routing. Jobs from the ingress carry the bot user of their own workspace (a distributed
    # app has one per workspace); this one is used for jobs without it.
    slack_bot_user_id: str = Field(default="", pattern=r"^([UWB][A-Z0-9]{2,30})?$")
    # Comma-separated etcd endpoints (host:port); empty: route with JEEVES_ACTIONS instead.
    etcd_endpoints: str = ""
    # Static action registry used when etcd is not: JSON {"name": {"keywords", "url", ...}}.
    actions: str = "{}"
    # Bearer token for the admin API (dead letters) when JWT auth is off (JEEVES_TOKENS_URL
    # unset); empty leaves it open (loopback dev only). With auth on, scope `admin` is required.
    admin_token: SecretStr = SecretStr("")
    # Seconds before a job whose worker died runs again — and how often an idle worker looks for
    # retries and deferred posts that have come due (pgqueuer polls at this interval when no new
    # job wakes it), so the kit's 30 s would stretch a 1 s backoff to up to 30 s here.
    queue_heartbeat_timeout_s: float = Field(default=5.0, ge=0.5)
    # Connections in the pool used to record outcomes and enqueue replies.
    db_pool_size: int = Field(default=10, ge=1, le=100)
    # Base URL of the data service: each action call is recorded there for usage statistics
    # (never message text). Empty: nothing is recorded (said once at start).
    data_url: str = ""
    # The dashboard's URL, shown in help when the `help-dashboard-link` flag is on for a user.
    dashboard_url: str = ""
    # Seconds one activity record may take to send (in the background: replies never wait).
    activity_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # Activity records waiting to be sent; beyond it new ones are dropped (and counted).
    activity_backlog: int = Field(default=1000, ge=1, le=100_000)
    # Bot token and Web API base URL, used only to check Slack user-group membership when an
    # action's policy names user groups (usergroups.users.list). Without a token such policies
    # deny (saying why): membership is never guessed.
    slack_bot_token: SecretStr = SecretStr("")
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://")
    # Seconds a user group's members are remembered before Slack is asked again.
    groups_cache_s: float = Field(default=60.0, ge=0, le=3600)
    # Seconds between two passes of the scheduler (schedules, daily alerts, expiring
    # confirmations): a tick runs at most this late.
    schedule_poll_s: float = Field(default=1.0, gt=0, le=60)
    # Seconds between two reads of the users' alert subscriptions from the data service.
    alerts_refresh_s: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("data_url")
    @classmethod
    def _check_data_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. http://jeeves-data:8080")
        return value

    @field_validator("actions")
    @classmethod
    def _check_actions(cls, value: str) -> str:
        parse_actions(value)
        return value

    def static_actions(self) -> list[ActionSpec]:
        return parse_actions(self.actions)


class MigrateSettings(ServiceSettings):
    # PostgreSQL to install the queue schema and the dispatcher's table into.
    database_url: str

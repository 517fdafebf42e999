"""Which bot token a reply is posted with.

One workspace (the default): the configured `JEEVES_SLACK_BOT_TOKEN`, always. A distributed app
(`JEEVES_SLACK_DISTRIBUTED`): the installation of the reply's workspace (`team_id`), read from
the data service and kept by the kit's `TokenKeeper` — cached, and with token rotation refreshed
before it expires through Slack's `oauth.v2.access` (`grant_type=refresh_token`), one refresh at
a time across every poster replica (the data service's refresh lease).

`token_for(team)` raises `NotInstalled` (permanent: the reply becomes a dead letter) when the
workspace has no installation, and the kit's `CredentialUnavailable` / `DataUnavailable`
(transient: the job is retried) when the token cannot be had right now.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.kit.data_client import DataClient
from jeeves.kit.refreshing import Refreshed, TokenKeeper
from jeeves.kit.slack.oauth import refreshed_of


class NotInstalled(Exception):
    """The reply's workspace has no installation (uninstalled, or never installed)."""


class BotTokens:
    def __init__(
        self,
        *,
        static: str = "",
        data: DataClient | None = None,
        keeper: TokenKeeper | None = None,
        api_url: str = "",
        client_id: str = "",
        client_secret: str = "",
        session: Callable[[], aiohttp.ClientSession] | None = None,
    ) -> None:
        self._static = static
        self._data = data
        self._keeper = keeper
        self._api_url = api_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = session

    @property
    def distributed(self) -> bool:
        return self._data is not None

    async def token_for(self, team_id: str | None) -> str:
        if self._data is None or self._keeper is None:
            return self._static
        if not team_id:
            raise NotInstalled("the reply names no workspace (team_id)")
        stored = await self._keeper.token(
            _key(team_id), self._data.credential("installation", team_id), self._refresh
        )
        if stored is None:
            raise NotInstalled(f"the app is not installed in workspace {team_id}")
        return stored.token

    def forget(self, team_id: str | None) -> None:
        """Slack refused the token: read it again next time."""
        if self._keeper is not None and team_id:
            self._keeper.forget(_key(team_id))

    async def _refresh(self, refresh_token: str) -> Refreshed:
        assert self._session is not None
        client = AsyncWebClient(base_url=self._api_url, session=self._session(), retry_handlers=[])
        answer = await client.oauth_v2_access(
            client_id=self._client_id,
            client_secret=self._client_secret,
            grant_type="refresh_token",
            refresh_token=refresh_token,
        )
        data = answer.data if isinstance(answer.data, dict) else {}
        token, refresh, expires_at = refreshed_of(data, time.time())
        return Refreshed(token, refresh, expires_at)


def _key(team_id: str) -> str:
    return f"slack-installation:{team_id}"

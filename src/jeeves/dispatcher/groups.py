"""Slack user-group membership, for policies that name user groups (`@ops`).

`SlackGroups` asks Slack's `usergroups.users.list` (slack_sdk, `JEEVES_SLACK_API_URL`) for each
group a policy names, and keeps each answer `JEEVES_GROUPS_CACHE_S` seconds, so a busy
dispatcher asks Slack about a group at most once per period whatever the traffic. Only the
groups the policy names are ever looked up. When Slack cannot be asked (no bot token configured,
Slack down) it raises `GroupsUnavailable`: the dispatcher then denies, never allows by guess.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.kit.logging import get_logger

log = get_logger(__name__)


class GroupsUnavailable(Exception):
    """Membership could not be checked."""


class GroupDirectory(Protocol):
    async def member_of(self, user: str, groups: Iterable[str]) -> frozenset[str]:
        """Which of `groups` `user` belongs to."""
        ...


class NoGroups:
    """No Slack token configured: any policy naming a group is denied (and says why)."""

    async def member_of(self, user: str, groups: Iterable[str]) -> frozenset[str]:
        if any(True for _ in groups):
            raise GroupsUnavailable("no Slack bot token configured (JEEVES_SLACK_BOT_TOKEN)")
        return frozenset()


class SlackGroups:
    """Membership from Slack, cached per group."""

    def __init__(
        self,
        client: AsyncWebClient,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def _members_of(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        now = self._clock()
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        try:
            response = await self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            error = exc.response.data.get("error") if isinstance(exc.response.data, dict) else ""
            if error in ("no_such_subteam", "subteam_not_found"):
                log.warning("usergroup_unknown", usergroup=group)
                members: frozenset[str] = frozenset()
                self._members[group] = (now, members)
                return members
            raise GroupsUnavailable(f"usergroups.users.list: {error or 'error'}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GroupsUnavailable(f"usergroups.users.list: {type(exc).__name__}") from None
        users = response.data.get("users") if isinstance(response.data, dict) else None
        members = frozenset(u for u in users or [] if isinstance(u, str))
        self._members[group] = (now, members)
        return members

    async def member_of(self, user: str, groups: Iterable[str]) -> frozenset[str]:
        found = set()
        for group in sorted(set(groups)):
            if user in await self._members_of(group):
                found.add(group)
        return frozenset(found)

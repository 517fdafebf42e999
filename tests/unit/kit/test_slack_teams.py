"""The installed-workspace gate of a distributed app: answered from memory, one data service
call per unknown team at a time, forgotten at once on uninstall.

Faked: the data service client (the network boundary) — a dict of installations that counts
calls — and the clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jeeves.kit.data_client import DataUnavailable
from jeeves.kit.slack.teams import InstalledTeams

pytestmark = pytest.mark.unit


class Data:
    def __init__(self, installed: set[str]) -> None:
        self.installed = installed
        self.reads = 0
        self.down = False

    async def installation(self, team_id: str) -> dict[str, Any] | None:
        self.reads += 1
        await asyncio.sleep(0)
        if self.down:
            raise DataUnavailable("down")
        return {"team_id": team_id} if team_id in self.installed else None

    async def delete_installation(self, team_id: str) -> bool:
        existed = team_id in self.installed
        self.installed.discard(team_id)
        return existed


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def gate(data: Data, clock: Clock) -> InstalledTeams:
    return InstalledTeams(data, positive_ttl_s=60, negative_ttl_s=5, clock=clock)  # type: ignore[arg-type]


async def test_known_teams_are_answered_from_memory_until_their_time_is_up() -> None:
    data, clock = Data({"T1"}), Clock()
    teams = gate(data, clock)
    assert await teams.allows("T1")
    assert await teams.allows("T1")
    assert data.reads == 1
    clock.now = 61
    assert await teams.allows("T1")
    assert data.reads == 2


async def test_an_unknown_team_is_asked_once_by_concurrent_events_and_refused_for_a_while() -> None:
    data, clock = Data(set()), Clock()
    teams = gate(data, clock)
    answers = await asyncio.gather(*(teams.allows("T9") for _ in range(10)))
    assert answers == [False] * 10
    assert data.reads == 1
    data.installed.add("T9")  # installed through another gateway replica
    assert not await teams.allows("T9")  # still in the negative cache
    clock.now = 6
    assert await teams.allows("T9")


async def test_an_install_here_admits_at_once_and_an_uninstall_refuses_at_once() -> None:
    data, clock = Data({"T1"}), Clock()
    teams = gate(data, clock)
    teams.admit("T2")
    assert await teams.allows("T2")
    assert data.reads == 0
    assert await teams.allows("T1")
    assert await teams.forget("T1")
    assert not await teams.allows("T1")
    assert "T1" not in data.installed


async def test_a_data_service_outage_is_raised_not_guessed() -> None:
    data, clock = Data({"T1"}), Clock()
    data.down = True
    with pytest.raises(DataUnavailable):
        await gate(data, clock).allows("T1")

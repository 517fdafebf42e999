"""The alerts tests' one fixture: Alertmanager → jeeves-alerts → poster → Slack emulator, started
once per module (see `alerts_stack`). Nothing is faked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alerts_stack import Delivery, running_delivery


@pytest.fixture(name="delivery", scope="module")
def fixture_delivery(database_url: str) -> Iterator[Delivery]:
    with running_delivery(database_url) as delivery:
        yield delivery

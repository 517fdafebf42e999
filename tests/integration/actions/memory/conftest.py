"""Fixtures for the memory action as a real process on the real data service.

Real: PostgreSQL, `jeeves-data` and `jeeves-memory`. Nothing is faked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration.data.data_service_support import start_data_service
from support.services import ServiceProcess


@pytest.fixture(name="memory_data_service", scope="module")
def fixture_memory_data_service(database_url: str) -> Iterator[ServiceProcess]:
    service = start_data_service(database_url)
    yield service
    service.close()


@pytest.fixture(name="memory_action", scope="module")
def fixture_memory_action(memory_data_service: ServiceProcess) -> Iterator[ServiceProcess]:
    service = ServiceProcess("jeeves-memory", {"JEEVES_DATA_URL": memory_data_service.url})
    try:
        service.start()
        yield service
    finally:
        service.close()

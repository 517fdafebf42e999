"""Fixtures for the weather action as a real process: data service, PostgreSQL, emulator.

Real: PostgreSQL, `jeeves-data`, `jeeves-weather-emulator` and `jeeves-weather`. Nothing is
faked; Open-Meteo is the emulator speaking its wire format.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration.data.data_service_support import start_data_service
from support.services import ServiceProcess


@pytest.fixture(name="data_service", scope="module")
def fixture_data_service(database_url: str) -> Iterator[ServiceProcess]:
    service = start_data_service(database_url)
    yield service
    service.close()


@pytest.fixture(name="weather_emulator", scope="module")
def fixture_weather_emulator() -> Iterator[ServiceProcess]:
    service = ServiceProcess("jeeves-weather-emulator")
    try:
        service.start()
        yield service
    finally:
        service.close()


@pytest.fixture(name="weather_action", scope="module")
def fixture_weather_action(
    data_service: ServiceProcess, weather_emulator: ServiceProcess
) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-weather",
        {
            "JEEVES_OPEN_METEO_URL": weather_emulator.url,
            "JEEVES_DATA_URL": data_service.url,
            "JEEVES_UPSTREAM_TIMEOUT_S": "1.0",
        },
    )
    try:
        service.start()
        yield service
    finally:
        service.close()

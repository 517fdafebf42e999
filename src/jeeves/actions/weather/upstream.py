"""The weather action's one door to Open-Meteo: GET a URL, return JSON or raise.

Timeouts, connection errors, non-200 answers and non-JSON bodies all become
`WeatherUnavailable`, counted in `jeeves_weather_upstream_total{api,outcome}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter

from jeeves.actions.weather.domain import GetJson
from jeeves.actions.weather.open_meteo import UnexpectedBody, WeatherUnavailable
from jeeves.kit.http import HttpClient
from jeeves.kit.logging import get_logger

log = get_logger(__name__)


def upstream_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "jeeves_weather_upstream_total",
        "Calls to Open-Meteo by API and outcome",
        ["api", "outcome"],
        registry=registry,
    )


def json_getter(http: HttpClient, timeout_s: float, counter: Counter) -> GetJson:
    """A `GetJson` over the kit's HTTP client (no retries: the reply must stay quick)."""

    async def get_json(url: str, params: Mapping[str, str]) -> Any:
        api = "geocoding" if url.endswith("/search") else "forecast"
        try:
            response = await http.request(
                "GET", url, params=dict(params), timeout_s=timeout_s, idempotent=False
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            counter.labels(api, "unreachable").inc()
            log.warning("weather_upstream_unreachable", api=api, error=type(exc).__name__)
            raise WeatherUnavailable(f"{api}: {type(exc).__name__}") from None
        if response.status != 200:
            counter.labels(api, f"status_{response.status // 100}xx").inc()
            log.warning("weather_upstream_status", api=api, status=response.status)
            raise WeatherUnavailable(f"{api}: status {response.status}")
        try:
            body = json.loads(await response.read())
        except ValueError:
            counter.labels(api, "not_json").inc()
            log.warning("weather_upstream_not_json", api=api)
            raise UnexpectedBody(f"{api}: not JSON") from None
        counter.labels(api, "ok").inc()
        return body

    return get_json

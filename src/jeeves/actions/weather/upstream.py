"""The weather action's one door to Open-Meteo: GET a URL, return JSON or raise.

Timeouts, connection errors, non-200 answers and non-JSON bodies all become
`WeatherUnavailable`, counted in `jeeves_weather_upstream_total{api,outcome}`. Cache use is
exported as `jeeves_weather_cache_lookups_total{cache,result}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from jeeves.actions.weather.cache import TTLCache
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


class CacheCollector(Collector):
    """Reads hit/miss counts off the caches at scrape time (the caches stay metric-free)."""

    def __init__(self, caches: Mapping[str, TTLCache[Any]]) -> None:
        self._caches = caches

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "jeeves_weather_cache_lookups",
            "Cache lookups by cache and result",
            labels=["cache", "result"],
        )
        for name, cache in self._caches.items():
            family.add_metric([name, "hit"], cache.hits)
            family.add_metric([name, "miss"], cache.misses)
        yield family


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

"""A real Prometheus's HTTP API for tests, and checking dashboards against it.

`PrometheusAPI(url)` queries (`query`, `label_values`, `alerts`, `rule_groups`) and waits for a
condition; `dashboard_problems(api, dashboard)` resolves every template variable the way
Grafana does (`label_values(metric, label)` → the values; "All" → an alternation of them),
substitutes Grafana's `$__rate_interval`, then runs every panel's query: a query Prometheus
refuses, one that returns no series, or one naming a metric Prometheus has never scraped is a
problem. `metric_names(expr)` lists the raw metric names a PromQL expression reads.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

METRIC = re.compile(r"\b(jeeves_[a-z0-9_]+|process_[a-z0-9_]+|up)\b(?=\s*[{\[)])")
LABEL_VALUES = re.compile(r"^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$")
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def metric_names(expr: str) -> set[str]:
    """Raw metric names (not recording rules) read by `expr`."""
    return set(METRIC.findall(expr))


class PrometheusError(AssertionError):
    pass


class PrometheusAPI:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as response:
            body = json.loads(response.read())
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query now; PrometheusError when Prometheus refuses it."""
        try:
            data = self._get("/api/v1/query", query=expr)
        except urllib.error.HTTPError as exc:
            raise PrometheusError(f"{expr}: {exc.read().decode(errors='replace')}") from None
        result = data["result"]
        return result if isinstance(result, list) else [{"value": result}]

    def value(self, expr: str) -> float | None:
        found = self.query(expr)
        return float(found[0]["value"][1]) if found else None

    def label_values(self, label: str, match: str) -> list[str]:
        values: list[str] = self._get(f"/api/v1/label/{label}/values", **{"match[]": match})
        return values

    def alerts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._get("/api/v1/alerts")["alerts"]
        return found

    def alert_state(self, name: str, **labels: str) -> str | None:
        for alert in self.alerts():
            if alert["labels"].get("alertname") == name and all(
                alert["labels"].get(k) == v for k, v in labels.items()
            ):
                return str(alert["state"])
        return None

    def rule_groups(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._get("/api/v1/rules")["groups"]
        return found

    def targets(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._get("/api/v1/targets")["activeTargets"]
        return found

    def wait(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll `condition` every 0.5 s; the seconds it took. Fails naming `what`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if condition():
                return time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def variables(api: PrometheusAPI, dashboard: dict[str, Any]) -> dict[str, list[str]]:
    """Each query variable's values, as Grafana would list them (empty list: unresolved)."""
    resolved: dict[str, list[str]] = {}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        found = LABEL_VALUES.match(str(variable["query"]).strip())
        assert found is not None, f"${variable['name']}: not a label_values() query"
        resolved[variable["name"]] = api.label_values(found.group(2), found.group(1))
    return resolved


def regex_escape(value: str) -> str:
    """A label value inside a PromQL regex string, escaped as Grafana does it (the backslash
    itself escaped once more for the string literal)."""
    return "".join("\\\\" + c if c in "\\^$.|?*+()[]{}" else c for c in value)


def substitute(expr: str, values: dict[str, list[str]], rate_interval: str) -> str:
    """`expr` as Grafana sends it with every variable on "All" (values joined as a regex)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("__rate_interval", "__interval", "__range"):
            return rate_interval
        options = values.get(name) or []
        return "(" + "|".join(map(regex_escape, options)) + ")" if options else ".*"

    return VARIABLE.sub(one, expr)


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets") or []:
            found.append((str(panel.get("title")), str(target["expr"])))
    return found


def dashboard_problems(
    api: PrometheusAPI, dashboard: dict[str, Any], rate_interval: str = "30s"
) -> list[str]:
    problems: list[str] = []
    values = variables(api, dashboard)
    problems += [f"${name} resolves to nothing" for name, v in values.items() if not v]
    seen: dict[str, bool] = {}
    for title, expr in panel_queries(dashboard):
        query = substitute(expr, values, rate_interval)
        try:
            result = api.query(query)
        except PrometheusError as exc:
            problems.append(f"{title!r}: invalid PromQL: {exc}")
            continue
        if not result:
            problems.append(f"{title!r}: no series for {query}")
        for name in metric_names(expr):
            if name not in seen:
                seen[name] = bool(api.query(f'group({{__name__="{name}"}})'))
            if not seen[name]:
                problems.append(f"{title!r}: Prometheus never scraped {name}")
    return problems

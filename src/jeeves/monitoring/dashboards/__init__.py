"""Jeeves's Grafana dashboards, built with grafana-foundation-sdk (Grafana's own typed builders)
and committed as JSON in the chart (`files/dashboards/`), where a ConfigMap with the
`grafana_dashboard` label hands them to Grafana's sidecar.

`DASHBOARDS` maps each file name to its builder; `render(name)` is the committed text (a test
fails when code and file drift). Every panel reads real Jeeves metrics or the recording rules
of `files/rules/`, through the `datasource` variable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jeeves.monitoring.dashboards import actions, operator, overview, pipeline

DASHBOARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "jeeves-overview.json": overview.build,
    "jeeves-pipeline.json": pipeline.build,
    "jeeves-actions.json": actions.build,
    "jeeves-operator.json": operator.build,
}


def render(name: str) -> str:
    return json.dumps(DASHBOARDS[name](), indent=2, ensure_ascii=False) + "\n"

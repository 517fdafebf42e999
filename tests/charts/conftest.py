"""Fixtures of the chart tests: `rendered`, a memo of chart renderings (a rendering with a
generated RSA key costs up to a few seconds, and many tests look at the same one).

Everything here runs Helm's real engine (helm-python-sdk) offline; nothing is faked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from chart_scenarios import Render

from support.helm import Rendering, render


@pytest.fixture(name="rendered", scope="session")
def fixture_rendered() -> Render:
    """render(chart, values, kube_version=..., api_versions=..., is_upgrade=...), memoized."""
    memo: dict[str, Rendering] = {}

    def rendered(
        chart: str,
        values: dict[str, Any],
        *,
        kube_version: str | None = None,
        api_versions: Sequence[str] = (),
        is_upgrade: bool = False,
    ) -> Rendering:
        key = json.dumps([chart, values, kube_version, list(api_versions), is_upgrade])
        if key not in memo:
            memo[key] = render(
                chart,
                values,
                kube_version=kube_version,
                api_versions=api_versions,
                is_upgrade=is_upgrade,
            )
        return memo[key]

    return rendered

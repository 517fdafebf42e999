"""Helpers of the monitoring tests: the rule files as data, and the real promtool.

Nothing is faked: promtool is Debian's (installed by `make setup`); a missing one fails."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
import yaml

from jeeves.monitoring.files import rule_files


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: run `make setup` (scripts/setup.d/prometheus.sh)")
    return found


def all_rules() -> list[dict[str, Any]]:
    """Every rule of every rule file, in order."""
    return [
        rule
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in all_rules() if "alert" in rule]

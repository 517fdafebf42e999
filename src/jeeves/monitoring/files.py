"""Where the monitoring files live: the chart's `files/` (rules, dashboards) and the runbook."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "jeeves-monitoring"
RULES_DIR = CHART / "files" / "rules"
DASHBOARDS_DIR = CHART / "files" / "dashboards"
EXAMPLES_DIR = CHART / "files" / "examples"
RUNBOOK = REPO / "docs" / "runbook.md"
PROMTOOL_TESTS_DIR = REPO / "monitoring" / "tests"
# Where runbook links point (the chart's `runbookBaseUrl` replaces it when rendering).
RUNBOOK_URL = "https://github.com/jeeves-dev/jeeves/blob/main/docs/runbook.md"


def runbook_url(alert: str) -> str:
    """The runbook section of `alert`: its heading's anchor (`## JeevesServiceDown`)."""
    return f"{RUNBOOK_URL}#{alert.lower()}"


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.rules.yml"))

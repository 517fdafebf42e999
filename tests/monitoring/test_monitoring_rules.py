"""The Prometheus rules: valid (promtool check), unit-tested (promtool test), every alert
complete (summary, description, runbook section, severity) and tested both firing and quiet,
every metric they read exported by Jeeves's code, the SLO file in step with its generator.

Real: Debian's promtool 2.42. Nothing faked."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from rulebook import alerts, all_rules, promtool

from jeeves.monitoring import slo
from jeeves.monitoring.files import (
    PROMTOOL_TESTS_DIR,
    REPO,
    RULES_DIR,
    RUNBOOK,
    rule_files,
    runbook_url,
)
from support.prometheus import metric_names

pytestmark = pytest.mark.integration
SEVERITIES = {"critical", "warning"}
DEFINED = re.compile(r"(?:Counter|Gauge|Histogram|Summary)\(\s*\"([a-z0-9_]+)\"")


def test_promtool_checks_every_rule_file() -> None:
    files = [str(p) for p in rule_files()]
    assert len(files) == 3
    result = subprocess.run(
        [promtool(), "check", "rules", "--lint=all", "--lint-fatal", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    tests = sorted(PROMTOOL_TESTS_DIR.glob("*.test.yml"))
    result = subprocess.run(
        [promtool(), "test", "rules", *map(str, tests)],
        capture_output=True,
        text=True,
        cwd=PROMTOOL_TESTS_DIR,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests)


def test_every_alert_is_tested_firing_and_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for path in PROMTOOL_TESTS_DIR.glob("*.test.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerts()}
    assert len(names) == 11
    assert names - fired == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested staying quiet"


def test_every_alert_says_what_why_where_to_look_and_how_bad() -> None:
    headings = {
        line[3:].strip().lower()
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("## ")
    }
    for rule in alerts():
        name, notes = rule["alert"], rule.get("annotations", {})
        assert notes.get("summary"), name
        assert notes.get("description"), name
        assert notes.get("runbook_url") == runbook_url(name), name
        assert name.lower() in headings, f"docs/runbook.md has no section '## {name}'"
        assert rule.get("labels", {}).get("severity") in SEVERITIES, name


def test_rules_read_only_metrics_jeeves_exports() -> None:
    sources = [*REPO.glob("src/jeeves/**/*.py"), *REPO.glob("operator/src/**/*.py")]
    defined = {name for path in sources for name in DEFINED.findall(path.read_text())}
    exported = {"up", "process_cpu_seconds_total", "process_resident_memory_bytes"}
    for name in defined:
        exported |= {name, f"{name}_total", f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    used = {m for rule in all_rules() for m in metric_names(rule["expr"])}
    assert used, "no metric found in the rules"
    assert used - exported == set()


def test_the_slo_rule_file_is_what_the_code_generates() -> None:
    committed = (RULES_DIR / "jeeves-slo.rules.yml").read_text()
    assert committed == slo.render(), "run `make monitoring-generate` and commit the result"


def test_burn_rate_thresholds_follow_the_workbook() -> None:
    page = slo.burn_expr(slo.REPLY, slo.PAGE)
    assert "jeeves:reply_errors:ratio_rate1h > 14.4 * 0.01" in page
    assert "jeeves:reply_errors:ratio_rate5m > 14.4 * 0.01" in page
    assert "jeeves:reply_errors:ratio_rate6h > 6 * 0.01" in page
    ticket = slo.burn_expr(slo.SLACK_ACK, slo.TICKET)
    assert "jeeves:slack_ack_errors:ratio_rate3d > 1 * 0.001" in ticket

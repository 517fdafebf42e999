"""The service-level objectives and the Prometheus rules generated from them (pure).

Two SLOs, each "good events / valid events" over a rolling 30 days:

- **Slack ack** (99.9%): Slack's requests to the gateway (`/slack/events`, `/slack/commands`,
  `/slack/interactivity`) answered without a 5xx within 0.5 s. Slack gives up after 3 s and
  retries; the gateway only stores and acknowledges, so 0.5 s is generous and still early.
- **Reply** (99%): replies the dispatcher hands to the poster
  (`jeeves_dispatch_replies_total`) posted in Slack within 10 s of the gateway receiving the
  event (`jeeves_reply_latency_seconds`, observed by the poster). A reply that is never posted
  — poster down, Slack down, dead letter — is a bad event, so a dead poster burns the budget
  even though it exports nothing.

`rules()` gives, per SLO, the error ratio recorded over every window the alerts need (5m, 30m,
1h, 2h, 6h, 1d, 3d) and two alerts in the Google SRE workbook's multi-window, multi-burn-rate
form: `…BudgetBurn` (page: 2% of the budget in 1 h or 5% in 6 h, each confirmed by a window 12x
shorter) and `…BudgetBurnSlow` (ticket: 10% in 1 d or 3 d). The short window lets an alert
resolve minutes after the problem stops. `render()` writes them as one rule file, committed as
`jeeves-slo.rules.yml` and checked for drift by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from jeeves.monitoring.files import runbook_url

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
ACK_SELECTOR = 'job="jeeves-gateway",route=~"/slack/.*"'
ACK_BOUND_S = "0.5"
REPLY_BOUND_S = "10.0"


@dataclass(frozen=True)
class Burn:
    """One multi-window condition: both windows burn faster than `factor`."""

    long: str
    short: str
    factor: float


@dataclass(frozen=True)
class Objective:
    name: str  # recording rule stem: jeeves:<name>_errors:ratio_rate<w>
    alert: str  # alert name stem: <alert>BudgetBurn, <alert>BudgetBurnSlow
    title: str
    target: float  # e.g. 0.999
    errors: str  # PromQL: bad events per second over `{w}`
    total: str  # PromQL: valid events per second over `{w}`
    meaning: str  # what a bad event is, for the alert description

    @property
    def budget(self) -> float:
        return round(1 - self.target, 6)

    def ratio(self, window: str) -> str:
        return f"jeeves:{self.name}_errors:ratio_rate{window}"


PAGE = (Burn("1h", "5m", 14.4), Burn("6h", "30m", 6.0))
TICKET = (Burn("1d", "2h", 3.0), Burn("3d", "6h", 1.0))

SLACK_ACK = Objective(
    name="slack_ack",
    alert="JeevesSlackAck",
    title="Slack ack",
    target=0.999,
    errors=(
        f"sum(rate(jeeves_http_request_duration_seconds_count{{{ACK_SELECTOR}}}[{{w}}]))\n"
        f"- sum(rate(jeeves_http_request_duration_seconds_bucket{{{ACK_SELECTOR},"
        f'le="{ACK_BOUND_S}"}}[{{w}}]))\n'
        f"+ (sum(rate(jeeves_http_requests_total{{{ACK_SELECTOR},"
        f'status=~"5.."}}[{{w}}])) or vector(0))'
    ),
    total=f"sum(rate(jeeves_http_request_duration_seconds_count{{{ACK_SELECTOR}}}[{{w}}]))",
    meaning=f"Slack requests answered with a 5xx or slower than {ACK_BOUND_S} s",
)
REPLY = Objective(
    name="reply",
    alert="JeevesReply",
    title="Reply",
    target=0.99,
    errors=(
        'sum(rate(jeeves_dispatch_replies_total{job="jeeves-dispatcher"}[{w}]))\n'
        '- (sum(rate(jeeves_reply_latency_seconds_bucket{job="jeeves-poster",'
        f'le="{REPLY_BOUND_S}"}}[{{w}}])) or vector(0))'
    ),
    total='sum(rate(jeeves_dispatch_replies_total{job="jeeves-dispatcher"}[{w}]))',
    meaning=f"replies not posted within {REPLY_BOUND_S.rstrip('0').rstrip('.')} s of the event",
)
OBJECTIVES = (SLACK_ACK, REPLY)


def ratio_expr(slo: Objective, window: str) -> str:
    """Bad / valid events over `window`, clamped to [0, 1] (counters sampled a scrape apart
    can make the difference briefly negative or the ratio briefly above 1)."""
    errors = slo.errors.replace("{w}", window)
    total = slo.total.replace("{w}", window)
    return f"clamp_max(clamp_min(\n{errors}\n, 0) / {total}, 1)"


def burn_expr(slo: Objective, burns: tuple[Burn, ...]) -> str:
    parts = [
        f"({slo.ratio(b.long)} > {b.factor:g} * {slo.budget:g}"
        f" and {slo.ratio(b.short)} > {b.factor:g} * {slo.budget:g})"
        for b in burns
    ]
    return "\nor\n".join(parts)


def _alert(slo: Objective, *, slow: bool) -> dict[str, Any]:
    burns = TICKET if slow else PAGE
    name = f"{slo.alert}BudgetBurn{'Slow' if slow else ''}"
    pace = "slowly but steadily" if slow else "fast"
    windows = " or ".join(f"{b.long}/{b.short} above {b.factor:g}x" for b in burns)
    return {
        "alert": name,
        "expr": burn_expr(slo, burns),
        "for": "5m" if slow else "1m",
        "labels": {"severity": "warning" if slow else "critical", "slo": slo.name},
        "annotations": {
            "summary": f"{slo.title} SLO: error budget burning {pace}",
            "description": (
                f"{slo.meaning.capitalize()}: {{{{ $value | humanizePercentage }}}} of events "
                f"over the long window (objective {slo.target:.1%}; burn rate {windows})."
            ),
            "runbook_url": runbook_url(name),
        },
    }


def rules() -> dict[str, Any]:
    """The rule file as data: one group per SLO."""
    groups = []
    for slo in OBJECTIVES:
        recorded = [
            {"record": slo.ratio(window), "expr": ratio_expr(slo, window)} for window in WINDOWS
        ]
        alerts = [_alert(slo, slow=False), _alert(slo, slow=True)]
        name = f"jeeves-slo-{slo.name.replace('_', '-')}"
        groups.append({"name": name, "rules": recorded + alerts})
    return {"groups": groups}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so the generated PromQL reads like written PromQL."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

HEADER = (
    "# GENERATED by `python -m jeeves.monitoring` from src/jeeves/monitoring/slo.py: edit that,\n"
    "# not this file (a test fails when they drift). See its docstring for the SLOs.\n"
)


def render() -> str:
    body = yaml.dump(rules(), Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
    return HEADER + body

"""values.schema.json of both charts: it accepts the documented defaults and every scenario,
and a wrong value stops `helm install` (here: the same schema check Helm runs before
rendering) with a message naming the key.

Real: Helm's engine (helm-python-sdk) validates; nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest
from chart_scenarios import DEFAULT, OPERATOR, SCENARIOS

from support.helm import HelmFailure, merge, render

pytestmark = pytest.mark.charts


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"jeeves-gateway": {"replicas": "two"}},
            "/jeeves-gateway/replicas': got string, want integer",
        ),
        ({"jeeves-gateway": {"service": {"port": "8080"}}}, "/jeeves-gateway/service/port'"),
        ({"jeeves-gateway": {"settings": {"ingestWritters": 4}}}, "'ingestWritters' not allowed"),
        (
            {"jeeves-poster": {"settings": {"postChannelRate": 0}}},
            "/jeeves-poster/settings/postChannelRate",
        ),
        ({"database": {"url": "mysql://db/jeeves"}}, "/database/url'"),
        ({"etcd": {"endpoints": "http://etcd:2379"}}, "/etcd/endpoints'"),
        ({"slack": {"botUserId": "jeeves"}}, "/slack/botUserId'"),
        ({"logLevel": "verbose"}, "/logLevel'"),
        ({"env": "Prod/1"}, "/env'"),
        (
            {"auth": {"clients": {"x": {"audiences": ["data"], "secret": "short"}}}},
            "/auth/clients/x/secret'",
        ),
        (
            {"actions": {"extra": [{"name": "Dice", "keywords": ["d"], "image": "i"}]}},
            "/actions/extra/0/name'",
        ),
        ({"jeeves-dashboard": {"enabeld": True}}, "'enabeld' not allowed"),
        ({"jeeves-socket": {"replicas": "x"}}, "/jeeves-socket/replicas'"),
        ({"actions": {"strava": {"ingress": {"hots": "a"}}}}, "'hots' not allowed"),
        ({"slack": {"distributed": "yes"}}, "/slack/distributed'"),
        ({"auth": {"clients": {"x": {"audiences": ["data"], "when": "slack"}}}}, "/when'"),
        (
            {"jeeves-postgres": {"auth": {"password": "p@ss:word"}}},
            "/jeeves-postgres/auth/password'",
        ),
        ({"jeeves-gatway": {}}, "'jeeves-gatway' not allowed"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_key(override: dict[str, Any], message: str) -> None:
    with pytest.raises(HelmFailure) as refused:
        render("jeeves", merge(DEFAULT, override))
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"replicas": "1"}, "/replicas'"),
        ({"watchNamespaces": "jeeves"}, "/watchNamespaces'"),
        ({"platform": {"tokensUrl": "jeeves-tokens:8080"}}, "/platform/tokensUrl'"),
        ({"settings": {"driftInterval": 0}}, "/settings/driftInterval'"),
    ],
)
def test_operator_values_are_checked_too(override: dict[str, Any], message: str) -> None:
    with pytest.raises(HelmFailure) as refused:
        render("jeeves-operator", merge(OPERATOR, override))
    assert message in str(refused.value)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_passes_the_schema(scenario: str) -> None:
    import helm_python

    from support.helm import chart_path

    with helm_python.Chart.load(chart_path("jeeves")) as chart:
        chart.validate_schema(SCENARIOS[scenario])

"""Parsing of registry values (the JSON under /jeeves/<env>/actions/<name>)."""

from __future__ import annotations

import pytest

from jeeves.kit.actions import ActionSpec

pytestmark = pytest.mark.unit


def test_round_trip_keeps_every_field() -> None:
    raw = (
        '{"keywords": ["Weather", "forecast"], "url": "http://w:8080/", "description": "d",'
        ' "usage": "weather in <place>", "timeout_s": 5, "enabled": false,'
        ' "canary": {"url": "http://w2:8080", "percent": 10}}'
    )
    spec = ActionSpec.from_json("weather", raw)
    assert spec.keywords == ("weather", "forecast")
    assert spec.url == "http://w:8080"
    assert spec.enabled is False
    assert spec.canary is not None
    assert spec.canary.percent == 10
    assert ActionSpec.from_json("weather", spec.to_json()) == spec


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[]", "JSON object"),
        ('{"url": "http://x"}', "keywords"),
        ('{"keywords": [], "url": "http://x"}', "keywords"),
        ('{"keywords": ["a"], "url": "ftp://x"}', "url"),
        ('{"keywords": ["a"], "url": "http://x", "timeout_s": 0}', "timeout_s"),
        (
            '{"keywords": ["a"], "url": "http://x", "canary": {"url": "http://y", "percent": 101}}',
            "canary",
        ),
    ],
)
def test_bad_values_name_the_problem(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ActionSpec.from_json("a", raw)


def test_malformed_json_raises_value_error() -> None:
    with pytest.raises(ValueError, match="Expecting property name"):
        ActionSpec.from_json("a", "{not json")

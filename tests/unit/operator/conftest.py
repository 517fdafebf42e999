"""Fixtures for the operator's unit tests: the settings every builder test uses. Nothing runs:
no Kubernetes, no etcd, no clock (builders take `now` from the caller).
"""

from __future__ import annotations

import pytest

from jeeves_operator.settings import OperatorSettings


@pytest.fixture(name="settings")
def fixture_settings() -> OperatorSettings:
    return OperatorSettings(
        env="test",
        etcd_endpoints=("etcd-0.etcd:2379", "etcd-1.etcd:2379"),
        priority=7,
        tokens_url="http://jeeves-tokens.jeeves.svc:8080",
    )

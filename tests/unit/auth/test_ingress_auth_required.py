"""Fail closed where there is something to protect: the Slack ingresses serve no JWT API, so
outside dev they start without a token dealer — unless they are a distributed app, whose
workspace gate calls the data service (then the dealer is required, like everywhere else).

Real: the services' own pydantic settings classes; nothing runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.gateway.settings import GatewaySettings
from jeeves.socket.settings import SocketSettings

pytestmark = pytest.mark.unit
REQUIRED = "JEEVES_TOKENS_URL is required outside JEEVES_ENV=dev"
DB = "postgresql://jeeves@127.0.0.1:1/jeeves"


def gateway(**extra: Any) -> GatewaySettings:
    return GatewaySettings(env="prod", database_url=DB, slack_signing_secret="s", **extra)


def socket(**extra: Any) -> SocketSettings:
    return SocketSettings(env="prod", database_url=DB, slack_app_token="xapp-1-a", **extra)


def test_one_workspace_ingresses_need_no_dealer() -> None:
    assert not gateway().auth_on
    assert not socket().auth_on


def test_distributed_ingresses_need_one() -> None:
    oauth = {
        "slack_client_id": "1.2",
        "slack_client_secret": "c",
        "slack_redirect_uri": "https://jeeves.example/slack/oauth_redirect",
    }
    data = {"slack_distributed": True, "data_url": "http://data:8080"}
    with pytest.raises(ValueError, match=REQUIRED):
        gateway(**data, **oauth)
    with pytest.raises(ValueError, match=REQUIRED):
        socket(**data)
    assert gateway(**data, **oauth, tokens_url="http://tokens:8080").auth_on
    assert socket(**data, tokens_url="http://tokens:8080").auth_on

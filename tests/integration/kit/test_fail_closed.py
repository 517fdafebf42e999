"""Fail closed: outside JEEVES_ENV=dev a service with an authenticated API refuses to start
without a token dealer, with one line on stderr and exit status 2.

Real: the `jeeves-poster`, `jeeves-dispatcher`, `jeeves-data` and `jeeves-echo` entry points as
processes. Nothing is faked; nothing needs to be reachable (they must stop before connecting).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from support.services import entry_point

pytestmark = pytest.mark.integration
LINE = (
    "jeeves: settings are invalid: JEEVES_TOKENS_URL is required outside JEEVES_ENV=dev "
    "(set JEEVES_AUTH=off to run without authentication on purpose)"
)
# Everything else each service needs, so the only thing missing is authentication.
REQUIRED = {
    "JEEVES_DATABASE_URL": "postgresql://jeeves@127.0.0.1:1/jeeves",
    "JEEVES_SLACK_BOT_TOKEN": "xoxb-not-used",
    "JEEVES_SLACK_BOT_USER_ID": "U0JEEVES",
    "JEEVES_DATA_ENCRYPTION_KEY": "ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE=",
    "JEEVES_BIND": "127.0.0.1:1",
}


def start(command: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JEEVES_")}
    env.update(REQUIRED, JEEVES_ENV="prod", **extra)
    return subprocess.run(entry_point(command), env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    "command", ["jeeves-poster", "jeeves-dispatcher", "jeeves-data", "jeeves-echo"]
)
def test_no_dealer_outside_dev_stops_the_service(command: str) -> None:
    result = start(command)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == [LINE]

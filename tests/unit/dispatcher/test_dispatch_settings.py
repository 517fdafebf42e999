"""The dispatcher's settings: the bot's user id under its shared name (optional: jobs carry
their own workspace's).

Real: `DispatcherSettings` reading the process environment (set per test with monkeypatch) and
`load_settings`' error line. Nothing is faked.
"""

from __future__ import annotations

import pytest

from jeeves.dispatcher.settings import DispatcherSettings
from jeeves.kit.settings import load_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JEEVES_DATABASE_URL", "postgresql://127.0.0.1/unused")
    monkeypatch.delenv("JEEVES_SLACK_BOT_USER_ID", raising=False)


def test_bot_user_id_is_read_from_the_name_the_gateway_uses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JEEVES_SLACK_BOT_USER_ID", "U0JEEVES")
    assert DispatcherSettings().slack_bot_user_id == "U0JEEVES"


def test_a_bad_bot_user_id_names_the_variable_and_none_is_fine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert DispatcherSettings().slack_bot_user_id == ""  # jobs carry their workspace's bot
    monkeypatch.setenv("JEEVES_SLACK_BOT_USER_ID", "not-an-id")
    with pytest.raises(SystemExit):
        load_settings(DispatcherSettings)
    assert "JEEVES_SLACK_BOT_USER_ID is invalid" in capsys.readouterr().err

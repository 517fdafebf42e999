"""The emulator's workspace registry: OAuth codes, rotating tokens, uninstall (pure, clock given).

Nothing runs; times are numbers passed in.
"""

from __future__ import annotations

import pytest

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.workspaces import (
    CODE_TTL_S,
    OAuthError,
    Workspaces,
    parse_teams,
)

pytestmark = pytest.mark.unit
NOW = 1_700_000_000.0


def registry(rotation: bool = False) -> Workspaces:
    spaces = Workspaces(
        Identity(), "xoxb-static", client_id="cid", client_secret="sec", rotation=rotation,
        token_ttl_s=100,
    )  # fmt: skip
    spaces.add("T0TWO", "two")
    return spaces


def code_for(spaces: Workspaces, team: str = "T0TWO") -> str:
    return spaces.grant(team, "cid", "https://app/cb", "chat:write", "U0ME", NOW)


def test_a_code_expires_after_ten_minutes() -> None:
    spaces = registry()
    code = code_for(spaces)
    with pytest.raises(OAuthError, match="invalid_code"):
        spaces.exchange(code, "cid", "sec", None, NOW + CODE_TTL_S + 1)


def test_the_static_token_is_the_default_workspaces_and_never_expires() -> None:
    identity, error = registry().authenticate("xoxb-static", NOW + 10**9)
    assert (identity, error) == (Identity(), None)
    assert registry().authenticate("xoxb-unknown", NOW) == (None, "invalid_auth")


def test_a_rotating_token_expires_and_its_refresh_token_is_spent_by_use() -> None:
    spaces = registry(rotation=True)
    installed = spaces.exchange(code_for(spaces), "cid", "sec", "https://app/cb", NOW)
    access, refresh = installed["access_token"], installed["refresh_token"]
    assert spaces.authenticate(access, NOW + 99)[1] is None
    assert spaces.authenticate(access, NOW + 100) == (None, "token_expired")
    assert spaces.authenticate(refresh, NOW) == (None, "invalid_auth"), "not a bot token"
    spaces.refresh(refresh, "cid", "sec", NOW + 50)
    with pytest.raises(OAuthError, match="invalid_refresh_token"):
        spaces.refresh(refresh, "cid", "sec", NOW + 51)


def test_uninstall_revokes_every_token_of_that_workspace_only() -> None:
    spaces = registry()
    token = spaces.exchange(code_for(spaces), "cid", "sec", None, NOW)["access_token"]
    assert spaces.uninstall("T0TWO") == 1
    assert spaces.authenticate(token, NOW) == (None, "token_revoked")
    assert spaces.authenticate("xoxb-static", NOW)[1] is None


def test_unknown_client_team_or_redirect_are_refused() -> None:
    spaces = registry()
    for team, client, redirect, error in (
        ("T0TWO", "other", "https://app/cb", "invalid_client_id"),
        ("T0NONE", "cid", "https://app/cb", "team_not_found"),
        ("T0TWO", "cid", "javascript:alert(1)", "bad_redirect_uri"),
    ):
        with pytest.raises(OAuthError, match=error):
            spaces.grant(team, client, redirect, "", "U0ME", NOW)


def test_declared_teams_are_parsed_or_refused() -> None:
    assert parse_teams("T0A:alpha, T0B") == [("T0A", "alpha"), ("T0B", "t0b")]
    with pytest.raises(ValueError, match="team id"):
        parse_teams("C0CHANNEL")

"""The client registry document: strict parsing, audience patterns, clear errors. Pure."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jeeves.tokens.domain.clients import parse_clients
from jeeves.tokens.domain.secrets import hash_secret

pytestmark = pytest.mark.unit
HASH = hash_secret("a-secret-of-enough-length", n=2**4)


def document(**entry: Any) -> dict[str, Any]:
    base = {"secret_hash": HASH, "audiences": ["data"], "scopes": ["data"]}
    return {"clients": {"echo": {**base, **entry}}}


def test_parses_a_client_from_json_text() -> None:
    clients = parse_clients(json.dumps(document(audiences=["data", "action-*"])))
    echo = clients["echo"]
    assert echo.scopes == frozenset({"data"})
    assert echo.secret_hash.matches("a-secret-of-enough-length")
    assert echo.allows_audience("data")
    assert echo.allows_audience("action-weather")
    assert not echo.allows_audience("poster")
    assert not echo.allows_audience("DATA")


def test_star_allows_every_audience() -> None:
    assert parse_clients(document(audiences=["*"]))["echo"].allows_audience("anything")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "clients: not valid JSON"),
        ({"clients": []}, "clients: expected an object"),
        (document(secret_hash="plaintext"), "client 'echo': secret_hash: not a scrypt"),
        (document(audiences=[]), "client 'echo': audiences: must be a non-empty list"),
        (document(audiences=["bad space"]), "client 'echo': audiences: 'bad space' is not"),
        (document(scopes=["ok", 'quo"te']), "client 'echo': scopes:"),
        ({"clients": {"bad id!": {}}}, "client 'bad id!': id must match"),
        ({"clients": {"echo": "x"}}, "client 'echo': must be an object"),
    ],
)
def test_errors_name_the_client_and_field(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")) as caught:
        parse_clients(raw if isinstance(raw, str) else json.dumps(raw))
    assert "plaintext" not in str(caught.value)

"""The data service's pure rules: validation, ETags, preconditions, cursors, statistics, crypto.

Real: `jeeves.data.domain` and `jeeves.data.crypto`. Nothing is faked; no I/O.
"""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet

from jeeves.data.crypto import TokenCipher
from jeeves.data.domain import (
    ActivityIn,
    FactIn,
    Precondition,
    check_fact,
    decode_cursor,
    encode_cursor,
    list_etag,
    make_etag,
    none_match,
    page_limit,
    parse_body,
    parse_day_range,
    parse_if_match,
    usage_report,
)
from jeeves.data.migrating import sqlalchemy_url
from jeeves.kit.errors import APIError

pytestmark = pytest.mark.unit


def field_of(exc: pytest.ExceptionInfo[APIError]) -> str:
    assert exc.value.status == 422
    return str(exc.value.extra["field"])


def test_etags_come_from_row_id_and_version() -> None:
    assert make_etag("f", 12, 3) == '"f12.3"'
    assert parse_if_match('"f12.3"', "f") == Precondition(False, 12, 3)
    assert parse_if_match("*", "f") == Precondition(True)
    assert parse_if_match(None, "f") is None
    never = parse_if_match('"u12.3"', "f")  # another kind of resource never matches
    assert never is not None
    assert never.row_id == -1


def test_if_none_match_uses_weak_comparison_and_lists() -> None:
    assert none_match('"f1.1"', '"f1.1"')
    assert none_match('W/"f1.1"', '"f1.1"')
    assert none_match('"x", "f1.1"', '"f1.1"')
    assert none_match("*", '"f1.1"')
    assert not none_match('"f1.2"', '"f1.1"')
    assert not none_match(None, '"f1.1"')


def test_list_etag_changes_with_any_row_version() -> None:
    first = list_etag("f", [(1, 1), (2, 1)], None)
    assert first == list_etag("f", [(1, 1), (2, 1)], None)
    assert first != list_etag("f", [(1, 1), (2, 2)], None)
    assert first != list_etag("f", [(1, 1)], None)


def test_cursor_round_trip_and_tampering() -> None:
    cursor = encode_cursor({"after_key": "location"})
    assert decode_cursor(cursor, "after_key") == {"after_key": "location"}
    assert decode_cursor(None, "after_key") is None
    for bad in ("%%%", "bm90IGpzb24", encode_cursor({"after_id": 3})):
        with pytest.raises(APIError) as caught:
            decode_cursor(bad, "after_key")
        assert field_of(caught) == "cursor"


def test_page_limit_bounds() -> None:
    assert page_limit(None) == 50
    assert page_limit("200") == 200
    for bad in ("0", "201", "-1", "ten"):
        with pytest.raises(APIError):
            page_limit(bad)


def test_fact_values_are_validated_and_normalised() -> None:
    assert check_fact("location", "  São Paulo ") == "São Paulo"
    assert check_fact("timezone", "Europe/Lisbon") == "Europe/Lisbon"
    assert check_fact("units", "Imperial") == "imperial"
    for key, value, field in [
        ("timezone", "Europe/Nowhere", "value"),
        ("timezone", "../../etc/passwd", "value"),
        ("units", "kelvin", "value"),
        ("Location", "x", "key"),
        ("x" * 41, "x", "key"),
        ("location", "  ", "value"),
    ]:
        with pytest.raises(APIError) as caught:
            check_fact(key, value)
        assert field_of(caught) == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": "x", "other": 1}, "other"),
        ({"value": 1}, "value"),
        ({"value": ["x"]}, "value"),
        ({"value": "x" * 501}, "value"),
        ({}, "value"),
        ("x", "body"),
    ],
)
def test_parse_body_names_the_first_bad_field(body: object, field: str) -> None:
    with pytest.raises(APIError) as caught:
        parse_body(FactIn, body)
    assert field_of(caught) == field


def test_activity_never_accepts_message_text() -> None:
    with pytest.raises(APIError) as caught:
        parse_body(
            ActivityIn,
            {
                "team_id": "T",
                "slack_id": "U",
                "action": "weather",
                "outcome": "ok",
                "latency_ms": 3,
                "text": "hi",
            },
        )
    assert field_of(caught) == "text"


def test_day_range_defaults_and_limits() -> None:
    today = date(2026, 11, 25)
    days = parse_day_range(None, None, today)
    assert (days.start, days.end) == (date(2026, 11, 19), today)
    start, end = days.bounds()
    assert (end - start).days == 7
    with pytest.raises(APIError):
        parse_day_range("2026-11-26", "2026-11-25", today)
    with pytest.raises(APIError):
        parse_day_range("2026-01-01", "2026-11-25", today)


def test_usage_report_totals_and_rates() -> None:
    day = date(2026, 11, 25)
    report = usage_report(
        parse_day_range(None, None, day),
        [
            {
                "day": day,
                "action": "weather",
                "calls": 4,
                "failed": 1,
                "user_errors": 0,
                "p95_latency_ms": 120.0,
            },
            {
                "day": day,
                "action": "memory",
                "calls": 0,
                "failed": 0,
                "user_errors": 0,
                "p95_latency_ms": None,
            },
        ],
        [{"day": day, "users": 2}],
        2,
    )
    assert report["totals"] == {"calls": 4, "failed": 1, "error_rate": 0.25, "active_users": 2}
    assert report["per_action_per_day"][1]["error_rate"] == 0.0
    assert report["active_users_per_day"] == [{"day": "2026-11-25", "users": 2}]


def test_token_cipher_rotates_keys() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ciphertext = TokenCipher(old).encrypt("token-1")
    assert b"token-1" not in ciphertext
    assert TokenCipher(f"{new},{old}").decrypt(ciphertext) == "token-1"
    with pytest.raises(ValueError, match="does not decrypt"):
        TokenCipher(new).decrypt(ciphertext)
    with pytest.raises(ValueError, match="Fernet"):
        TokenCipher("not-a-key")


def test_database_urls_are_mapped_to_asyncpg() -> None:
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert sqlalchemy_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
    with pytest.raises(ValueError, match="postgresql"):
        sqlalchemy_url("mysql://u@h/db")
